//! The loaders on real data. Two sources:
//!
//! - `testdata/` in this crate, always there: the first 100 training and 100 test records of the
//!   real MNIST and Fashion-MNIST IDX files and the first 20 CIFAR-10 and CIFAR-100 test
//!   records (`testdata/README.md`). The checks that need only the first records run on these.
//! - The full files, found through `HIGHWAY_TEST_DATA` (which `.ci/run` sets) or in
//!   `../shared/data` beside the project. The checks of whole files (counts, class histograms,
//!   MD5s, and that the slices are the files' first records) run only when they are found;
//!   otherwise each says on stderr that it was skipped and why.

use std::io::Write;
use std::path::PathBuf;

use highway_data::{cifar, load, DatasetName, LoadOptions, Preprocess};

/// The committed slices.
fn slices() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// The full data, if this machine has it. `HIGHWAY_TEST_DATA`, when set, must point at it.
fn full() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("HIGHWAY_TEST_DATA").map(PathBuf::from) {
        assert!(
            dir.join("mnist").is_dir(),
            "HIGHWAY_TEST_DATA={} has no mnist/ folder",
            dir.display()
        );
        return Some(dir);
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    beside.join("mnist").is_dir().then_some(beside)
}

/// The full data, or `None` after saying on stderr (past the test harness's capture) that
/// `check` was skipped.
fn full_or_skip(check: &str) -> Option<PathBuf> {
    let dir = full();
    if dir.is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {check}: the full data files are not here (set HIGHWAY_TEST_DATA, or put \
             shared/data beside the project); the first records were checked on testdata/"
        );
    }
    dir
}

/// The CIFAR samples: the same files in both sources.
fn data() -> PathBuf {
    full().unwrap_or_else(slices)
}

fn raw() -> LoadOptions {
    LoadOptions {
        preprocess: Preprocess::None,
        ..Default::default()
    }
}

#[test]
fn mnist_first_records() {
    let d = load(DatasetName::Mnist, &slices(), &raw()).unwrap();
    assert_eq!(
        (d.train.len(), d.eval.len(), d.train.dim, d.classes),
        (100, 100, 784, 10)
    );
    assert_eq!(&d.train.labels[..4], &[5, 0, 4, 1]);
    assert_eq!(&d.eval.labels[..4], &[7, 2, 1, 0]);
    assert_eq!(
        d.train.histogram(10),
        vec![13, 14, 6, 11, 11, 5, 11, 10, 8, 11]
    );
    assert_eq!(
        d.eval.histogram(10),
        vec![8, 14, 8, 11, 14, 7, 10, 15, 2, 11]
    );
    assert!(d.train.features.iter().all(|&p| (0.0..=255.0).contains(&p)));
    assert!(d.train.features.contains(&255.0));
}

#[test]
fn mnist_whole_files_counts_histogram_md5_and_slices() {
    let Some(full) = full_or_skip("MNIST whole-file counts, histogram, MD5s") else {
        return;
    };
    let d = load(DatasetName::Mnist, &full, &raw()).unwrap();
    assert_eq!(
        (d.train.len(), d.eval.len(), d.train.dim, d.classes),
        (60_000, 10_000, 784, 10)
    );
    assert_eq!(d.train.labels[0], 5);
    assert_eq!(
        d.eval.histogram(10),
        vec![980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    let verified = highway_data::fetch::verify(DatasetName::Mnist, &full).unwrap();
    assert_eq!(verified.len(), 4);
    // The committed slices are the first records of these files.
    let s = load(DatasetName::Mnist, &slices(), &raw()).unwrap();
    assert_eq!(s.train.features[..], d.train.features[..100 * 784]);
    assert_eq!(s.eval.labels[..], d.eval.labels[..100]);
}

#[test]
fn fashion_mnist_first_records() {
    let d = load(
        DatasetName::FashionMnist,
        &slices(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!((d.train.len(), d.eval.len(), d.train.dim), (100, 100, 784));
    assert_eq!(&d.train.labels[..4], &[9, 0, 0, 3]);
    assert_eq!(
        d.train.histogram(10),
        vec![12, 11, 9, 15, 9, 11, 10, 8, 4, 11]
    );
    assert!(
        d.train.features.iter().all(|&p| (0.0..=1.0).contains(&p)),
        "scaled to [0, 1]"
    );
    assert_eq!(d.class_names[9], "Ankle boot");
}

#[test]
fn fashion_mnist_whole_files_counts_histograms_and_slices() {
    let Some(full) = full_or_skip("Fashion-MNIST whole-file counts and histograms") else {
        return;
    };
    let d = load(DatasetName::FashionMnist, &full, &LoadOptions::default()).unwrap();
    assert_eq!(
        (d.train.len(), d.eval.len(), d.train.dim),
        (60_000, 10_000, 784)
    );
    assert_eq!(d.train.histogram(10), vec![6_000; 10]);
    assert_eq!(d.eval.histogram(10), vec![1_000; 10]);
    let s = load(DatasetName::FashionMnist, &slices(), &raw()).unwrap();
    let f = load(DatasetName::FashionMnist, &full, &raw()).unwrap();
    assert_eq!(s.eval.features[..], f.eval.features[..100 * 784]);
    assert_eq!(s.train.labels[..], f.train.labels[..100]);
}

#[test]
fn cifar10_samples_labels_and_plane_order() {
    let path = data().join("cifar-samples/cifar10_test_first20.bin");
    let bytes = std::fs::read(&path).unwrap();
    let split = cifar::read_batches(&[&path], cifar::Labels::Cifar10).unwrap();
    assert_eq!(split.len(), 20);
    assert_eq!(&split.labels[..4], &[3, 8, 8, 0]);
    // Record 2: features 0..1024 are the red plane, 1024..2048 green, 2048..3072 blue, each
    // row-major, exactly the bytes after the label.
    let rec = &bytes[2 * 3073..3 * 3073];
    let row = split.row(2);
    for (plane, name) in ["red", "green", "blue"].iter().enumerate() {
        for k in [0, 31, 32, 500, 1023] {
            assert_eq!(
                row[plane * 1024 + k],
                rec[1 + plane * 1024 + k] as f32,
                "{name} plane, pixel {k}"
            );
        }
    }
    let names = cifar::read_names(&data().join("cifar-samples/batches.meta.txt")).unwrap();
    assert_eq!(names[3], "cat");
}

const SUPERCLASSES: [(&str, [&str; 5]); 20] = [
    (
        "aquatic_mammals",
        ["beaver", "dolphin", "otter", "seal", "whale"],
    ),
    (
        "fish",
        ["aquarium_fish", "flatfish", "ray", "shark", "trout"],
    ),
    ("flowers", ["orchid", "poppy", "rose", "sunflower", "tulip"]),
    ("food_containers", ["bottle", "bowl", "can", "cup", "plate"]),
    (
        "fruit_and_vegetables",
        ["apple", "mushroom", "orange", "pear", "sweet_pepper"],
    ),
    (
        "household_electrical_devices",
        ["clock", "keyboard", "lamp", "telephone", "television"],
    ),
    (
        "household_furniture",
        ["bed", "chair", "couch", "table", "wardrobe"],
    ),
    (
        "insects",
        ["bee", "beetle", "butterfly", "caterpillar", "cockroach"],
    ),
    (
        "large_carnivores",
        ["bear", "leopard", "lion", "tiger", "wolf"],
    ),
    (
        "large_man-made_outdoor_things",
        ["bridge", "castle", "house", "road", "skyscraper"],
    ),
    (
        "large_natural_outdoor_scenes",
        ["cloud", "forest", "mountain", "plain", "sea"],
    ),
    (
        "large_omnivores_and_herbivores",
        ["camel", "cattle", "chimpanzee", "elephant", "kangaroo"],
    ),
    (
        "medium_mammals",
        ["fox", "porcupine", "possum", "raccoon", "skunk"],
    ),
    (
        "non-insect_invertebrates",
        ["crab", "lobster", "snail", "spider", "worm"],
    ),
    ("people", ["baby", "boy", "girl", "man", "woman"]),
    (
        "reptiles",
        ["crocodile", "dinosaur", "lizard", "snake", "turtle"],
    ),
    (
        "small_mammals",
        ["hamster", "mouse", "rabbit", "shrew", "squirrel"],
    ),
    (
        "trees",
        [
            "maple_tree",
            "oak_tree",
            "palm_tree",
            "pine_tree",
            "willow_tree",
        ],
    ),
    (
        "vehicles_1",
        ["bicycle", "bus", "motorcycle", "pickup_truck", "train"],
    ),
    (
        "vehicles_2",
        ["lawn_mower", "rocket", "streetcar", "tank", "tractor"],
    ),
];

#[test]
fn cifar100_fine_and_coarse_labels_agree_with_the_official_mapping() {
    let dir = data().join("cifar-samples");
    let path = dir.join("cifar100_test_first20.bin");
    let fine = cifar::read_batches(&[&path], cifar::Labels::Fine).unwrap();
    let coarse = cifar::read_batches(&[&path], cifar::Labels::Coarse).unwrap();
    assert_eq!(fine.features, coarse.features);
    let fine_names = cifar::read_names(&dir.join("fine_label_names.txt")).unwrap();
    let coarse_names = cifar::read_names(&dir.join("coarse_label_names.txt")).unwrap();
    assert_eq!((fine_names.len(), coarse_names.len()), (100, 20));
    for (f, c) in fine.labels.iter().zip(&coarse.labels) {
        let (super_name, members) = SUPERCLASSES
            .iter()
            .find(|(_, m)| m.contains(&fine_names[*f as usize].as_str()))
            .unwrap();
        assert_eq!(
            &coarse_names[*c as usize], super_name,
            "{} is in {super_name} ({members:?})",
            fine_names[*f as usize]
        );
    }
}
