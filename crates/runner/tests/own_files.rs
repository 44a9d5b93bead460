//! End-to-end: the `files` dataset. MNIST's first 1,000 training and test images, written as
//! IDX (the `mnist` dataset) and as NumPy `.npy` and `.npz`, CSV and safetensors files (by these
//! tests, and by NumPy where a Python with numpy is found), train to the same curve, byte for
//! byte but for the wall-clock column. Runs record their files; a changed file is named when a
//! sweep or a resume is refused; `highway data inspect` says what a file holds.
//!
//! The images come from the full MNIST files when they are found (`HIGHWAY_TEST_DATA`, or
//! `shared/data` beside the project), else from the 100-record slices in the data crate.

mod common;

use common::*;
use highway_data::files::write::{self, Dtype};
use highway_data::idx::encode;

/// MNIST's first `n` training and test images (raw pixels) and labels, or fewer where only the
/// slices are here.
struct Mnist {
    train: (Vec<u8>, Vec<u8>),
    test: (Vec<u8>, Vec<u8>),
}

fn mnist(n: usize) -> Mnist {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let full = std::env::var_os("HIGHWAY_TEST_DATA")
        .map(PathBuf::from)
        .or_else(|| Some(manifest.join("../../../shared/data")))
        .filter(|d| d.join("mnist").is_dir());
    let dir = full.unwrap_or_else(|| {
        eprintln!(
            "the full MNIST files are not here (set HIGHWAY_TEST_DATA): using the 100-record \
             slices of crates/data/testdata"
        );
        manifest.join("../data/testdata")
    });
    let raw = highway_data::LoadOptions {
        preprocess: highway_data::Preprocess::None,
        ..Default::default()
    };
    let data = highway_data::load(highway_data::DatasetName::Mnist, &dir, &raw).unwrap();
    let take = |s: &highway_data::Split| {
        let k = n.min(s.len());
        let px = s.features[..k * s.dim].iter().map(|&v| v as u8).collect();
        let labels = s.labels[..k].iter().map(|&l| l as u8).collect();
        (px, labels)
    };
    Mnist {
        train: take(&data.train),
        test: take(&data.eval),
    }
}

/// A config training one small highway net for two epochs on `dataset` (a JSON object).
fn files_config(dir: &Path, dataset: &str) -> PathBuf {
    let path = dir.join(format!("c{}.json", fs::read_dir(dir).unwrap().count()));
    let json = format!(
        r#"{{"name": "own",
 "dataset": {dataset},
 "model": {{"kinds": ["highway"], "depths": [3], "width": 16}},
 "training": {{"epochs": 2, "batch_size": 50, "lr": 0.05, "seeds": [0]}}}}"#
    );
    fs::write(&path, json).unwrap();
    path
}

/// Trains `config` with data from `data` into `out`; the curve without its wall-clock column,
/// and the run's `spec.json`.
fn train(config: &Path, data: &Path, out: &Path) -> (String, serde_json::Value) {
    let o = run(&[
        "sweep",
        config.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let runs = out.join("own/runs");
    let run = fs::read_dir(&runs).unwrap().next().unwrap().unwrap().path();
    let curve = fs::read_to_string(run.join("curve.csv")).unwrap();
    let without_seconds: Vec<String> = curve
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect();
    assert_eq!(without_seconds.len(), 3, "{curve}");
    let spec = serde_json::from_str(&fs::read_to_string(run.join("spec.json")).unwrap()).unwrap();
    (without_seconds.join("\n"), spec)
}

#[test]
fn own_files_in_every_format_train_as_their_mnist_twin() {
    let dir = tmp("own-files");
    let m = mnist(1000);
    let (n_train, n_test) = (m.train.1.len(), m.test.1.len());
    // The IDX twin.
    let idx = dir.join("idx");
    fs::create_dir_all(idx.join("mnist")).unwrap();
    for (name, bytes) in [
        (
            "train-images-idx3-ubyte",
            encode(&[n_train, 28, 28], &m.train.0),
        ),
        ("train-labels-idx1-ubyte", encode(&[n_train], &m.train.1)),
        (
            "t10k-images-idx3-ubyte",
            encode(&[n_test, 28, 28], &m.test.0),
        ),
        ("t10k-labels-idx1-ubyte", encode(&[n_test], &m.test.1)),
    ] {
        fs::write(idx.join("mnist").join(name), bytes).unwrap();
    }
    let configs = dir.join("configs");
    fs::create_dir_all(&configs).unwrap();
    let (want, _) = train(
        &files_config(&configs, r#"{"name": "mnist"}"#),
        &idx,
        &dir.join("out-idx"),
    );

    // The same images in each format, each in another element type.
    let own = dir.join("own");
    fs::create_dir_all(&own).unwrap();
    let split = |s: &(Vec<u8>, Vec<u8>)| {
        let labels: Vec<i64> = s.1.iter().map(|&l| l as i64).collect();
        let f32s: Vec<f32> = s.0.iter().map(|&p| p as f32).collect();
        (labels, f32s)
    };
    for (name, s) in [("train", &m.train), ("test", &m.test)] {
        let n = s.1.len();
        let (labels, f32s) = split(s);
        let put = |file: String, bytes: Vec<u8>| fs::write(own.join(file), bytes).unwrap();
        put(format!("{name}_x.npy"), write::npy(&[n, 28, 28], &s.0));
        put(format!("{name}_y.npy"), write::npy(&[n], &labels));
        let i32s: Vec<i32> = labels.iter().map(|&l| l as i32).collect();
        put(
            format!("{name}.npz"),
            write::npz(
                &[
                    ("images", write::npy(&[n, 784], &f32s)),
                    ("digits", write::npy(&[n], &i32s)),
                ],
                true,
            ),
        );
        let labels32: Vec<u32> = s.1.iter().map(|&l| l as u32).collect();
        put(
            format!("{name}.csv"),
            write::csv(784, &s.0, &labels32, "digit"),
        );
        let f64s: Vec<u8> = f32s
            .iter()
            .flat_map(|&v| (v as f64).to_le_bytes())
            .collect();
        let l64: Vec<u8> = labels.iter().flat_map(|l| l.to_le_bytes()).collect();
        put(
            format!("{name}.safetensors"),
            write::safetensors(&[
                ("x", Dtype::F64, vec![n, 28, 28], f64s),
                ("y", Dtype::I64, vec![n], l64),
            ]),
        );
    }
    let mut cases = vec![
        (
            "npy",
            r#"{"name": "files", "files": {"train": {"features": "train_x.npy", "labels": "train_y.npy"},
               "test": {"features": "test_x.npy", "labels": "test_y.npy"}}}"#,
        ),
        (
            "npz",
            r#"{"name": "files", "files": {"train": "train.npz", "test": "test.npz",
               "features": "images", "labels": "digits", "classes": 10}}"#,
        ),
        (
            "csv",
            r#"{"name": "files", "files": {"train": "train.csv", "test": "test.csv", "labels": "digit"}}"#,
        ),
        (
            "safetensors",
            r#"{"name": "files", "files": {"train": "train.safetensors", "test": "test.safetensors"}}"#,
        ),
    ];
    // The same again, written by NumPy from the `.npy` files above: Fortran-order big-endian
    // floats, `savez`/`savez_compressed`, and `savetxt`.
    if let Some(python) = python_with_numpy() {
        let script = r#"
import sys, numpy as np
d = sys.argv[1]
for s in ["train", "test"]:
    x, y = np.load(f"{d}/{s}_x.npy"), np.load(f"{d}/{s}_y.npy")
    np.save(f"{d}/np_{s}_x.npy", np.asfortranarray(x.astype(">f4")))
    np.save(f"{d}/np_{s}_y.npy", y.astype(np.uint8))
    save = np.savez_compressed if s == "train" else np.savez
    save(f"{d}/np_{s}.npz", x=x.astype(np.float16), y=y)
    flat = np.column_stack([y, x.reshape(len(x), -1)])
    header = ",".join(["label"] + [f"p{i}" for i in range(784)])
    np.savetxt(f"{d}/np_{s}.csv", flat, fmt="%d", delimiter=",", header=header, comments="")
"#;
        let o = Command::new(python)
            .args(["-c", script, own.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        cases.extend([
            (
                "numpy npy",
                r#"{"name": "files", "files": {"train": {"features": "np_train_x.npy", "labels": "np_train_y.npy"},
                   "test": {"features": "np_test_x.npy", "labels": "np_test_y.npy"}}}"#,
            ),
            (
                "numpy npz",
                r#"{"name": "files", "files": {"train": "np_train.npz", "test": "np_test.npz"}}"#,
            ),
            (
                "numpy csv",
                r#"{"name": "files", "files": {"train": "np_train.csv", "test": "np_test.csv", "labels": "label"}}"#,
            ),
        ]);
    }
    for (i, (format, dataset)) in cases.into_iter().enumerate() {
        let cfg = files_config(&configs, dataset);
        let (curve, spec) = train(&cfg, &own, &dir.join(format!("out-{i}")));
        assert_eq!(curve, want, "{format}: the curve differs from MNIST's");
        // The files are recorded: path, MD5 and shapes.
        let files = spec["data"]["files"].as_array().unwrap();
        assert!(!files.is_empty(), "{format}: {spec}");
        for f in files {
            let path = PathBuf::from(f["path"].as_str().unwrap());
            assert_eq!(
                f["md5"].as_str().unwrap(),
                highway_data::fetch::file_md5(&path).unwrap(),
                "{format}"
            );
            assert!(f["arrays"][0]["shape"].is_array(), "{format}: {f}");
        }
    }
}

/// A finished run on files that have since changed is not kept as if made on them: the sweep
/// is refused, naming the file that changed. `highway data inspect` says what the files hold.
#[test]
fn a_changed_file_is_named_and_inspect_says_what_files_hold() {
    let dir = tmp("own-changed");
    let own = dir.join("own");
    fs::create_dir_all(&own).unwrap();
    let pixels: Vec<u8> = (0..40 * 9).map(|i| (i * 37 % 256) as u8).collect();
    let labels: Vec<i64> = (0..40).map(|i| i % 3).collect();
    fs::write(own.join("x.npy"), write::npy(&[40, 3, 3], &pixels)).unwrap();
    fs::write(own.join("y.npy"), write::npy(&[40], &labels)).unwrap();
    fs::write(
        own.join("test.npz"),
        write::npz(
            &[
                ("x", write::npy(&[10, 9], &pixels[..90])),
                ("y", write::npy(&[10], &labels[..10])),
            ],
            false,
        ),
    )
    .unwrap();
    let cfg = files_config(
        &dir,
        r#"{"name": "files", "files": {"train": {"features": "x.npy", "labels": "y.npy"}, "test": "test.npz"}}"#,
    );
    let out = dir.join("out");
    let (_, spec) = train(&cfg, &own, &out);
    let recorded = &spec["data"]["files"];
    assert_eq!(
        recorded[0]["arrays"][0]["shape"],
        serde_json::json!([40, 3, 3])
    );
    assert_eq!(recorded[0]["arrays"][0]["dtype"], "|u1");
    assert_eq!(recorded[2]["arrays"][1]["name"], "y");

    let inspect = run(&[
        "data",
        "inspect",
        own.join("y.npy").to_str().unwrap(),
        own.join("test.npz").to_str().unwrap(),
    ]);
    let t = text(&inspect);
    assert!(inspect.status.success(), "{t}");
    let md5 = recorded[1]["md5"].as_str().unwrap();
    assert!(t.contains(&format!("format npy, MD5 {md5}")), "{t}");
    assert!(
        t.contains("array: shape [40], dtype <i8 (40 examples × 1 values), range [0, 2]"),
        "{t}"
    );
    assert!(
        t.contains("as labels, 3 classes: 0: 14, 1: 13, 2: 13"),
        "{t}"
    );
    assert!(t.contains("x: shape [10, 9], dtype |u1"), "{t}");

    // Other labels, the same shapes.
    let other: Vec<i64> = (0..40).map(|i| (i + 1) % 3).collect();
    fs::write(own.join("y.npy"), write::npy(&[40], &other)).unwrap();
    let o = run(&[
        "sweep",
        cfg.to_str().unwrap(),
        "--data-dir",
        own.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    let y = own.join("y.npy").display().to_string();
    assert!(
        t.contains("trained on other data")
            && t.contains(&format!("Changed since: {y} (MD5 {md5}, now "))
            && !t.contains("x.npy (MD5"),
        "{t}"
    );

    // A hostile file is refused by name through the command too.
    let dict = "{'descr': '|O', 'fortran_order': False, 'shape': (40,), }\n";
    let mut pickled = b"\x93NUMPY\x01\x00".to_vec();
    pickled.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    pickled.extend_from_slice(dict.as_bytes());
    fs::write(own.join("x.npy"), pickled).unwrap();
    let o = run(&["data", "inspect", own.join("x.npy").to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("x.npy: dtype |O (Python objects, stored pickled) is not a number type"),
        "{t}"
    );
}

/// `highway ARGS` as a child: its exit code, what it said, and its peak resident memory in KiB
/// (its own, from `wait4`).
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also gives its peak memory"
)]
fn peak_of(args: &[&str]) -> (i32, String, i64) {
    use std::io::Read;
    let mut child = bin()
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut said)
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `wait4` writes one status and one `rusage` into these locals; `pid` is this
    // test's own child, not waited for before (std's `Child` is not waited on after this).
    let (waited, usage) = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        (libc::wait4(pid, &mut status, 0, &mut usage), usage)
    };
    assert_eq!(waited, pid);
    (libc::WEXITSTATUS(status), said, usage.ru_maxrss)
}

/// Files that announce more than they hold, or inflate past what they claim, are refused by
/// name by `data inspect` and by a sweep, and the process holds at most 64 MiB more than for a
/// good file: a terabyte header in a file of a few hundred bytes,
/// a 4 GB array of 100 bytes, an `.npz` entry that inflates to 256 MiB past its claim, and a
/// safetensors header of 2^60 bytes.
#[test]
fn hostile_files_are_refused_in_bounded_memory() {
    let dir = tmp("hostile-own");
    let good = write::npz(
        &[
            ("x", write::npy(&[6, 4], &[1u8; 24])),
            ("y", write::npy(&[6], &[0i64, 1, 2, 0, 1, 2])),
        ],
        true,
    );
    fs::write(dir.join("good.npz"), &good).unwrap();
    fs::write(dir.join("y.npy"), write::npy(&[6], &[0i64, 1, 2, 0, 1, 2])).unwrap();
    let terabyte = write::npy_raw(
        "{'descr': '|u1', 'fortran_order': False, 'shape': (1099511627776,), }",
        &[0; 100],
    );
    let truncated = write::npy_raw(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000), }",
        &[0; 100],
    );
    // The bomb is written before any child starts, and its 256 MiB freed: a child's peak
    // memory counts the parent's pages it was forked with.
    {
        let mut inflating = write::npy(&[6, 4], &[1u8; 24]);
        let claim = inflating.len() as u32;
        inflating.resize(inflating.len() + (256 << 20), 0);
        let mut bomb = write::npz(
            &[
                ("x", inflating),
                ("y", write::npy(&[6], &[0i64, 1, 2, 0, 1, 2])),
            ],
            true,
        );
        write::claim_size(&mut bomb, claim);
        fs::write(dir.join("bomb.npz"), bomb).unwrap();
    }
    let mut huge_header = (1u64 << 60).to_le_bytes().to_vec();
    huge_header.extend_from_slice(b"{\"x\": {}}");
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "x.npy",
            terabyte,
            "more than the 17179869184 bytes an array may hold",
        ),
        ("x.npy", truncated, "truncated"),
        (
            "bomb.npz",
            Vec::new(),
            "larger than its declared uncompressed size",
        ),
        ("bad.safetensors", huge_header, "bad.safetensors"),
    ];
    // A child's peak counts the pages of this process it was forked with: each hostile case is
    // measured against a harmless command started the same way.
    let (_, _, baseline) = peak_of(&["data", "inspect", dir.join("good.npz").to_str().unwrap()]);
    for (name, bytes, want) in cases {
        if !bytes.is_empty() {
            fs::write(dir.join(name), bytes).unwrap();
        }
        let train = match name {
            "x.npy" => serde_json::json!({"features": "x.npy", "labels": "y.npy"}),
            other => serde_json::json!(other),
        };
        let config = serde_json::json!({
            "name": "hostile",
            "dataset": {"name": "files", "dir": &*dir, "preprocess": "none",
                        "files": {"train": train, "test": "good.npz"}},
            "model": {"kinds": ["plain"], "depths": [2], "width": 4},
            "training": {"epochs": 1, "lr": 0.1, "seeds": [0]},
            "output": dir.join(format!("results-{name}"))
        });
        let cfg = dir.join("hostile.json");
        fs::write(&cfg, config.to_string()).unwrap();
        let path = dir.join(name);
        for args in [
            vec!["data", "inspect", path.to_str().unwrap()],
            vec!["sweep", cfg.to_str().unwrap()],
        ] {
            let (code, said, peak_kib) = peak_of(&args);
            assert_eq!(code, 1, "{args:?}: {said}");
            assert!(
                said.contains(name) && said.contains(want),
                "{args:?}: {said}"
            );
            assert!(
                peak_kib < baseline + (64 << 10),
                "{args:?} peaked at {peak_kib} KiB, {baseline} KiB for a good file"
            );
        }
    }
}
