//! Running a plan: every run of a sweep in order (`highway sweep`), or one of them (`highway run
//! --index I`, one per cluster task). Finished runs are skipped and unfinished ones continue
//! from their checkpoint, so a sweep resumes where it stopped; a run that fails or diverges is
//! recorded and the sweep goes on; a stop signal ends the sweep with the resume command.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::requeue;
use super::signals::{Signal, Stop};
use super::train;
use crate::backend::BackendName;
use crate::experiment::dataset::fingerprint;
use crate::experiment::{load_dataset, plan, Config, RunSpec};
use crate::report;
use crate::store::run_lock::{Acquired, RunLock};
use crate::store::{self, model_file, State, Status, SweepDir};

/// Where a sweep goes and how it runs, after the command line has had its say.
pub struct SweepOptions {
    pub config: Config,
    pub config_path: PathBuf,
    pub backend: BackendName,
    pub data_dir: Option<PathBuf>,
    /// `--set` arguments, repeated in the resume hint.
    pub sets: Vec<String>,
    /// Under SLURM, requeue the job after a warning signal (`--no-requeue` turns it off).
    pub requeue: bool,
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
    let todo = unfinished(&dir, runs, selected);
    let mut failed = Vec::new();
    // With nothing to train, data that cannot be loaded only skips the fingerprint check.
    let data = match load_dataset(&opts.config, opts.data_dir.as_deref()) {
        Ok(data) => Some(data),
        Err(_) if todo.is_empty() => None,
        Err(e) => return Err(e),
    };
    let fingerprint = data.as_ref().map(fingerprint).unwrap_or_default();
    if data.is_some() {
        same_data(&dir, runs, selected, &fingerprint)?;
    }
    if let Some(data) = data.filter(|_| !todo.is_empty()) {
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
        let stop = Stop::install()?;
        for run in todo {
            let place = format!("[{}/{}] {}", run.index + 1, runs.len(), run.id);
            let run_dir = dir.run_dir(&run.id);
            // Held until this run is trained: every other process skips it meanwhile.
            let _lock = match RunLock::try_acquire(&run_dir)? {
                Acquired::Held(lock) => lock,
                Acquired::Busy(who) => {
                    eprintln!("{place}: being trained by {who}, skipped");
                    continue;
                }
            };
            // Under the lock, a temporary file in the run's folder is a killed writer's.
            store::files::remove_stale_temporaries(&run_dir, Duration::ZERO);
            // Another process may have finished it since the plan was read.
            if let Some(s) = dir.status(&run.id).filter(|s| s.state.is_final()) {
                eprintln!("{place}: already {}, skipped", s.state);
                continue;
            }
            let t = &run.training;
            eprintln!(
                "{place} (lr {}, batch {}, {} epochs)",
                t.lr, t.batch_size, t.epochs
            );
            match guarded(|| {
                train::train_run(run, &data, &fingerprint, opts.backend, &run_dir, &stop)
            }) {
                Ok(status) if status.state == State::Interrupted => {
                    let signal = stop.requested().unwrap_or(Signal::Interrupt);
                    return Err(stopped(opts, &dir, run, status, signal, index).into());
                }
                Ok(_) => {}
                Err(e) => {
                    record_failure(&dir, &run.id, opts.backend, &e)?;
                    failed.push(run.id.as_str());
                }
            }
        }
    }
    let written = report::write(&dir.root)?;
    eprintln!("results: {}", dir.root.display());
    for path in written {
        eprintln!("  {}", path.display());
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} runs failed ({}); their status.json says why; the other runs are kept, \
             and running the same command again retries the failed ones",
            failed.len(),
            selected.len(),
            failed.join(", ")
        );
    }
    Ok(())
}

/// A sweep stopped by a signal. The process exits with 128 + the signal's number, as a shell
/// reports a process killed by it, so that a scheduler or a script can tell a stop from a
/// failure.
#[derive(Debug)]
pub struct Interrupted {
    pub signal: Signal,
    pub message: String,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Interrupted {}

/// Records the resume command in the stopped run's status, refreshes the report and, on a
/// scheduler's warning signal under SLURM, requeues the job; the error to exit with.
fn stopped(
    opts: &SweepOptions,
    dir: &SweepDir,
    run: &RunSpec,
    mut status: Status,
    signal: Signal,
    index: Option<usize>,
) -> Interrupted {
    let hint = opts.resume_hint(index);
    let what = status.message.take().unwrap_or_default();
    status.message = Some(format!("{what}; resume with: {hint}"));
    let path = dir.run_dir(&run.id).join("status.json");
    if let Err(e) = store::write_json(&path, &status) {
        eprintln!("warning: {e:#}");
    }
    report::write(&dir.root).ok();
    let mut message =
        format!("stopped by {signal}: {what}; finished runs are kept; resume with\n  {hint}");
    if signal.is_warning() && opts.requeue {
        if let Some(job) = requeue::slurm_job() {
            message += &match requeue::requeue(&job) {
                Ok(()) => format!("\nrequeued SLURM job {job}: it continues from the checkpoint"),
                Err(e) => format!("\ncould not requeue SLURM job {job}: {e:#}"),
            };
        }
    }
    Interrupted { signal, message }
}

/// Refuses to go on when a finished run among `selected` recorded another data fingerprint
/// than `fingerprint` (the data now loaded): its result would be kept as if made on this data.
/// Runs made before fingerprints were recorded are taken as they are.
fn same_data(
    dir: &SweepDir,
    runs: &[RunSpec],
    selected: &[usize],
    fingerprint: &str,
) -> Result<()> {
    let mut other = Vec::new();
    for run in selected.iter().map(|&i| &runs[i]) {
        if !dir.status(&run.id).is_some_and(|s| s.state.is_final()) {
            continue;
        }
        let spec = dir.run_dir(&run.id).join("spec.json");
        let recorded = store::read_json::<serde_json::Value>(&spec)
            .ok()
            .and_then(|v| v["data"]["fingerprint"].as_str().map(String::from));
        if let Some(recorded) = recorded.filter(|r| r != fingerprint) {
            other.push(format!("{} ({recorded})", spec.display()));
        }
    }
    if other.is_empty() {
        return Ok(());
    }
    bail!(
        "{} finished run(s) were trained on other data than is loaded now (fingerprint {fingerprint}): \
         {}. The data files changed, or --data-dir points at other files: use --out DIR for a \
         sweep on this data, or delete those runs to train them again",
        other.len(),
        other.join(", ")
    )
}

/// The `selected` runs that have no final result yet; the others are listed as skipped.
fn unfinished<'a>(dir: &SweepDir, runs: &'a [RunSpec], selected: &[usize]) -> Vec<&'a RunSpec> {
    selected
        .iter()
        .map(|&i| &runs[i])
        .filter(|r| match dir.status(&r.id) {
            Some(s) if s.state.is_final() => {
                let (n, total) = (r.index + 1, runs.len());
                eprintln!("[{n}/{total}] {}: already {}, skipped", r.id, s.state);
                // Asking for models after the fact does not retrain a finished run.
                let model = dir.run_dir(&r.id).join(model_file::FILE);
                if r.training.save_model && s.state == State::Done && !model.exists() {
                    eprintln!(
                        "  it has no {} (trained without save_model): delete {} to train it \
                         again with the model kept",
                        model_file::FILE,
                        dir.run_dir(&r.id).display()
                    );
                }
                false
            }
            _ => true,
        })
        .collect()
}

/// Runs `train`, turning a panic (a GPU that fails mid-run, an assertion in a backend) into an
/// error, so that it fails this run and not the sweep.
pub fn guarded<T>(train: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(train)).unwrap_or_else(|panic| {
        let msg = crate::sys::panic_message(panic.as_ref());
        Err(anyhow::anyhow!("the backend panicked: {msg}"))
    })
}

/// Records run `id` as failed with `error`, keeping what its status already said.
pub fn record_failure(
    dir: &SweepDir,
    id: &str,
    backend: BackendName,
    error: &anyhow::Error,
) -> Result<()> {
    eprintln!("{id}: failed: {error:#}");
    let failed = Status {
        state: State::Failed,
        message: Some(format!("{error:#}")),
        ..dir
            .status(id)
            .unwrap_or_else(|| Status::starting(backend.as_str()))
    };
    store::write_json(&dir.run_dir(id).join("status.json"), &failed)
        .context("recording the failure")
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor};

    use super::*;

    /// A real panic inside a backend operation (Flex multiplying mismatched shapes) fails the
    /// run with the panic's message, recorded in its status, and the caller carries on.
    #[test]
    fn a_backend_panic_fails_the_run_not_the_sweep() {
        let root = std::env::temp_dir().join(format!("highway-guarded-{}", std::process::id()));
        let dir = SweepDir::new(root.clone());
        let result = guarded(|| {
            let device = Device::flex();
            let a = Tensor::<2>::ones([2, 3], &device);
            let b = Tensor::<2>::ones([4, 5], &device);
            Ok(a.matmul(b).into_data())
        });
        let error = result.unwrap_err();
        assert!(
            format!("{error}").starts_with("the backend panicked: "),
            "{error}"
        );
        record_failure(&dir, "plain-d2-s0-00000000", BackendName::Flex, &error).unwrap();
        let status = dir.status("plain-d2-s0-00000000").unwrap();
        assert_eq!(status.state, State::Failed);
        assert!(status.message.unwrap().contains("panicked"));
        std::fs::remove_dir_all(root).unwrap();
    }
}
