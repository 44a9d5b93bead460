//! End-to-end: trials trained together as one stack (`execution.batch_trials`) record what each
//! trial records alone. On Flex bit for bit (every column of `curve.csv` but the seconds,
//! `layers.csv`, the status and the event file's losses) against the run alone on one thread,
//! with the stack on two threads; through divergence inside a stack, SIGTERM and SIGKILL, and
//! trials resumed alone after a stack and in a stack after running alone.

mod common;

use common::*;

/// A 6-trial search on 784 features (the input layer's wide path), learning rates up to 3 so
/// that some trials of each cell diverge while the others train on.
fn search(dir: &Path, depth: usize, train: usize, epochs: usize) -> PathBuf {
    let path = dir.join("s.json");
    let json = format!(
        r#"{{"name": "s",
 "dataset": {{"name": "synthetic", "synthetic": {{"train": {train}, "test": 128, "dim": 784, "classes": 10, "clusters": 2, "noise": 0.5, "seed": 3}}}},
 "model": {{"kinds": ["plain", "highway"], "depths": [{depth}]}},
 "training": {{"epochs": {epochs}, "batch_size": 64, "lr": 0.02, "seeds": [0]}},
 "search": {{"trials": 6, "seed": 5, "lr": [0.001, 3.0]}}}}"#
    );
    fs::write(&path, json).unwrap();
    path
}

/// `highway ARGS --out OUT` with `threads` threads, not waited for.
fn start(args: &[&str], out: &Path, threads: &str) -> std::process::Child {
    bin()
        .args(args)
        .arg("--out")
        .arg(out)
        .env("RAYON_NUM_THREADS", threads)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `highway ARGS --out OUT` with `threads` threads, which must succeed.
fn finish(args: &[&str], out: &Path, threads: &str) -> String {
    let o = start(args, out, threads).wait_with_output().unwrap();
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    log
}

/// What a run records, but the seconds: its curve, layer statistics, state and message, and
/// the event file's training losses by step.
type Records = (String, String, String, Vec<(i64, f32)>);

fn records(run: &Path) -> Records {
    let read = |f: &str| fs::read_to_string(run.join(f)).unwrap_or_default();
    let curve = read("curve.csv")
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    let status: serde_json::Value = serde_json::from_str(&read("status.json")).unwrap();
    let state = format!("{} {}", status["state"], status["message"]);
    let losses = event_values(run)
        .into_iter()
        .filter(|(_, tag, _)| tag == "train/loss")
        .map(|(step, _, v)| (step, v.unwrap()))
        .collect();
    (curve, read("layers.csv"), state, losses)
}

/// Every run folder of the sweep `s` under `out`, by name.
fn runs(out: &Path) -> Vec<PathBuf> {
    let mut runs: Vec<PathBuf> = fs::read_dir(out.join("s/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    runs
}

fn assert_same_records(got: &Path, want: &Path) {
    let (a, b) = (runs(got), runs(want));
    assert_eq!(a.len(), b.len());
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.file_name(), b.file_name());
        assert_eq!(records(a), records(b), "{}", a.display());
    }
}

#[test]
fn a_stack_records_each_trials_numbers_bit_for_bit_through_divergence() {
    let dir = tmp("stack");
    let cfg = search(&dir, 4, 512, 3);
    let cfg = cfg.to_str().unwrap();
    finish(&["sweep", cfg], &dir.join("alone"), "1");
    let log = finish(
        &["sweep", cfg, "--set", "execution.batch_trials=6"],
        &dir.join("stacked"),
        "2",
    );
    assert!(
        log.contains("[group 1] 6 trials of highway depth 4 as one stack"),
        "{log}"
    );
    assert_same_records(&dir.join("stacked"), &dir.join("alone"));
    // Each cell had trials that diverged inside the stack and trials that finished after.
    let states: Vec<String> = runs(&dir.join("stacked"))
        .iter()
        .map(|r| records(r).2)
        .collect();
    for kind in ["plain", "highway"] {
        let of = |s: &str| {
            runs(&dir.join("stacked"))
                .iter()
                .zip(&states)
                .filter(|(r, st)| {
                    r.file_name().unwrap().to_string_lossy().starts_with(kind) && st.starts_with(s)
                })
                .count()
        };
        assert!(
            of("\"diverged\"") >= 1 && of("\"done\"") >= 1,
            "{kind}: {states:?}"
        );
    }
}

#[test]
fn a_stopped_or_killed_stack_resumes_alone_or_together_to_the_same_records() {
    let dir = tmp("stack-stop");
    let cfg = search(&dir, 6, 2048, 3);
    let cfg = cfg.to_str().unwrap();
    let set = ["--set", "execution.batch_trials=6"];
    finish(&["sweep", cfg], &dir.join("alone"), "1");
    let out = dir.join("stopped");
    let checkpoint = |run: &Path| run.join("checkpoint/state.safetensors");
    let alone = runs(&dir.join("alone"));
    let name = |i: usize| alone[i].file_name().unwrap().to_owned();
    let plain = |i: usize| out.join("s/runs").join(name(i));
    // 1. Trial 1 of the plain cell (plan index 1) alone, killed after its first epoch.
    let mut child = start(&["run", cfg, "--index", "1"], &out, "1");
    wait_for(&checkpoint(&plain(7)));
    child.kill().unwrap();
    child.wait().unwrap();
    // 2. The plain cell as stacks: trial 1 stands elsewhere and trains as a stack of its own,
    //    after the others. SIGTERM once they have a checkpoint: every trial stops, and keeps
    //    its checkpoint; trial 0 diverges in the first epoch, inside the stack.
    let mut group = vec!["run", cfg, "--group", "0"];
    group.extend(set);
    let child = start(&group, &out, "2");
    wait_for(&checkpoint(&plain(8)));
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let stopped = child.wait_with_output().unwrap();
    let log = text(&stopped);
    assert_eq!(stopped.status.code(), Some(143), "{log}");
    assert!(
        log.contains("--group 0"),
        "the resume hint names the group: {log}"
    );
    // 3. Killed again in its second life, once it has recorded an epoch after the stop; then
    //    one trial finished alone, the rest together.
    let mut child = start(&group, &out, "2");
    let rows = |run: &Path| {
        let curve = fs::read_to_string(run.join("curve.csv")).unwrap_or_default();
        curve.lines().count()
    };
    let before = rows(&plain(9));
    wait_until(|| rows(&plain(9)) > before);
    let _ = child.kill(); // it may just have finished
    child.wait().unwrap();
    finish(&["run", cfg, "--index", "2"], &out, "1");
    finish(&group, &out, "2");
    // The highway cell, straight through as one stack.
    let mut highway = vec!["run", cfg, "--group", "1"];
    highway.extend(set);
    finish(&highway, &out, "2");
    assert_same_records(&out, &dir.join("alone"));
    assert!(runs(&out).iter().all(|r| !r.join("checkpoint").exists()));
}

/// Adam and AdamW trials (the search draws which, and a learning rate each) in stacks record
/// what each records alone, bit for bit, through a SIGKILL of the stacks and their resumption:
/// their moments go into each trial's checkpoint and back into the stack.
#[test]
fn adam_stacks_record_each_trials_numbers_bit_for_bit_through_a_kill() {
    let dir = tmp("stack-adam");
    let cfg = search(&dir, 4, 2048, 3);
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&cfg).unwrap()).unwrap();
    v["training"]["weight_decay"] = 1e-2.into();
    v["training"]["betas"] = serde_json::json!([0.85, 0.995]);
    v["search"]["lr"] = serde_json::json!([1e-4, 0.3]);
    v["search"]["optimizer"] = serde_json::json!(["adam", "adamw"]);
    fs::write(&cfg, v.to_string()).unwrap();
    let cfg = cfg.to_str().unwrap();
    finish(&["sweep", cfg], &dir.join("alone"), "1");
    let alone = runs(&dir.join("alone"));
    let optimizers: Vec<String> = alone
        .iter()
        .map(|r| {
            let spec: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(r.join("spec.json")).unwrap()).unwrap();
            spec["run"]["training"]["optimizer"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        optimizers.iter().any(|o| o == "adam") && optimizers.iter().any(|o| o == "adamw"),
        "{optimizers:?}"
    );
    // Killed once the first run that trains to the end has its first epoch's checkpoint.
    let done = alone
        .iter()
        .find(|r| records(r).2.starts_with("\"done\""))
        .expect("a trial that trains to the end");
    let out = dir.join("stacked");
    let args = ["sweep", cfg, "--set", "execution.batch_trials=6"];
    let mut child = start(&args, &out, "2");
    wait_for(
        &out.join("s/runs")
            .join(done.file_name().unwrap())
            .join("checkpoint/state.safetensors"),
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let log = finish(&args, &out, "2");
    assert!(log.contains("as one stack"), "{log}");
    assert_same_records(&out, &dir.join("alone"));
}

#[test]
#[allow(non_snake_case)]
fn a_stack_on_ndarray_matches_each_trial_within_1e_5() {
    let dir = tmp("stack-ndarray");
    let cfg = search(&dir, 3, 256, 2);
    let cfg = cfg.to_str().unwrap();
    let nd = ["--backend", "ndarray"];
    let mut alone = vec!["sweep", cfg];
    alone.extend(nd);
    finish(&alone, &dir.join("alone"), "1");
    let mut stacked = alone.clone();
    stacked.extend(["--set", "execution.batch_trials=6"]);
    finish(&stacked, &dir.join("stacked"), "2");
    for (a, b) in runs(&dir.join("stacked"))
        .iter()
        .zip(runs(&dir.join("alone")))
    {
        assert_eq!(records(a).2, records(&b).2, "{}", a.display());
        if !b.join("curve.csv").exists() {
            continue; // diverged in the first epoch
        }
        let (ca, cb) = (curve(a), curve(&b));
        assert_eq!(ca.len(), cb.len(), "{}", a.display());
        for (ra, rb) in ca.iter().zip(&cb) {
            for (x, y) in ra[..6].iter().zip(&rb[..6]) {
                assert!(
                    (x - y).abs() <= 1e-5 * y.abs().max(1e-3),
                    "{}: {ra:?} vs {rb:?}",
                    a.display()
                );
            }
        }
    }
}

#[test]
fn plan_lists_the_groups_and_run_refuses_a_group_out_of_range() {
    let dir = tmp("groups");
    let cfg = search(&dir, 4, 256, 1);
    let cfg = cfg.to_str().unwrap();
    let o = run(&["plan", cfg, "--groups", "--set", "execution.batch_trials=4"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("4 groups of at most 4 trials"), "{out}");
    assert!(
        out.contains("   3    2 trials  highway  depth    4"),
        "{out}"
    );
    let o = run(&[
        "run",
        cfg,
        "--group",
        "9",
        "--set",
        "execution.batch_trials=4",
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--group 9 is out of range: the plan has 4 groups"),
        "{}",
        text(&o)
    );
    let o = run(&["plan", cfg, "--set", "execution.batch_trials=0"]);
    assert!(
        text(&o).contains("execution.batch_trials: must be between 1 and 1024"),
        "{}",
        text(&o)
    );
}
