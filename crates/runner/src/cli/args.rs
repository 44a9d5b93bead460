//! What every command that trains from a config accepts, and the cluster task index.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::backend::BackendName;
use crate::experiment::{check_grid, Config};
use crate::run::SweepOptions;

#[derive(clap::Args)]
pub(super) struct RunArgs {
    /// The sweep config (JSON).
    config: PathBuf,
    /// Compute backend: flex, ndarray, wgpu (cuda, cpu with cargo features). Overrides the config.
    #[arg(long)]
    backend: Option<BackendName>,
    /// Override a config field, e.g. --set training.lr=0.05 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Vary a config field over values, e.g. --grid training.lr=0.01,0.1 (repeatable; each
    /// point of the grid is planned as a config of its own).
    #[arg(long = "grid", value_name = "FIELD=V1,V2,…")]
    grids: Vec<String>,
    /// Parent folder of the sweep folder (default: the config's `output`, else ./results).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Data directory (default: $HIGHWAY_DATA, else ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Under SLURM, do not requeue the job after a warning signal (SIGUSR1/SIGUSR2); the run
    /// still checkpoints and stops. Also `HIGHWAY_NO_REQUEUE=1`.
    #[arg(long, env = "HIGHWAY_NO_REQUEUE", value_parser = clap::builder::BoolishValueParser::new())]
    no_requeue: bool,
}

impl RunArgs {
    /// The config with its overrides, checked; with a grid, its plan's size and what each of
    /// its fields changes too.
    fn load(&self) -> Result<Config> {
        let config = Config::load(&self.config, &self.sets, &self.grids)?;
        check_grid(&config)
            .with_context(|| format!("{}: invalid config", self.config.display()))?;
        Ok(config)
    }

    /// The backend the command trains on: `--backend`, else the config's (`None` when the
    /// config cannot be read: the command then fails before any backend starts).
    pub(super) fn backend(&self) -> Option<BackendName> {
        self.backend.or_else(|| self.load().ok().map(|c| c.backend))
    }

    /// The config loaded with its overrides, and where and how the sweep runs.
    pub(super) fn sweep_options(self) -> Result<SweepOptions> {
        let config = self.load()?;
        let backend = self.backend.unwrap_or(config.backend);
        // Checked before anything is planned or written, not discovered by every run.
        if !backend.compiled() {
            let from = match self.backend {
                Some(_) => "--backend".to_string(),
                None => format!("{}: backend", self.config.display()),
            };
            bail!("{from} {backend}: {}", backend.describe());
        }
        Ok(SweepOptions {
            backend,
            config,
            config_path: self.config,
            data_dir: self.data_dir,
            sets: self.sets,
            grids: self.grids,
            out: self.out,
            requeue: !self.no_requeue,
        })
    }
}

/// The run index of a cluster task: `$SLURM_ARRAY_TASK_ID`, else `$JOB_COMPLETION_INDEX`
/// (a Kubernetes indexed Job). `asked` is what the user gave (`--group task`, or no
/// `--index`), for the message when neither is set.
pub(super) fn cluster_index(asked: Asked) -> Result<usize> {
    for var in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"] {
        if let Ok(v) = std::env::var(var) {
            return v
                .trim()
                .parse()
                .with_context(|| format!("${var}='{v}' is not a run index"));
        }
    }
    match asked {
        Asked::Run => bail!(
            "which run? Give its number with --index N (`highway plan CONFIG` lists them), or \
             start it as a task of a SLURM job array or a Kubernetes indexed Job, which sets \
             $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX"
        ),
        Asked::Group => bail!(
            "--group task: this process is not a cluster array task (neither \
             $SLURM_ARRAY_TASK_ID nor $JOB_COMPLETION_INDEX is set); give the group's number, \
             e.g. --group 0 (`highway plan CONFIG --groups` lists them)"
        ),
    }
}

/// Which index [`cluster_index`] stands in for.
pub(super) enum Asked {
    /// `highway run` without `--index`: a run's.
    Run,
    /// `highway run --group task`: a group's.
    Group,
}
