//! TensorBoard event files, written by our own small encoder: TensorFlow's record framing with
//! CRC-32C, and the few protobuf messages TensorBoard reads (`Event`, `Summary`, and the HParams
//! plugin's data). W&B, Aim and Neptune import the same files.

pub mod crc32c;
pub mod event;
pub mod file;
pub mod hparams;
pub mod proto;
pub mod record;

pub use event::{Event, Value, What};
pub use file::EventFile;
