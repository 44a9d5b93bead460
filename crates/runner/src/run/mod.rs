//! Running a plan: the sweep over its runs, and one run's training loop with what it needs
//! (the epoch order, evaluation, the SGD step, progress lines, checkpoints and resuming, stop
//! signals, requeueing under SLURM).

mod eval;
mod order;
mod progress;
mod requeue;
mod resume;
mod sgd;
mod signals;
mod sweep;
mod train;

pub use eval::{evaluate, evaluate_lesioned, to_device};
pub(crate) use sgd::Sgd;
pub use signals::{Signal, Stop};
pub use sweep::{run_one, sweep, Interrupted, SweepOptions, Trained};
pub use train::train_run;
pub(crate) use train::PROBE_EXAMPLES;
