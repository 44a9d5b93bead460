//! End-to-end: a grid over two fields plans, trains, survives a SIGKILL, gains a value without
//! training anything again, and is reported per grid point.

mod common;

use common::*;

/// A highway sweep over `"training.lr": [0.02, 0.05]` × `"model.gate_bias": [-1, -2]`, depths
/// 2 and 3, 30 epochs.
fn grid_config(dir: &Path) -> PathBuf {
    let path = dir.join("grid.json");
    let json = format!(
        r#"{{
  "name": "grid",
  "dataset": {{"name": "synthetic", "synthetic": {{"train": 256, "test": 128, "dim": 8, "classes": 3, "clusters": 2, "noise": 0.5, "seed": 1}}}},
  "model": {{"kinds": ["highway"], "depths": [2, 3], "width": 10}},
  "training": {{"epochs": 30, "batch_size": 32, "lr": 0.05, "seeds": [0]}},
  "grid": {{"training.lr": [0.02, 0.05], "model.gate_bias": [-1, -2]}},
  "output": "{}"
}}"#,
        dir.join("results").display()
    );
    fs::write(&path, json).unwrap();
    path
}

/// Each run folder's `status.json` for the runs that are done.
fn done_runs(sweep: &Path) -> Vec<(PathBuf, String)> {
    fs::read_dir(sweep.join("runs"))
        .map(|rd| {
            rd.map(|e| e.unwrap().path())
                .filter_map(|p| {
                    fs::read_to_string(p.join("status.json"))
                        .ok()
                        .filter(|s| s.contains("\"done\""))
                        .map(|s| (p, s))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_grid_sweep_plans_resumes_extends_and_reports_per_point() {
    let dir = tmp("grid");
    let cfg = grid_config(&dir);
    let cfg = cfg.to_str().unwrap();
    let sweep = dir.join("results/grid");

    // Planned: 4 points × 2 depths, each id naming its point.
    let o = run(&["plan", cfg]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("8 runs over 4 grid points"), "{out}");
    assert!(out.contains("highway-d3-gate_bias=-2-lr=0.05-s0-"), "{out}");

    // Killed part-way, then resumed: what was done stays done, every run trains once.
    let mut child = bin()
        .args(["sweep", cfg])
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(|| !done_runs(&sweep).is_empty());
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = done_runs(&sweep);
    assert!(before.len() < 8, "{} done before the kill", before.len());
    let o = run(&["sweep", cfg]);
    assert!(o.status.success(), "{}", text(&o));
    for (p, s) in &before {
        let now = fs::read_to_string(p.join("status.json")).unwrap();
        assert_eq!(&now, s, "{} was trained again", p.display());
    }
    let rows = summary_rows(&sweep);
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|r| r[col("state")] == "done"), "{rows:?}");
    for (_, r) in done_runs(&sweep) {
        assert!(r.contains("\"done\""));
    }
    let runs: Vec<PathBuf> = done_runs(&sweep).into_iter().map(|(p, _)| p).collect();
    assert!(runs.iter().all(|r| curve(r).len() == 30));

    // One more learning rate: the 8 finished runs are kept as they are, 4 new ones trained.
    let finished = done_runs(&sweep);
    let o = run(&["sweep", cfg, "--grid", "training.lr=0.02,0.05,0.1"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("8 of 12 runs already finished, skipped"),
        "{}",
        text(&o)
    );
    for (p, s) in &finished {
        assert_eq!(&fs::read_to_string(p.join("status.json")).unwrap(), s);
    }
    assert_eq!(done_runs(&sweep).len(), 12);

    // Reported per point: one table row per point and depth, each point's own report.
    let md = fs::read_to_string(sweep.join("summary.md")).unwrap();
    assert!(md.contains("6 points"), "{md}");
    for gate in ["-1", "-2"] {
        for lr in ["0.02", "0.05", "0.1"] {
            let tag = format!("gate_bias={gate}-lr={lr}");
            let label = format!("model.gate_bias={gate}, training.lr={lr}");
            let link = format!("| [{label}](points/{tag}/summary.md) | highway | ");
            assert_eq!(md.matches(&link).count(), 2, "{link} in\n{md}");
            let point = sweep.join("points").join(&tag);
            let rows = fs::read_to_string(point.join("summary.csv")).unwrap();
            assert_eq!(rows.lines().count(), 1 + 2, "{rows}");
            assert!(rows.lines().skip(1).all(|l| l.contains(&tag)), "{rows}");
            let own = fs::read_to_string(point.join("summary.md")).unwrap();
            assert!(own.starts_with(&format!("# grid at {label}\n")), "{own}");
            assert!(point.join("figures/final-loss-vs-depth.svg").exists());
        }
    }
    let header = fs::read_to_string(sweep.join("summary.csv")).unwrap();
    assert!(header.lines().next().unwrap().ends_with(",point"));

    // A grid may gain values, not fields.
    let o = run(&["sweep", cfg, "--grid", "training.momentum=0.9,0.5"]);
    assert!(!o.status.success());
    assert!(
        text(&o)
            .contains("the grid's fields differ (there only: none; here only: training.momentum)"),
        "{}",
        text(&o)
    );
}

/// Wrong grids are refused before anything is written, naming the field or the point.
#[test]
fn wrong_grids_name_the_field_or_the_point() {
    let dir = tmp("grid-errors");
    let cfg = grid_config(&dir);
    let cfg = cfg.to_str().unwrap();
    for (grid, want) in [
        (
            "training.lr=0.1,-1",
            "grid point model.gate_bias=-1, training.lr=-1",
        ),
        (
            "training.lr=0.1,-1",
            "training.lr: must be a positive number",
        ),
        (
            "search.trials=1,2",
            "grid.search.trials: a grid varies dataset.*, model.* and training.*",
        ),
        (
            "model.depths=[2],[3]",
            "grid.model.depths: model.depths is an axis of every plan",
        ),
        (
            "training.layer_stats=true,false",
            "grid.training.layer_stats: true and false give the same runs",
        ),
        ("training.lrr=1,2", "unknown field `lrr`"),
    ] {
        let o = run(&["sweep", cfg, "--grid", grid]);
        assert!(!o.status.success(), "{grid}");
        assert!(text(&o).contains(want), "{grid}: {}", text(&o));
    }
    assert!(!dir.join("results/grid").exists(), "nothing written");
}

/// A grid over a dataset field trains each point on its own data, recorded in each run.
#[test]
fn a_grid_over_dataset_fields_trains_each_point_on_its_data() {
    let dir = tmp("grid-data");
    let cfg = grid_config(&dir);
    let sets = [
        "--set",
        r#"grid={"dataset.limit": [64, 128]}"#,
        "--set",
        "training.epochs=2",
    ];
    let mut args = vec!["sweep", cfg.to_str().unwrap()];
    args.extend(sets);
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = dir.join("results/grid");
    let rows = summary_rows(&sweep);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r[col("state")] == "done"), "{rows:?}");
    for row in &rows {
        let id = &row[col("id")];
        let spec = fs::read_to_string(sweep.join("runs").join(id).join("spec.json")).unwrap();
        let spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
        let limit = if id.contains("-limit=64-") { 64 } else { 128 };
        assert_eq!(spec["data"]["train_examples"], limit, "{id}");
    }
}
