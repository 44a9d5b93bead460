//! End-to-end: a stop signal always stops, and the process always exits with 128 + its number:
//! during start-up, while `scontrol` hangs, while another process holds the report lock, when
//! the checkpoint cannot be written, and when one Ctrl-C is delivered twice. Signals are sent at
//! observable points (a file written, a stand-in `scontrol` called), never after fixed sleeps.

mod common;

use common::*;

/// Sends `signal` (`-TERM`, ...) to process `pid`.
fn kill(signal: &str, pid: u32) {
    let ok = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// `run CFG --index 0 --backend ndarray --out OUT`: the first run of a config on NdArray,
/// whose slower steps leave a second signal time to arrive while a stop is in progress.
fn ndarray_run(cfg: &Path, out: &Path) -> [String; 8] {
    [
        "run",
        cfg.to_str().unwrap(),
        "--index",
        "0",
        "--backend",
        "ndarray",
        "--out",
        out.to_str().unwrap(),
    ]
    .map(String::from)
}

/// SIGUSR1 while the data loads (after `sweep.json` is written, before the first step): the
/// handlers are already in place, so the stop is clean, said, and the task requeued.
#[test]
fn a_warning_during_start_up_stops_cleanly_and_requeues() {
    let dir = tmp("start-up");
    let calls = dir.join("scontrol.calls");
    let path = fake_scontrol(&dir, &format!("echo \"$@\" >> '{}'", calls.display()));
    let cfg = config(&dir, "su", "[2]", "[0]", 2);
    let body = fs::read_to_string(&cfg)
        .unwrap()
        .replace("\"name\": \"synthetic\"", "\"name\": \"mnist\"");
    fs::write(&cfg, body).unwrap();
    // Sixty thousand images: loading them takes a good part of a second.
    let data = mnist_files(&dir.join("data"), 60_000, 28, 10, 28);
    let child = under_slurm(
        &[
            "run",
            cfg.to_str().unwrap(),
            "--index",
            "0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &path,
    );
    wait_for(&dir.join("results/su/sweep.json"));
    kill("-USR1", child.id());
    let o = exits(child);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(138), "{t}");
    assert!(
        t.contains("stopped by SIGUSR1 before training began") && t.contains("resume with"),
        "{t}"
    );
    assert!(t.contains("requeued SLURM job 4242_0"), "{t}");
    assert_eq!(fs::read_to_string(&calls).unwrap().trim(), "requeue 4242_0");
}

/// An `scontrol` that never answers: the scheduler's SIGTERM after its warning ends the wait,
/// and the process exits with the warning's code, saying what happened.
#[test]
fn a_hung_scontrol_is_given_up_on_the_next_signal() {
    let dir = tmp("hung-scontrol");
    let called = dir.join("scontrol.called");
    let path = fake_scontrol(
        &dir,
        &format!("echo called > '{}'\nexec sleep 600", called.display()),
    );
    let cfg = long_config(&dir, 64, 20, 8192, 4);
    let out = dir.join("out");
    let child = under_slurm(
        &[
            "run",
            cfg.to_str().unwrap(),
            "--index",
            "0",
            "--out",
            out.to_str().unwrap(),
        ],
        &path,
    );
    let runs = out.join("long/runs");
    wait_until(|| run_with(&runs, "checkpoint/state.safetensors").is_some());
    kill("-USR1", child.id());
    wait_for(&called);
    kill("-TERM", child.id());
    let o = exits(child);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(138), "{t}");
    assert!(
        t.contains("could not requeue SLURM job 4242_0")
            && t.contains("a later stop signal arrived"),
        "{t}"
    );
    let run = run_with(&runs, "status.json").unwrap();
    let status = fs::read_to_string(run.join("status.json")).unwrap();
    assert!(status.contains("\"interrupted\""), "{status}");
}

/// Training is over and the report lock is another process's: a SIGTERM ends the wait, and
/// the process exits with 143.
#[test]
fn a_stop_while_waiting_for_the_report_lock_exits_with_the_signal() {
    let dir = tmp("report-wait");
    let cfg = config(&dir, "rw", "[2]", "[0]", 1);
    let sweep = dir.join("results/rw");
    fs::create_dir_all(&sweep).unwrap();
    let held = fs::File::create(sweep.join(".report.lock")).unwrap();
    held.lock().unwrap();
    let child = bin()
        .args(["sweep", cfg.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both runs done: the sweep now waits for the report lock.
    let done =
        |r: &Path| fs::read_to_string(r.join("status.json")).is_ok_and(|s| s.contains("\"done\""));
    wait_until(|| {
        fs::read_dir(sweep.join("runs")).is_ok_and(|rd| {
            let runs: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            runs.len() == 2 && runs.iter().all(|r| done(r))
        })
    });
    kill("-TERM", child.id());
    let o = exits(child);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(143), "{t}");
    assert!(t.contains("stopped by SIGTERM after training ended"), "{t}");
    drop(held);
}

/// A stop whose checkpoint cannot be written (here: a file where its folder goes) fails that
/// run, and ends the sweep there with the signal's code: no other run is started.
#[test]
fn a_stop_whose_checkpoint_fails_still_ends_the_sweep() {
    let dir = tmp("unsaved-stop");
    let cfg = config(&dir, "us", "[40]", "[0, 1]", 200);
    let runs = dir.join("results/us/runs");
    let child = spawn_one_thread(&[
        "sweep",
        cfg.to_str().unwrap(),
        "--set",
        "training.checkpoint_every=1000",
    ]);
    wait_until(|| run_with(&runs, "curve.csv").is_some());
    let run = run_with(&runs, "curve.csv").unwrap();
    fs::write(run.join("checkpoint"), b"not a folder").unwrap();
    kill("-TERM", child.id());
    let o = exits(child);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(143), "{t}");
    assert!(
        t.contains("stopped by SIGTERM as ") && t.contains("nothing of its last steps was saved"),
        "{t}"
    );
    let started: Vec<PathBuf> = fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|r| r.join("status.json").exists())
        .collect();
    assert_eq!(started, vec![run.clone()], "{t}");
    let status = fs::read_to_string(run.join("status.json")).unwrap();
    assert!(status.contains("\"failed\""), "{status}");
}

/// Whether signal `n` is pending for process `pid` (sent, not yet taken by a handler).
fn pending(pid: u32, n: u32) -> bool {
    let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .filter(|l| l.starts_with("SigPnd:") || l.starts_with("ShdPnd:"))
        .filter_map(|l| u64::from_str_radix(l.split_whitespace().nth(1)?, 16).ok())
        .any(|mask| mask & (1 << (n - 1)) != 0)
}

/// One Ctrl-C that reaches the process twice (a wrapper such as `timeout` signals the child
/// and its group): the second arrives once the first has been taken, while the run stops. It
/// is one stop: checkpoint written, run interrupted, exit 130. (NdArray's slower steps leave
/// the second signal time to arrive before the run has stopped.)
#[test]
fn one_ctrl_c_delivered_twice_is_one_stop() {
    let dir = tmp("double-int");
    let cfg = long_config(&dir, 64, 20, 8192, 4);
    let out = dir.join("out");
    let child = spawn_one_thread(&ndarray_run(&cfg, &out));
    let runs = out.join("long/runs");
    wait_until(|| run_with(&runs, "checkpoint/state.safetensors").is_some());
    let pid = child.id();
    kill("-INT", pid);
    wait_until(|| !pending(pid, 2));
    let _ = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    let o = exits(child);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(130), "{t}");
    assert!(
        t.contains("stopped by SIGINT") && !t.contains("quitting now"),
        "{t}"
    );
    let run = run_with(&runs, "status.json").unwrap();
    let status = fs::read_to_string(run.join("status.json")).unwrap();
    assert!(
        status.contains("\"interrupted\"") && status.contains("checkpoint written"),
        "{status}"
    );
}

/// A second Ctrl-C, later than the window that merges one doubled delivery, quits at once
/// while the first stop is still finishing its step: the run in training is recorded as
/// interrupted (nothing left `running`), the process exits 130, and the same command run again
/// trains the run to the end. Steps of seconds (NdArray, 2,048 examples a batch, width 1024)
/// keep the first stop in progress while the second arrives.
#[test]
fn a_second_ctrl_c_quits_at_once_and_the_run_continues_later() {
    let dir = tmp("second-int");
    let cfg = dir.join("slow.json");
    fs::write(
        &cfg,
        r#"{"name": "slow",
 "dataset": {"name": "synthetic", "synthetic": {"train": 4096, "test": 64, "dim": 16, "classes": 4, "clusters": 2, "noise": 0.5, "seed": 1}},
 "model": {"kinds": ["highway"], "depths": [8], "width": 1024},
 "training": {"epochs": 1, "batch_size": 2048, "lr": 0.02, "seeds": [0]}}"#,
    )
    .unwrap();
    let out = dir.join("out");
    let args = ndarray_run(&cfg, &out);
    let child = spawn_one_thread(&args);
    let runs = out.join("slow/runs");
    let status = || {
        run_with(&runs, "status.json")
            .and_then(|r| fs::read_to_string(r.join("status.json")).ok())
            .unwrap_or_default()
    };
    wait_until(|| status().contains("\"running\""));
    let pid = child.id();
    kill("-INT", pid);
    wait_until(|| !pending(pid, 2));
    // The window under test, not a wait for an event: a Ctrl-C more than 0.5 s after the
    // first is a second one.
    std::thread::sleep(Duration::from_millis(700));
    kill("-INT", pid);
    let o = exits(child);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(130), "{t}");
    assert!(t.contains("second Ctrl-C: quitting now"), "{t}");
    let s = status();
    assert!(
        s.contains("\"interrupted\"") && s.contains("quit by a second Ctrl-C"),
        "{s}"
    );
    let o = bin()
        .args(&args)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(status().contains("\"done\""), "{}", status());
}
