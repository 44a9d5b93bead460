//! Bytes on disk to training data: MNIST and Fashion-MNIST (IDX, raw or gzipped), CIFAR-10 and
//! CIFAR-100 (binary version), the user's own files (NumPy, CSV, safetensors), and
//! deterministic synthetic data; downloading and verifying the official archives. Every failure is a [`DataError`] that names the file and what was wrong.
//!
//! Nothing here knows about tensors or the command line: a [`Split`] is flat `f32` features and
//! integer labels, ready to be handed to any backend.

#![forbid(unsafe_code)]

pub mod checksum;
pub mod cifar;
mod dataset;
mod error;
pub mod fetch;
pub mod files;
pub mod idx;
pub mod preprocess;
pub mod regular;
pub mod sources;
mod split;
pub mod synthetic;

use std::io::{Read, Write};
use std::path::Path;

pub use dataset::{data_dir, load, Dataset, DatasetName, EvalSplit, LoadOptions};
pub use error::{DataError, Result};
pub use files::{FilesSpec, SourceFile, SplitFiles};
pub use preprocess::{Normalization, Preprocess};
pub use split::Split;
pub use synthetic::SyntheticSpec;

/// A regular file's bytes, gunzipped when its name ends in `.gz`, as a stream: a reader takes
/// what it expects from it and no more (a gzip bomb is never inflated whole).
pub fn open_maybe_gz(path: &Path) -> Result<Box<dyn Read>> {
    let file = regular::open_regular(path)?;
    let reader = std::io::BufReader::new(file);
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(reader)))
    } else {
        Ok(Box::new(reader))
    }
}

/// Gzips bytes (tests and tools write `.gz` files with it).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}
