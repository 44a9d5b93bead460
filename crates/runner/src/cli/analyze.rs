//! `highway analyze gates|lesion RUN_DIR` (a trained net) and `highway analyze
//! search|mechanism|halving|time SWEEP_DIR` (a finished sweep, computed by `report` with its
//! ranking and thresholds).

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Subcommand;

use super::out::outln;
use crate::analyze;
use crate::backend::BackendName;
use crate::report;

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
    /// Where a random search's space trains: per (kind, depth), the trials that trained by
    /// learning rate, activation and starting b_T (Markdown tables on standard output).
    Search {
        /// A sweep folder (with `sweep.json`).
        dir: PathBuf,
    },
    /// What goes with a trial's final loss: gradient ratios, dead units and output scale at
    /// initialisation and after epoch 1, from the runs' `layers.csv` (Markdown tables).
    Mechanism {
        /// A sweep folder (with `sweep.json`).
        dir: PathBuf,
    },
    /// A successive-halving search against the full-budget search of the same plan: every
    /// halving curve must begin its full-budget curve; the best trials of both. Fails when a
    /// curve differs.
    Halving {
        /// The halving search's folder.
        dir: PathBuf,
        /// The full-budget search's folder.
        #[arg(long, value_name = "FULL_DIR")]
        against: PathBuf,
        /// How many of the full search's best trials per cell to follow into the halving one.
        #[arg(long, default_value_t = 5)]
        top: usize,
    },
    /// What a sweep cost: core-hours, run times per (kind, depth), and when it trained.
    Time {
        /// A sweep folder (with `sweep.json`).
        dir: PathBuf,
    },
}

impl AnalyzeCommand {
    /// The backend the analysis runs on; `None` for the sweep analyses, which train nothing.
    pub(super) fn backend(&self) -> Option<BackendName> {
        match self {
            AnalyzeCommand::Gates { run, .. } | AnalyzeCommand::Lesion { run } => Some(run.backend),
            AnalyzeCommand::Search { .. }
            | AnalyzeCommand::Mechanism { .. }
            | AnalyzeCommand::Halving { .. }
            | AnalyzeCommand::Time { .. } => None,
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

/// Runs the analysis: prints the files written, or the tables.
pub(super) fn run(command: AnalyzeCommand) -> Result<()> {
    let tables = match command {
        AnalyzeCommand::Gates {
            run,
            sample,
            classes,
        } => return super::out::paths(analyze::gates(&run.open()?, sample, classes.as_deref())?),
        AnalyzeCommand::Lesion { run } => return super::out::paths(analyze::lesion(&run.open()?)?),
        AnalyzeCommand::Search { dir } => report::breakdown(&dir)?,
        AnalyzeCommand::Mechanism { dir } => report::mechanism(&dir)?,
        AnalyzeCommand::Time { dir } => report::sweep_time(&dir)?,
        AnalyzeCommand::Halving { dir, against, top } => {
            let check = report::halving_against(&dir, &against, top)?;
            outln!("{}", check.text.trim_end());
            if !check.differ.is_empty() {
                bail!(
                    "{} halving curves differ from their full-budget curves in {}",
                    check.differ.len(),
                    against.display()
                );
            }
            return Ok(());
        }
    };
    outln!("{}", tables.trim_end());
    Ok(())
}
