//! `highway status DIR`: where a sweep stands, read while other processes train it.

mod common;
use common::*;

/// Three runs of one shape, each long enough to be caught training.
fn three_runs(dir: &Path) -> PathBuf {
    let path = dir.join("three.json");
    let json = format!(
        r#"{{"name": "three",
 "dataset": {{"name": "synthetic", "synthetic": {{"train": 2048, "test": 256, "dim": 16, "classes": 4, "clusters": 2, "noise": 0.5, "seed": 1}}}},
 "model": {{"kinds": ["highway"], "depths": [4], "width": 32}},
 "training": {{"epochs": 60, "batch_size": 32, "lr": 0.02, "seeds": [0, 1, 2]}},
 "output": "{}"}}"#,
        dir.join("results").display()
    );
    fs::write(&path, json).unwrap();
    path
}

/// `highway status SWEEP --json`, which must succeed.
fn status(sweep: &Path) -> serde_json::Value {
    let o = bin()
        .args(["status", "--json"])
        .arg(sweep)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn count(s: &serde_json::Value, what: &str) -> u64 {
    s[what].as_u64().unwrap_or_else(|| panic!("{what}: {s}"))
}

/// The epochs in a run's `curve.csv` so far (a row being written is not counted).
fn rows(run: &Path) -> usize {
    fs::read_to_string(run.join("curve.csv"))
        .map(|t| {
            t.lines()
                .skip(1)
                .filter(|l| l.split(',').count() == 7)
                .count()
        })
        .unwrap_or(0)
}

/// Two `run --index` processes on a three-run plan: `status` sees both running at their
/// epochs and one pending; killed, they are interrupted; a sweep to the end makes all three
/// done, and says so in its last line.
#[test]
fn status_counts_the_runs_of_a_sweep_that_two_processes_train() {
    let dir = tmp("status");
    let cfg = three_runs(&dir);
    let sweep = dir.join("results/three");
    let children: Vec<_> = ["0", "1"]
        .iter()
        .map(|i| spawn_one_thread(&["run", cfg.to_str().unwrap(), "--index", i]))
        .collect();
    wait_until(|| sweep.join("sweep.json").is_file());
    let plan: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(sweep.join("sweep.json")).unwrap()).unwrap();
    let ids: Vec<String> = plan["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3);
    let runs: Vec<PathBuf> = ids.iter().map(|id| sweep.join("runs").join(id)).collect();
    // Both processes have finished an epoch (observable: a curve row each).
    wait_until(|| rows(&runs[0]) >= 1 && rows(&runs[1]) >= 1);
    let before = [rows(&runs[0]), rows(&runs[1])];

    let s = status(&sweep);
    assert_eq!(count(&s, "planned"), 3, "{s}");
    assert_eq!(count(&s, "done"), 0, "{s}");
    assert_eq!(count(&s, "pending"), 1, "{s}");
    assert_eq!(count(&s, "interrupted"), 0, "{s}");
    let running = s["running"].as_array().unwrap();
    assert_eq!(running.len(), 2, "{s}");
    for (r, (id, at_least)) in running.iter().zip(ids.iter().zip(before)) {
        assert_eq!(r["id"].as_str().unwrap(), id, "{s}");
        let epoch = r["epoch"].as_u64().unwrap() as usize;
        assert!(epoch >= at_least && epoch <= 60, "{s}");
        assert_eq!(r["epochs"].as_u64().unwrap(), 60, "{s}");
    }
    // No run of the shape has finished: no estimate.
    assert!(s["left_core_hours"].is_null(), "{s}");
    assert_eq!(count(&s, "without_estimate"), 3, "{s}");

    let o = bin().arg("status").arg(&sweep).output().unwrap();
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.starts_with("3 runs: 0 done, 2 running, 1 pending; "),
        "{t}"
    );
    assert!(t.contains("no estimate"), "{t}");
    assert!(t.contains(&format!("running  {}", ids[0])), "{t}");

    // Killed (SIGKILL), their statuses still say `running`, but no process holds them.
    for mut c in children {
        c.kill().unwrap();
        c.wait().unwrap();
    }
    let s = status(&sweep);
    assert_eq!(s["running"].as_array().unwrap().len(), 0, "{s}");
    assert_eq!(count(&s, "interrupted"), 2, "{s}");
    assert_eq!(count(&s, "pending"), 1, "{s}");

    // To the end: all done, and the sweep's last line says so.
    let o = bin()
        .args(["sweep", cfg.to_str().unwrap()])
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("status: 3 runs: 3 done; "), "{t}");
    let s = status(&sweep);
    assert_eq!(count(&s, "done"), 3, "{s}");
    assert_eq!(count(&s, "pending") + count(&s, "interrupted"), 0, "{s}");
    assert!(s["running"].as_array().unwrap().is_empty(), "{s}");
    assert_eq!(s["left_core_hours"].as_f64(), Some(0.0), "{s}");
    assert!(s["core_hours"].as_f64().unwrap() > 0.0, "{s}");
}

/// A folder that is no sweep is refused, naming it.
#[test]
fn status_of_a_folder_that_is_no_sweep_is_refused() {
    let dir = tmp("status-none");
    let o = bin().arg("status").arg(&*dir).output().unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("not a sweep folder"), "{}", text(&o));
}
