//! Datasets from the user's own files: a training and a test set, each as NumPy arrays (a
//! `.npy` file of features and one of labels, or one `.npz` archive), a CSV file with a label
//! column, or a safetensors file. Which format is told by the file's extension.
//!
//! Features of any numeric type become `f32`, each example flattened; labels are whole numbers
//! in `0..classes`. Every file is recorded with its MD5 and the shapes read from it
//! ([`SourceFile`]), so that a run can say which file changed under it.

mod array;
mod csv;
mod format;
mod inspect;
mod npy;
mod npz;
mod safetensors;
pub mod write;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use array::{MAX_ARRAY_BYTES, MAX_CLASSES};
pub use format::Format;
pub use inspect::{inspect, Inspection, Summary};

use crate::checksum::file_md5;
use crate::{DataError, Result, Split};
use array::Array;

/// Where a dataset's files are and what their arrays are called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesSpec {
    pub train: SplitFiles,
    pub test: SplitFiles,
    /// The features array (`.npz`, safetensors); unused by `.npy` pairs and CSV.
    #[serde(default = "default_features")]
    pub features: String,
    /// The labels array (`.npz`, safetensors) or column (CSV).
    #[serde(default = "default_labels")]
    pub labels: String,
    /// The number of classes; unset, one more than the largest label of either split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<usize>,
}

fn default_features() -> String {
    "x".into()
}
fn default_labels() -> String {
    "y".into()
}

/// One split's files: one file holding features and labels (`.npz`, `.csv`, `.safetensors`),
/// or two `.npy` files. A relative path is taken from the data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SplitFiles {
    One(PathBuf),
    Pair { features: PathBuf, labels: PathBuf },
}

impl SplitFiles {
    /// The file the examples' features come from (the one errors about examples name).
    pub fn features_file(&self, dir: &Path) -> PathBuf {
        match self {
            SplitFiles::One(p) | SplitFiles::Pair { features: p, .. } => dir.join(p),
        }
    }
}

/// A file a dataset was read from: its content's MD5 and the arrays read from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    pub path: PathBuf,
    pub md5: String,
    pub arrays: Vec<ArrayRecord>,
}

/// An array as a file held it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrayRecord {
    /// The array's name in its file, the CSV label column or `features`, or `array` (`.npy`).
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: String,
}

/// Both splits as read, before splitting and preprocessing.
pub(crate) struct Files {
    pub train: Split,
    pub test: Split,
    pub classes: usize,
    pub sources: Vec<SourceFile>,
}

/// Reads the splits `spec` names, relative paths taken from `dir`.
pub(crate) fn read(spec: &FilesSpec, dir: &Path) -> Result<Files> {
    let mut sources = Vec::new();
    let train = read_split(&spec.train, dir, spec, &mut sources)?;
    let test = read_split(&spec.test, dir, spec, &mut sources)?;
    let seen = |s: &(Split, PathBuf)| s.0.labels.iter().max().map(|&l| l as usize + 1);
    let classes = match spec.classes {
        Some(c) => c,
        None => seen(&train).max(seen(&test)).unwrap_or(0),
    };
    for (split, labels_file) in [&train, &test] {
        if let Some(index) = split.labels.iter().position(|&l| l as usize >= classes) {
            return Err(DataError::LabelOutOfRange {
                path: labels_file.clone(),
                index,
                label: split.labels[index],
                classes,
            });
        }
    }
    if classes < 2 && !train.0.is_empty() {
        return Err(DataError::Invalid {
            path: train.1,
            detail: format!(
                "the labels name {classes} class(es): a classifier needs at least 2 (set \
                 `classes` in the dataset's files section if some classes are absent)"
            ),
        });
    }
    Ok(Files {
        train: train.0,
        test: test.0,
        classes,
        sources,
    })
}

/// A split's files as read: the features' and the labels' paths, their arrays, and how an
/// error names each array (empty for a `.npy` file, which is one array).
type SplitArrays = (PathBuf, PathBuf, Array<f32>, Array<f64>, String, String);

/// A split given as two `.npy` files.
fn read_pair(
    features: &Path,
    labels: &Path,
    dir: &Path,
    sources: &mut Vec<SourceFile>,
) -> Result<SplitArrays> {
    let (fp, lp) = (dir.join(features), dir.join(labels));
    for p in [&fp, &lp] {
        if Format::of(p)? != Format::Npy {
            return Err(DataError::Invalid {
                path: p.clone(),
                detail: "a split of two files is two NumPy .npy arrays (features and \
                         labels); give .npz, .csv and .safetensors files as one path"
                    .into(),
            });
        }
    }
    let x: Array<f32> = npy_file(&fp)?;
    let y: Array<f64> = npy_file(&lp)?;
    sources.push(source(&fp, [("array", &x.shape, &x.dtype)])?);
    sources.push(source(&lp, [("array", &y.shape, &y.dtype)])?);
    Ok((fp, lp, x, y, String::new(), String::new()))
}

/// A split given as one `.npz`, CSV or safetensors file.
fn read_one(
    p: &Path,
    dir: &Path,
    spec: &FilesSpec,
    sources: &mut Vec<SourceFile>,
) -> Result<SplitArrays> {
    let path = dir.join(p);
    let format = Format::of(&path)?;
    let (x, y) = match format {
        Format::Npz => (
            npz::read(&path, &spec.features)?,
            npz::read(&path, &spec.labels)?,
        ),
        Format::Csv => csv::read(&path, &spec.labels)?,
        Format::Safetensors => {
            let bytes = safetensors::open(&path)?;
            (
                safetensors::tensor(&bytes, &path, &spec.features)?,
                safetensors::tensor(&bytes, &path, &spec.labels)?,
            )
        }
        Format::Npy => {
            return Err(DataError::Invalid {
                path,
                detail: "a .npy file holds one array: give the split as \
                         {\"features\": \"….npy\", \"labels\": \"….npy\"}"
                    .into(),
            })
        }
    };
    let (x_name, x_what, y_what) = match format {
        Format::Csv => (
            "features",
            String::new(),
            format!("column '{}': ", spec.labels),
        ),
        _ => (
            spec.features.as_str(),
            format!("array '{}': ", spec.features),
            format!("array '{}': ", spec.labels),
        ),
    };
    sources.push(source(
        &path,
        [
            (x_name, &x.shape, &x.dtype),
            (spec.labels.as_str(), &y.shape, &y.dtype),
        ],
    )?);
    Ok((path.clone(), path, x, y, x_what, y_what))
}

/// Reads one split; its files are added to `sources`. Returns the split and its labels' file.
fn read_split(
    files: &SplitFiles,
    dir: &Path,
    spec: &FilesSpec,
    sources: &mut Vec<SourceFile>,
) -> Result<(Split, PathBuf)> {
    // Errors about an array of a one-file split name the array; a `.npy` file is one array.
    let (features_path, labels_path, x, y, x_what, y_what) = match files {
        SplitFiles::Pair { features, labels } => read_pair(features, labels, dir, sources)?,
        SplitFiles::One(p) => read_one(p, dir, spec, sources)?,
    };
    let (n, dim, features) = array::features(&features_path, &x_what, x)?;
    let labels = array::labels(&labels_path, &y_what, y)?;
    if labels.len() != n {
        return Err(DataError::Invalid {
            path: labels_path.clone(),
            detail: format!(
                "{} labels for {n} examples{}: every example needs one label",
                labels.len(),
                match labels_path == features_path {
                    true => String::new(),
                    false => format!(" in {}", features_path.display()),
                }
            ),
        });
    }
    Ok((
        Split {
            features,
            labels,
            dim,
        },
        labels_path,
    ))
}

/// The array of the `.npy` file at `path`.
fn npy_file<O: array::Out>(path: &Path) -> Result<Array<O>> {
    let file = crate::regular::open_regular(path)?;
    let len = file.metadata().map_err(|e| DataError::io(path, e))?.len();
    npy::read(std::io::BufReader::new(file), len, path, "")
}

/// The record of the file at `path`, holding `arrays` (name, shape, dtype).
fn source<'a>(
    path: &Path,
    arrays: impl IntoIterator<Item = (&'a str, &'a Vec<usize>, &'a String)>,
) -> Result<SourceFile> {
    Ok(SourceFile {
        path: path.to_path_buf(),
        md5: file_md5(path)?,
        arrays: arrays
            .into_iter()
            .map(|(name, shape, dtype)| ArrayRecord {
                name: name.to_string(),
                shape: shape.clone(),
                dtype: dtype.clone(),
            })
            .collect(),
    })
}
