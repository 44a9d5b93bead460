//! How a command that trained ends: the stop that cut it short (its exit code, and the SLURM
//! job requeued on a warning signal where asked), the runs that failed, or success.

use anyhow::{bail, Result};

use super::requeue;
use super::signals::{Signal, Stop};
use crate::experiment::RunSpec;
use crate::store::{State, Status, SweepDir, Through};

/// What training a plan (or one task's share of it) came to.
pub struct Trained {
    /// The sweep folder, for the report.
    pub dir: SweepDir,
    /// How many runs were asked for, and the ids of those that failed.
    pub(super) selected: usize,
    pub(super) failed: Vec<String>,
    /// The stop signal that ended training early, and what it left.
    pub(super) stopped: Option<Interrupted>,
    /// Whether to requeue the SLURM job after a warning signal.
    pub(super) requeue: bool,
    /// The process's stop request, which may also come after training.
    pub(super) stop: Stop,
    /// The command that picks up where this one stopped.
    pub(super) hint: String,
}

impl Trained {
    /// Whether a stop signal has arrived: during training, or since.
    pub fn stop_requested(&self) -> bool {
        self.stop.requested().is_some()
    }

    /// Counts the runs `ids` as failed, each once however many passes it failed in.
    pub(super) fn add_failed(&mut self, ids: Vec<String>) {
        for id in ids {
            if !self.failed.contains(&id) {
                self.failed.push(id);
            }
        }
    }

    /// Ends training before it began or between runs, stopped by `signal`; `what` says what
    /// was left undone or unsaved.
    pub(super) fn stop_between(&mut self, signal: Signal, what: &str) {
        let hint = &self.hint;
        let message =
            format!("stopped by {signal} {what}; finished runs are kept; resume with\n  {hint}");
        self.stopped = Some(Interrupted { signal, message });
    }

    /// Ends training with `run` interrupted by `signal` (its `status` says where): the resume
    /// command goes into its status and into the stop's message.
    pub(super) fn stop_in(&mut self, run: &RunSpec, status: Status, signal: Signal) {
        let hint = &self.hint;
        let what = status.message.unwrap_or_default();
        let message = Some(format!("{what}; resume with: {hint}"));
        let run_dir = self.dir.run(&run.id);
        let state = State::Interrupted;
        if let Err(e) = run_dir.set_state(status.backend, state, message, Through::AsIs) {
            eprintln!("warning: {e:#}");
        }
        // `what` says the signal already ("stopped by SIGTERM in epoch 1, …").
        let message = format!("{what}; finished runs are kept; resume with\n  {hint}");
        self.stopped = Some(Interrupted { signal, message });
    }

    /// What the command ends with once the report is written: the stop (the SLURM job
    /// requeued first, on a warning signal during training where asked), the failed runs, or
    /// success. A process that received a stop signal exits with its code, even when the
    /// signal came after training.
    pub fn outcome(mut self) -> Result<()> {
        if self.stopped.is_none() {
            if let Some(signal) = self.stop.requested() {
                self.stop_between(signal, "after training ended (the report may be stale)");
                self.requeue = false;
            }
        }
        if let Some(mut stop) = self.stopped {
            if stop.signal.is_warning() && self.requeue {
                if let Some(job) = requeue::slurm_job() {
                    stop.message += &match requeue::requeue(&job, &self.stop) {
                        Ok(()) => {
                            format!("\nrequeued SLURM job {job}: it continues from the checkpoint")
                        }
                        Err(e) => format!("\ncould not requeue SLURM job {job}: {e:#}"),
                    };
                }
            }
            return Err(stop.into());
        }
        if !self.failed.is_empty() {
            bail!(
                "{} of {} runs failed ({}); their status.json says why; the other runs are \
                 kept, and running the same command again retries the failed ones",
                self.failed.len(),
                self.selected,
                self.failed.join(", ")
            );
        }
        Ok(())
    }
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
