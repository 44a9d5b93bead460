//! Running a plan, from the command down to a step:
//!
//! ```text
//! sweep.rs     which runs a command trains (the plan, a run, a group), its data, its folder
//! passes.rs    the passes over the plan's groups; successive halving's rungs (rungs.rs)
//! turn.rs      one locked turn: a run or a group's unfinished runs, failures recorded
//! train.rs     the training loop, for a cohort of K ≥ 1 trials (job.rs: what it is handed)
//! trainable.rs what the loop trains: one net (net.rs, optim.rs: SGD, Adam) or a stack
//!              (stacked.rs, stack_optim.rs), chosen by cohort.rs
//! outcome.rs   how the command ends: stop and exit code, SLURM requeue (requeue.rs), failures
//! ```
//! plus the epoch order, evaluation, progress lines and stop signals. The loop speaks in
//! epochs and records; every file it leads to is written by the run's recorder
//! (`store::RunRecorder`). The report after a sweep is the caller's (`cli`).
//! Uses `store` and `experiment`, nothing above.

mod cohort;
mod eval;
mod job;
mod net;
mod optim;
mod order;
mod outcome;
mod passes;
mod progress;
mod requeue;
mod rungs;
mod signals;
mod stack_optim;
mod stacked;
mod sweep;
mod train;
mod trainable;
mod turn;

pub(crate) use cohort::cohort;
pub use eval::evaluate;
pub(crate) use eval::{evaluate_lesioned, to_device};
pub(crate) use optim::Rule;
pub use outcome::Interrupted;
pub(crate) use outcome::Trained;
pub use signals::Stop;
pub use sweep::{run_group, run_one, sweep, SweepOptions};
pub(crate) use train::PROBE_EXAMPLES;
pub(crate) use trainable::{layer_stats, Layers, TrialStart};
