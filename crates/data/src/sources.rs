//! Where each dataset comes from and the checksums that say a copy is intact.

use crate::DatasetName;

/// One file to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file name under the base address, and the name it is saved as.
    pub file: String,
    /// MD5 of the file as downloaded.
    pub md5: String,
    /// MD5 of the uncompressed bytes (IDX files), for copies that were recompressed or unpacked.
    pub raw_md5: Option<String>,
    /// A `.tar.gz` to unpack into the data directory (CIFAR), rather than a file to keep.
    pub archive: bool,
}

fn source(file: &str, md5: &str, raw_md5: Option<&str>, archive: bool) -> Source {
    Source {
        file: file.into(),
        md5: md5.into(),
        raw_md5: raw_md5.map(String::from),
        archive,
    }
}

/// The four IDX files of MNIST and Fashion-MNIST, in the order of their checksums below.
const IDX_FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// MD5s of the official archives, and of the uncompressed IDX bytes (MNIST: published with the
/// data; Fashion-MNIST: measured on the real files in ../shared/data), per file of
/// [`IDX_FILES`].
const MNIST_MD5: [(&str, &str); 4] = [
    (
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "6bbc9ace898e44ae57da46a324031adb",
    ),
    (
        "d53e105ee54ea40749a09fcbcd1e9432",
        "a25bea736e30d166cdddb491f175f624",
    ),
    (
        "9fb629c4189551a2d022fa330f9573f3",
        "2646ac647ad5339dbf082846283269ea",
    ),
    (
        "ec29112dd5afa0611ce80d1b7f02629c",
        "27ae3e4e09519cfbb04c329615203637",
    ),
];
const FASHION_MNIST_MD5: [(&str, &str); 4] = [
    (
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    ),
    (
        "25c81989df183df01b3e8a0aad5dffbe",
        "9018921c3c673c538a1fc5bad174d6f9",
    ),
    (
        "bef4ecab320f06d8554ea6380940ec79",
        "8181f5470baa50b63fa0f6fddb340f0a",
    ),
    (
        "bb300cfdad3c16e7a12a480ee83cd310",
        "15d484375f8d13e6eb1aabb0c3f46965",
    ),
];

/// The IDX files with their checksums `md5s`.
fn idx_sources(md5s: &[(&str, &str); 4]) -> Vec<Source> {
    IDX_FILES
        .iter()
        .zip(md5s)
        .map(|(file, (archive, raw))| source(file, archive, Some(raw), false))
        .collect()
}

/// The official base address and files of a dataset (none for synthetic data).
pub fn official(name: DatasetName) -> (&'static str, Vec<Source>) {
    match name {
        DatasetName::Mnist => (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            idx_sources(&MNIST_MD5),
        ),
        DatasetName::FashionMnist => (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            idx_sources(&FASHION_MNIST_MD5),
        ),
        DatasetName::Cifar10 => (
            "https://www.cs.toronto.edu/~kriz/",
            vec![source(
                "cifar-10-binary.tar.gz",
                "c32a1d4ab5d03f1284b67883e8d87530",
                None,
                true,
            )],
        ),
        DatasetName::Cifar100 => (
            "https://www.cs.toronto.edu/~kriz/",
            vec![source(
                "cifar-100-binary.tar.gz",
                "03b5dce01913d631647c71ecec9e9cb8",
                None,
                true,
            )],
        ),
        DatasetName::Synthetic | DatasetName::Files => ("", vec![]),
    }
}

/// Exact sizes of the full CIFAR files (no per-file checksums are published for them).
pub fn cifar_file_size(file: &str) -> Option<u64> {
    match file {
        "data_batch_1.bin" | "data_batch_2.bin" | "data_batch_3.bin" | "data_batch_4.bin"
        | "data_batch_5.bin" | "test_batch.bin" => Some(30_730_000),
        "train.bin" => Some(153_700_000),
        "test.bin" => Some(30_740_000),
        _ => None,
    }
}
