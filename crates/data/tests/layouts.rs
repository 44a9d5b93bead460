//! The full CIFAR-10 and CIFAR-100 folder layouts and the loader's options, on generated files.

use std::fs;
use std::path::PathBuf;

use highway_data::cifar::{encode_record, PIXELS};
use highway_data::{load, DataError, DatasetName, LoadOptions, Preprocess};

fn tmp(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("highway-layout-{name}-"))
        .tempdir()
        .unwrap();
    let path = dir.path().to_path_buf();
    (dir, path)
}

/// Writes `n` records whose label bytes are `labels(i)` and whose pixels encode `i`.
fn batch(path: PathBuf, n: usize, labels: impl Fn(usize) -> Vec<u8>) {
    let mut out = Vec::new();
    for i in 0..n {
        let mut px = [0u8; PIXELS];
        px[0] = i as u8; // red, top-left
        px[1024] = 100; // green
        px[2048] = 200; // blue
        out.extend(encode_record(&labels(i), &px));
    }
    fs::write(path, out).unwrap();
}

fn cifar10(dir: &std::path::Path) {
    let folder = dir.join("cifar-10-batches-bin");
    fs::create_dir_all(&folder).unwrap();
    for b in 1..=5 {
        batch(folder.join(format!("data_batch_{b}.bin")), 4, |i| {
            vec![((i + b) % 10) as u8]
        });
    }
    batch(folder.join("test_batch.bin"), 3, |i| vec![i as u8]);
    fs::write(
        folder.join("batches.meta.txt"),
        "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n",
    )
    .unwrap();
}

#[test]
fn cifar10_layout_with_standardize_validation_and_limit() {
    let (_tmp, dir) = tmp("c10");
    cifar10(&dir);
    let d = load(
        DatasetName::Cifar10,
        &dir,
        &LoadOptions {
            preprocess: Preprocess::None,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        (d.train.len(), d.eval.len(), d.train.dim, d.classes),
        (20, 3, 3072, 10)
    );
    assert_eq!(&d.train.labels[..5], &[1, 2, 3, 4, 2]);
    assert_eq!((d.train.row(0)[1024], d.train.row(0)[2048]), (100.0, 200.0));
    assert_eq!(d.class_names.len(), 10);

    let std = load(
        DatasetName::Cifar10,
        &dir,
        &LoadOptions {
            preprocess: Preprocess::Standardize,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(std.normalization.mean.len(), 3, "per channel");
    assert!((std.normalization.mean[1] - 100.0 / 1024.0).abs() < 1e-4);

    let opts = LoadOptions {
        validation: Some(0.25),
        validation_seed: 4,
        limit: Some(10),
        ..Default::default()
    };
    let v = load(DatasetName::Cifar10, &dir, &opts).unwrap();
    assert_eq!(
        (v.eval_kind, v.train.len(), v.eval.len()),
        (highway_data::EvalSplit::Validation, 10, 5)
    );
    let again = load(DatasetName::Cifar10, &dir, &opts).unwrap();
    assert_eq!(v.eval.labels, again.eval.labels, "seeded split");
}

#[test]
fn cifar100_layout_fine_and_coarse() {
    let (_tmp, dir) = tmp("c100");
    let folder = dir.join("cifar-100-binary");
    fs::create_dir_all(&folder).unwrap();
    batch(folder.join("train.bin"), 6, |i| {
        vec![(i % 20) as u8, (i * 7 % 100) as u8]
    });
    batch(folder.join("test.bin"), 2, |_| vec![19, 99]);
    fs::write(
        folder.join("fine_label_names.txt"),
        (0..100).map(|i| format!("f{i}\n")).collect::<String>(),
    )
    .unwrap();
    fs::write(
        folder.join("coarse_label_names.txt"),
        (0..20).map(|i| format!("c{i}\n")).collect::<String>(),
    )
    .unwrap();
    let fine = load(DatasetName::Cifar100, &dir, &LoadOptions::default()).unwrap();
    assert_eq!(
        (
            fine.classes,
            fine.train.labels.clone(),
            fine.eval.labels.clone()
        ),
        (100, vec![0, 7, 14, 21, 28, 35], vec![99, 99])
    );
    let coarse = load(
        DatasetName::Cifar100,
        &dir,
        &LoadOptions {
            cifar100_coarse: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        (coarse.classes, coarse.train.labels.clone()),
        (20, vec![0, 1, 2, 3, 4, 5])
    );
    assert_eq!(coarse.class_names[19], "c19");
}

#[test]
fn cifar_errors_name_the_file() {
    let (_tmp, dir) = tmp("c10err");
    cifar10(&dir);
    let folder = dir.join("cifar-10-batches-bin");
    let truncated = folder.join("data_batch_3.bin");
    let bytes = fs::read(&truncated).unwrap();
    fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    let err = load(DatasetName::Cifar10, &dir, &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, DataError::Truncated { .. }), "{err}");
    assert!(err.to_string().contains("data_batch_3.bin"), "{err}");

    batch(truncated, 2, |_| vec![10]);
    let err = load(DatasetName::Cifar10, &dir, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("data_batch_3.bin") && err.contains("label 10"),
        "{err}"
    );

    fs::remove_file(folder.join("test_batch.bin")).unwrap();
    batch(folder.join("data_batch_3.bin"), 2, |_| vec![1]);
    let err = load(DatasetName::Cifar10, &dir, &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(err, DataError::Missing { .. }) && err.to_string().contains("test_batch.bin"),
        "{err}"
    );
}
