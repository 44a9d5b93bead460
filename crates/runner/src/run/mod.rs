//! Running a plan: the sweep over its runs (`sweep.rs`: which runs, locks, failures, stops),
//! and one run's training loop (`train.rs`) with what it needs: the epoch order, evaluation,
//! the SGD step, progress lines, checkpoint snapshots, stop signals, requeueing under SLURM.
//! The loop speaks in epochs and records; every file it leads to is written by the run's
//! recorder (`store::RunRecorder`). The report after a sweep is the caller's (`cli`).
//! Uses `store` and `experiment`, nothing above.

mod eval;
mod group;
mod order;
mod progress;
mod requeue;
mod resume;
mod rungs;
mod sgd;
mod signals;
mod stack_sgd;
mod sweep;
mod train;

pub use eval::{evaluate, evaluate_lesioned, to_device};
pub(crate) use sgd::Sgd;
pub use signals::{Signal, Stop};
pub(crate) use stack_sgd::StackSgd;
pub use sweep::{run_group, run_one, sweep, Interrupted, SweepOptions, Trained};
pub use train::train_run;
pub(crate) use train::PROBE_EXAMPLES;
