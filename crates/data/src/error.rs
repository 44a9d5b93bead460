//! Every way reading or fetching data can fail, each naming the file (or address) at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: file not found{hint}")]
    Missing { path: PathBuf, hint: String },
    /// The OS error is part of the message and not a `source`: an error chain printed whole
    /// (`{:#}`) would otherwise say it twice.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: truncated: {detail}")]
    Truncated { path: PathBuf, detail: String },
    #[error("{path}: bad IDX magic number 0x{found:08x} (expected 0x{expected:08x}): not an IDX {what} file")]
    BadMagic {
        path: PathBuf,
        found: u32,
        expected: u32,
        what: &'static str,
    },
    #[error("{path}: record {index} has label {label}, outside 0..{classes}")]
    LabelOutOfRange {
        path: PathBuf,
        index: usize,
        label: u32,
        classes: usize,
    },
    #[error("{path}: MD5 mismatch: expected {expected}, got {actual}")]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{path}: cannot read archive: {detail}")]
    Archive { path: PathBuf, detail: String },
    #[error("{path}: {detail}")]
    Invalid { path: PathBuf, detail: String },
    #[error("{url}: download failed: {detail}")]
    Download { url: String, detail: String },
    #[error("unknown dataset '{name}' (known: {known})")]
    UnknownDataset { name: String, known: String },
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            DataError::Missing {
                path,
                hint: String::new(),
            }
        } else {
            DataError::Io {
                path,
                error: source,
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, DataError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_os_error_is_said_once() {
        let e = DataError::io("/x", std::io::Error::other("boom"));
        assert_eq!(e.to_string(), "/x: boom");
        // Not also a source, which a whole chain (`{:#}`) would print a second time.
        assert!(std::error::Error::source(&e).is_none());
    }
}
