//! End-to-end: files planted in a results folder never make the tool write elsewhere, wait for
//! ever, or lose a record. Lock files that are links, FIFOs in place of run records, a second
//! event file, a `.lock` folder; and the runtime folder of GPU backends is made only when one
//! may start, never with its parents.

mod common;

use common::*;

/// The run ids of `cfg`'s plan, in order.
fn run_ids(cfg: &Path) -> Vec<String> {
    let o = run(&["plan", cfg.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    plan["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// `highway ARGS`, which must end within two minutes (then it is killed and the test fails).
fn ends(args: &[&str]) -> Output {
    exits(
        bin()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

fn mkfifo(path: &Path) {
    let _ = fs::remove_file(path);
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success());
}

#[test]
fn lock_files_that_are_links_are_refused_and_their_targets_untouched() {
    let dir = tmp("lock-links");
    let precious = dir.join("precious.txt");
    fs::write(&precious, "keep me").unwrap();
    let link = |at: &Path| {
        fs::create_dir_all(at.parent().unwrap()).unwrap();
        let _ = fs::remove_file(at);
        std::os::unix::fs::symlink(&precious, at).unwrap();
    };
    // The sweep's lock.
    let cfg = config(&dir, "ll", "[2]", "[0]", 1);
    let sweep = dir.join("results/ll");
    link(&sweep.join(".sweep.lock"));
    let o = ends(&["sweep", cfg.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains(".sweep.lock: is a symbolic link"), "{t}");
    assert_eq!(fs::read_to_string(&precious).unwrap(), "keep me");
    fs::remove_file(sweep.join(".sweep.lock")).unwrap();
    // A run's lock: that run fails, the other trains, the sweep says so.
    let ids = run_ids(&cfg);
    link(&sweep.join("runs").join(&ids[0]).join(".lock"));
    let o = ends(&["sweep", cfg.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(".lock: is a symbolic link") && t.contains("1 of 2 runs failed"),
        "{t}"
    );
    let rows = summary_rows(&sweep);
    assert_eq!(rows[0][col("state")], "failed", "{rows:?}");
    assert_eq!(rows[1][col("state")], "done", "{rows:?}");
    assert_eq!(fs::read_to_string(&precious).unwrap(), "keep me");
    // The report's lock.
    link(&sweep.join(".report.lock"));
    let o = ends(&["report", sweep.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains(".report.lock: is a symbolic link"), "{t}");
    assert_eq!(fs::read_to_string(&precious).unwrap(), "keep me");
}

/// A `.lock` that is a folder fails its run only; the sweep trains the others.
#[test]
fn a_lock_folder_fails_its_run_only() {
    let dir = tmp("lock-folder");
    let cfg = config(&dir, "lf", "[2]", "[0]", 1);
    let ids = run_ids(&cfg);
    let sweep = dir.join("results/lf");
    fs::create_dir_all(sweep.join("runs").join(&ids[1]).join(".lock")).unwrap();
    let o = ends(&["sweep", cfg.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(".lock: is a folder, and a lock file must be a regular file")
            && t.contains("1 of 2 runs failed"),
        "{t}"
    );
    let rows = summary_rows(&sweep);
    assert_eq!(rows[0][col("state")], "done", "{rows:?}");
    assert_eq!(rows[1][col("state")], "failed", "{rows:?}");
}

/// FIFOs where a finished sweep's records were: `report` and `sweep` end, and name them.
#[test]
fn fifos_in_run_records_are_refused_never_waited_for() {
    let dir = tmp("fifo-records");
    let cfg = config(&dir, "ff", "[2]", "[0]", 1);
    assert!(run(&["sweep", cfg.to_str().unwrap()]).status.success());
    let sweep = dir.join("results/ff");
    let ids = run_ids(&cfg);
    let (a, b) = (
        sweep.join("runs").join(&ids[0]),
        sweep.join("runs").join(&ids[1]),
    );
    for file in [
        a.join("status.json"),
        b.join("curve.csv"),
        b.join("layers.csv"),
    ] {
        mkfifo(&file);
    }
    let o = ends(&["report", sweep.to_str().unwrap()]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for name in ["status.json: is a FIFO", "curve.csv: is a FIFO"] {
        assert!(t.contains(name), "{name}: {t}");
    }
    // The sweep trains the run whose status it cannot read again, and keeps the other.
    mkfifo(&b.join("spec.json"));
    let o = ends(&["sweep", cfg.to_str().unwrap()]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("already finished, skipped ("), "{t}");
    assert!(fs::read_to_string(a.join("status.json"))
        .unwrap()
        .contains("\"done\""));
}

/// A run resumed with a FIFO for its event file or its `layers.csv` fails naming it, at once.
#[test]
fn a_resume_over_a_fifo_fails_naming_it() {
    let dir = tmp("fifo-resume");
    let cfg = long_config(&dir, 64, 20, 8192, 4);
    let out = dir.join("out");
    for victim in ["events", "layers.csv"] {
        let _ = fs::remove_dir_all(&out);
        let run = killed_after_checkpoint(&cfg, &out, &[]);
        let file = match victim {
            "events" => fs::read_dir(&run)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().contains("events.out.tfevents"))
                .unwrap(),
            name => run.join(name),
        };
        mkfifo(&file);
        let o = ends(&[
            "run",
            cfg.to_str().unwrap(),
            "--index",
            "0",
            "--out",
            out.to_str().unwrap(),
        ]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{victim}: {t}");
        assert!(
            t.contains(&format!("{}: is a FIFO", file.display())),
            "{victim}: {t}"
        );
        assert!(run.join("checkpoint/state.safetensors").is_file());
    }
}

/// A stray second event file in a run folder is named, not written to alongside the run's.
#[test]
fn a_second_event_file_is_named() {
    let dir = tmp("two-event-files");
    let cfg = config(&dir, "te", "[2]", "[0]", 1);
    let ids = run_ids(&cfg);
    let run_dir = dir.join("results/te/runs").join(&ids[0]);
    fs::create_dir_all(&run_dir).unwrap();
    for name in ["events.out.tfevents.1.a", "events.out.tfevents.2.b"] {
        fs::write(run_dir.join(name), b"").unwrap();
    }
    let o = ends(&["sweep", cfg.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("2 event files") && t.contains("events.out.tfevents.2.b"),
        "{t}"
    );
}

/// Without `XDG_RUNTIME_DIR`, commands that never start a GPU backend make no runtime folder,
/// and none makes the temporary folder's missing parents.
#[test]
fn no_runtime_folder_for_cpu_commands_and_never_its_parents() {
    let dir = tmp("runtime-dir");
    let cfg = config(&dir, "rt", "[2]", "[0]", 1);
    let temp = dir.join("temp");
    fs::create_dir_all(&temp).unwrap();
    let with_tmpdir = |tmpdir: &Path, args: &[&str]| {
        let o = bin()
            .args(args)
            .env_remove("XDG_RUNTIME_DIR")
            .env("TMPDIR", tmpdir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    };
    with_tmpdir(&temp, &["plan", cfg.to_str().unwrap()]);
    with_tmpdir(&temp, &["sweep", cfg.to_str().unwrap()]);
    assert_eq!(fs::read_dir(&temp).unwrap().count(), 0);
    let missing = dir.join("missing/x");
    with_tmpdir(&missing, &["backends"]);
    assert!(!dir.join("missing").exists());
}
