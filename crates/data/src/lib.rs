//! Bytes on disk to training data: MNIST and Fashion-MNIST (IDX, raw or gzipped), CIFAR-10 and
//! CIFAR-100 (binary version), and deterministic synthetic data; downloading and verifying the
//! official archives. Every failure is a [`DataError`] that names the file and what was wrong.
//!
//! Nothing here knows about tensors or the command line: a [`Split`] is flat `f32` features and
//! integer labels, ready to be handed to any backend.

#![forbid(unsafe_code)]

pub mod cifar;
mod dataset;
mod error;
pub mod fetch;
pub mod idx;
pub mod preprocess;
pub mod sources;
mod split;
pub mod synthetic;

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

pub use dataset::{data_dir, load, Dataset, DatasetName, EvalSplit, LoadOptions};
pub use error::{DataError, Result};
pub use preprocess::{Normalization, Preprocess};
pub use split::Split;
pub use synthetic::SyntheticSpec;

/// Reads a file whole, gunzipping it when its name ends in `.gz`.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let bytes = fs::read(path).map_err(|e| DataError::io(path, e))?;
    if path.extension().is_some_and(|e| e == "gz") {
        // IDX images are about 5× their gzipped size.
        let mut out = Vec::with_capacity(bytes.len() * 5);
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::Archive {
                path: path.to_path_buf(),
                detail: format!("gzip: {e}"),
            })?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Gzips bytes (tests and tools write `.gz` files with it).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}
