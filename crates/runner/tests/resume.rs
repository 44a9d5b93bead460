//! End-to-end: stopped, killed and parallel processes lose nothing and redo nothing.

mod common;

use common::*;

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

/// A run being trained by a live process is skipped by every other process (here a second
/// `run --index 0` while the first trains it): trained once, one curve row per epoch.
#[test]
fn a_run_in_training_is_skipped_by_a_second_process() {
    let dir = tmp("locked");
    let cfg = long_config(&dir, 64, 20, 8192, 3);
    let out = dir.join("out");
    let first = start(&cfg, &out);
    // The first process is inside the run: its first checkpoint is written.
    let runs = out.join("long/runs");
    wait_for(&runs);
    let run = loop {
        if let Some(e) = fs::read_dir(&runs).unwrap().next() {
            break e.unwrap().path();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    wait_for(&run.join("checkpoint/state.safetensors"));
    let second = bin()
        .args(["run", cfg.to_str().unwrap(), "--index", "0", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let t = text(&second);
    assert!(second.status.success(), "{t}");
    assert!(
        t.contains("being trained by process") && t.contains("skipped"),
        "{t}"
    );
    let first = first.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(curve(&run).len(), 3);
    let status = fs::read_to_string(run.join("status.json")).unwrap();
    assert!(status.contains("\"done\""), "{status}");
}

/// Sixteen tasks start at once on one sweep folder, each PID 1 in its own PID namespace (as the
/// pods of a Kubernetes indexed Job on a shared volume are): no two collide on a temporary
/// file name. It needs `unshare --pid`, which only root (or a user with user namespaces) may
/// run, so it is ignored by default; `.ci/run` runs it (`-- --ignored`), as root.
#[test]
#[ignore = "needs `unshare --pid --fork` (root); .ci/run runs it"]
fn sixteen_tasks_that_are_all_pid_1_share_one_folder() {
    let unshare = |args: &[&str]| {
        let mut c = Command::new("unshare");
        c.args(["--pid", "--fork"]).args(args);
        c
    };
    let can = unshare(&["true"]).output();
    assert!(
        can.as_ref().is_ok_and(|o| o.status.success()),
        "`unshare --pid --fork true` failed here: {can:?}"
    );
    let dir = tmp("pid1");
    let cfg = config(&dir, "pid1", "[1, 2, 3, 4, 5, 6, 7, 8]", "[0]", 1);
    let children: Vec<_> = (0..16)
        .map(|i| {
            let index = i.to_string();
            unshare(&[
                env!("CARGO_BIN_EXE_highway"),
                "run",
                cfg.to_str().unwrap(),
                "--index",
                &index,
            ])
            .env("RAYON_NUM_THREADS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    wait_all_succeed(children);
    let sweep = dir.join("results/pid1");
    let rows = summary_rows(&sweep);
    assert_eq!(rows.len(), 16);
    assert!(rows.iter().all(|r| r[col("state")] == "done"), "{rows:?}");
    for entry in fs::read_dir(&sweep).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        assert!(!name.contains(".tmp-"), "left behind: {name}");
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
    wait_all_succeed(children);
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

/// `highway run CONFIG --index 0 --out OUT` on one thread, not waited for.
fn start(cfg: &Path, out: &Path) -> std::process::Child {
    bin()
        .args(["run", cfg.to_str().unwrap(), "--index", "0", "--out"])
        .arg(out)
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `highway run CONFIG --index 0 --out OUT` on one thread, to its end, which must succeed.
fn run_to_end(cfg: &Path, out: &Path) -> Output {
    let o = bin()
        .args(["run", cfg.to_str().unwrap(), "--index", "0", "--out"])
        .arg(out)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    o
}

/// The single run folder under `out`.
fn run_dir(out: &Path) -> PathBuf {
    let runs = out.join("long/runs");
    fs::read_dir(runs).unwrap().next().unwrap().unwrap().path()
}

/// Every column of `curve.csv` but the seconds, `layers.csv`, and the event file's training
/// losses by step (which must hold each epoch once, and one HParams session start and end).
fn results(run: &Path) -> (String, String, Vec<(i64, f32)>) {
    let curve = fs::read_to_string(run.join("curve.csv")).unwrap();
    let curve = curve
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    let events = event_values(run);
    for tag in ["_hparams_/session_start_info", "_hparams_/session_end_info"] {
        let n = events.iter().filter(|(_, t, _)| t == tag).count();
        assert_eq!(n, 1, "{}: {tag} {n} times", run.display());
    }
    let losses = events
        .into_iter()
        .filter(|(_, tag, _)| tag == "train/loss")
        .map(|(step, _, v)| (step, v.unwrap()))
        .collect();
    let layers = fs::read_to_string(run.join("layers.csv")).unwrap();
    (curve, layers, losses)
}

#[test]
fn sigterm_checkpoints_and_the_resumed_run_is_the_uninterrupted_one() {
    let dir = tmp("sigterm");
    let cfg = long_config(&dir, 64, 20, 8192, 4);
    run_to_end(&cfg, &dir.join("whole"));
    let out = dir.join("stopped");
    let child = start(&cfg, &out);
    // Stop it in its second epoch: after the first epoch's checkpoint exists.
    wait_for(
        &out.join("long/runs")
            .join(run_dir(&dir.join("whole")).file_name().unwrap())
            .join("checkpoint/state.safetensors"),
    );
    // Twice: a second signal while the first is being handled changes nothing.
    for _ in 0..2 {
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
    }
    let stopped = child.wait_with_output().unwrap();
    let log = text(&stopped);
    assert_eq!(stopped.status.code(), Some(143), "{log}");
    assert!(
        log.contains("stopped by SIGTERM") && log.contains("resume with"),
        "{log}"
    );
    // Said once, where it stopped: not "stopped by SIGTERM: stopped by SIGTERM in epoch 2…".
    let end = log
        .lines()
        .find(|l| l.contains("SIGTERM"))
        .unwrap_or_default();
    assert!(
        end.starts_with("stopped by SIGTERM in epoch 2") && end.matches("SIGTERM").count() == 1,
        "{log}"
    );
    let run = run_dir(&out);
    let status = fs::read_to_string(run.join("status.json")).unwrap();
    assert!(
        status.contains("\"interrupted\"") && status.contains("resume with: highway run"),
        "{status}"
    );
    assert!(run.join("checkpoint/state.safetensors").is_file());
    // Resumed: the same curve and gates as the run that was never stopped, one row per epoch.
    let again = run_to_end(&cfg, &out);
    assert!(
        text(&again).contains("resumed at epoch"),
        "{}",
        text(&again)
    );
    assert_eq!(results(&run), results(&run_dir(&dir.join("whole"))));
    assert!(
        !run.join("checkpoint").exists(),
        "a finished run keeps no checkpoint"
    );
}

/// SIGKILL in the second epoch, then again in the epoch after the one it resumed in, and a
/// checkpoint that a kill left half written: the run resumed each time finishes with the
/// uninterrupted run's curve and layer statistics, row for row. A residual net (the SIGTERM
/// test above resumes a highway net), whose scales `α` are in the checkpoint too.
#[test]
fn sigkill_mid_epoch_and_mid_checkpoint_loses_nothing() {
    let dir = tmp("sigkill");
    let cfg = long_config_of(&dir, "residual", 64, 20, 8192, 4);
    sigkill_loses_nothing(&dir, &cfg, "velocity.");
}

/// The same with AdamW (β and weight decay not the defaults): its moments are in the
/// checkpoint, and its bias correction counts on from the step the run was killed after.
#[test]
fn sigkill_of_an_adamw_run_loses_nothing() {
    let dir = tmp("sigkill-adam");
    let cfg = long_config(&dir, 64, 20, 8192, 4);
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&cfg).unwrap()).unwrap();
    let t = &mut v["training"];
    t["optimizer"] = "adamw".into();
    t["lr"] = 1e-3.into();
    t["betas"] = serde_json::json!([0.8, 0.99]);
    t["weight_decay"] = 1e-2.into();
    fs::write(&cfg, v.to_string()).unwrap();
    sigkill_loses_nothing(&dir, &cfg, "adam_v.");
}

/// Kills the run of `cfg` and resumes it, as [`sigkill_mid_epoch_and_mid_checkpoint_loses_nothing`]
/// says; its checkpoint holds tensors named `state.…` (the optimiser's).
fn sigkill_loses_nothing(dir: &Path, cfg: &Path, state: &str) {
    let cfg = cfg.to_path_buf();
    run_to_end(&cfg, &dir.join("whole"));
    let out = dir.join("killed");
    let id = run_dir(&dir.join("whole"));
    let run = out.join("long/runs").join(id.file_name().unwrap());
    let ckpt = run.join("checkpoint");
    let rows = || curve(&run).len();
    // 1. In the second epoch: the first epoch's checkpoint exists.
    let mut child = start(&cfg, &out);
    wait_for(&ckpt.join("state.safetensors"));
    child.kill().unwrap();
    child.wait().unwrap();
    let saved = fs::read(ckpt.join("state.safetensors")).unwrap();
    assert!(
        saved.windows(state.len()).any(|w| w == state.as_bytes()),
        "the checkpoint holds {state}…"
    );
    let first = rows();
    assert!(first < 4, "killed before the end: {first} epochs");
    // 2. Resumed, and killed again once it has written a later epoch's row.
    let mut child = start(&cfg, &out);
    let t = Instant::now();
    while rows() <= first && t.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // 3. A kill while a checkpoint is written leaves the previous one in place and the new
    // one half written under a temporary name (`store::files::write_atomic`): that state, made
    // here from the real checkpoint's first half.
    let whole = fs::read(ckpt.join("state.safetensors")).unwrap();
    let partial = ckpt.join(".state.safetensors.tmp-host-1-0-0");
    fs::write(&partial, &whole[..whole.len() / 2]).unwrap();
    // 4. To the end: the half-written file is cleaned up, the previous checkpoint used.
    let last = run_to_end(&cfg, &out);
    assert!(!partial.exists());
    assert!(text(&last).contains("resumed at epoch"), "{}", text(&last));
    assert!(!ckpt.exists());
    assert_eq!(results(&run), results(&id));
}

/// Under SLURM, the warning signal (SIGUSR1) checkpoints, stops and requeues the array task
/// with `scontrol requeue <array job>_<task>`; `--no-requeue` and SIGTERM do not requeue.
#[test]
fn slurm_warning_signal_requeues_the_task() {
    let dir = tmp("requeue");
    let cfg = long_config(&dir, 64, 20, 8192, 4);
    // A stand-in for scontrol that records how it was called.
    let calls = dir.join("scontrol.calls");
    let path = fake_scontrol(&dir, &format!("echo \"$@\" >> '{}'", calls.display()));
    for (signal, flags, code, want) in [
        ("-USR1", vec![], 138, Some("requeue 4242_0")),
        ("-USR1", vec!["--no-requeue"], 138, None),
        ("-TERM", vec![], 143, None),
    ] {
        let _ = fs::remove_file(&calls);
        let out = dir.join(format!("out{signal}{}", flags.len()));
        let mut args = vec!["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(&flags);
        let child = under_slurm(&args, &path);
        // The stop handlers are in place once the run has written its first checkpoint.
        wait_for(&out.join("long/sweep.json"));
        let runs = out.join("long/runs");
        let t = Instant::now();
        while !fs::read_dir(&runs)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.path().join("checkpoint/state.safetensors").is_file())
        {
            assert!(t.elapsed() < Duration::from_secs(60), "no checkpoint");
            std::thread::sleep(Duration::from_millis(20));
        }
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(code),
            "{signal} {flags:?}: {}",
            text(&o)
        );
        let recorded = fs::read_to_string(&calls).ok();
        assert_eq!(
            recorded.as_deref().map(str::trim),
            want,
            "{signal} {flags:?}"
        );
        assert!(run_dir(&out).join("checkpoint/state.safetensors").is_file());
    }
}
