//! A sweep's folder: `sweep.json` and one folder per run.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::{read_curve, read_json, write_json, CurveRow, Status};
use crate::experiment::{extend, Config, RunSpec};

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

    /// Writes `sweep.json` and the HParams experiment for TensorBoard (the same bytes from
    /// every process of one sweep). A folder that holds an earlier sweep keeps it: a config that
    /// extends it (more or fewer kinds, depths, seeds or trials) makes a `sweep.json` of both,
    /// so that the report covers every run; one that changes any other setting is refused,
    /// naming what differs.
    pub fn prepare(&self, config: &Config, plan: &[RunSpec]) -> Result<()> {
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("{}: cannot create", self.root.display()))?;
        // One process at a time reads, merges and writes sweep.json.
        let lock_path = self.root.join(".sweep.lock");
        let lock = std::fs::File::create(&lock_path)
            .with_context(|| format!("{}: cannot create", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("{}: cannot lock", lock_path.display()))?;
        let path = self.root.join("sweep.json");
        let (config, plan) = if path.is_file() {
            let old = self.load()?;
            match extend::merge(&old.config, config) {
                Ok(merged) if merged == old.config => (old.config, old.plan),
                Ok(merged) => {
                    let plan = crate::experiment::plan(&merged);
                    (merged, plan)
                }
                Err(differences) => bail!(
                    "{}: this folder holds a sweep of another plan: {}; use --out DIR or \
                     another name for this one (or delete the folder)",
                    path.display(),
                    differences.join("; ")
                ),
            }
        } else {
            (config.clone(), plan.to_vec())
        };
        let file = SweepFile {
            config,
            plan,
            harness_version: env!("CARGO_PKG_VERSION").into(),
        };
        // Other processes may be writing here now: only leftovers older than any write.
        for dir in [self.root.clone(), self.root.join("figures")] {
            super::files::remove_stale_temporaries(&dir, STALE_AFTER);
        }
        // Never write a file this program cannot read back.
        let text = serde_json::to_string_pretty(&file)?;
        serde_json::from_str::<SweepFile>(&text)
            .with_context(|| format!("{}: would not read back; not written", path.display()))?;
        write_json(&path, &file)?;
        super::run_events::write_experiment(&self.root, &file.config.name, &file.config.notes)
    }

    pub fn load(&self) -> Result<SweepFile> {
        let path = self.root.join("sweep.json");
        anyhow::ensure!(
            path.is_file(),
            "{}: no sweep.json here: not a sweep folder",
            self.root.display()
        );
        read_json(&path)
    }

    pub fn run_dir(&self, id: &str) -> PathBuf {
        self.root.join("runs").join(id)
    }

    /// The run's status; `None` when it has none yet. A `status.json` that cannot be read (cut
    /// short, edited by hand) is reported with its path and treated as absent: the run counts
    /// as not started, so a sweep trains it again.
    pub fn status(&self, id: &str) -> Option<Status> {
        let path = self.run_dir(id).join("status.json");
        if !path.try_exists().unwrap_or(true) {
            return None;
        }
        read_json(&path)
            .map_err(|e| super::warn(&e, "the run is treated as not started"))
            .ok()
    }

    /// The run's learning curve; empty when it has none yet. A `curve.csv` that cannot be read
    /// is reported with its path and treated as empty.
    pub fn curve(&self, id: &str) -> Vec<CurveRow> {
        let path = self.run_dir(id).join("curve.csv");
        if !path.try_exists().unwrap_or(true) {
            return Vec::new();
        }
        read_curve(&path)
            .map_err(|e| super::warn(&e, "its curve is left out"))
            .unwrap_or_default()
    }
}
