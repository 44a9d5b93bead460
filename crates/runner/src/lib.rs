//! The highway harness: depth sweeps of plain and highway MLPs (Srivastava, Greff &
//! Schmidhuber 2015), from JSON configs to paper-style figures.
//!
//! The modules follow the path of the data:
//!
//! ```text
//! experiment/  config → search → plan (runs with stable ids)      what to run
//! run/         sweep → train (order, eval, sgd, progress, stop)  running it
//! store/       the results folder: status, curves, models         what it wrote
//! report/      summary tables and figures (svg/)                  what it means
//! analyze/     gates and lesions of a trained net                 the paper's Figures 2–4
//! cli/         the command line                                    `highway …`
//! ```
//! plus `backend` (the `--backend` flag), `bench` (step throughput) and `sys` (process facts
//! and the floating-point mode).

#![forbid(unsafe_code)]

pub mod analyze;
pub mod backend;
pub mod bench;
pub mod cli;
pub mod experiment;
pub mod report;
pub mod run;
pub mod store;
pub mod sys;
