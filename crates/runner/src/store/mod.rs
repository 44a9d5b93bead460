//! The results folder: one folder per sweep, one per run, every file written atomically.
//!
//! ```text
//! <sweep>/sweep.json            resolved config and the plan           (sweep_dir.rs)
//! <sweep>/runs/<id>/spec.json   the run's resolved settings
//! <sweep>/runs/<id>/curve.csv   one row per epoch                      (curve.rs)
//! <sweep>/runs/<id>/layers.csv  per-layer gradient, output and gate statistics per epoch (layers.rs)
//! <sweep>/runs/<id>/events.out.tfevents.*  the same for TensorBoard, and HParams (run_events.rs)
//! <sweep>/events.out.tfevents.hparams  the sweep's HParams experiment                (run_events.rs)
//! <sweep>/runs/<id>/status.json running | done | diverged | ...        (status.rs)
//! <sweep>/runs/<id>/model.safetensors  the trained net, when asked    (model_file.rs)
//! <sweep>/runs/<id>/checkpoint/  while a run is unfinished: where it stands (checkpoint.rs)
//! ```

pub mod checkpoint;
pub mod curve;
pub mod files;
pub mod layers;
pub mod model_file;
pub mod run_events;
pub mod run_lock;
pub mod status;
pub mod sweep_dir;
pub mod tensor_file;
pub mod tfevents;

pub use curve::{curve_csv, read_curve, CurveRow, CURVE_HEADER};
pub use files::{read_json, write_atomic, write_files, write_json};
pub use status::{State, Status};
pub use sweep_dir::{SweepDir, SweepFile};

/// Prints a warning about a file that exists but cannot be used, and what is done instead.
pub fn warn(what: &anyhow::Error, instead: &str) {
    eprintln!("warning: {what:#}; {instead}");
}
