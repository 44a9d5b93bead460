//! The results folder: one folder per sweep, one per run, every file written atomically. This
//! room alone knows the files' names and formats; the training loop reports through a run's
//! [`RunRecorder`], and everything else reads through [`SweepDir`] and [`RunDir`].
//!
//! ```text
//! <sweep>/sweep.json            resolved config and the plan           (sweep_dir.rs)
//! <sweep>/events.out.tfevents.hparams  the HParams experiment and the Figure 1 panels
//!                               for TensorBoard                        (sweep_events.rs)
//! <sweep>/runs/<id>/            one run's files                        (run_dir.rs)
//!   spec.json                   what the run trained                   (spec.rs)
//!   status.json                 running | done | diverged | ...        (status.rs)
//!   curve.csv                   one row per epoch                      (curve.rs)
//!   layers.csv                  per-layer statistics per epoch         (layers.rs)
//!   events.out.tfevents.*       the same for TensorBoard, and HParams  (run_events.rs, tfevents/)
//!   model.safetensors           the trained net, when asked            (model_file.rs,
//!                               which runs keep one: kept_models.rs)
//!   checkpoint/                 while a run is unfinished              (checkpoint.rs)
//! ```
//! `recorder.rs` writes a run's files as it trains, `run_state.rs` changes a run's state
//! otherwise (failed, interrupted, stopped at a rung); `files.rs` holds the atomic writes and the
//! bounded, regular-file-only reads, `run_lock.rs` the one-process-per-run lock, `lock_file.rs`
//! how every lock file is opened and waited for, `tensor_file.rs` the safetensors layout,
//! `ranking.rs` the rule by which a cell's runs are ranked (the report's, and the models kept).

mod checkpoint;
mod curve;
pub(crate) mod files;
mod kept_models;
mod layers;
mod lock_file;
mod model_file;
mod ranking;
mod recorder;
mod run_dir;
mod run_events;
mod run_lock;
mod run_state;
mod running;
mod spec;
mod status;
mod sweep_dir;
mod sweep_events;
mod tensor_file;
mod tfevents;

pub(crate) use checkpoint::{Checkpoint, Position, ADAM_SLOTS, SGD_SLOTS};
#[cfg(test)]
pub(crate) use curve::test_curve;
pub use curve::CurveRow;
pub(crate) use files::{write_atomic, write_files};
pub(crate) use kept_models::why_no_model;
pub use layers::LayerRow;
pub(crate) use ranking::{best_train_loss, rank_loss, ranked};
pub(crate) use recorder::EpochRecord;
pub use recorder::RunRecorder;
pub use run_dir::RunDir;
pub use run_events::read_run_events;
pub(crate) use run_lock::{Acquired, RunLock};
pub(crate) use run_state::{abandon_running, Through};
pub use spec::Spec;
pub(crate) use status::State;
pub use status::Status;
pub use sweep_dir::SweepDir;
pub(crate) use sweep_dir::SweepFile;
pub(crate) use sweep_events::{PanelCurve, Panels};
pub(crate) use tfevents::custom_scalars::{Category as LayoutCategory, Chart as LayoutChart};
pub use tfevents::{Value, What};

/// Prints a warning about a file that exists but cannot be used, and what is done instead.
fn warn(what: &anyhow::Error, instead: &str) {
    eprintln!("warning: {what:#}; {instead}");
}
