//! What to run: a config file (strict JSON, `--set` overrides), the random search it may
//! describe, the ordered plan of runs with their stable ids, how a config extends the sweep a
//! folder already holds (`extend.rs`), and what a config asks of the machine's memory
//! (`resources.rs`, checked when a sweep starts). The lowest room: it uses no other.

mod cells;
mod config;
mod dataset;
mod extend;
mod gate_bias;
mod grid;
mod groups;
mod halving;
mod json_path;
mod optimizer;
mod per_kind;
mod plain_words;
mod plan;
mod resolved;
mod resources;
mod run_id;
mod save_model;
mod search;
mod spec;

pub(crate) use cells::cells;
pub use config::Config;
pub(crate) use config::{Execution, Optimizer, DEFAULT_BETAS, DEFAULT_EPS};
pub(crate) use dataset::by_dataset;
pub use dataset::{fingerprint, load_dataset};
pub(crate) use grid::GridPoint;
pub use groups::groups;
pub(crate) use groups::Group;
pub(crate) use halving::{verdicts, Halving, TrialRecord, Verdict};
pub(crate) use plan::by_point;
pub(crate) use plan::check_grid;
pub use plan::plan;
pub(crate) use save_model::SaveModel;
pub(crate) use search::Rerun;
pub use spec::RunSpec;
pub(crate) use spec::RunTraining;

pub(crate) use extend::sweep_plan;
pub(crate) use resources::{check as check_memory, machine_memory, net_bytes, size};
