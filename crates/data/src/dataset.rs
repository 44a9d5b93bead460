//! Datasets by name: where their files live, and loading them with splits and preprocessing.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use highway_rng::SplitMix64;

use crate::cifar::{self, Labels};
use crate::files::{self, FilesSpec, SourceFile};
use crate::preprocess::{self, Normalization, Preprocess};
use crate::synthetic::{self, SyntheticSpec};
use crate::{idx, DataError, Result, Split};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetName {
    Mnist,
    FashionMnist,
    Cifar10,
    Cifar100,
    Synthetic,
    /// The user's own files ([`FilesSpec`]).
    Files,
}

impl DatasetName {
    pub const ALL: [DatasetName; 6] = [
        DatasetName::Mnist,
        DatasetName::FashionMnist,
        DatasetName::Cifar10,
        DatasetName::Cifar100,
        DatasetName::Synthetic,
        DatasetName::Files,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion-mnist",
            DatasetName::Cifar10 => "cifar10",
            DatasetName::Cifar100 => "cifar100",
            DatasetName::Synthetic => "synthetic",
            DatasetName::Files => "files",
        }
    }

    /// The folder under the data directory, in the official unpacked layout (none for data
    /// that is generated, or in the user's own files).
    pub fn folder(self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion-mnist",
            DatasetName::Cifar10 => "cifar-10-batches-bin",
            DatasetName::Cifar100 => "cifar-100-binary",
            DatasetName::Synthetic | DatasetName::Files => "",
        }
    }

    /// The files that must be on disk (IDX names without `.gz`; either form is accepted).
    pub fn files(self) -> &'static [&'static str] {
        match self {
            DatasetName::Mnist | DatasetName::FashionMnist => &[
                "train-images-idx3-ubyte",
                "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte",
            ],
            DatasetName::Cifar10 => &[
                "data_batch_1.bin",
                "data_batch_2.bin",
                "data_batch_3.bin",
                "data_batch_4.bin",
                "data_batch_5.bin",
                "test_batch.bin",
                "batches.meta.txt",
            ],
            DatasetName::Cifar100 => &[
                "train.bin",
                "test.bin",
                "fine_label_names.txt",
                "coarse_label_names.txt",
            ],
            DatasetName::Synthetic | DatasetName::Files => &[],
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetName {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        DatasetName::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| DataError::UnknownDataset {
                name: s.to_string(),
                known: DatasetName::ALL.map(DatasetName::as_str).join(", "),
            })
    }
}

/// Written as its name (`"fashion-mnist"`), so a config's `dataset.name` reads straight into it.
impl serde::Serialize for DatasetName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for DatasetName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// The data directory: the one given (a flag), else `$HIGHWAY_DATA`, else `./data`.
pub fn data_dir(given: Option<&Path>) -> PathBuf {
    given
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("HIGHWAY_DATA").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("data"))
}

/// How to turn files into training and evaluation splits.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    pub preprocess: Preprocess,
    /// Carve this fraction of the training set off as the evaluation split (instead of the
    /// test set), chosen by a generator seeded with `validation_seed`.
    pub validation: Option<f64>,
    pub validation_seed: u64,
    /// Keep only the first N training (and evaluation) examples.
    pub limit: Option<usize>,
    /// CIFAR-100: fine (100 classes) or coarse (20) labels.
    pub cifar100_coarse: bool,
    /// The generator of the synthetic dataset.
    pub synthetic: SyntheticSpec,
    /// The user's files (the `files` dataset); relative paths are taken from the data
    /// directory.
    pub files: Option<FilesSpec>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            preprocess: Preprocess::Scale,
            validation: None,
            validation_seed: 0,
            limit: None,
            cifar100_coarse: false,
            synthetic: SyntheticSpec::default(),
            files: None,
        }
    }
}

/// Which split a dataset evaluates on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalSplit {
    /// The dataset's own test set.
    Test,
    /// A fraction carved off the training set (`LoadOptions::validation`).
    Validation,
}

impl EvalSplit {
    pub fn as_str(self) -> &'static str {
        match self {
            EvalSplit::Test => "test",
            EvalSplit::Validation => "validation",
        }
    }
}

impl fmt::Display for EvalSplit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A dataset in memory, ready for training.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: DatasetName,
    pub train: Split,
    /// The test split, or the validation split when one was carved off.
    pub eval: Split,
    pub eval_kind: EvalSplit,
    pub classes: usize,
    pub class_names: Vec<String>,
    pub normalization: Normalization,
    /// The files read, with their MD5s and shapes (the `files` dataset; empty for the others,
    /// whose files are fixed by their official checksums).
    pub sources: Vec<SourceFile>,
}

/// A dataset's files as read, before splitting and preprocessing.
struct Raw {
    train: Split,
    test: Split,
    classes: usize,
    class_names: Vec<String>,
    /// Colour channels per pixel (for per-channel standardisation).
    channels: usize,
    /// The files the training and the test examples come from, named by errors about them.
    train_file: PathBuf,
    test_file: PathBuf,
    sources: Vec<SourceFile>,
}

/// Loads `name` from its folder under `dir` (ignored for synthetic data; the folder of the
/// relative paths of the user's files).
pub fn load(name: DatasetName, dir: &Path, opts: &LoadOptions) -> Result<Dataset> {
    let folder = dir.join(name.folder());
    for path in [dir, folder.as_path()] {
        let has_folder = !matches!(name, DatasetName::Synthetic | DatasetName::Files);
        if has_folder && path.exists() && !path.is_dir() {
            return Err(DataError::Invalid {
                path: path.to_path_buf(),
                detail: "is a file, not a folder: the data directory holds one folder per dataset"
                    .into(),
            });
        }
    }
    let Raw {
        mut train,
        mut test,
        classes,
        class_names,
        channels,
        train_file,
        test_file,
        sources,
    } = match name {
        DatasetName::Mnist | DatasetName::FashionMnist => read_idx(name, &folder)?,
        DatasetName::Cifar10 => read_cifar10(&folder)?,
        DatasetName::Cifar100 => read_cifar100(&folder, opts.cifar100_coarse)?,
        DatasetName::Synthetic => generate(&opts.synthetic),
        DatasetName::Files => read_files(opts.files.as_ref(), dir)?,
    };
    let eval_kind = match opts.validation {
        Some(fraction) => {
            let (t, v) = carve(&train, fraction, opts.validation_seed);
            train = t;
            test = v;
            EvalSplit::Validation
        }
        None => EvalSplit::Test,
    };
    if let Some(n) = opts.limit {
        train.truncate(n);
        test.truncate(n);
    }
    // A validation split is carved from the training examples, and named by their file.
    let eval_file = match eval_kind {
        EvalSplit::Validation => &train_file,
        EvalSplit::Test => &test_file,
    };
    check_splits(&train_file, eval_file, &train, &test, eval_kind)?;
    // Synthetic data is already centred and scaled; only an explicit standardize changes it.
    let method = match (name, opts.preprocess) {
        (DatasetName::Synthetic, Preprocess::Scale) => Preprocess::None,
        (_, m) => m,
    };
    let dim = train.dim;
    let normalization = preprocess::apply(
        method,
        channels,
        &mut train.features,
        dim,
        &mut [&mut test.features],
    );
    Ok(Dataset {
        name,
        train,
        eval: test,
        eval_kind,
        classes,
        class_names,
        normalization,
        sources,
    })
}

/// Refuses splits that would train or evaluate wrongly: an empty split (a 0-record file, a
/// validation fraction or limit that leaves nothing), examples of zero size, or an evaluation
/// split whose examples differ in size from the training split's (a net reading part of its
/// weights, or failing mid-run). The error names the file of the training examples
/// (`train_file`) or of the evaluation examples (`eval_file`).
fn check_splits(
    train_file: &Path,
    eval_file: &Path,
    train: &Split,
    eval: &Split,
    eval_kind: EvalSplit,
) -> Result<()> {
    let eval_file = eval_file.to_path_buf();
    let invalid = |path: PathBuf, detail: String| DataError::Invalid { path, detail };
    if train.dim == 0 {
        return Err(invalid(
            train_file.to_path_buf(),
            "the examples have zero features".into(),
        ));
    }
    if train.is_empty() {
        return Err(invalid(
            train_file.to_path_buf(),
            "the training split has no examples (an empty file, or a validation fraction or \
             limit that leaves none)"
                .into(),
        ));
    }
    if eval.is_empty() {
        return Err(invalid(
            eval_file,
            format!("the {eval_kind} split has no examples"),
        ));
    }
    if eval.dim != train.dim {
        return Err(invalid(
            eval_file,
            format!(
                "its examples have {} features, but the training examples in {} have {}: every \
                 split must have the same shape",
                eval.dim,
                train_file.display(),
                train.dim
            ),
        ));
    }
    Ok(())
}

/// MNIST or Fashion-MNIST: four IDX files, raw or gzipped.
fn read_idx(name: DatasetName, folder: &Path) -> Result<Raw> {
    let files = name.files();
    let path = |i: usize| idx::locate(folder, files[i]);
    let class_names = if name == DatasetName::Mnist {
        (0..10).map(|d| d.to_string()).collect()
    } else {
        [
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ]
        .map(String::from)
        .to_vec()
    };
    Ok(Raw {
        train: idx::read_pair(&path(0)?, &path(1)?, 10)?,
        test: idx::read_pair(&path(2)?, &path(3)?, 10)?,
        classes: 10,
        class_names,
        channels: 1,
        // Named without `.gz`, whichever form is on disk.
        train_file: folder.join(files[0]),
        test_file: folder.join(files[2]),
        sources: Vec::new(),
    })
}

/// CIFAR-10: five training batches, one test batch and the label names.
fn read_cifar10(folder: &Path) -> Result<Raw> {
    let files = DatasetName::Cifar10.files();
    let batches: Vec<_> = files[..5].iter().map(|f| folder.join(f)).collect();
    Ok(Raw {
        train: cifar::read_batches(&batches, Labels::Cifar10)?,
        test: cifar::read_batches(&[folder.join(files[5])], Labels::Cifar10)?,
        classes: 10,
        class_names: cifar::read_names(&folder.join(files[6]))?,
        channels: 3,
        train_file: batches[0].clone(),
        test_file: folder.join(files[5]),
        sources: Vec::new(),
    })
}

/// CIFAR-100 with its fine (100) or coarse (20) labels.
fn read_cifar100(folder: &Path, coarse: bool) -> Result<Raw> {
    let (labels, names_file) = if coarse {
        (Labels::Coarse, "coarse_label_names.txt")
    } else {
        (Labels::Fine, "fine_label_names.txt")
    };
    Ok(Raw {
        train: cifar::read_batches(&[folder.join("train.bin")], labels)?,
        test: cifar::read_batches(&[folder.join("test.bin")], labels)?,
        classes: labels.classes(),
        class_names: cifar::read_names(&folder.join(names_file))?,
        channels: 3,
        train_file: folder.join("train.bin"),
        test_file: folder.join("test.bin"),
        sources: Vec::new(),
    })
}

/// The synthetic mixture.
fn generate(spec: &SyntheticSpec) -> Raw {
    let (train, test) = synthetic::generate(spec);
    Raw {
        train,
        test,
        classes: spec.classes,
        class_names: (0..spec.classes).map(|c| format!("class {c}")).collect(),
        channels: 1,
        train_file: PathBuf::from("dataset.synthetic"),
        test_file: PathBuf::from("dataset.synthetic"),
        sources: Vec::new(),
    }
}

/// The user's files, as `spec` names them (relative to `dir`).
fn read_files(spec: Option<&FilesSpec>, dir: &Path) -> Result<Raw> {
    let spec = spec.ok_or_else(|| DataError::Invalid {
        path: PathBuf::from("dataset.files"),
        detail: "the files dataset needs its files named (train and test)".into(),
    })?;
    let read = files::read(spec, dir)?;
    Ok(Raw {
        train: read.train,
        test: read.test,
        classes: read.classes,
        // Classes are their indices, as MNIST's digits are.
        class_names: (0..read.classes).map(|c| c.to_string()).collect(),
        channels: 1,
        train_file: spec.train.features_file(dir),
        test_file: spec.test.features_file(dir),
        sources: read.sources,
    })
}

/// Splits off a seeded random `fraction` of `split` as validation data.
fn carve(split: &Split, fraction: f64, seed: u64) -> (Split, Split) {
    let mut order: Vec<usize> = (0..split.len()).collect();
    SplitMix64::new(seed).shuffle(&mut order);
    let n_val = ((split.len() as f64 * fraction).round() as usize)
        .clamp(1, split.len().saturating_sub(1).max(1));
    let (val, train) = order.split_at(n_val);
    (split.select(train), split.select(val))
}
