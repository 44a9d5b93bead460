//! What to run: a config file (strict JSON, `--set` overrides), the random search it may
//! describe, and the ordered plan of runs with their stable ids.

pub mod config;
pub mod dataset;
pub mod extend;
pub mod gate_bias;
pub mod per_kind;
pub mod plan;
pub mod resources;
pub mod run_id;
pub mod search;
pub mod spec;

pub use config::{apply_set, Config};
pub use dataset::load_dataset;
pub use plan::plan;
pub use spec::{RunSpec, RunTraining};
