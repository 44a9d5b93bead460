//! End-to-end: the event files a sweep writes read back, with our reader and with TensorBoard's
//! own (`scripts/check-tensorboard.py`: `EventAccumulator`, the HParams plugin's parsers and a
//! TensorBoard server on 127.0.0.1). The TensorBoard half runs when a Python with `tensorboard`
//! is found (`HIGHWAY_TEST_PYTHON`, which `.ci/run` sets to its virtual environment, or
//! `python3`); with `HIGHWAY_TEST_TENSORBOARD=1` (CI) a missing one is a failure, otherwise the
//! test says on stderr that it skipped it.

mod common;

use common::*;

/// A random search on synthetic data: both kinds, depths 3 and 6, 2 trials, 3 epochs.
fn search_config(dir: &Path) -> PathBuf {
    search_config_of(dir, "[3, 6]", 2, 3)
}

/// A random search on synthetic data: both kinds, `depths`, `trials` trials, `epochs` epochs.
fn search_config_of(dir: &Path, depths: &str, trials: usize, epochs: usize) -> PathBuf {
    let path = dir.join("tb.json");
    let json = format!(
        r#"{{"name": "tb",
 "dataset": {{"name": "synthetic", "synthetic": {{"train": 300, "test": 100, "dim": 8, "classes": 3, "clusters": 2, "noise": 0.5, "seed": 1}}}},
 "model": {{"kinds": ["plain", "highway"], "depths": {depths}, "width": {{"plain": 12, "highway": 10}}}},
 "training": {{"epochs": {epochs}, "batch_size": 32, "lr": 0.05, "seeds": [0]}},
 "search": {{"trials": {trials}, "seed": 3, "lr": [0.01, 0.1], "momentum": [0.8, 0.95], "lr_decay": [0.9, 1.0], "activation": ["relu", "tanh"], "gate_bias": [-3.0, -1.0]}},
 "output": "{}"}}"#,
        dir.join("results").display()
    );
    fs::write(&path, json).unwrap();
    path
}

#[test]
fn every_epoch_is_in_the_event_file_once_and_tensorboard_reads_it() {
    let dir = tmp("tensorboard");
    let cfg = search_config(&dir);
    let o = run(&["sweep", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = dir.join("results/tb");
    assert!(sweep.join("events.out.tfevents.hparams").is_file());
    let runs: Vec<PathBuf> = fs::read_dir(sweep.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 8);
    for run in &runs {
        let events = event_values(run);
        let losses: Vec<(i64, f32)> = events
            .iter()
            .filter(|(_, tag, _)| tag == "train/loss")
            .map(|(step, _, v)| (*step, v.unwrap()))
            .collect();
        let want: Vec<(i64, f32)> = curve(run)
            .iter()
            .map(|r| (r[0] as i64, r[1] as f32))
            .collect();
        assert_eq!(losses, want, "{}", run.display());
        // One histogram of gradient norms over the layers per epoch and at initialisation
        // (step 0), and layers.csv has a row per hidden layer for each of them.
        let histograms = events
            .iter()
            .filter(|(_, tag, _)| tag == "layers/log10_grad_w")
            .count();
        assert_eq!(histograms, 4);
        let depth = if run.to_str().unwrap().contains("-d3-") {
            3
        } else {
            6
        };
        let layers = fs::read_to_string(run.join("layers.csv")).unwrap();
        assert_eq!(layers.lines().count(), 1 + 4 * depth, "{layers}");
    }
    tensorboard_check(&sweep, 8);
    // The report draws the gradient by layer per depth and tabulates it.
    for depth in [3, 6] {
        let svg =
            fs::read_to_string(sweep.join(format!("figures/gradients-depth-{depth}.svg"))).unwrap();
        for title in [
            "plain depth",
            "highway depth",
            "at initialisation",
            "after epoch 1",
            "after epoch 3",
        ] {
            assert!(
                svg.contains(title),
                "gradients-depth-{depth}.svg: no {title}"
            );
        }
    }
    let md = fs::read_to_string(sweep.join("summary.md")).unwrap();
    let table: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("## Gradients by layer"))
        .filter(|l| l.starts_with("| plain |") || l.starts_with("| highway |"))
        .collect();
    assert_eq!(table.len(), 2 * 2 * 3, "{md}");
    // A sweep made before event files and layers.csv existed still reports.
    for run in &runs {
        for entry in fs::read_dir(run).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("events.out") || name == "layers.csv" {
                fs::remove_file(path).unwrap();
            }
        }
    }
    fs::remove_file(sweep.join("events.out.tfevents.hparams")).unwrap();
    let o = run(&["report", sweep.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("warning"), "{}", text(&o));
    let md = fs::read_to_string(sweep.join("summary.md")).unwrap();
    assert!(!md.contains("Gradients by layer"), "{md}");
}

/// Runs `scripts/check-tensorboard.py` on `sweep` of `runs` runs, or says why it cannot.
fn tensorboard_check(sweep: &Path, runs: usize) {
    let required = std::env::var("HIGHWAY_TEST_TENSORBOARD").as_deref() == Ok("1");
    let python = std::env::var("HIGHWAY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_tensorboard = Command::new(&python)
        .args(["-c", "import tensorboard"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_tensorboard {
        assert!(
            !required,
            "HIGHWAY_TEST_TENSORBOARD=1 but {python} cannot import tensorboard"
        );
        eprintln!(
            "skipped: the TensorBoard reader check: {python} has no tensorboard (set \
             HIGHWAY_TEST_PYTHON; .ci/run installs it)"
        );
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check-tensorboard.py");
    let o = Command::new(&python)
        .arg(script)
        .arg(sweep)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let ok = format!("tensorboard ok: {runs} runs, {runs} HParams sessions");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&ok),
        "{}",
        text(&o)
    );
}

/// `training.layer_stats = false`: no `layers.csv`, and the event file has the curve only.
#[test]
fn layer_statistics_can_be_turned_off() {
    let dir = tmp("no-layer-stats");
    let cfg = config(&dir, "off", "[3]", "[0]", 2);
    let o = run(&[
        "sweep",
        cfg.to_str().unwrap(),
        "--set",
        "training.layer_stats=false",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for entry in fs::read_dir(dir.join("results/off/runs")).unwrap() {
        let run = entry.unwrap().path();
        assert!(!run.join("layers.csv").exists());
        let tags: Vec<String> = event_values(&run).into_iter().map(|(_, t, _)| t).collect();
        assert!(tags.iter().any(|t| t == "train/loss"), "{tags:?}");
        assert!(!tags.iter().any(|t| t.starts_with("layers/")), "{tags:?}");
    }
}

/// Runs of older builds (no event file, or one whose HParams record lacks a hyperparameter)
/// get theirs written again from their records by `highway report --rebuild-events`, which
/// TensorBoard then reads like any run's; up-to-date files are left alone.
#[test]
fn event_files_of_older_runs_are_rebuilt_from_their_records() {
    let dir = tmp("rebuild");
    let cfg = search_config(&dir);
    let o = run(&["sweep", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = dir.join("results/tb");
    let mut runs: Vec<PathBuf> = fs::read_dir(sweep.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    let before = event_values(&runs[1]);
    for run in &runs[..2] {
        for e in fs::read_dir(run).unwrap() {
            let path = e.unwrap().path();
            if path.to_string_lossy().contains("tfevents") {
                fs::remove_file(path).unwrap();
            }
        }
    }
    let o = run(&["report", sweep.to_str().unwrap(), "--rebuild-events"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("2 event files written again"),
        "{}",
        text(&o)
    );
    // The same tags at the same steps as the file the run wrote, and the same values to the
    // precision of the records (`curve.csv` keeps accuracies to 6 decimals).
    let untimed = |v: Vec<(i64, String, Option<f32>)>| {
        v.into_iter()
            .filter(|(_, tag, _)| tag != "seconds_per_epoch")
            .collect::<Vec<_>>()
    };
    let (rebuilt, written) = (untimed(event_values(&runs[1])), untimed(before));
    assert_eq!(rebuilt.len(), written.len());
    for (a, b) in rebuilt.iter().zip(&written) {
        assert_eq!((a.0, &a.1), (b.0, &b.1));
        let close = match (a.2, b.2) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * y.abs().max(1.0),
            (x, y) => x == y,
        };
        assert!(close, "{a:?} vs {b:?}");
    }
    let again = run(&["report", sweep.to_str().unwrap(), "--rebuild-events"]);
    assert!(text(&again).contains("0 event files"), "{}", text(&again));
    tensorboard_check(&sweep, 8);
}

/// The sweep's own event file (TensorBoard's run `.`) holds Figure 1: per kind and depth the
/// best trial's training loss by epoch, exactly its `curve.csv`, and the mean of the 10 best
/// of 12 trials (ranked by the lowest loss each reached, diverged ones left out), with a
/// custom scalars layout that charts each depth; `report --rebuild-events` writes them again.
#[test]
fn the_sweep_event_file_holds_figure_1() {
    let dir = tmp("figure1");
    let cfg = search_config_of(&dir, "[3]", 12, 2);
    let o = run(&["sweep", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = dir.join("results/tb");
    let panels = event_values(&sweep);
    let values = |tag: &str| -> Vec<(i64, f32)> {
        let found = panels.iter().filter(|(_, t, _)| t == tag);
        found.map(|(step, _, v)| (*step, v.unwrap())).collect()
    };
    for kind in ["plain", "highway"] {
        let ranked = ranked_runs(&sweep, kind);
        assert!(ranked.len() > 10, "{kind}: {} done", ranked.len());
        let best: Vec<(i64, f32)> = curve(&ranked[0])
            .iter()
            .map(|r| (r[0] as i64, r[1] as f32))
            .collect();
        assert_eq!(values(&format!("figure1/depth_3/{kind}/best")), best);
        let top = values(&format!("figure1/depth_3/{kind}/top10_mean"));
        assert_eq!(top.len(), 2, "{top:?}");
        for (i, (epoch, got)) in top.iter().enumerate() {
            let mean = ranked[..10].iter().map(|r| curve(r)[i][1]).sum::<f64>() / 10.0;
            assert_eq!(*epoch, i as i64 + 1);
            assert!(
                (*got as f64 - mean).abs() <= 1e-6 * mean,
                "{kind}: {got} vs {mean}"
            );
        }
    }
    let layout = sweep_layout(&sweep);
    for regex in [
        r"^figure1/depth_3/[^/]+/(best|top10_mean)$",
        r"^figure1/depth_\d+/[^/]+/best$",
        r"^figure1/depth_\d+/[^/]+/top10_mean$",
    ] {
        assert!(layout.contains(regex), "{regex} not in {layout}");
    }
    tensorboard_check(&sweep, 24);
    fs::remove_file(sweep.join("events.out.tfevents.hparams")).unwrap();
    let o = run(&["report", sweep.to_str().unwrap(), "--rebuild-events"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(event_values(&sweep), panels);
}

/// The done runs of `kind` in `sweep`, best first: by the lowest training loss each reached.
fn ranked_runs(sweep: &Path, kind: &str) -> Vec<PathBuf> {
    let mut done: Vec<(f64, PathBuf)> = fs::read_dir(sweep.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(kind))
        .filter(|p| {
            let status = fs::read_to_string(p.join("status.json")).unwrap();
            status.contains(r#""state": "done""#)
        })
        .map(|p| {
            let best = curve(&p).iter().map(|r| r[1]).fold(f64::INFINITY, f64::min);
            (best, p)
        })
        .collect();
    done.sort_by(|a, b| a.0.total_cmp(&b.0));
    done.into_iter().map(|(_, p)| p).collect()
}

/// The custom scalars layout of the sweep's event file, its bytes as text.
fn sweep_layout(sweep: &Path) -> String {
    use highway_runner::{read_run_events, Value, What};
    let events = read_run_events(sweep).unwrap().expect("an event file");
    let layout = events.into_iter().find_map(|e| match e.what {
        What::Summary(values) => values.into_iter().find_map(|v| match v {
            Value::PluginBytes { tag, bytes, .. } if tag == "custom_scalars__config__" => {
                Some(bytes)
            }
            _ => None,
        }),
        What::FileVersion => None,
    });
    String::from_utf8_lossy(&layout.expect("a layout")).into_owned()
}
