//! What a data file holds, for `highway data inspect`: each array's shape and type, the range
//! of its values, and its class counts where it reads as labels; and the file's MD5, the
//! fingerprint a run records.

use std::path::{Path, PathBuf};

use super::array::{Array, MAX_CLASSES};
use super::format::Format;
use super::{csv, npy, npz, safetensors};
use crate::checksum::file_md5;
use crate::{DataError, Result};

/// One file, inspected.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub path: PathBuf,
    pub format: Format,
    pub md5: String,
    pub arrays: Vec<Summary>,
}

/// One array of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Its name in the file (`array` for a `.npy` file, `features` for a CSV's other columns).
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: String,
    /// The smallest and largest finite values (`None` when there are none).
    pub range: Option<(f64, f64)>,
    /// How many values are NaN or infinite.
    pub non_finite: usize,
    /// Examples per class, when the array reads as labels: one whole number from 0 per
    /// example (shape `[n]` or `[n, 1]`).
    pub class_counts: Option<Vec<usize>>,
}

/// Inspects the file at `path`; `labels` names a CSV file's label column (a CSV without it is
/// all features).
pub fn inspect(path: &Path, labels: &str) -> Result<Inspection> {
    let format = Format::of(path)?;
    let arrays = match format {
        Format::Npy => {
            let file = crate::regular::open_regular(path)?;
            let len = file.metadata().map_err(|e| DataError::io(path, e))?.len();
            let a = npy::read(std::io::BufReader::new(file), len, path, "")?;
            vec![summary("array", a)]
        }
        Format::Npz => npz::names(path)?
            .into_iter()
            .map(|name| Ok(summary(&name, npz::read(path, &name)?)))
            .collect::<Result<_>>()?,
        Format::Safetensors => {
            let bytes = safetensors::open(path)?;
            safetensors::names(&bytes, path)?
                .into_iter()
                .map(|name| Ok(summary(&name, safetensors::tensor(&bytes, path, &name)?)))
                .collect::<Result<_>>()?
        }
        Format::Csv if csv::columns(path)?.iter().any(|c| c == labels) => {
            let (x, y) = csv::read(path, labels)?;
            vec![summary("features", x), summary(labels, y)]
        }
        Format::Csv => vec![summary("features", csv::read_all(path)?)],
    };
    Ok(Inspection {
        path: path.to_path_buf(),
        format,
        md5: file_md5(path)?,
        arrays,
    })
}

fn summary(name: &str, a: Array<f64>) -> Summary {
    let finite = a.values.iter().copied().filter(|v| v.is_finite());
    let range = finite.fold(None, |r: Option<(f64, f64)>, v| {
        Some(r.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
    });
    let non_finite = a.values.iter().filter(|v| !v.is_finite()).count();
    let labels_like = matches!(a.shape.as_slice(), [_] | [_, 1])
        && non_finite == 0
        && a.values
            .iter()
            .all(|&v| v.fract() == 0.0 && (0.0..MAX_CLASSES as f64).contains(&v));
    let class_counts = labels_like.then(|| {
        let classes = range.map_or(0, |(_, hi)| hi as usize + 1);
        let mut counts = vec![0; classes];
        a.values.iter().for_each(|&v| counts[v as usize] += 1);
        counts
    });
    Summary {
        name: name.to_string(),
        shape: a.shape,
        dtype: a.dtype,
        range,
        non_finite,
        class_counts,
    }
}
