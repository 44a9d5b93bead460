//! A sweep's folder: `sweep.json` and one folder per run. A command that fails before it
//! trained anything (the data missing, the backend not there) takes back the sweep folder it
//! made, so that the next try starts as clean as the first.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::lock_file;
use super::sweep_events::{self, Panels, SWEEP_EVENTS};
use super::{files, run_events, RunDir};
use crate::experiment::{Config, RunSpec};

const SWEEP: &str = "sweep.json";
const RUNS: &str = "runs";
/// The lock of `sweep.json` and the sweep's event file: one process at a time reads, merges
/// and writes them.
const SWEEP_LOCK: &str = ".sweep.lock";

/// `sweep.json`: what the sweep is, so that `report` and `run --index` need nothing else.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepFile {
    pub config: Config,
    pub plan: Vec<RunSpec>,
    pub harness_version: String,
}

/// A sweep's folder.
#[derive(Debug, Clone)]
pub struct SweepDir {
    pub root: PathBuf,
}

/// The age after which a temporary file in a shared folder is a killed writer's.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

impl SweepDir {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// The sweep folder that holds the run folder `run` (`<sweep>/runs/<id>`).
    pub fn of_run(run: &Path) -> Result<SweepDir> {
        run.parent()
            .filter(|p| p.file_name().is_some_and(|n| n == RUNS))
            .and_then(Path::parent)
            .filter(|p| p.join(SWEEP).is_file())
            .map(|p| SweepDir::new(p.to_path_buf()))
            .with_context(|| {
                format!(
                    "{}: not inside a sweep folder (expected <sweep>/{RUNS}/<id> next to \
                     <sweep>/{SWEEP})",
                    run.display()
                )
            })
    }

    /// Writes `sweep.json` and the HParams experiment for TensorBoard (the same bytes from
    /// every process of one sweep), keeping the panels the sweep's event file has. `resolve`
    /// decides the sweep's config and plan from the ones this folder holds already (`None` for
    /// a new folder), or refuses; it is called with the folder locked, so that one process at
    /// a time reads, merges and writes. The lock is waited for at most [`lock_file::WAIT`], and
    /// not once `give_up` says so: then nothing is written (`held` is false).
    pub(crate) fn prepare(
        &self,
        resolve: impl FnOnce(Option<(Config, Vec<RunSpec>)>) -> Result<(Config, Vec<RunSpec>)>,
        give_up: &dyn Fn() -> bool,
    ) -> Result<Prepared> {
        let made = Prepared::missing_folders(&self.root);
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("{}: cannot create", self.root.display()))?;
        let mut prepared = Prepared {
            held: false,
            new_sweep: false,
            made,
        };
        let Some(_lock) = self.lock(SWEEP_LOCK, give_up)? else {
            return Ok(prepared);
        };
        let path = self.root.join(SWEEP);
        let old = match path.is_file() {
            true => self.load().map(|f| Some((f.config, f.plan)))?,
            false => None,
        };
        prepared.new_sweep = old.is_none();
        let (config, plan) = resolve(old).with_context(|| path.display().to_string())?;
        let file = SweepFile {
            config,
            plan,
            harness_version: env!("CARGO_PKG_VERSION").into(),
        };
        // Other processes may be writing here now: only leftovers older than any write.
        for dir in [self.root.clone(), self.root.join("figures")] {
            files::remove_stale_temporaries(&dir, STALE_AFTER);
        }
        // Never write a file this program cannot read back.
        let text = serde_json::to_string_pretty(&file)?;
        serde_json::from_str::<SweepFile>(&text)
            .with_context(|| format!("{}: would not read back; not written", path.display()))?;
        files::write_json(&path, &file)?;
        self.write_events(&file, None)?;
        prepared.held = true;
        Ok(prepared)
    }

    /// Writes the sweep's event file with `panels` (the report's) and the HParams experiment
    /// of the plan, under the sweep's lock, waited for as [`prepare`](Self::prepare) does; its
    /// path, or `None` when given up.
    pub(crate) fn write_panels(
        &self,
        panels: &Panels,
        give_up: &dyn Fn() -> bool,
    ) -> Result<Option<PathBuf>> {
        let Some(_lock) = self.lock(SWEEP_LOCK, give_up)? else {
            return Ok(None);
        };
        self.write_events(&self.load()?, Some(panels))?;
        Ok(Some(self.root.join(sweep_events::SWEEP_EVENTS)))
    }

    /// Writes the sweep's event file: the experiment of `file`'s plan and `panels`, or the
    /// panels it has (`None`). The caller holds the sweep's lock.
    fn write_events(&self, file: &SweepFile, panels: Option<&Panels>) -> Result<()> {
        let c = &file.config;
        let experiment = run_events::experiment(&c.name, &c.notes, &file.plan);
        sweep_events::write(&self.root, experiment, panels)
    }

    /// Takes the report lock of the sweep, so that one process at a time writes its report
    /// (the last one written then reads every status written before it), waiting as
    /// [`prepare`](Self::prepare) does; `None` when given up. Held until dropped.
    pub fn report_lock(&self, give_up: &dyn Fn() -> bool) -> Result<Option<File>> {
        self.lock(".report.lock", give_up)
    }

    /// Takes the models lock of the sweep, under which a run that finishes decides whether it
    /// keeps its model (`kept_models.rs`), so that the runs of one cell decide one at a time;
    /// waited for as [`prepare`](Self::prepare) does; `None` when given up. Held until dropped.
    pub(crate) fn models_lock(&self, give_up: &dyn Fn() -> bool) -> Result<Option<File>> {
        self.lock(".models.lock", give_up)
    }

    /// The lock file `name` of the sweep folder, locked; `None` when given up.
    fn lock(&self, name: &str, give_up: &dyn Fn() -> bool) -> Result<Option<File>> {
        let path = self.root.join(name);
        let file = lock_file::open(&path)?;
        let held = lock_file::lock_within(&file, &path, lock_file::WAIT, give_up)?;
        Ok(held.then_some(file))
    }

    pub fn load(&self) -> Result<SweepFile> {
        let path = self.root.join(SWEEP);
        anyhow::ensure!(
            path.is_file(),
            "{}: no {SWEEP} here: not a sweep folder",
            self.root.display()
        );
        files::read_json(&path)
    }

    /// Writes again the sweep's HParams experiment (under the sweep's lock, keeping its panels:
    /// the report writes those), and the event files of the finished runs that have none or an
    /// outdated one ([`RunDir::rebuild_events`]), each under its run's lock (a run in training
    /// is skipped); how many run files were written.
    pub fn rebuild_events(&self) -> Result<usize> {
        let file = {
            let _lock = self.lock(SWEEP_LOCK, &|| false)?;
            let file = self.load()?;
            self.write_events(&file, None)?;
            file
        };
        let mut rebuilt = 0;
        for spec in file.plan {
            let run = self.run(&spec.id);
            if !run.path().is_dir() {
                continue;
            }
            let super::Acquired::Held(_lock) = run.lock()? else {
                continue;
            };
            rebuilt += usize::from(run.rebuild_events(&spec)?);
        }
        Ok(rebuilt)
    }

    /// The folder of run `id`.
    pub fn run(&self, id: &str) -> RunDir {
        RunDir::new(self.root.join(RUNS).join(id))
    }
}

/// What [`SweepDir::prepare`] did.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// Whether the sweep's files are written; `false` when a stop came while another process
    /// held the folder, and nothing was written.
    pub(crate) held: bool,
    /// Whether this process wrote the sweep's first `sweep.json` (a new sweep).
    new_sweep: bool,
    /// The folders this process made on the way to the sweep folder, the outermost first.
    made: Vec<PathBuf>,
}

impl Prepared {
    /// The folders that `root` needs made: itself and each missing one above it, the
    /// outermost first.
    fn missing_folders(root: &Path) -> Vec<PathBuf> {
        let mut missing: Vec<PathBuf> = root
            .ancestors()
            .take_while(|p| !p.as_os_str().is_empty() && !p.exists())
            .map(Path::to_path_buf)
            .collect();
        missing.reverse();
        missing
    }
}

impl SweepDir {
    /// Takes back what [`prepare`](Self::prepare) made for a new sweep when the command then
    /// failed before any run began: `sweep.json`, the HParams file, the lock and the folders it
    /// made (each only while empty). Nothing is removed once a run folder exists or when the
    /// sweep was not new; a failure to remove is not the error to report.
    pub(crate) fn undo_start(&self, prepared: &Prepared) {
        if !prepared.held || !prepared.new_sweep || self.root.join(RUNS).exists() {
            return;
        }
        for name in [SWEEP, SWEEP_EVENTS, SWEEP_LOCK] {
            let _ = std::fs::remove_file(self.root.join(name));
        }
        for folder in prepared.made.iter().rev() {
            if std::fs::remove_dir(folder).is_err() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `training.save_model`'s default changed (to `"best"`) and stays unwritten: every
    /// committed `sweep.json` is written back with the `save_model` entries it has and no
    /// other (none in a sweep made at the old default, `true` where it asked for models), and
    /// what is written back writes back byte for byte.
    #[test]
    fn committed_sweeps_write_back_their_save_model_entries_only() {
        let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
        let entries = |t: &str| {
            (
                t.matches("\"save_model\": true").count(),
                t.matches("save_model").count(),
            )
        };
        let mut read = 0;
        for sweep in std::fs::read_dir(&results).unwrap().flatten() {
            let path = sweep.path().join(SWEEP);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let write = |t: &str| {
                let file: SweepFile =
                    serde_json::from_str(t).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                serde_json::to_string_pretty(&file).unwrap() + "\n"
            };
            let back = write(&text);
            assert_eq!(entries(&back), entries(&text), "{}", path.display());
            assert_eq!(write(&back), back, "{}", path.display());
            read += 1;
        }
        assert!(read >= 5, "only {read} committed sweeps found");
    }
}
