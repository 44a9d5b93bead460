//! What the end-to-end tests share: the real `highway` binary, temporary folders, small
//! synthetic configs, and readers of the files a sweep writes.
#![allow(dead_code)] // each test file uses its share

// What most test files need, so that `use common::*;` brings it.
#[allow(unused_imports)]
pub use std::fs;
pub use std::path::{Path, PathBuf};
#[allow(unused_imports)]
pub use std::process::{Command, Output, Stdio};
#[allow(unused_imports)]
pub use std::time::{Duration, Instant};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_highway"));
    c.env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX");
    // A runtime folder that exists, so that a GPU backend's start makes no
    // `$TMPDIR/highway-runtime-<uid>` that would outlive the tests (a test of that folder
    // removes the variable again).
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        c.env("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    c
}

/// A temporary folder for one test, removed with everything in it when the test ends (passed
/// or failed).
pub struct TestDir(tempfile::TempDir);

impl std::ops::Deref for TestDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

pub fn tmp(name: &str) -> TestDir {
    TestDir(
        tempfile::Builder::new()
            .prefix(&format!("highway-cli-{name}-"))
            .tempdir()
            .unwrap(),
    )
}

pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A small synthetic sweep: 2 kinds × `depths` × `seeds`.
pub fn config(dir: &Path, name: &str, depths: &str, seeds: &str, epochs: usize) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    let json = format!(
        r#"{{
  "name": "{name}",
  "dataset": {{"name": "synthetic", "synthetic": {{"train": 256, "test": 128, "dim": 8, "classes": 3, "clusters": 2, "noise": 0.5, "seed": 1}}}},
  "model": {{"kinds": ["plain", "highway"], "depths": {depths}, "width": {{"plain": 12, "highway": 10}}}},
  "training": {{"epochs": {epochs}, "batch_size": 32, "lr": 0.05, "seeds": {seeds}}},
  "output": "{}"
}}"#,
        dir.join("results").display()
    );
    fs::write(&path, json).unwrap();
    path
}

pub fn summary_rows(sweep: &Path) -> Vec<Vec<String>> {
    let text = fs::read_to_string(sweep.join("summary.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// The column of `summary.csv` named `name`.
pub fn col(name: &str) -> usize {
    highway_runner::SUMMARY_HEADER
        .split(',')
        .position(|c| c == name)
        .unwrap()
}

pub fn curve(run_dir: &Path) -> Vec<Vec<f64>> {
    fs::read_to_string(run_dir.join("curve.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

/// Every value of the run's event file, in order: (step, tag, the scalar's value if a scalar).
pub fn event_values(run_dir: &Path) -> Vec<(i64, String, Option<f32>)> {
    use highway_runner::{read_run_events, Value, What};
    read_run_events(run_dir)
        .unwrap()
        .expect("an event file")
        .into_iter()
        .flat_map(|e| {
            let values = match e.what {
                What::Summary(values) => values,
                What::FileVersion => Vec::new(),
            };
            values.into_iter().map(move |v| {
                let scalar = match &v {
                    Value::Scalar { value, .. } => Some(*value),
                    _ => None,
                };
                (e.step, v.tag().to_string(), scalar)
            })
        })
        .collect()
}

/// Waits for every child, each of which must succeed (its stderr is the failure message).
pub fn wait_all_succeed(children: Vec<std::process::Child>) {
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// A synthetic run long enough to be stopped part-way: `epochs` epochs of a highway net.
pub fn long_config(dir: &Path, width: usize, depth: usize, train: usize, epochs: usize) -> PathBuf {
    long_config_of(dir, "highway", width, depth, train, epochs)
}

/// [`long_config`] for nets of `kind`.
pub fn long_config_of(
    dir: &Path,
    kind: &str,
    width: usize,
    depth: usize,
    train: usize,
    epochs: usize,
) -> PathBuf {
    let path = dir.join("long.json");
    let json = format!(
        r#"{{"name": "long",
 "dataset": {{"name": "synthetic", "synthetic": {{"train": {train}, "test": 256, "dim": 16, "classes": 4, "clusters": 2, "noise": 0.5, "seed": 1}}}},
 "model": {{"kinds": ["{kind}"], "depths": [{depth}], "width": {width}}},
 "training": {{"epochs": {epochs}, "batch_size": 16, "lr": 0.02, "seeds": [0]}}}}"#
    );
    fs::write(&path, json).unwrap();
    path
}

/// Waits until `path` exists (the run has reached some point), at most two minutes.
pub fn wait_for(path: &Path) {
    wait_until(|| path.exists());
}

/// Waits until `done` says so, at most two minutes.
pub fn wait_until(done: impl Fn() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(t.elapsed() < Duration::from_secs(120), "waited two minutes");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes an MNIST folder in `dir` with `train` training images of `train_side`² pixels and
/// `test` test images of `test_side`²; returns the data directory.
pub fn mnist_files(
    dir: &Path,
    train: usize,
    train_side: usize,
    test: usize,
    test_side: usize,
) -> PathBuf {
    use highway_data::idx::encode;
    let mnist = dir.join("mnist");
    fs::create_dir_all(&mnist).unwrap();
    let images = |n: usize, side: usize| encode(&[n, side, side], &vec![7u8; n * side * side]);
    let labels = |n: usize| encode(&[n], &(0..n).map(|i| (i % 10) as u8).collect::<Vec<_>>());
    for (name, bytes) in [
        ("train-images-idx3-ubyte", images(train, train_side)),
        ("train-labels-idx1-ubyte", labels(train)),
        ("t10k-images-idx3-ubyte", images(test, test_side)),
        ("t10k-labels-idx1-ubyte", labels(test)),
    ] {
        fs::write(mnist.join(name), bytes).unwrap();
    }
    dir.to_path_buf()
}

/// Waits for `child` to exit, at most two minutes (then kills it and fails): its output. For
/// a command that must not hang.
pub fn exits(mut child: std::process::Child) -> Output {
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            let o = child.wait_with_output().unwrap();
            panic!("still running after two minutes: {}", text(&o));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The first run folder under `runs` that holds `file`, if any.
pub fn run_with(runs: &Path, file: &str) -> Option<PathBuf> {
    fs::read_dir(runs)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|r| r.join(file).exists())
}

/// The binary with `args` on one thread, started in the background: its standard error is
/// kept (for `exits`), its standard output dropped.
pub fn spawn_one_thread(args: &[impl AsRef<std::ffi::OsStr>]) -> std::process::Child {
    bin()
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `highway run CONFIG --index 0 --out OUT [extra]` on one thread, killed (SIGKILL) once its
/// first checkpoint is written; the run folder.
pub fn killed_after_checkpoint(cfg: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let mut child = bin()
        .args(["run", cfg.to_str().unwrap(), "--index", "0", "--out"])
        .arg(out)
        .args(extra)
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let runs = out.join(cfg.file_stem().unwrap()).join("runs");
    let checkpoint = "checkpoint/state.safetensors";
    wait_until(|| run_with(&runs, checkpoint).is_some());
    child.kill().unwrap();
    child.wait().unwrap();
    run_with(&runs, checkpoint).unwrap()
}

/// A folder of stand-in programs put first on `PATH`: `scontrol` runs `script`; the `PATH`.
pub fn fake_scontrol(dir: &Path, script: &str) -> String {
    let bin_dir = dir.join("bin");
    fs::create_dir_all(&bin_dir).unwrap();
    let scontrol = bin_dir.join("scontrol");
    fs::write(&scontrol, format!("#!/bin/sh\n{script}\n")).unwrap();
    let made = Command::new("chmod")
        .arg("+x")
        .arg(&scontrol)
        .status()
        .unwrap();
    assert!(made.success());
    format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap())
}

/// `highway ARGS` as SLURM array task 4242_0 with `PATH`, not waited for.
pub fn under_slurm(args: &[&str], path: &str) -> std::process::Child {
    bin()
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .env("PATH", path)
        .env("SLURM_JOB_ID", "4243")
        .env("SLURM_ARRAY_JOB_ID", "4242")
        .env("SLURM_ARRAY_TASK_ID", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The Python that has numpy: `HIGHWAY_TEST_PYTHON` (which `.ci/run` sets), else `python3`.
pub fn python_with_numpy() -> Option<String> {
    let python = std::env::var("HIGHWAY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "skipped: what needs NumPy: {python} cannot import numpy (set \
             HIGHWAY_TEST_PYTHON to a Python with numpy; .ci/run's has it)"
        );
    }
    ok.then_some(python)
}
