//! Which format a data file is in, told by its extension.

use std::path::Path;

use crate::{DataError, Result};

/// A file format, told by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Npy,
    Npz,
    Csv,
    Safetensors,
}

impl Format {
    /// The format of `path`, by its extension (any case).
    pub fn of(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("npy") => Ok(Format::Npy),
            Some("npz") => Ok(Format::Npz),
            Some("csv") => Ok(Format::Csv),
            Some("safetensors") => Ok(Format::Safetensors),
            _ => Err(DataError::Invalid {
                path: path.to_path_buf(),
                detail: "unknown data file format: the name must end in .npy, .npz, .csv or \
                         .safetensors"
                    .into(),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Npy => "npy",
            Format::Npz => "npz",
            Format::Csv => "csv",
            Format::Safetensors => "safetensors",
        }
    }
}
