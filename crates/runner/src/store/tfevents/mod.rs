//! TensorBoard event files, written by our own small encoder: TensorFlow's record framing with
//! CRC-32C, and the few protobuf messages TensorBoard reads (`Event`, `Summary`, the HParams
//! plugin's data and the custom scalars plugin's layout). W&B, Aim and Neptune import the same
//! files.

pub(super) mod crc32c;
pub(super) mod custom_scalars;
pub(super) mod event;
pub(super) mod file;
pub(super) mod hparams;
pub(super) mod proto;
pub(super) mod record;

pub(crate) use event::Event;
pub use event::{Value, What};
pub(super) use file::EventFile;
