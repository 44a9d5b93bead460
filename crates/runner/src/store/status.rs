//! `status.json`: where a run stands, and the facts of the process that ran it.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::CurveRow;
use crate::backend::BackendName;
use crate::words::count;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Running,
    Done,
    Diverged,
    Failed,
    Interrupted,
    /// At a rung of successive halving, its checkpoint written, until the rest of its cell
    /// gets there and the rung is decided.
    Waiting,
    /// Ranked out at a rung of successive halving: a result, as final as `done`.
    Stopped,
}

impl State {
    /// Finished results that a restarted sweep keeps.
    pub fn is_final(self) -> bool {
        matches!(self, State::Done | State::Diverged | State::Stopped)
    }

    /// The state's name, as in `status.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Done => "done",
            State::Diverged => "diverged",
            State::Failed => "failed",
            State::Interrupted => "interrupted",
            State::Waiting => "waiting",
            State::Stopped => "stopped",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `status.json` of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub state: State,
    pub epochs: usize,
    pub best_train_loss: Option<f64>,
    pub final_train_loss: Option<f64>,
    pub final_eval_loss: Option<f64>,
    pub final_eval_acc: Option<f64>,
    pub wall_seconds: f64,
    pub peak_rss_mib: f64,
    /// The backend of the latest attempt.
    pub backend: BackendName,
    /// The backends of earlier attempts, oldest first, when a resumed run changed backend:
    /// its numbers come from all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_backends: Vec<BackendName>,
    pub git_revision: String,
    pub host: String,
    pub pid: u32,
    pub started_at: f64,
    /// Why a run diverged or failed.
    pub message: Option<String>,
}

impl Status {
    /// The status of a run that is starting now on `backend`.
    pub fn starting(backend: BackendName) -> Self {
        Status {
            state: State::Running,
            epochs: 0,
            best_train_loss: None,
            final_train_loss: None,
            final_eval_loss: None,
            final_eval_acc: None,
            wall_seconds: 0.0,
            peak_rss_mib: 0.0,
            backend,
            earlier_backends: Vec::new(),
            git_revision: crate::sys::git_revision(),
            host: crate::sys::host(),
            pid: std::process::id(),
            started_at: crate::sys::now(),
            message: None,
        }
    }

    /// Continues from `earlier`, the status of the attempt before, on this status's backend:
    /// the backends it trained on are kept.
    pub fn continue_from(&mut self, earlier: &Status) {
        self.earlier_backends = earlier.earlier_backends.clone();
        if earlier.backend != self.backend {
            self.earlier_backends.push(earlier.backend);
        }
    }

    /// Every backend the run trained on, oldest first: `flex`, or `flex+wgpu`.
    pub fn backends(&self) -> String {
        let mut names: Vec<&str> = self.earlier_backends.iter().map(|b| b.as_str()).collect();
        names.push(self.backend.as_str());
        names.join("+")
    }

    /// Records a finished epoch's losses, the run's training time so far and the memory used.
    pub fn record_epoch(&mut self, row: &CurveRow, wall_seconds: f64) {
        self.epochs = row.epoch;
        self.final_train_loss = Some(row.train_loss);
        self.best_train_loss = Some(
            self.best_train_loss
                .map_or(row.train_loss, |b| b.min(row.train_loss)),
        );
        self.final_eval_loss = Some(row.eval_loss);
        self.final_eval_acc = Some(row.eval_acc);
        self.wall_seconds = wall_seconds;
        self.peak_rss_mib = crate::sys::peak_rss_mib();
    }

    /// One line for the log: `done after 12 epochs, 31.4s` and the message, if any.
    pub fn summary(&self) -> String {
        let message = self
            .message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        format!(
            "{} after {}, {:.1}s{message}",
            self.state,
            count(self.epochs, "epoch"),
            self.wall_seconds
        )
    }
}
