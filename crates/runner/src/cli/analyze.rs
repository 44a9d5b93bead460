//! `highway analyze gates|lesion RUN_DIR`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use crate::analyze;
use crate::backend::BackendName;

#[derive(Subcommand)]
pub(super) enum AnalyzeCommand {
    /// The paper's Figures 2 and 3: trained gate biases, mean gate outputs over the training
    /// set, one sample's gates and block outputs, and per-class gate activity.
    Gates {
        #[command(flatten)]
        run: RunDirArgs,
        /// The training example shown in the one-sample panels.
        #[arg(long, default_value_t = 0)]
        sample: usize,
        /// The two classes of the per-class view (default: 0 and 7, as the paper's MNIST
        /// figure, or 0 and 1 for fewer classes).
        #[arg(long, value_delimiter = ',')]
        classes: Option<Vec<usize>>,
    },
    /// The paper's Figure 4: the training-set loss with each highway layer shut in turn.
    Lesion {
        #[command(flatten)]
        run: RunDirArgs,
    },
}

impl AnalyzeCommand {
    /// The backend the analysis runs on.
    pub(super) fn backend(&self) -> BackendName {
        match self {
            AnalyzeCommand::Gates { run, .. } | AnalyzeCommand::Lesion { run } => run.backend,
        }
    }
}

#[derive(clap::Args)]
pub(super) struct RunDirArgs {
    /// A run folder, `<sweep>/runs/<id>`, trained with `training.save_model = true`.
    run_dir: PathBuf,
    /// Data directory (default: $HIGHWAY_DATA, else ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long, default_value = "flex")]
    backend: BackendName,
}

impl RunDirArgs {
    fn open(&self) -> Result<analyze::Opened> {
        analyze::open(&self.run_dir, self.data_dir.as_deref(), self.backend)
    }
}

/// Runs the analysis; returns the files written.
pub(super) fn run(command: AnalyzeCommand) -> Result<Vec<PathBuf>> {
    match command {
        AnalyzeCommand::Gates {
            run,
            sample,
            classes,
        } => analyze::gates(&run.open()?, sample, classes.as_deref()),
        AnalyzeCommand::Lesion { run } => analyze::lesion(&run.open()?),
    }
}
