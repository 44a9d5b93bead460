//! The highway harness: depth sweeps of plain and highway MLPs (Srivastava, Greff &
//! Schmidhuber 2015), from JSON configs to paper-style figures.
//!
//! The modules follow the path of the data, and each depends only on the ones below it
//! (cli → analyze, report → run → store → experiment):
//!
//! ```text
//! experiment/  config → search → plan (runs with stable ids)      what to run
//! run/         sweep → train (order, eval, sgd, progress, stop)  running it
//! store/       the results folder: every file of a run, behind    what it wrote
//!              a run's recorder while it trains
//! report/      summary tables and figures, and sweep analyses     what it means
//!              (`highway analyze search|mechanism|halving|time`)
//! analyze/     gates and lesions of a trained net                 the paper's Figures 2–4
//! cli/         the command line; writes the report after a sweep  `highway …`
//! ```
//! plus `svg` (the figures' drawing, shared by report and analyze), `backend` (the
//! `--backend` flag), `bench` (step throughput) and `sys` (process facts and the
//! floating-point mode). Each folder's `mod.rs` is the only way in.

#![forbid(unsafe_code)]
// Items are `pub(crate)` unless they are the library's documented surface (README, "Commands").
#![warn(unreachable_pub)]

pub mod analyze;
pub mod backend;
mod bench;
pub mod cli;
pub mod experiment;
pub mod report;
pub mod run;
pub mod store;
mod svg;
mod sys;

pub use sys::{flush_denormals, headless_gpu_env};
