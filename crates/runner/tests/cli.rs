//! End-to-end tests of the real `highway` binary on synthetic data.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_highway"));
    c.env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX");
    c
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("highway-cli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A small synthetic sweep: 2 kinds × `depths` × `seeds`.
fn config(dir: &Path, name: &str, depths: &str, seeds: &str, epochs: usize) -> PathBuf {
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

fn summary_rows(sweep: &Path) -> Vec<Vec<String>> {
    let text = fs::read_to_string(sweep.join("summary.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

fn col(name: &str) -> usize {
    let header = "index,id,kind,depth,seed,trial,width,activation,gate_bias,lr,momentum,lr_decay,batch_size,state,epochs,final_train_loss,best_train_loss,final_eval_loss,final_eval_acc,wall_seconds,backend,message";
    header.split(',').position(|c| c == name).unwrap()
}

fn curve(run_dir: &Path) -> Vec<Vec<f64>> {
    fs::read_to_string(run_dir.join("curve.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

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
        if row[col("kind")] == "highway" {
            let gates = fs::read_to_string(run_dir.join("gates.csv")).unwrap();
            let depth: usize = row[col("depth")].parse().unwrap();
            assert_eq!(
                gates.lines().count(),
                1 + 4 * (depth - 1),
                "one gate row per layer per epoch"
            );
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
    assert_eq!(
        text(&again).matches("skipped").count(),
        4,
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

#[test]
fn bad_configs_name_the_field_or_file() {
    let dir = tmp("bad");
    let good = fs::read_to_string(config(&dir, "good", "[2]", "[0]", 1)).unwrap();
    let cases = [
        (
            "unknown-field",
            good.replace("\"epochs\"", "\"epochz\""),
            "epochz",
        ),
        (
            "wrong-type",
            good.replace("\"lr\": 0.05", "\"lr\": \"fast\""),
            "training.lr",
        ),
        (
            "depth-zero",
            good.replace("\"depths\": [2]", "\"depths\": [2, 0]"),
            "model.depths[1]",
        ),
        (
            "negative-lr",
            good.replace("\"lr\": 0.05", "\"lr\": -0.05"),
            "training.lr",
        ),
        (
            "unknown-dataset",
            good.replace("\"name\": \"synthetic\"", "\"name\": \"imagenet\""),
            "dataset.name",
        ),
        ("not-json", "{ nope".to_string(), "not valid JSON"),
    ];
    for (name, body, want) in cases {
        let path = dir.join(format!("{name}.json"));
        fs::write(&path, body).unwrap();
        let o = run(&["sweep", path.to_str().unwrap()]);
        let t = text(&o);
        assert!(!o.status.success(), "{name}: should fail");
        assert!(
            t.contains(want) && t.contains(&path.display().to_string()),
            "{name}: {t}"
        );
        assert!(!t.contains("panicked"), "{name}: {t}");
    }
    // Dataset files missing: the message names the file and the fetch command.
    let mnist = good.replace("\"name\": \"synthetic\"", "\"name\": \"mnist\"");
    let path = dir.join("mnist.json");
    fs::write(&path, mnist).unwrap();
    let o = run(&[
        "sweep",
        path.to_str().unwrap(),
        "--data-dir",
        dir.join("empty").to_str().unwrap(),
    ]);
    let t = text(&o);
    assert!(!o.status.success());
    assert!(
        t.contains("train-images-idx3-ubyte") && t.contains("highway data fetch mnist"),
        "{t}"
    );
    assert!(!t.contains("panicked"), "{t}");
    // A bad --set and a bad backend.
    let o = run(&[
        "sweep",
        dir.join("good.json").to_str().unwrap(),
        "--set",
        "training.lr=-1",
    ]);
    assert!(!o.status.success() && text(&o).contains("training.lr"));
    let o = run(&[
        "sweep",
        dir.join("good.json").to_str().unwrap(),
        "--backend",
        "tpu",
    ]);
    assert!(
        !o.status.success() && text(&o).contains("unknown backend 'tpu'"),
        "{}",
        text(&o)
    );
}

#[test]
fn killed_sweep_resumes_without_redoing_finished_runs() {
    let dir = tmp("kill");
    let cfg = config(&dir, "kill", "[2, 4, 8]", "[0, 1]", 30);
    let sweep = dir.join("results/kill");
    let mut child = bin()
        .args(["sweep", cfg.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let done_count = || {
        fs::read_dir(sweep.join("runs"))
            .map(|rd| {
                rd.filter(|e| {
                    fs::read_to_string(e.as_ref().unwrap().path().join("status.json"))
                        .is_ok_and(|s| s.contains("\"done\""))
                })
                .count()
            })
            .unwrap_or(0)
    };
    while done_count() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before: Vec<(PathBuf, String)> = fs::read_dir(sweep.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            fs::read_to_string(p.join("status.json"))
                .ok()
                .filter(|s| s.contains("\"done\""))
                .map(|s| (p, s))
        })
        .collect();
    assert!(
        before.len() >= 2 && before.len() < 12,
        "{} done before the kill",
        before.len()
    );
    let o = run(&["sweep", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    for (p, s) in &before {
        assert_eq!(
            &fs::read_to_string(p.join("status.json")).unwrap(),
            s,
            "{} was redone",
            p.display()
        );
    }
    let rows = summary_rows(&sweep);
    assert_eq!(rows.len(), 12);
    let mut ids: Vec<_> = rows.iter().map(|r| r[col("id")].clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "every run exactly once");
    assert!(rows.iter().all(|r| r[col("state")] == "done"));
    // No temporary files left looking like results.
    for e in fs::read_dir(&sweep).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!name.contains(".tmp-"), "{name}");
    }
}

#[test]
fn parallel_run_index_processes_share_one_folder() {
    let dir = tmp("parallel");
    let cfg = config(&dir, "par", "[2, 3]", "[0]", 3);
    let plan = run(&["plan", cfg.to_str().unwrap(), "--json"]);
    assert!(plan.status.success());
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let n = plan["runs"].as_array().unwrap().len();
    assert_eq!(n, 4);
    let children: Vec<_> = (0..n)
        .map(|i| {
            let mut c = bin();
            if i % 2 == 0 {
                c.args(["run", cfg.to_str().unwrap(), "--index", &i.to_string()]);
            } else {
                c.args(["run", cfg.to_str().unwrap()])
                    .env("SLURM_ARRAY_TASK_ID", i.to_string());
            }
            c.stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let sweep = dir.join("results/par");
    let rows = summary_rows(&sweep);
    assert_eq!(rows.len(), 4);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[col("state")], "done", "run {i}");
        assert_eq!(row[col("id")], plan["runs"][i]["id"].as_str().unwrap());
        assert_eq!(curve(&sweep.join("runs").join(&row[col("id")])).len(), 3);
    }
    let o = run(&["run", cfg.to_str().unwrap(), "--index", "9"]);
    assert!(
        !o.status.success() && text(&o).contains("out of range"),
        "{}",
        text(&o)
    );
}

#[test]
fn report_is_honest_about_diverged_failed_running_and_pending_runs() {
    let dir = tmp("honest");
    let cfg = config(&dir, "honest", "[2, 3]", "[0]", 3);
    // Plain nets get an absurd learning rate and diverge; the sweep goes on.
    let o = run(&[
        "sweep",
        cfg.to_str().unwrap(),
        "--set",
        "training.lr={\"plain\": 1e6, \"highway\": 0.05}",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = dir.join("results/honest");
    let rows = summary_rows(&sweep);
    let states: Vec<&str> = rows.iter().map(|r| r[col("state")].as_str()).collect();
    assert_eq!(
        states,
        vec!["diverged", "diverged", "done", "done"],
        "{}",
        text(&o)
    );
    // Fake a failed run and a still-running one; delete one to leave it pending.
    let ids: Vec<String> = rows.iter().map(|r| r[col("id")].clone()).collect();
    let runs = sweep.join("runs");
    let status = fs::read_to_string(runs.join(&ids[2]).join("status.json")).unwrap();
    fs::write(
        runs.join(&ids[2]).join("status.json"),
        status.replace("\"done\"", "\"running\""),
    )
    .unwrap();
    let curve_text = fs::read_to_string(runs.join(&ids[2]).join("curve.csv")).unwrap();
    fs::write(
        runs.join(&ids[2]).join("curve.csv"),
        curve_text.lines().take(2).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    fs::write(
        runs.join(&ids[3]).join("status.json"),
        status
            .replace("\"done\"", "\"failed\"")
            .replace("\"message\": null", "\"message\": \"out of memory\""),
    )
    .unwrap();
    fs::remove_dir_all(runs.join(&ids[0])).unwrap();
    let o = run(&["report", sweep.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let rows = summary_rows(&sweep);
    let states: Vec<&str> = rows.iter().map(|r| r[col("state")].as_str()).collect();
    assert_eq!(states, vec!["pending", "diverged", "running", "failed"]);
    assert_eq!(rows[2][col("epochs")], "1");
    let md = fs::read_to_string(sweep.join("summary.md")).unwrap();
    assert!(
        md.contains("out of memory") && md.contains("pending") && md.contains("diverged"),
        "{md}"
    );
    for f in fs::read_dir(sweep.join("figures")).unwrap() {
        roxmltree::Document::parse(&fs::read_to_string(f.unwrap().path()).unwrap()).unwrap();
    }
    let o = run(&["report", dir.to_str().unwrap()]);
    assert!(
        !o.status.success() && text(&o).contains("no sweep.json"),
        "{}",
        text(&o)
    );
}

#[test]
fn plan_prints_runs_and_backends_lists_all() {
    let dir = tmp("plan");
    let cfg = config(&dir, "plan", "[2, 3]", "[0, 1]", 1);
    let o = run(&["plan", cfg.to_str().unwrap(), "--set", "model.depths=[5]"]);
    assert!(o.status.success());
    let t = text(&o);
    assert!(t.contains("4 runs:") && t.contains("highway-d5-s1-"), "{t}");
    let o = run(&["backends"]);
    let t = text(&o);
    assert!(
        o.status.success() && t.contains("flex     ok") && t.contains("ndarray  ok"),
        "{t}"
    );
    assert!(t.contains("cuda") && t.contains("wgpu"), "{t}");
}

#[test]
fn bench_reports_json_on_a_tiny_net() {
    for kind in ["highway", "plain"] {
        let o = run(&[
            "bench", "--kind", kind, "--depth", "3", "--input", "16", "--batch", "8", "--steps",
            "3", "--json",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(v["steps_per_s"].as_f64().unwrap() > 0.0);
        assert!(v["ms_per_step"].as_f64().unwrap() > 0.0);
        assert!(v["peak_rss_mib"].as_f64().unwrap() > 0.0);
        assert_eq!(v["kind"], kind);
    }
}

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

#[test]
fn ctrl_c_stops_cleanly_and_says_how_to_resume() {
    let dir = tmp("sigint");
    let cfg = config(&dir, "sigint", "[40]", "[0]", 200);
    let child = bin()
        .args(["sweep", cfg.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sweep = dir.join("results/sigint");
    let deadline = Instant::now() + Duration::from_secs(120);
    // Wait until the first run has finished an epoch, then press Ctrl-C.
    let curve_exists = || {
        fs::read_dir(sweep.join("runs"))
            .map(|mut rd| rd.any(|e| e.unwrap().path().join("curve.csv").is_file()))
            .unwrap_or(false)
    };
    while !curve_exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    let t = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("resume with") && t.contains("highway sweep"),
        "{t}"
    );
    assert!(!t.contains("panicked"), "{t}");
    let rows = summary_rows(&sweep);
    assert_eq!(rows[0][col("state")], "interrupted", "{rows:?}");
    assert!(rows[1][col("state")] == "pending", "{rows:?}");
}

#[test]
fn random_search_sweep_reports_best_and_top_trials() {
    let dir = tmp("search");
    let cfg = config(&dir, "search", "[2]", "[0]", 2);
    let set = r#"search={"trials": 3, "seed": 5, "lr": [0.01, 0.1]}"#;
    let o = run(&["sweep", cfg.to_str().unwrap(), "--set", set]);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = dir.join("results/search");
    let rows = summary_rows(&sweep);
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows.iter()
            .map(|r| r[col("trial")].as_str())
            .collect::<Vec<_>>(),
        vec!["0", "1", "2", "0", "1", "2"]
    );
    // The winners table names, per kind, the trial with the lowest loss reached.
    let md = fs::read_to_string(sweep.join("summary.md")).unwrap();
    for kind in ["plain", "highway"] {
        let best = rows
            .iter()
            .filter(|r| r[col("kind")] == kind && r[col("state")] == "done")
            .min_by(|a, b| {
                a[col("best_train_loss")]
                    .parse::<f64>()
                    .unwrap()
                    .total_cmp(&b[col("best_train_loss")].parse::<f64>().unwrap())
            })
            .unwrap();
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {kind} | 2 | ")) && l.matches('|').count() > 12)
            .unwrap();
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        assert_eq!(cells[5], best[col("trial")], "{line}");
        let lr: f64 = cells[7].parse().unwrap();
        assert!((0.01..=0.1).contains(&lr), "{line}");
    }
    for f in ["search-best", "search-top10", "search"] {
        let svg = fs::read_to_string(sweep.join(format!("figures/{f}.svg"))).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let lines = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("series"))
            .count();
        assert_eq!(lines, if f == "search" { 4 } else { 2 }, "{f}");
    }
    // Raising the trial count keeps the finished trials.
    let more = r#"search={"trials": 4, "seed": 5, "lr": [0.01, 0.1]}"#;
    let o = run(&["sweep", cfg.to_str().unwrap(), "--set", more]);
    assert!(o.status.success());
    assert_eq!(text(&o).matches("skipped").count(), 6, "{}", text(&o));
    assert_eq!(summary_rows(&sweep).len(), 8);
}

#[test]
fn saved_model_is_analysed_for_gates_and_lesions() {
    let dir = tmp("analyze");
    let cfg = config(&dir, "kept", "[4]", "[0]", 2);
    let out = run(&[
        "sweep",
        cfg.to_str().unwrap(),
        "--set",
        "training.save_model=true",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let sweep = dir.join("results/kept");
    let rows = summary_rows(&sweep);
    let run_of = |kind: &str| {
        let row = rows.iter().find(|r| r[col("kind")] == kind).unwrap();
        sweep.join("runs").join(&row[col("id")])
    };
    let (plain, highway) = (run_of("plain"), run_of("highway"));
    assert!(plain.join("model.safetensors").is_file());
    let dir_arg = highway.to_str().unwrap();

    let out = run(&[
        "analyze",
        "gates",
        dir_arg,
        "--sample",
        "5",
        "--classes",
        "2,1",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let analysis = highway.join("analysis");
    let gates = fs::read_to_string(analysis.join("gates.csv")).unwrap();
    let lines: Vec<&str> = gates.lines().collect();
    assert_eq!(
        lines[0],
        "layer,block,bias,mean_gate,sample_gate,sample_output"
    );
    assert_eq!(lines.len(), 1 + 3 * 10, "3 highway layers × 10 blocks");
    for line in &lines[1..] {
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        assert!(
            (0.0..=1.0).contains(&v[3]) && (0.0..=1.0).contains(&v[4]),
            "{line}"
        );
    }
    let by_class = fs::read_to_string(analysis.join("gates-by-class.csv")).unwrap();
    assert_eq!(by_class.lines().count(), 1 + 3 * 3 * 10);
    for svg in ["figure2-gates.svg", "figure3-classes.svg"] {
        let text = fs::read_to_string(analysis.join(svg)).unwrap();
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{svg}: {e}"));
    }

    let out = run(&["analyze", "lesion", dir_arg]);
    assert!(out.status.success(), "{}", text(&out));
    let lesion = fs::read_to_string(analysis.join("lesion.csv")).unwrap();
    let lines: Vec<&str> = lesion.lines().collect();
    assert_eq!(lines[0], "lesioned_layer,loss,accuracy");
    assert!(lines[1].starts_with("none,"));
    assert_eq!(lines.len(), 2 + 3);
    let text4 = fs::read_to_string(analysis.join("figure4-lesion.svg")).unwrap();
    roxmltree::Document::parse(&text4).unwrap();

    // Clear errors: a plain net, a run without a model, a class that does not exist.
    let out = run(&["analyze", "lesion", plain.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no highway layers"), "{}", text(&out));
    let out = run(&["analyze", "gates", dir_arg, "--classes", "0,3"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("class 3 does not exist"),
        "{}",
        text(&out)
    );
    fs::remove_file(highway.join("model.safetensors")).unwrap();
    let out = run(&["analyze", "gates", dir_arg]);
    assert!(!out.status.success());
    assert!(text(&out).contains("save_model"), "{}", text(&out));
}
