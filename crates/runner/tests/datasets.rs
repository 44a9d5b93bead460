//! End-to-end: the shipped CIFAR configs on generated files.

mod common;

use common::*;

/// The shipped CIFAR configs, as they are but for one epoch and one seed, on a few hundred
/// generated records in the official CIFAR-10 and CIFAR-100 layouts.
#[test]
fn shipped_cifar_configs_run_end_to_end_on_generated_files() {
    use highway_data::cifar::{encode_record, PIXELS};
    let dir = tmp("cifar");
    let data = dir.join("data");
    let records = |n: usize, labels: &dyn Fn(usize) -> Vec<u8>| -> Vec<u8> {
        let mut rng = highway_rng::SplitMix64::new(n as u64);
        (0..n)
            .flat_map(|i| {
                let mut px = [0u8; PIXELS];
                px.iter_mut().for_each(|p| *p = rng.below(256) as u8);
                encode_record(&labels(i), &px)
            })
            .collect()
    };
    let c10 = data.join("cifar-10-batches-bin");
    fs::create_dir_all(&c10).unwrap();
    for b in 1..=5 {
        fs::write(
            c10.join(format!("data_batch_{b}.bin")),
            records(60, &|i| vec![(i % 10) as u8]),
        )
        .unwrap();
    }
    fs::write(
        c10.join("test_batch.bin"),
        records(50, &|i| vec![(i % 10) as u8]),
    )
    .unwrap();
    fs::write(
        c10.join("batches.meta.txt"),
        "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n",
    )
    .unwrap();
    let c100 = data.join("cifar-100-binary");
    fs::create_dir_all(&c100).unwrap();
    fs::write(
        c100.join("train.bin"),
        records(300, &|i| vec![(i % 20) as u8, (i % 100) as u8]),
    )
    .unwrap();
    fs::write(
        c100.join("test.bin"),
        records(50, &|i| vec![(i % 20) as u8, (i % 100) as u8]),
    )
    .unwrap();
    fs::write(
        c100.join("fine_label_names.txt"),
        (0..100).map(|i| format!("f{i}\n")).collect::<String>(),
    )
    .unwrap();
    fs::write(
        c100.join("coarse_label_names.txt"),
        (0..20).map(|i| format!("c{i}\n")).collect::<String>(),
    )
    .unwrap();
    let configs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    for (name, runs) in [("cifar10-depth", 10), ("cifar100-900", 2)] {
        let o = run(&[
            "sweep",
            configs.join(format!("{name}.json")).to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--out",
            dir.join("results").to_str().unwrap(),
            "--set",
            "training.epochs=1",
            "--set",
            "training.seeds=[0]",
        ]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        let rows = summary_rows(&dir.join("results").join(name));
        assert_eq!(rows.len(), runs, "{name}");
        assert!(
            rows.iter()
                .all(|r| r[col("state")] == "done" || r[col("state")] == "diverged"),
            "{name}: {rows:?}"
        );
        assert!(
            rows.iter()
                .any(|r| r[col("depth")] == "900" && r[col("state")] == "done"),
            "{name}: {rows:?}"
        );
    }
}

/// Splits that would train on nothing, or evaluate examples of another shape, are refused
/// before training, naming the file; no run is recorded (a `diverged` run would stick).
#[test]
fn empty_or_mismatched_splits_are_refused_before_training() {
    let dir = tmp("bad-splits");
    let cfg = config(&dir, "splits", "[2]", "[0]", 1);
    let body = fs::read_to_string(&cfg)
        .unwrap()
        .replace("\"name\": \"synthetic\"", "\"name\": \"mnist\"");
    fs::write(&cfg, body).unwrap();
    let cases = [
        (
            "empty-train",
            mnist_files(&dir.join("d1"), 0, 28, 10, 28),
            vec![],
            "train-images-idx3-ubyte: the training split has no examples",
        ),
        (
            "empty-test",
            mnist_files(&dir.join("d2"), 20, 28, 0, 28),
            vec![],
            "t10k-images-idx3-ubyte: the test split has no examples",
        ),
        (
            "narrow-test",
            mnist_files(&dir.join("d3"), 20, 28, 10, 14),
            vec![],
            "t10k-images-idx3-ubyte: its examples have 196 features, but the training examples",
        ),
        (
            "zero-width",
            mnist_files(&dir.join("d4"), 20, 0, 10, 0),
            vec![],
            "the examples have zero features",
        ),
        (
            "data-dir-is-a-file",
            {
                let file = dir.join("a-file");
                fs::write(&file, b"x").unwrap();
                file
            },
            vec![],
            "a-file: is a file, not a folder",
        ),
        (
            "validation-leaves-none",
            mnist_files(&dir.join("d5"), 1, 28, 10, 28),
            vec!["--set", "dataset.validation=0.5"],
            "the training split has no examples",
        ),
    ];
    for (name, data, extra, want) in cases {
        let out = dir.join("out").join(name);
        let mut args = vec![
            "sweep",
            cfg.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = run(&args);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {t}");
        assert!(t.contains(want), "{name}: {t}");
        assert!(!t.contains("panicked"), "{name}: {t}");
        assert!(
            !out.join("splits/runs").exists(),
            "{name}: a run was recorded"
        );
    }
}

/// Puts a hostile file at a path.
type Make<'a> = dyn Fn(&Path) + 'a;

/// Hostile data files are refused by name, without blocking or filling the memory: a FIFO
/// (which would block for ever), a link to `/dev/zero` (which would fill the memory), a
/// folder, a gzip bomb (inflating far beyond what its header announces), and a header whose
/// sizes overflow when multiplied. How fast the bomb is refused is measured by
/// `cargo bench -p highway-data`, not asserted here.
#[test]
fn hostile_data_files_are_refused_by_name() {
    use highway_data::{gzip, idx::encode};
    let dir = tmp("hostile");
    let cfg = config(&dir, "hostile", "[2]", "[0]", 1);
    let body = fs::read_to_string(&cfg)
        .unwrap()
        .replace("\"name\": \"synthetic\"", "\"name\": \"mnist\"");
    fs::write(&cfg, body).unwrap();
    let file = "train-images-idx3-ubyte";
    let cases: Vec<(&str, Box<Make>, &str)> = vec![
        (
            "fifo",
            Box::new(|p: &Path| {
                Command::new("mkfifo").arg(p).status().unwrap();
            }),
            "is a FIFO, not a regular file",
        ),
        (
            "dev-zero",
            Box::new(|p: &Path| std::os::unix::fs::symlink("/dev/zero", p).unwrap()),
            "is a device, not a regular file",
        ),
        (
            "folder",
            Box::new(|p: &Path| fs::create_dir(p).unwrap()),
            "is a folder, not a regular file",
        ),
        (
            "gzip-bomb",
            Box::new(|p: &Path| {
                // A valid header for 20 images, then 64 MiB of zeros.
                let mut bytes = encode(&[20, 28, 28], &vec![0u8; 20 * 784]);
                bytes.resize(bytes.len() + (64 << 20), 0);
                fs::remove_file(p).ok();
                fs::write(p.with_file_name(format!("{file}.gz")), gzip(&bytes)).unwrap();
            }),
            "file has more",
        ),
        (
            "overflow",
            Box::new(|p: &Path| {
                let header = encode(&[1 << 31, 1 << 31, 1 << 31], &[]);
                fs::write(p, header).unwrap();
            }),
            "more than the 4294967296 bytes an IDX file may hold",
        ),
    ];
    for (name, make, want) in cases {
        let data = mnist_files(&dir.join(name), 20, 28, 10, 28);
        let target = data.join("mnist").join(file);
        fs::remove_file(&target).unwrap();
        make(&target);
        let o = run(&[
            "sweep",
            cfg.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {t}");
        assert!(t.contains(want) && t.contains(file), "{name}: {t}");
    }
}

/// Each run records a fingerprint of its data; a finished run is not skipped as if it had been
/// trained on data that has since changed.
#[test]
fn a_finished_run_on_other_data_is_not_silently_kept() {
    let dir = tmp("fingerprint");
    let cfg = config(&dir, "fp", "[2]", "[0]", 1);
    let body = fs::read_to_string(&cfg)
        .unwrap()
        .replace("\"name\": \"synthetic\"", "\"name\": \"mnist\"");
    fs::write(&cfg, body).unwrap();
    let data = mnist_files(&dir.join("data"), 20, 28, 10, 28);
    let args = [
        "sweep",
        cfg.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ];
    assert!(run(&args).status.success());
    let again = run(&args);
    assert!(
        again.status.success() && text(&again).contains("already finished, skipped ("),
        "{}",
        text(&again)
    );
    // Other pixels, same shapes.
    let images = highway_data::idx::encode(&[20, 28, 28], &vec![200u8; 20 * 784]);
    fs::write(data.join("mnist/train-images-idx3-ubyte"), images).unwrap();
    let o = run(&args);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("trained on other data") && t.contains("spec.json"),
        "{t}"
    );
}

/// `highway data verify` on a gzip bomb (a valid header for 20 images, then 2 GiB of zeros in
/// 32 gzip members of 64 MiB each, a file of a few megabytes) stops at one byte past what the
/// header announces: it names the file, and its memory stays far below the bomb's size.
#[test]
fn verify_streams_a_gzip_bomb_and_stops_at_the_header() {
    use highway_data::{gzip, idx::encode};
    let dir = tmp("verify-bomb");
    let data = mnist_files(&dir.join("data"), 20, 28, 10, 28);
    let file = data.join("mnist/train-images-idx3-ubyte");
    fs::remove_file(&file).unwrap();
    let mut bomb = gzip(&encode(&[20, 28, 28], &vec![0u8; 20 * 784]));
    let zeros = gzip(&vec![0u8; 64 << 20]);
    for _ in 0..32 {
        bomb.extend_from_slice(&zeros);
    }
    fs::write(data.join("mnist/train-images-idx3-ubyte.gz"), &bomb).unwrap();
    let o = run(&[
        "data",
        "verify",
        "mnist",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("train-images-idx3-ubyte.gz") && t.contains("file has more"),
        "{t}"
    );
    // The largest resident memory of any child this test binary has waited for.
    // SAFETY: `getrusage` writes one `rusage` into the zeroed struct it is given.
    let peak_kib = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage), 0);
        usage.ru_maxrss
    };
    assert!(
        peak_kib < 1 << 20,
        "a child of this test peaked at {peak_kib} KiB"
    );
}
