//! Running a plan: every run of a sweep in order (`highway sweep`), or one of them (`highway run
//! --index I`, one per cluster task). Finished runs are skipped, so a sweep resumes where it
//! stopped; a run that fails or diverges is recorded and the sweep goes on.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use highway_data::{DataError, Dataset, DatasetName, LoadOptions, Preprocess};

use crate::backend::BackendName;
use crate::config::{Config, LabelSet, PreprocessName};
use crate::plan::{plan, RunSpec};
use crate::store::{self, State, Status, SweepDir};
use crate::{report, train};

/// Where a sweep goes and how it runs, after the command line has had its say.
pub struct SweepOptions {
    pub config: Config,
    pub config_path: PathBuf,
    pub backend: BackendName,
    pub data_dir: Option<PathBuf>,
    /// `--set` arguments, repeated in the resume hint.
    pub sets: Vec<String>,
    pub out: Option<PathBuf>,
}

impl SweepOptions {
    pub fn sweep_dir(&self) -> SweepDir {
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| self.config.output.clone());
        SweepDir::new(out.join(&self.config.name))
    }

    /// The command that picks up where this one stopped: the same sweep, or the same run of
    /// the plan, with the same overrides, folders and backend.
    fn resume_hint(&self, index: Option<usize>) -> String {
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let config = quote(&self.config_path.display().to_string());
        let mut cmd = match index {
            Some(i) => format!("highway run {config} --index {i}"),
            None => format!("highway sweep {config}"),
        };
        for s in &self.sets {
            cmd += &format!(" --set {}", quote(s));
        }
        if let Some(out) = &self.out {
            cmd += &format!(" --out {}", quote(&out.display().to_string()));
        }
        if let Some(dir) = &self.data_dir {
            cmd += &format!(" --data-dir {}", quote(&dir.display().to_string()));
        }
        cmd + &format!(" --backend {}", self.backend)
    }
}

/// Ctrl-C sets the flag; the training loop stops at the next step and records the run as
/// interrupted (it is redone on resume).
pub fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let _ = ctrlc::set_handler(move || {
        if f.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nstopping after this step (Ctrl-C again to quit at once)…");
    });
    flag
}

/// Loads the sweep's dataset; a missing dataset names the command that fetches it.
pub fn load_dataset(config: &Config, data_dir: Option<&Path>) -> Result<Dataset> {
    let d = &config.dataset;
    let name: DatasetName = d.name.parse()?;
    let dir = highway_data::data_dir(d.dir.as_deref().or(data_dir));
    let opts = LoadOptions {
        preprocess: match d.preprocess {
            PreprocessName::None => Preprocess::None,
            PreprocessName::Scale => Preprocess::Scale,
            PreprocessName::Standardize => Preprocess::Standardize,
        },
        validation: d.validation,
        validation_seed: 0,
        limit: d.limit,
        cifar100_coarse: d.labels == LabelSet::Coarse,
        synthetic: d.synthetic.clone(),
    };
    highway_data::load(name, &dir, &opts).map_err(|e| match e {
        DataError::Missing { .. } => anyhow::anyhow!(
            "{e}\ndataset '{name}' is not in {}: fetch it with `highway data fetch {name} --data-dir {}` \
             (or point dataset.dir, --data-dir or HIGHWAY_DATA at a copy)",
            dir.display(),
            dir.display()
        ),
        other => other.into(),
    })
}

/// Runs every unfinished run of the plan, then writes the report.
pub fn sweep(opts: &SweepOptions) -> Result<()> {
    let runs = plan(&opts.config);
    let all: Vec<usize> = runs.iter().map(|r| r.index).collect();
    run_selected(opts, &runs, &all, None)
}

/// Runs the run at `index` of the plan (one cluster task), then refreshes the report.
pub fn run_one(opts: &SweepOptions, index: usize) -> Result<()> {
    let runs = plan(&opts.config);
    if index >= runs.len() {
        bail!(
            "--index {index} is out of range: the plan has {} runs (0..{})",
            runs.len(),
            runs.len()
        );
    }
    run_selected(opts, &runs, &[index], Some(index))
}

/// Trains `selected` runs of the plan; `index` is set when this is one cluster task's run.
fn run_selected(
    opts: &SweepOptions,
    runs: &[RunSpec],
    selected: &[usize],
    index: Option<usize>,
) -> Result<()> {
    let dir = opts.sweep_dir();
    dir.prepare(&opts.config, runs)?;
    let todo: Vec<&RunSpec> = selected
        .iter()
        .map(|&i| &runs[i])
        .filter(|r| match dir.status(&r.id) {
            Some(s) if s.state.is_final() => {
                eprintln!(
                    "[{}/{}] {}: already {}, skipped",
                    r.index + 1,
                    runs.len(),
                    r.id,
                    s.state.as_str()
                );
                false
            }
            _ => true,
        })
        .collect();
    if !todo.is_empty() {
        let data = load_dataset(&opts.config, opts.data_dir.as_deref())?;
        eprintln!(
            "{}: {} train / {} {} examples, {} features, {} classes; backend {}",
            data.name,
            data.train.len(),
            data.eval.len(),
            data.eval_kind,
            data.train.dim,
            data.classes,
            opts.backend
        );
        let stop = stop_flag();
        for run in todo {
            eprintln!(
                "[{}/{}] {} (lr {}, batch {}, {} epochs)",
                run.index + 1,
                runs.len(),
                run.id,
                run.training.lr,
                run.training.batch_size,
                run.training.epochs
            );
            let run_dir = dir.run_dir(&run.id);
            // A panic inside the backend (a GPU that fails mid-run, say) fails this run, not
            // the sweep.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                train::train_run(run, &data, opts.backend, &run_dir, &stop)
            }))
            .unwrap_or_else(|panic| {
                let msg = crate::sys::panic_message(panic.as_ref());
                Err(anyhow::anyhow!("the backend panicked: {msg}"))
            });
            match result {
                Ok(status) if status.state == State::Interrupted => {
                    report::write(&dir.root).ok();
                    bail!(
                        "interrupted: finished runs are kept; resume with\n  {}",
                        opts.resume_hint(index)
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("{}: failed: {e:#}", run.id);
                    let failed = Status {
                        state: State::Failed,
                        message: Some(format!("{e:#}")),
                        ..dir
                            .status(&run.id)
                            .unwrap_or_else(|| Status::starting(opts.backend.as_str()))
                    };
                    store::write_json(&run_dir.join("status.json"), &failed)
                        .context("recording the failure")?;
                }
            }
        }
    }
    let written = report::write(&dir.root)?;
    eprintln!("results: {}", dir.root.display());
    for path in written {
        eprintln!("  {}", path.display());
    }
    Ok(())
}
