//! End-to-end: successive halving decides from recorded curves alone. One process, two
//! processes on one folder, stacks of trials, `run --index` tasks run round after round, and a
//! sweep killed at a rung and resumed all stop the same trials at the same rungs with the same
//! curves, and every curve is the beginning of that trial's full-budget curve.

mod common;

use common::*;

/// Two cells of 9 trials, 8 epochs, rungs at epochs 2 and 6 (eta 3).
fn halving(dir: &Path) -> PathBuf {
    let path = dir.join("h.json");
    fs::write(
        &path,
        r#"{"name": "h",
 "dataset": {"name": "synthetic", "synthetic": {"train": 512, "test": 128, "dim": 64, "classes": 10, "clusters": 2, "noise": 1.5, "seed": 3}},
 "model": {"kinds": ["plain", "highway"], "depths": [4]},
 "training": {"epochs": 8, "batch_size": 64, "lr": 0.02, "seeds": [0]},
 "search": {"trials": 9, "seed": 5, "lr": [0.0005, 0.5], "halving": {"eta": 3, "first_rung": 2}}}"#,
    )
    .unwrap();
    path
}

fn highway(args: &[&str], out: &Path, threads: &str) -> std::process::Child {
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

fn succeed(child: std::process::Child) {
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

/// Each run's state, its epochs, and its curve but the seconds, by run name.
fn outcome(out: &Path) -> Vec<(String, String, String)> {
    let mut runs: Vec<PathBuf> = fs::read_dir(out.join("h/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    runs.iter()
        .map(|r| {
            let status: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(r.join("status.json")).unwrap()).unwrap();
            let curve = fs::read_to_string(r.join("curve.csv"))
                .unwrap_or_default()
                .lines()
                .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
                .collect();
            let name = r.file_name().unwrap().to_string_lossy().to_string();
            (
                name,
                format!("{} {}", status["state"], status["epochs"]),
                curve,
            )
        })
        .collect()
}

#[test]
fn halving_decides_the_same_whatever_the_workers_the_stacks_and_the_tasks() {
    let dir = tmp("halving");
    let cfg = halving(&dir);
    let cfg = cfg.to_str().unwrap();
    let one = ["--set", "execution.batch_trials=1"];
    let args = |extra: &[&'static str]| {
        let mut a = vec!["sweep", cfg];
        a.extend_from_slice(extra);
        a
    };
    // The full budget, every trial: the reference curves.
    let full = dir.join("full");
    succeed(highway(
        &args(&["--set", "search.halving=null", one[0], one[1]]),
        &full,
        "1",
    ));
    // One process, one run at a time.
    let single = dir.join("single");
    succeed(highway(&args(&one), &single, "1"));
    let want = outcome(&single);
    let states: Vec<&str> = want.iter().map(|(_, s, _)| s.as_str()).collect();
    // 9 trials per cell: 3 past the first rung, 1 past the second, to the end.
    for kind in ["highway", "plain"] {
        let of = |s: &str| {
            want.iter()
                .filter(|(n, st, _)| n.starts_with(kind) && st == s)
                .count()
        };
        assert_eq!(
            (of("\"stopped\" 2"), of("\"stopped\" 6"), of("\"done\" 8")),
            (6, 2, 1),
            "{kind}: {states:?}"
        );
    }
    // The report says where each trial stopped and what the search spent.
    let summary = fs::read_to_string(single.join("h/summary.md")).unwrap();
    for kind in ["plain", "highway"] {
        let row = format!("| {kind} | 4 | 9 | 6 | 2 | 0 | 1 | 0 | 32 (72, 44%) |");
        assert!(summary.contains(&row), "{row} in {summary}");
    }
    assert!(
        summary.contains("Not defined under successive halving"),
        "{summary}"
    );
    let top10 = fs::read_to_string(single.join("h/figures/search-top10.svg")).unwrap();
    assert!(
        top10.contains("cells with fewer"),
        "the top-10 panel says what it leaves out"
    );
    // Every curve is the beginning of the same trial's full-budget curve.
    for ((name, _, curve), (_, _, whole)) in want.iter().zip(outcome(&full)) {
        assert!(whole.starts_with(curve.as_str()), "{name}");
    }
    // `highway analyze halving`, which makes that check on the committed searches, agrees,
    // and finds the same best trial in both folders.
    check_against_full(&single.join("h"), &full.join("h"));
    // Two processes on one folder.
    let two = dir.join("two");
    let (a, b) = (
        highway(&args(&one), &two, "1"),
        highway(&args(&one), &two, "1"),
    );
    succeed(a);
    succeed(b);
    assert_eq!(outcome(&two), want);
    // Stacks of trials on two threads.
    let stacks = dir.join("stacks");
    succeed(highway(&args(&[]), &stacks, "2"));
    assert_eq!(outcome(&stacks), want);
    // One task per run, the array run again until every run is final (a task whose trial waits
    // at a rung ends and says so).
    let tasks = dir.join("tasks");
    for _round in 0..3 {
        for i in 0..18 {
            let index = i.to_string();
            succeed(highway(&["run", cfg, "--index", &index], &tasks, "1"));
        }
    }
    assert_eq!(outcome(&tasks), want);
}

#[test]
fn a_halving_sweep_killed_at_a_rung_resumes_to_the_same_decisions() {
    let dir = tmp("halving-kill");
    let cfg = halving(&dir);
    let cfg = cfg.to_str().unwrap();
    let one = ["sweep", cfg, "--set", "execution.batch_trials=1"];
    let whole = dir.join("whole");
    succeed(highway(&one, &whole, "1"));
    let out = dir.join("killed");
    let mut child = highway(&one, &out, "1");
    // Killed once some trial waits at the first rung.
    let t = Instant::now();
    loop {
        let waiting = fs::read_dir(out.join("h/runs")).ok().is_some_and(|d| {
            d.flatten().any(|e| {
                fs::read_to_string(e.path().join("status.json"))
                    .is_ok_and(|s| s.contains("\"waiting\""))
            })
        });
        if waiting {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "no trial ever waited"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    succeed(highway(&one, &out, "1"));
    assert_eq!(outcome(&out), outcome(&whole));
}

/// The highway cell's nine trials each trained alone up to the first rung (epoch 2), one task
/// each, in plan order: the first eight wait there with a checkpoint at epoch 3 (the last one
/// decides the rung and goes on); their run folders.
fn at_first_rung(cfg: &str, out: &Path) -> Vec<PathBuf> {
    first_trials(cfg, out, 9)
}

/// The first `n` trials of the highway cell, each trained alone (one task each) up to the
/// first rung; their run folders, in plan order.
fn first_trials(cfg: &str, out: &Path, n: usize) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for i in 0..n {
        let index = i.to_string();
        let args = [
            "run",
            cfg,
            "--index",
            &index,
            "--set",
            "model.kinds=[\"highway\"]",
        ];
        succeed(highway(&args, out, "1"));
    }
    for e in fs::read_dir(out.join("h/runs")).unwrap() {
        dirs.push(e.unwrap().path());
    }
    dirs.sort();
    for d in &dirs[..n.min(8)] {
        let status = fs::read_to_string(d.join("status.json")).unwrap();
        assert!(status.contains("\"waiting\""), "{}: {status}", d.display());
    }
    dirs
}

/// A trial whose checkpoint stands past a rung that is not decided yet waits there, whatever
/// its status file says: an unreadable `status.json` does not let it train on to the budget.
#[test]
fn a_trial_past_an_undecided_rung_waits_whatever_its_status_says() {
    let dir = tmp("halving-status");
    let cfg = halving(&dir);
    let cfg = cfg.to_str().unwrap();
    let out = dir.join("out");
    let run = "run";
    let highway_only = ["--set", "model.kinds=[\"highway\"]"];
    let mut args = vec![run, cfg, "--index", "0"];
    args.extend_from_slice(&highway_only);
    succeed(highway(&args, &out, "1"));
    let runs: Vec<PathBuf> = fs::read_dir(out.join("h/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let [trial] = &runs[..] else {
        panic!("{runs:?}")
    };
    fs::write(trial.join("status.json"), "{ cut sh").unwrap();
    let o = highway(&args, &out, "1").wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let status = fs::read_to_string(trial.join("status.json")).unwrap();
    assert!(status.contains("\"waiting\""), "{status}");
    assert_eq!(curve(trial).len(), 2, "trained past the rung: {}", text(&o));
}

/// Two damaged checkpoints at a rung end the resumed search: the trials ranked out are
/// recorded stopped from their curves (the damaged checkpoint is not read), a promoted one
/// fails alone, and a pass in which every trial failed is not progress (no endless loop).
#[test]
fn damaged_checkpoints_at_a_rung_fail_their_trials_and_end_the_search() {
    let dir = tmp("halving-damaged");
    let cfg = halving(&dir);
    let cfg = cfg.to_str().unwrap();
    let out = dir.join("out");
    let trials = at_first_rung(cfg, &out);
    for d in &trials[..2] {
        fs::write(d.join("checkpoint/state.safetensors"), b"damaged").unwrap();
    }
    let args = ["sweep", cfg, "--set", "model.kinds=[\"highway\"]"];
    let mut child = highway(&args, &out, "2");
    let t = Instant::now();
    let o = loop {
        if child.try_wait().unwrap().is_some() {
            break child.wait_with_output().unwrap();
        }
        if t.elapsed() > Duration::from_secs(300) {
            child.kill().unwrap();
            panic!("the resumed search never ended");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = text(&o);
    let states: Vec<String> = trials
        .iter()
        .map(|d| {
            let s: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(d.join("status.json")).unwrap()).unwrap();
            format!("{} {}", s["state"], s["epochs"])
        })
        .collect();
    let failed = states
        .iter()
        .filter(|s| s.starts_with("\"failed\""))
        .count();
    let stopped = states.iter().filter(|s| *s == "\"stopped\" 2").count();
    // Six ranked out at the first rung, recorded from their curves, damaged or not.
    assert_eq!(stopped, 6, "{states:?}\n{log}");
    assert!(failed <= 2, "{states:?}");
    assert_eq!(o.status.success(), failed == 0, "{log}");
    if failed > 0 {
        // Each failed trial counted once, and tried once in this command.
        assert!(log.contains(&format!("{failed} of 9 runs failed")), "{log}");
        for d in &trials[..2] {
            let name = d.file_name().unwrap().to_string_lossy();
            assert!(
                log.matches(&format!("{name}: failed:")).count() <= 1,
                "{log}"
            );
        }
    }
    for d in &trials {
        let status = fs::read_to_string(d.join("status.json")).unwrap();
        if status.contains("\"stopped\"") {
            assert_eq!(curve(d).len(), 2, "{}", d.display());
            assert!(!d.join("checkpoint").exists(), "{}", d.display());
        }
    }
}

/// A damaged checkpoint of a trial that the rung ranks out stops only that trial: it is
/// recorded `stopped` from its curve (status and event file through the rung), and the search
/// goes on to its end with exit 0.
#[test]
fn a_damaged_checkpoint_of_a_trial_ranked_out_changes_nothing() {
    let dir = tmp("halving-ranked-out");
    let cfg = halving(&dir);
    let cfg = cfg.to_str().unwrap();
    let out = dir.join("out");
    let mut waiting = at_first_rung(cfg, &out);
    waiting.truncate(8);
    // The two worst at the rung of the eight that wait: ranked out whatever the ninth did.
    let at_rung = |d: &PathBuf| curve(d)[1][1];
    waiting.sort_by(|a, b| at_rung(b).total_cmp(&at_rung(a)));
    for d in &waiting[..2] {
        fs::write(d.join("checkpoint/state.safetensors"), b"damaged").unwrap();
    }
    let args = ["sweep", cfg, "--set", "model.kinds=[\"highway\"]"];
    let o = highway(&args, &out, "2").wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    for d in &waiting[..2] {
        let status = fs::read_to_string(d.join("status.json")).unwrap();
        assert!(status.contains("\"stopped\""), "{status}");
        assert_eq!(curve(d).len(), 2);
        let last = event_values(d).iter().map(|(step, _, _)| *step).max();
        assert_eq!(
            last,
            Some(2),
            "{}: its event file ends at the rung",
            d.display()
        );
        assert!(!d.join("checkpoint").exists());
    }
    let states: Vec<String> = fs::read_dir(out.join("h/runs"))
        .unwrap()
        .map(|e| {
            let d = e.unwrap().path();
            let s: serde_json::Value =
                serde_json::from_str(&fs::read_to_string(d.join("status.json")).unwrap()).unwrap();
            format!("{} {}", s["state"], s["epochs"])
        })
        .collect();
    let count = |want: &str| states.iter().filter(|s| *s == want).count();
    let counts = (
        count("\"stopped\" 2"),
        count("\"stopped\" 6"),
        count("\"done\" 8"),
    );
    assert_eq!(counts, (6, 2, 1), "{states:?}");
}

/// A rung's loss edited in `curve.csv` before the rung is decided is refused by name: the
/// run's checkpoint vouches for the losses before it, so the edited trial decides nothing and
/// fails when it would train, naming the file and the epoch, and no trial goes past the rung
/// on the edited number.
#[test]
fn an_edited_rung_loss_is_refused_by_name() {
    let dir = tmp("halving-edited");
    let cfg = halving(&dir);
    let cfg = cfg.to_str().unwrap();
    let out = dir.join("out");
    // Eight of nine trials at the first rung: it is not decided yet.
    let trials = first_trials(cfg, &out, 8);
    let edited = &trials[0];
    let path = edited.join("curve.csv");
    let before = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = before.lines().map(String::from).collect();
    let mut cells: Vec<&str> = lines[2].split(',').collect();
    cells[1] = "1e-6";
    lines[2] = cells.join(",");
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    let args = ["sweep", cfg, "--set", "model.kinds=[\"highway\"]"];
    let o = highway(&args, &out, "1").wait_with_output().unwrap();
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    let want =
        "curve.csv: its training loss of epoch 2 is 1e-6, but the run's checkpoint vouches for";
    assert!(log.contains(want), "{log}");
    let status = fs::read_to_string(edited.join("status.json")).unwrap();
    assert!(
        status.contains("\"failed\"") && status.contains(want),
        "{status}"
    );
    for d in fs::read_dir(out.join("h/runs")).unwrap() {
        let d = d.unwrap().path();
        assert!(
            curve(&d).len() <= 2,
            "{} went past the undecided rung",
            d.display()
        );
    }
}

/// Kill -9 at 30 random moments of a halving search trained in stacks of a random size, each
/// resumed with another random `batch_trials` (1 to 9, two threads): every trial ends as the
/// one-process search ends it (state, epochs, curve). The moments are found by watching the
/// curves grow, never by sleeping.
#[test]
fn random_kills_during_a_halving_search_resume_to_the_same_outcome() {
    let dir = tmp("halving-random-kills");
    let cfg = halving(&dir);
    let cfg = cfg.to_str().unwrap();
    let single = dir.join("single");
    succeed(highway(
        &["sweep", cfg, "--set", "execution.batch_trials=1"],
        &single,
        "1",
    ));
    let want = outcome(&single);
    let rows: usize = want.iter().map(|(_, _, c)| c.lines().count() - 1).sum();
    let mut rng = highway_rng::SplitMix64::new(33);
    for case in 0..30 {
        let out = dir.join(format!("case-{case}"));
        let (k1, k2) = (1 + rng.below(9), 1 + rng.below(9));
        let at = 1 + rng.below(rows - 1);
        let stacks = |k: usize| format!("execution.batch_trials={k}");
        let mut child = bin()
            .args(["sweep", cfg, "--set", &stacks(k1), "--out"])
            .arg(&out)
            .env("RAYON_NUM_THREADS", "2")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Killed once `at` epochs are recorded over all trials (or when it ends first).
        while curve_rows(&out) < at && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = child.kill();
        child.wait().unwrap();
        let resumed = highway(&["sweep", cfg, "--set", &stacks(k2)], &out, "2");
        succeed(resumed);
        let case = format!("case {case}: stacks of {k1}, killed after {at} rows, then {k2}");
        assert_eq!(outcome(&out), want, "{case}");
    }
}

/// The epochs recorded so far over every run of the sweep `h` in `out`.
fn curve_rows(out: &Path) -> usize {
    let Ok(runs) = fs::read_dir(out.join("h/runs")) else {
        return 0;
    };
    runs.flatten()
        .map(|r| {
            fs::read_to_string(r.path().join("curve.csv"))
                .map_or(0, |t| t.lines().count().saturating_sub(1))
        })
        .sum()
}

/// More trials for a halving folder are refused, naming the field, before anything is
/// written: its rungs rank a cell's trials, so decisions already recorded would not be a fresh
/// search's.
#[test]
fn raising_the_trials_of_a_halving_folder_is_refused_before_anything_is_written() {
    let dir = tmp("halving-more-trials");
    let cfg = halving(&dir);
    let cfg = cfg.to_str().unwrap();
    let out = dir.join("out");
    succeed(highway(&["run", cfg, "--index", "0"], &out, "1"));
    let sweep = fs::read(out.join("h/sweep.json")).unwrap();
    let o = highway(&["sweep", cfg, "--set", "search.trials=10"], &out, "1")
        .wait_with_output()
        .unwrap();
    let log = text(&o);
    assert!(!o.status.success(), "{log}");
    assert!(
        log.contains("search.trials is 9 there and 10 here: successive halving"),
        "{log}"
    );
    assert_eq!(fs::read(out.join("h/sweep.json")).unwrap(), sweep);
    assert_eq!(fs::read_dir(out.join("h/runs")).unwrap().count(), 1);
}

/// The highway cell of the search trained by one process, one run at a time: the outcome
/// every tampered folder must reach.
fn highway_reference(cfg: &str, dir: &Path) -> Vec<(String, String, String)> {
    let out = dir.join("reference");
    let args = ["sweep", cfg, "--set", "model.kinds=[\"highway\"]"];
    let mut args = args.to_vec();
    args.extend(["--set", "execution.batch_trials=1"]);
    succeed(highway(&args, &out, "1"));
    outcome(&out)
}

/// Hand edits that the records do not vouch for change no decision: a final state written
/// into the status of a trial that holds its checkpoint (it trains on), a rung loss edited in
/// a curve whose checkpoint was then deleted (it trains again from epoch 1), and another
/// trial's checkpoint copied onto one (its curve decides, and a trial ranked out is stopped
/// from it). Each folder ends as the one-process search ends.
#[test]
fn records_that_nothing_vouches_for_decide_nothing() {
    let dir = tmp("halving-unvouched");
    let cfg = halving(&dir);
    let cfg = cfg.to_str().unwrap();
    let want = highway_reference(cfg, &dir);
    let args = [
        "sweep",
        cfg,
        "--set",
        "model.kinds=[\"highway\"]",
        "--set",
        "execution.batch_trials=4",
    ];
    let tampered = |name: &str, tamper: &dyn Fn(&[PathBuf])| {
        let out = dir.join(name);
        let trials = first_trials(cfg, &out, 8);
        tamper(&trials);
        succeed(highway(&args, &out, "1"));
        assert_eq!(outcome(&out), want, "{name}");
    };
    let edit_status = |d: &Path, state: &str| {
        let path = d.join("status.json");
        let mut status: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        status["state"] = state.into();
        status["epochs"] = 8.into();
        fs::write(&path, status.to_string()).unwrap();
    };
    tampered("done", &|t| edit_status(&t[0], "done"));
    tampered("diverged", &|t| edit_status(&t[1], "diverged"));
    tampered("edited-then-deleted", &|t| {
        let path = t[0].join("curve.csv");
        let text = fs::read_to_string(&path).unwrap();
        let edited: Vec<String> = text
            .lines()
            .map(|l| match l.strip_prefix("2,") {
                Some(rest) => format!("2,1e-6,{}", rest.split_once(',').unwrap().1),
                None => l.to_string(),
            })
            .collect();
        fs::write(&path, edited.join("\n") + "\n").unwrap();
        fs::remove_file(t[0].join("checkpoint/state.safetensors")).unwrap();
    });
    tampered("foreign", &|t| {
        let theirs = t[1].join("checkpoint/state.safetensors");
        fs::copy(theirs, t[0].join("checkpoint/state.safetensors")).unwrap();
    });
}

/// Runs `highway analyze halving` on a halving folder and its full-budget twin: every curve
/// the beginning of its full one, the same best trial in every cell; then with one recorded
/// loss changed, which it finds, names and fails on.
fn check_against_full(halving: &Path, full: &Path) {
    let check = || {
        let args = ["analyze", "halving", halving.to_str().unwrap(), "--against"];
        bin().args(args).arg(full).output().unwrap()
    };
    let o = check();
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("18 runs in both folders; 18 halving curves are the first epochs"),
        "{out}"
    );
    assert!(out.contains(", 0 differ"), "{out}");
    for kind in ["plain", "highway"] {
        let row = out
            .lines()
            .find(|l| l.starts_with(&format!("| {kind} | 4 |")))
            .unwrap_or_else(|| panic!("no {kind} row: {out}"));
        assert!(row.contains("| 9 |") && row.contains("| yes |"), "{row}");
        // The full search's top 5: its best trained to the end in both, the others stopped
        // at a rung (2 or 6) or trained to the end.
        let stops = row.rsplit('|').nth(1).unwrap();
        assert_eq!(stops.matches(": ").count(), 5, "{row}");
        assert!(
            stops.trim().split(", ").next().unwrap().ends_with(": done"),
            "{row}"
        );
    }
    // One stopped trial's first loss changed by hand.
    let stopped = fs::read_dir(halving.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|r| {
            fs::read_to_string(r.join("status.json"))
                .unwrap()
                .contains("\"stopped\"")
        })
        .unwrap();
    let curve = stopped.join("curve.csv");
    let kept = fs::read_to_string(&curve).unwrap();
    let mut lines: Vec<String> = kept.lines().map(String::from).collect();
    let mut cells: Vec<&str> = lines[1].split(',').collect();
    cells[1] = "0.123";
    lines[1] = cells.join(",");
    fs::write(&curve, lines.join("\n") + "\n").unwrap();
    let o = check();
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    let id = stopped.file_name().unwrap().to_string_lossy().to_string();
    assert!(out.contains(&format!("  differs: {id}")), "{out}");
    assert!(out.contains("error: 1 halving curves differ"), "{out}");
    fs::write(&curve, kept).unwrap();
}
