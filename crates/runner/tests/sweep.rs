//! End-to-end: a sweep writes its folder, learns, repeats itself exactly, and skips what is done.

mod common;

use common::*;

#[test]
fn sweep_writes_the_layout_report_and_learns() {
    let dir = tmp("sweep");
    let cfg = config(&dir, "small", "[2, 6]", "[0]", 4);
    let out = run(&["sweep", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let sweep = dir.join("results/small");
    assert!(
        text(&out).contains(&sweep.display().to_string()),
        "the last lines say where results went"
    );
    assert!(sweep.join("sweep.json").is_file());
    let rows = summary_rows(&sweep);
    assert_eq!(rows.len(), 4);
    for row in &rows {
        let run_dir = sweep.join("runs").join(&row[col("id")]);
        for f in ["spec.json", "curve.csv", "status.json"] {
            assert!(run_dir.join(f).is_file(), "{f} in {}", run_dir.display());
        }
        assert_eq!(row[col("state")], "done");
        let c = curve(&run_dir);
        assert_eq!(c.len(), 4);
        assert!(c.iter().flatten().all(|v| v.is_finite()));
        // Summary numbers are the curve's.
        let last = c.last().unwrap();
        assert_eq!(
            row[col("final_train_loss")].parse::<f64>().unwrap(),
            last[1]
        );
        assert_eq!(row[col("final_eval_acc")].parse::<f64>().unwrap(), last[4]);
        let best = c.iter().map(|r| r[1]).fold(f64::INFINITY, f64::min);
        assert_eq!(row[col("best_train_loss")].parse::<f64>().unwrap(), best);
        if row[col("depth")] == "2" {
            assert!(
                last[1] < c[0][1],
                "shallow {} should learn: {:?}",
                row[col("kind")],
                c
            );
        }
        // One layers.csv row per hidden layer per epoch and at initialisation (epoch 0); gates
        // in highway layers only.
        let layers = fs::read_to_string(run_dir.join("layers.csv")).unwrap();
        let depth: usize = row[col("depth")].parse().unwrap();
        assert_eq!(layers.lines().count(), 1 + 5 * depth, "{layers}");
        for line in layers.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let highway_layer = row[col("kind")] == "highway" && f[1] != "1";
            assert_eq!(!f[9].is_empty(), highway_layer, "{line}");
            assert!(f[2].parse::<f64>().unwrap() >= 0.0, "{line}");
        }
    }
    // Figures: parse as XML, one line per (kind, depth) in the overview.
    for f in [
        "loss-all-depths",
        "loss-depth-2",
        "loss-depth-6",
        "final-loss-vs-depth",
        "accuracy-vs-depth",
    ] {
        let svg = fs::read_to_string(sweep.join(format!("figures/{f}.svg"))).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{f}.svg: {e}"));
        let lines = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("series"))
            .count();
        let want = if f == "loss-all-depths" || f == "loss-by-depth" {
            4
        } else {
            2
        };
        assert_eq!(lines, want, "{f}.svg");
    }
    let md = fs::read_to_string(sweep.join("summary.md")).unwrap();
    assert!(
        md.contains("| plain | 2 |") && md.contains("| highway | 6 |"),
        "{md}"
    );

    // A second start skips everything.
    let again = run(&["sweep", cfg.to_str().unwrap()]);
    assert!(again.status.success());
    assert!(
        text(&again).contains("4 of 4 runs already finished, skipped (4 done)"),
        "{}",
        text(&again)
    );
}

#[test]
fn same_seed_same_backend_same_curve() {
    let dir = tmp("determinism");
    let cfg = config(&dir, "det", "[3]", "[7]", 2);
    let mut curves = Vec::new();
    for out in ["a", "b"] {
        let o = run(&[
            "sweep",
            cfg.to_str().unwrap(),
            "--out",
            dir.join(out).to_str().unwrap(),
            "--set",
            "model.kinds=[\"highway\"]",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let runs = dir.join(out).join("det/runs");
        let id = fs::read_dir(&runs).unwrap().next().unwrap().unwrap().path();
        // Everything but the seconds column.
        curves.push(
            curve(&id)
                .into_iter()
                .map(|r| r[..6].to_vec())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(curves[0], curves[1]);
}

/// One and two threads train the same run to the same curve within float rounding, not bit for
/// bit: the Flex operations split a layer's work into blocks of its output, and `gemm` may sum
/// a block's products in another order when the block has another shape (the input layer's
/// `dW`, cut by columns, does). Measured here: the first epoch identical, the second's losses
/// apart by about 1e-7 relative. The test allows 1e-4 relative on losses and two examples on
/// accuracies, after two epochs of a net large enough to be split (784 inputs, width 50,
/// batch 128).
#[test]
fn one_and_two_threads_give_the_same_curve() {
    let dir = tmp("threads");
    let cfg = dir.join("threads.json");
    fs::write(
        &cfg,
        r#"{
  "name": "threads",
  "dataset": {"name": "synthetic", "synthetic": {"train": 512, "test": 128, "dim": 784, "classes": 10, "clusters": 2, "noise": 0.5, "seed": 3}},
  "model": {"kinds": ["plain", "highway"], "depths": [4]},
  "training": {"epochs": 2, "batch_size": 128, "lr": 0.02, "seeds": [0]}
}"#,
    )
    .unwrap();
    let mut curves = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.join(threads);
        let o = bin()
            .args([
                "sweep",
                cfg.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let mut runs: Vec<PathBuf> = fs::read_dir(out.join("threads/runs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        runs.sort();
        // Every column but the seconds.
        let all: Vec<Vec<Vec<f64>>> = runs
            .iter()
            .map(|r| curve(r).into_iter().map(|row| row[..6].to_vec()).collect())
            .collect();
        curves.push(all);
    }
    assert_eq!(curves[0].len(), 2);
    for (one, two) in curves[0].iter().flatten().zip(curves[1].iter().flatten()) {
        let [epoch, train_loss, train_acc, eval_loss, eval_acc, lr] = one[..] else {
            panic!("six columns: {one:?}");
        };
        let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol;
        assert!(
            epoch == two[0] && lr == two[5],
            "same epochs and schedule: {one:?} {two:?}"
        );
        assert!(
            close(train_loss, two[1], 1e-4 * train_loss),
            "{one:?} {two:?}"
        );
        assert!(
            close(eval_loss, two[3], 1e-4 * eval_loss),
            "{one:?} {two:?}"
        );
        assert!(close(train_acc, two[2], 2.0 / 512.0), "{one:?} {two:?}");
        assert!(close(eval_acc, two[4], 2.0 / 128.0), "{one:?} {two:?}");
    }
}

/// A sweep in which a run failed exits non-zero, says how many failed and which, and keeps the
/// others. (The failure: the run's `curve.csv` is a folder, so it cannot be written.)
#[test]
fn a_failed_run_fails_the_sweep_and_the_others_are_kept() {
    let dir = tmp("failed-run");
    let cfg = config(&dir, "fails", "[2, 3]", "[0]", 2);
    let plan = run(&["plan", cfg.to_str().unwrap(), "--json"]);
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let id = plan["runs"][1]["id"].as_str().unwrap().to_string();
    let sweep = dir.join("results/fails");
    fs::create_dir_all(sweep.join("runs").join(&id).join("curve.csv")).unwrap();
    let o = run(&["sweep", cfg.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("1 of 4 runs failed") && t.contains(&id), "{t}");
    let rows = summary_rows(&sweep);
    let states: Vec<&str> = rows.iter().map(|r| r[col("state")].as_str()).collect();
    assert_eq!(states, ["done", "failed", "done", "done"], "{rows:?}");
}

/// A sweep folder belongs to one plan: the same config with more depths extends it (the report
/// covers both), one with another learning rate is refused, naming the difference, and the
/// earlier runs stay in the summary.
#[test]
fn a_sweep_folder_is_extended_but_never_silently_replaced() {
    let dir = tmp("extend");
    let cfg = config(&dir, "ext", "[2]", "[0]", 1);
    let cfg = cfg.to_str().unwrap();
    assert!(run(&["sweep", cfg]).status.success());
    let o = run(&["sweep", cfg, "--set", "model.depths=[3]"]);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = dir.join("results/ext");
    let rows = summary_rows(&sweep);
    let depths: Vec<&str> = rows.iter().map(|r| r[col("depth")].as_str()).collect();
    assert_eq!(depths.len(), 4, "{rows:?}");
    assert!(depths.contains(&"2") && depths.contains(&"3"), "{rows:?}");
    let o = run(&["sweep", cfg, "--set", "training.lr=0.01"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("sweep.json: this folder holds a sweep of another plan")
            && t.contains("training.lr is 0.05 there and 0.01 here")
            && t.contains("--out"),
        "{t}"
    );
    assert_eq!(summary_rows(&sweep).len(), 4);
}
