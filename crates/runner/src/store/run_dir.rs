//! One run's folder, `<sweep>/runs/<id>/`: the only place that knows its files' names.
//!
//! ```text
//! spec.json           what the run trained                          (spec.rs)
//! status.json         running | done | diverged | stopped | failed | interrupted | waiting (status.rs)
//! curve.csv           one row per epoch                             (curve.rs)
//! layers.csv          per-layer statistics per epoch                (layers.rs)
//! events.out.tfevents.*  the same for TensorBoard                   (run_events.rs)
//! model.safetensors   the trained net, when kept                    (model_file.rs, kept_models.rs)
//! checkpoint/         while the run is unfinished                   (checkpoint.rs)
//! .lock               held by the process that trains it            (run_lock.rs)
//! analysis/           what `highway analyze` wrote
//! ```
//!
//! [`RunDir`] reads them; a run's training writes them through its recorder (`recorder.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use burn::tensor::Device;
use highway_model::{Mlp, ModelConfig};

use super::checkpoint::Vouched;
use super::layers::{self, LayerRow};
use super::run_lock::{Acquired, RunLock};
use super::{curve, files, model_file, run_events, Spec, Status};
use crate::experiment::RunSpec;

pub(crate) const SPEC: &str = "spec.json";
pub(crate) const STATUS: &str = "status.json";
pub(crate) const CURVE: &str = "curve.csv";
const ANALYSIS: &str = "analysis";

/// A run's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// The run folder at `path` (nothing is created).
    pub fn new(path: PathBuf) -> RunDir {
        RunDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The run's status; `None` when it has none yet. A `status.json` that cannot be read (cut
    /// short, edited by hand) is reported with its path and treated as absent: the run counts
    /// as not started, so a sweep trains it again.
    pub fn status(&self) -> Option<Status> {
        let path = self.file(STATUS);
        if !path.try_exists().unwrap_or(true) {
            return None;
        }
        files::read_json(&path)
            .map_err(|e| super::warn(&e, "the run is treated as not started"))
            .ok()
    }

    /// Writes the run's status.
    pub fn write_status(&self, status: &Status) -> Result<()> {
        let _one_at_a_time = super::running::status_write();
        files::write_json(&self.file(STATUS), status)
    }

    /// The run's learning curve; empty when it has none yet. A `curve.csv` that cannot be read
    /// is reported with its path and treated as empty.
    pub fn curve(&self) -> Vec<curve::CurveRow> {
        let path = self.file(CURVE);
        if !path.try_exists().unwrap_or(true) {
            return Vec::new();
        }
        curve::read_curve(&path)
            .map_err(|e| super::warn(&e, "its curve is left out"))
            .unwrap_or_default()
    }

    /// The run's status if it is final and the run holds no checkpoint: the harness removes
    /// a run's checkpoint before it records a final state, so a final state beside a
    /// checkpoint was written by hand and is not trusted (the run trains on from its
    /// checkpoint).
    pub(crate) fn final_status(&self) -> Option<Status> {
        let status = self.status().filter(|s| s.state.is_final())?;
        (!super::checkpoint::exists(&self.path)).then_some(status)
    }

    /// The rows of the run's learning curve that the harness can trust, for decisions
    /// (successive halving's rungs): a finished run's whole curve; of an unfinished one, the
    /// rows its checkpoint vouches for (those it continues from; a curve edited after its
    /// checkpoint was written is said, with its path, and trusted in nothing), none without a
    /// checkpoint (it trains again from epoch 1), and the curve as it is when the checkpoint
    /// cannot say (unreadable, another run's or of an older format: its loading decides).
    pub(crate) fn trusted_curve(&self) -> Vec<curve::CurveRow> {
        let mut curve = self.curve();
        match super::checkpoint::vouched(&self.path, self.id()) {
            // No checkpoint: a final status is final.
            Vouched::Nothing if self.status().is_some_and(|s| s.state.is_final()) => curve,
            Vouched::Nothing => Vec::new(),
            Vouched::Unknown => curve,
            Vouched::Losses(losses) => match super::checkpoint::unvouched(&curve, &losses) {
                None => {
                    curve.retain(|r| r.epoch <= losses.len());
                    curve
                }
                Some(why) => {
                    let refused = anyhow::anyhow!("{}: {why}", self.file(CURVE).display());
                    super::warn(&refused, "its records decide nothing until it trains again");
                    Vec::new()
                }
            },
        }
    }

    /// The run's id: its folder's name.
    fn id(&self) -> &str {
        self.path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
    }

    /// Where the run's `spec.json` is.
    pub fn spec_path(&self) -> PathBuf {
        self.file(SPEC)
    }

    /// The run's `spec.json`; `None` when it has none yet.
    pub fn spec(&self) -> Result<Option<Spec>> {
        let path = self.spec_path();
        if !path.try_exists().unwrap_or(true) {
            return Ok(None);
        }
        files::read_json(&path).map(Some)
    }

    /// The run's per-layer statistics; `None` when it recorded none. A `layers.csv` that
    /// cannot be read is reported with its path and treated as absent.
    pub fn layers(&self) -> Option<Vec<LayerRow>> {
        let path = self.file(layers::FILE);
        if !path.is_file() {
            return None;
        }
        layers::read(&path)
            .map_err(|e| super::warn(&e, "its layer statistics are left out"))
            .ok()
    }

    /// The trained net's file, whether or not it exists.
    pub fn model_path(&self) -> PathBuf {
        self.file(model_file::FILE)
    }

    /// Whether the trained net was kept.
    pub fn has_model(&self) -> bool {
        self.model_path().exists()
    }

    /// The trained net and its config, rebuilt on `device`.
    pub fn load_model(&self, device: &Device) -> Result<(ModelConfig, Mlp)> {
        model_file::load(&self.model_path(), device)
    }

    /// Where `highway analyze` writes its files.
    pub fn analysis_dir(&self) -> PathBuf {
        self.file(ANALYSIS)
    }

    /// Writes the event file of the finished run `spec` again from its records when it has
    /// none or an outdated HParams session start (runs made by older builds), so that every
    /// run shows in TensorBoard's HParams view; whether it did. Unfinished runs are left alone.
    pub fn rebuild_events(&self, spec: &RunSpec) -> Result<bool> {
        let Some(state) = self.status().map(|s| s.state).filter(|s| s.is_final()) else {
            return Ok(false);
        };
        if !run_events::outdated(&self.path, spec)? {
            return Ok(false);
        }
        let layers = self.layers().unwrap_or_default();
        run_events::rebuild(&self.path, spec, &self.curve(), &layers, state)
            .with_context(|| format!("{}: rebuilding the event file", self.path.display()))?;
        Ok(true)
    }

    /// Whether a process trains the run now, given its `status`, found without taking its lock
    /// (`run_lock.rs`, `held_here`): a lock held on this machine says yes whatever the status; a
    /// `running` status written on this machine says no when no process here holds the lock
    /// (its process was killed); a `running` status from another machine (a cluster node on a
    /// shared file system), or where the table of locks cannot be read, is taken at its word.
    pub(crate) fn in_training(&self, status: Option<&Status>) -> bool {
        let held = super::run_lock::held_here(&self.path);
        if held == Some(true) {
            return true;
        }
        let Some(status) = status.filter(|s| s.state == super::State::Running) else {
            return false;
        };
        held.is_none() || status.host != crate::sys::host()
    }

    /// Takes the run's lock without waiting (the folder is created if needed). Under the lock,
    /// a temporary file in the folder is a killed writer's: they are removed.
    pub fn lock(&self) -> Result<Acquired> {
        let acquired = RunLock::try_acquire(&self.path)?;
        if matches!(acquired, Acquired::Held(_)) {
            files::remove_stale_temporaries(&self.path, Duration::ZERO);
        }
        Ok(acquired)
    }
}
