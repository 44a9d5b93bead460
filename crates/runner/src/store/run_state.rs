//! The one way a run's state changes outside its training: [`RunDir::set_state`]. A run in
//! training reports through its recorder (`recorder.rs`), which writes the same status; every
//! other path (a failure, the resume hint after a stop, a trial ranked out at a rung of
//! successive halving, a process that must quit at once) sets the state here, and
//! [`abandon_running`] records the runs of a process that quits at once.
//!
//! A state set here is built from the run's records, never from its checkpoint: a trial ranked
//! out at a rung ends with the epochs its curve holds through the rung, and a damaged or older
//! checkpoint of it is only removed.

use anyhow::{Context, Result};

use super::{checkpoint, files, run_events, running, RunDir, State, Status};
use crate::backend::BackendName;
use crate::experiment::RunSpec;

/// What a state change does besides the state and its message.
#[derive(Debug, Clone, Copy)]
pub enum Through<'a> {
    /// Nothing else: the status keeps what it says of the epochs.
    AsIs,
    /// The run `spec` ends with the epochs its curve holds up to this one: its status, its
    /// event file (the session's end included) and no checkpoint.
    Epoch(usize, &'a RunSpec),
}

impl RunDir {
    /// Sets the run's state to `state`, saying `message`, keeping what its status already says
    /// (a run without a readable status starts one on `backend`); `through` says whether the
    /// run ends at an epoch of its records. The status written.
    pub fn set_state(
        &self,
        backend: BackendName,
        state: State,
        message: Option<String>,
        through: Through,
    ) -> Result<Status> {
        let mut status = self.status().unwrap_or_else(|| Status::starting(backend));
        if let Through::Epoch(epoch, spec) = through {
            self.end_records(&mut status, epoch, state, spec)?;
        }
        (status.state, status.message) = (state, message);
        self.write_status(&status)
            .with_context(|| format!("recording the run as {state}"))?;
        Ok(status)
    }

    /// Records the run as failed with `message`, keeping what its status already said.
    pub fn record_failure(&self, backend: BackendName, message: String) -> Result<()> {
        let failed = State::Failed;
        self.set_state(backend, failed, Some(message), Through::AsIs)
            .map(|_| ())
    }

    /// Ends the run's records at `epoch`: the status's epochs and losses from its curve's rows
    /// through it, the event file written again from those records with the session's end for
    /// `state`, and the checkpoint removed.
    fn end_records(
        &self,
        status: &mut Status,
        epoch: usize,
        state: State,
        spec: &RunSpec,
    ) -> Result<()> {
        let mut curve = self.curve();
        curve.retain(|r| r.epoch <= epoch);
        // A status that was lost says no time: the epochs' own seconds are a lower bound.
        let recorded: f64 = curve.iter().map(|r| r.seconds).sum();
        let (wall_seconds, peak) = (status.wall_seconds.max(recorded), status.peak_rss_mib);
        (status.epochs, status.best_train_loss) = (0, None);
        for row in &curve {
            status.record_epoch(row, wall_seconds);
        }
        status.peak_rss_mib = peak;
        let mut layers = self.layers().unwrap_or_default();
        layers.retain(|l| l.epoch <= epoch);
        run_events::rebuild(self.path(), spec, &curve, &layers, state)
            .with_context(|| format!("{}: rebuilding the event file", self.path().display()))?;
        checkpoint::remove(self.path())
    }
}

/// Records every run in training as interrupted, saying `message`, for a process that exits
/// right after; no status is written by this process from then on.
pub(crate) fn abandon_running(message: &str) {
    for path in running::quitting() {
        let Ok(mut status) = files::read_json::<Status>(&path) else {
            continue;
        };
        if status.state == State::Running {
            (status.state, status.message) = (State::Interrupted, Some(message.to_string()));
            // The status-write lock is held for good: written directly.
            if let Err(e) = files::write_json(&path, &status) {
                eprintln!("warning: {e:#}");
            }
        }
    }
}
