//! End-to-end: which runs keep their trained net (`training.save_model`). By default the best
//! trial of each search cell, the one the report's search table calls best, whether its trials
//! trained as one stack or as parallel `run --index` processes finishing in any order; `false`
//! keeps none and `true` every one; and keeping models never changes a recorded number.

mod common;

use common::*;

/// A search of 3 trials per (kind, depth) on synthetic data: plain and highway at depth 4.
fn search(dir: &Path) -> PathBuf {
    let path = dir.join("s.json");
    let json = r#"{"name": "s",
 "dataset": {"name": "synthetic", "synthetic": {"train": 256, "test": 128, "dim": 8, "classes": 3, "clusters": 2, "noise": 0.5, "seed": 1}},
 "model": {"kinds": ["plain", "highway"], "depths": [4], "width": 10},
 "training": {"epochs": 2, "batch_size": 32, "lr": 0.05, "seeds": [0]},
 "search": {"trials": 3, "seed": 4, "lr": [0.01, 0.2]}}"#;
    fs::write(&path, json).unwrap();
    path
}

/// `highway ARGS --out OUT` on one thread, not waited for.
fn start(args: &[&str], out: &Path) -> std::process::Child {
    bin()
        .args(args)
        .arg("--out")
        .arg(out)
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `highway sweep CFG --out OUT` with `sets`, which must succeed: its output.
fn sweep(cfg: &Path, out: &Path, sets: &[&str]) -> String {
    let mut args = vec!["sweep", cfg.to_str().unwrap()];
    for set in sets {
        args.extend(["--set", set]);
    }
    let o = start(&args, out).wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    text(&o)
}

/// The run folders of the sweep `s` under `out`, by name.
fn runs(out: &Path) -> Vec<PathBuf> {
    let mut runs: Vec<PathBuf> = fs::read_dir(out.join("s/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    runs
}

/// The names of the run folders under `out` that hold a model.
fn with_models(out: &Path) -> Vec<String> {
    (runs(out).iter())
        .filter(|r| r.join("model.safetensors").is_file())
        .map(|r| r.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// The ids of the best trial of each cell, as the report's search table names them (its
/// "best trial" column), found in `summary.csv` by kind and trial.
fn best_of_report(out: &Path) -> Vec<String> {
    let sweep = out.join("s");
    let md = fs::read_to_string(sweep.join("summary.md")).unwrap();
    let table = md.split("## Random search").nth(1).unwrap();
    let table = table.split("\n## ").next().unwrap();
    let rows = summary_rows(&sweep);
    let mut best: Vec<String> = table
        .lines()
        .filter(|l| l.starts_with("| plain |") || l.starts_with("| highway |"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let (kind, trial) = (cells[1], cells[5]);
            let row = rows
                .iter()
                .find(|r| r[col("kind")] == kind && r[col("trial")] == trial)
                .unwrap_or_else(|| panic!("{kind} trial {trial} in summary.csv"));
            row[col("id")].clone()
        })
        .collect();
    best.sort();
    assert_eq!(best.len(), 2, "a best trial in each cell:\n{table}");
    best
}

/// What a run recorded that saving a model must not change: its curve without the seconds,
/// its layer statistics and its state.
fn records(run: &Path) -> (String, String, String) {
    let read = |f: &str| fs::read_to_string(run.join(f)).unwrap_or_default();
    let curve = (read("curve.csv").lines())
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    let status: serde_json::Value = serde_json::from_str(&read("status.json")).unwrap();
    (curve, read("layers.csv"), status["state"].to_string())
}

/// The tensors of a run's model file: its bytes after the header (whose metadata entries may
/// come in any order).
fn weights(run: &Path) -> Vec<u8> {
    let bytes = fs::read(run.join("model.safetensors")).unwrap();
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    bytes[8 + header..].to_vec()
}

#[test]
fn the_best_trial_of_each_cell_keeps_its_model() {
    let dir = tmp("kept");
    let cfg = search(&dir);
    let (best, none, every) = (dir.join("best"), dir.join("none"), dir.join("every"));

    // The default, trials trained as one stack per cell: exactly the report's best trials.
    sweep(&cfg, &best, &[]);
    let kept = best_of_report(&best);
    assert_eq!(with_models(&best), kept);
    assert_eq!(runs(&best).len(), 6);

    // The best highway trial is analysed as it stands; another points at it.
    let highway = |name: &&String| name.starts_with("highway");
    let winner = best.join("s/runs").join(kept.iter().find(highway).unwrap());
    let o = run(&["analyze", "gates", winner.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(winner.join("analysis/gates.csv").is_file());
    let is_highway = |r: &Path| {
        r.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("highway")
    };
    let other = (runs(&best).into_iter())
        .find(|r| is_highway(r) && r != &winner)
        .unwrap();
    let o = run(&["analyze", "lesion", other.to_str().unwrap()]);
    assert!(!o.status.success());
    let said = text(&o);
    assert!(
        said.contains("The best run of its cell has one")
            && said.contains(winner.to_str().unwrap()),
        "{said}"
    );

    // Resumed, the finished sweep asks nothing of the runs without a model.
    let again = sweep(&cfg, &best, &[]);
    assert!(!again.contains("has no model"), "{again}");
    assert_eq!(with_models(&best), kept);

    // None, and every one; the same numbers in every case.
    sweep(&cfg, &none, &["training.save_model=false"]);
    assert!(with_models(&none).is_empty());
    sweep(&cfg, &every, &["training.save_model=true"]);
    assert_eq!(with_models(&every).len(), 6);
    for ((a, b), c) in runs(&best).iter().zip(runs(&none)).zip(runs(&every)) {
        assert_eq!(records(a), records(&b), "{}", a.display());
        assert_eq!(records(a), records(&c), "{}", a.display());
        if a.join("model.safetensors").is_file() {
            let same = weights(a) == weights(&c);
            assert!(same, "the best's model is the one `true` keeps");
        }
    }
}

/// Six `run --index` processes at once, each training one trial, finishing in whatever order:
/// the runs left with a model are the report's best, one per cell.
#[test]
fn parallel_processes_leave_the_best_model_of_each_cell() {
    let dir = tmp("kept-par");
    let cfg = search(&dir);
    let out = dir.join("par");
    let children: Vec<_> = (0..6)
        .map(|i| {
            start(
                &["run", cfg.to_str().unwrap(), "--index", &i.to_string()],
                &out,
            )
        })
        .collect();
    wait_all_succeed(children);
    let o = run(&["report", out.join("s").to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(with_models(&out), best_of_report(&out));
}
