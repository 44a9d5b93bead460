//! The highway harness: depth sweeps of plain and highway MLPs (Srivastava, Greff &
//! Schmidhuber 2015), from JSON configs to paper-style figures.
//!
//! The modules follow the path of the data, and each depends only on the ones below it
//! (cli → analyze, report → run → store → experiment):
//!
//! ```text
//! experiment/  config → search → plan (runs with stable ids)      what to run
//! run/         sweep → passes → turn → train (one loop for a      running it
//!              cohort of K ≥ 1 trials: one net or a stack)
//! store/       the results folder: every file of a run, behind    what it wrote
//!              a run's recorder while it trains
//! report/      summary tables and figures, and sweep analyses     what it means
//!              (`highway analyze search|mechanism|halving|time`)
//! analyze/     gates and lesions of a trained net                 the paper's Figures 2–4
//! cli/         the command line; writes the report after a sweep  `highway …`
//! ```
//! plus `svg` (the figures' drawing, shared by report and analyze), `backend` (the
//! `--backend` flag), `bench` (step throughput) and `sys` (process facts and the
//! floating-point mode). Each folder's `mod.rs` is the only way in, and the folders are private:
//! a program that uses the library plans (`Config`, `plan`, `groups`), trains (`sweep`,
//! `run_one`, `run_group`), reads a sweep's records (`SweepDir`, `RunDir`, `Status`,
//! `CurveRow`, `read_run_events`), writes its report (`write_report`) and analyses a trained
//! net (`open_run`, `gates`, `lesion`) through the names re-exported here.

#![forbid(unsafe_code)]
// The folders are private: the library's surface is what this file re-exports below (docs/cli.md,
// "The library"), and every other item is `pub(crate)` at most, so that `unreachable_pub` and
// `dead_code` see the whole crate.
#![warn(unreachable_pub)]

mod analyze;
mod backend;
mod bench;
mod cli;
mod experiment;
mod report;
mod run;
mod sig_digits;
mod store;
mod svg;
mod sys;
mod words;

pub use analyze::{gates, lesion, open as open_run, Opened};
pub use backend::BackendName;
pub use cli::{empty_flag_variables_are_unset, run as run_command, Cli};
pub use experiment::{fingerprint, groups, load_dataset, plan, Config, RunSpec};
pub use report::{write as write_report, SUMMARY_HEADER};
pub use run::{evaluate, run_group, run_one, sweep, Interrupted, Stop, SweepOptions};
pub use store::{
    read_run_events, CurveRow, LayerRow, RunDir, RunRecorder, Spec, Status, SweepDir, Value, What,
};
pub use sys::{flush_denormals, headless_gpu_env};
