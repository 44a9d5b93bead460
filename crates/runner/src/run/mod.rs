//! Running a plan: the sweep over its runs, and one run's training loop with what it needs
//! (the epoch order, evaluation, the SGD step, progress lines, checkpoints and resuming, stop
//! signals, requeueing under SLURM).

pub mod eval;
pub mod order;
pub mod progress;
pub mod requeue;
pub mod resume;
pub mod sgd;
pub mod signals;
pub mod sweep;
pub mod train;

pub use sweep::{run_one, sweep, SweepOptions};
