//! The CIFAR-10 and CIFAR-100 binary layouts.
//!
//! CIFAR-10: records of 1 label byte + 3,072 pixel bytes (the 32×32 red plane row-major, then
//! green, then blue). CIFAR-100: coarse label byte, fine label byte, then the same 3,072 bytes.

use std::path::Path;

use crate::regular::read_regular;
use crate::{DataError, Result, Split};

pub const PIXELS: usize = 3 * 32 * 32;

/// Which label of a record to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labels {
    /// CIFAR-10's one label (10 classes).
    Cifar10,
    /// CIFAR-100's fine label (100 classes).
    Fine,
    /// CIFAR-100's coarse label (20 superclasses).
    Coarse,
}

impl Labels {
    fn header(self) -> usize {
        match self {
            Labels::Cifar10 => 1,
            Labels::Fine | Labels::Coarse => 2,
        }
    }

    pub fn classes(self) -> usize {
        match self {
            Labels::Cifar10 => 10,
            Labels::Fine => 100,
            Labels::Coarse => 20,
        }
    }

    fn offset(self) -> usize {
        match self {
            Labels::Cifar10 | Labels::Coarse => 0,
            Labels::Fine => 1,
        }
    }
}

/// Appends the records of one binary batch file to `split`.
pub fn read_batch(path: &Path, labels: Labels, split: &mut Split) -> Result<()> {
    // The largest real file, CIFAR-100's train.bin, has 154 MB.
    let bytes = read_regular(path, 1 << 30)?;
    let record = labels.header() + PIXELS;
    if bytes.is_empty() || bytes.len() % record != 0 {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            detail: format!(
                "{} bytes is not a whole number of {record}-byte records",
                bytes.len()
            ),
        });
    }
    let classes = labels.classes();
    split.features.reserve(bytes.len() / record * PIXELS);
    for (index, rec) in bytes.chunks_exact(record).enumerate() {
        if labels.header() == 2 && (rec[0] >= 20 || rec[1] >= 100) {
            let (label, classes) = if rec[0] >= 20 {
                (rec[0], 20)
            } else {
                (rec[1], 100)
            };
            return Err(DataError::LabelOutOfRange {
                path: path.to_path_buf(),
                index,
                label: label as u32,
                classes,
            });
        }
        let label = rec[labels.offset()];
        if label as usize >= classes {
            return Err(DataError::LabelOutOfRange {
                path: path.to_path_buf(),
                index,
                label: label as u32,
                classes,
            });
        }
        split.labels.push(label as u32);
        split
            .features
            .extend(rec[labels.header()..].iter().map(|&p| p as f32));
    }
    Ok(())
}

/// Reads several batch files, in order, into one split.
pub fn read_batches(paths: &[impl AsRef<Path>], labels: Labels) -> Result<Split> {
    let mut split = Split {
        features: Vec::new(),
        labels: Vec::new(),
        dim: PIXELS,
    };
    for p in paths {
        read_batch(p.as_ref(), labels, &mut split)?;
    }
    Ok(split)
}

/// Class names, one per non-empty line (`batches.meta.txt`, `fine_label_names.txt`, ...).
pub fn read_names(path: &Path) -> Result<Vec<String>> {
    let bytes = read_regular(path, 1 << 20)?;
    let text = String::from_utf8(bytes).map_err(|e| DataError::Invalid {
        path: path.to_path_buf(),
        detail: format!("not UTF-8 text: {e}"),
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// Encodes one record (tests and tools make small files in the official layout with it).
pub fn encode_record(label_bytes: &[u8], pixels: &[u8; PIXELS]) -> Vec<u8> {
    let mut out = label_bytes.to_vec();
    out.extend_from_slice(pixels);
    out
}
