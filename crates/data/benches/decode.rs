//! `cargo bench -p highway-data`: decoding speed of the real MNIST training set (gzipped IDX) and
//! of a full-size CIFAR-10 training set (50,000 generated records in the official layout) into
//! tensor-ready `f32` buffers. Targets: under 2 s and under 3 s on a 2-core machine. Also how
//! long a gzip bomb (a valid header, then 64 MiB more than it announces) takes to be refused:
//! the loader stops at what the header announces, so this stays far below the bomb's inflating
//! time (`tests/datasets.rs` checks that it is refused, by name; this measures how fast).

use std::path::PathBuf;
use std::time::Instant;

use highway_data::cifar::{encode_record, PIXELS};
use highway_data::{idx, load, DatasetName, LoadOptions, Preprocess};

fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..n {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("n > 0"))
}

fn main() {
    let shared = std::env::var_os("HIGHWAY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let mnist = shared.join("mnist");
    if mnist.is_dir() {
        let (secs, split) = best_of(3, || {
            idx::read_pair(
                &idx::locate(&mnist, "train-images-idx3-ubyte").unwrap(),
                &idx::locate(&mnist, "train-labels-idx1-ubyte").unwrap(),
                10,
            )
            .unwrap()
        });
        println!(
            "mnist train (.gz) -> f32: {} images in {secs:.3} s (target < 2 s)",
            split.len()
        );
        let opts = LoadOptions {
            preprocess: Preprocess::Scale,
            ..Default::default()
        };
        let (secs, d) = best_of(3, || load(DatasetName::Mnist, &shared, &opts).unwrap());
        println!(
            "mnist train + test, scaled: {} + {} images in {secs:.3} s",
            d.train.len(),
            d.eval.len()
        );
    } else {
        println!(
            "mnist: skipped, no data at {} (set HIGHWAY_TEST_DATA)",
            mnist.display()
        );
    }

    let dir = std::env::temp_dir().join(format!("highway-bench-cifar-{}", std::process::id()));
    gzip_bomb(&dir.join("bomb"));
    let folder = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&folder).unwrap();
    let mut px = [0u8; PIXELS];
    for (i, p) in px.iter_mut().enumerate() {
        *p = (i * 31 % 251) as u8;
    }
    let batch: Vec<u8> = (0..10_000)
        .flat_map(|i| encode_record(&[(i % 10) as u8], &px))
        .collect();
    for f in &DatasetName::Cifar10.files()[..6] {
        std::fs::write(folder.join(f), &batch).unwrap();
    }
    std::fs::write(
        folder.join("batches.meta.txt"),
        "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n",
    )
    .unwrap();
    let opts = LoadOptions {
        preprocess: Preprocess::None,
        ..Default::default()
    };
    let (secs, d) = best_of(3, || load(DatasetName::Cifar10, &dir, &opts).unwrap());
    println!("cifar-10 train + test -> f32: {} + {} records in {secs:.3} s (target < 3 s for the 50,000)", d.train.len(), d.eval.len());
    let opts = LoadOptions {
        preprocess: Preprocess::Standardize,
        ..Default::default()
    };
    let (secs, _) = best_of(3, || load(DatasetName::Cifar10, &dir, &opts).unwrap());
    println!("cifar-10 train + test, standardized per channel: {secs:.3} s");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Times the refusal of a gzip bomb: 20 images announced, then 64 MiB of zeros.
fn gzip_bomb(dir: &std::path::Path) {
    let mnist = dir.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    let mut images = idx::encode(&[20, 28, 28], &vec![0u8; 20 * 784]);
    images.resize(images.len() + (64 << 20), 0);
    let gz = mnist.join("train-images-idx3-ubyte.gz");
    std::fs::write(&gz, highway_data::gzip(&images)).unwrap();
    let labels = idx::encode(&[20], &[0u8; 20]);
    std::fs::write(mnist.join("train-labels-idx1-ubyte"), labels).unwrap();
    let (secs, refused) = best_of(3, || {
        idx::read_pair(
            &gz,
            &idx::locate(&mnist, "train-labels-idx1-ubyte").unwrap(),
            10,
        )
        .is_err()
    });
    assert!(refused, "the gzip bomb was accepted");
    println!("gzip bomb (64 MiB of zeros past its header) refused in {secs:.3} s");
}
