//! End-to-end on a real one-node SLURM cluster (`scripts/slurm-local.sh`): a job array of
//! `scripts/slurm-array.sh`, one task warned with SIGUSR1 mid-run, requeued by `highway`, and
//! continued from its checkpoint. Runs when `HIGHWAY_TEST_SLURM=1` (`.ci/run` installs SLURM
//! and sets it); otherwise it says on stderr that it was skipped.

mod common;

use std::io::Write;

use common::*;

/// One cluster at a time: two would share the node's ports and `slurmd`.
static ONE_CLUSTER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Stops the cluster's daemons when the test ends, pass or fail.
struct Cluster {
    dir: PathBuf,
    conf: String,
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        let o = Command::new(script("slurm-local.sh"))
            .arg("start")
            .arg(dir)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        let conf = out
            .lines()
            .find_map(|l| l.strip_prefix("SLURM_CONF="))
            .unwrap_or_else(|| panic!("the cluster did not start: {}", text(&o)))
            .to_string();
        Cluster {
            dir: dir.to_path_buf(),
            conf,
        }
    }

    /// A SLURM client command against this cluster; its stdout.
    fn client(&self, args: &[&str]) -> String {
        let o = Command::new(args[0])
            .args(&args[1..])
            .env("SLURM_CONF", &self.conf)
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).to_string()
    }

    /// The array task's state (`RUNNING`, `PENDING`, …), or `None` once it has left the queue.
    fn state(&self, task: &str) -> Option<String> {
        let out = self.client(&["squeue", "-h", "-j", task, "-o", "%T"]);
        out.lines().next().map(|s| s.trim().to_string())
    }

    fn wait(&self, what: &str, done: &dyn Fn() -> bool) {
        let t = Instant::now();
        while !done() {
            assert!(
                t.elapsed() < Duration::from_secs(300),
                "timed out waiting for {what}; logs in {}",
                self.dir.display()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script("slurm-local.sh"))
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts")
        .join(name)
}

#[test]
fn a_warned_array_task_requeues_and_continues_from_its_checkpoint() {
    if std::env::var("HIGHWAY_TEST_SLURM").as_deref() != Ok("1") {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the SLURM end-to-end test: HIGHWAY_TEST_SLURM is not 1 (.ci/run installs \
             SLURM and sets it)"
        );
        return;
    }
    let _one = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmp("slurm");
    let cluster = Cluster::start(&dir.join("cluster"));
    let work = dir.join("work");
    fs::create_dir_all(work.join("logs")).unwrap();
    let cfg = work.join("long.json");
    fs::write(
        &cfg,
        r#"{"name": "long", "dataset": {"name": "synthetic", "synthetic": {"train": 8192, "test": 256, "dim": 16, "classes": 4, "clusters": 2, "noise": 0.5, "seed": 1}},
 "model": {"kinds": ["highway"], "depths": [20], "width": 64},
 "training": {"epochs": 10, "batch_size": 16, "lr": 0.02, "seeds": [0, 1]}}"#,
    )
    .unwrap();
    let results = work.join("results");
    let submit = Command::new("sbatch")
        .current_dir(&work)
        .args(["--parsable", "--array=0-1", "--cpus-per-task=1"])
        .arg(script("slurm-array.sh"))
        .arg(&cfg)
        .arg("--out")
        .arg(&results)
        .env("SLURM_CONF", &cluster.conf)
        .env("HIGHWAY_BIN", env!("CARGO_BIN_EXE_highway"))
        .output()
        .unwrap();
    assert!(submit.status.success(), "{}", text(&submit));
    let job = String::from_utf8_lossy(&submit.stdout).trim().to_string();
    let task = format!("{job}_0");
    // Warn task 0 once its run has written its first checkpoint.
    let plan = bin()
        .args(["plan", cfg.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let id = plan["runs"][0]["id"].as_str().unwrap().to_string();
    let run = results.join("long/runs").join(&id);
    cluster.wait("the first checkpoint", &|| {
        run.join("checkpoint/state.safetensors").exists()
    });
    cluster.client(&["scancel", "--signal=USR1", "--batch", &task]);
    // Requeued: pending again (a requeued job waits before it may start; start it now).
    cluster.wait("the requeue", &|| {
        cluster.state(&task).as_deref() == Some("PENDING")
    });
    cluster.client(&[
        "scontrol",
        "update",
        &format!("JobId={task}"),
        "StartTime=now",
    ]);
    cluster.wait("the array to finish", &|| {
        cluster.state(&task).is_none() && cluster.state(&format!("{job}_1")).is_none()
    });
    let log = fs::read_to_string(work.join(format!("logs/highway-{job}_0.log"))).unwrap();
    assert!(
        log.contains("stopped by SIGUSR1")
            && log.contains(&format!("requeued SLURM job {task}"))
            && log.contains("resumed at epoch"),
        "{log}"
    );
    // Every run done exactly once, and the warned run's curve is the uninterrupted one's.
    let report = bin()
        .arg("report")
        .arg(results.join("long"))
        .output()
        .unwrap();
    assert!(report.status.success(), "{}", text(&report));
    let rows = summary_rows(&results.join("long"));
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r[col("state")] == "done" && r[col("epochs")] == "10"),
        "{rows:?}"
    );
    let reference = bin()
        .args(["run", cfg.to_str().unwrap(), "--index", "0", "--out"])
        .arg(dir.join("reference"))
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert!(reference.status.success(), "{}", text(&reference));
    let columns =
        |p: &Path| -> Vec<Vec<f64>> { curve(p).into_iter().map(|r| r[..6].to_vec()).collect() };
    assert_eq!(
        columns(&run),
        columns(&dir.join("reference/long/runs").join(&id))
    );
}

/// One array task trains a search cell as one stack (`--group task`); warned mid-run, it
/// checkpoints every trial, requeues itself and continues, and every trial's curve is the one
/// it gets trained alone on one thread.
#[test]
fn a_warned_group_task_requeues_and_continues_every_trial() {
    if std::env::var("HIGHWAY_TEST_SLURM").as_deref() != Ok("1") {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the SLURM end-to-end test of a group: HIGHWAY_TEST_SLURM is not 1"
        );
        return;
    }
    let _one = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmp("slurm-group");
    let cluster = Cluster::start(&dir.join("cluster"));
    let work = dir.join("work");
    fs::create_dir_all(work.join("logs")).unwrap();
    let cfg = work.join("cell.json");
    fs::write(
        &cfg,
        r#"{"name": "cell", "dataset": {"name": "synthetic", "synthetic": {"train": 4096, "test": 256, "dim": 16, "classes": 4, "clusters": 2, "noise": 0.5, "seed": 1}},
 "model": {"kinds": ["highway"], "depths": [20], "width": 32},
 "training": {"epochs": 6, "batch_size": 16, "lr": 0.02, "seeds": [0]},
 "search": {"trials": 3, "seed": 2, "lr": [0.001, 0.01]},
 "execution": {"batch_trials": 3}}"#,
    )
    .unwrap();
    let results = work.join("results");
    let submit = Command::new("sbatch")
        .current_dir(&work)
        .args(["--parsable", "--array=0-0", "--cpus-per-task=1"])
        .arg(script("slurm-array.sh"))
        .arg(&cfg)
        .args(["--group", "task", "--out"])
        .arg(&results)
        .env("SLURM_CONF", &cluster.conf)
        .env("HIGHWAY_BIN", env!("CARGO_BIN_EXE_highway"))
        .output()
        .unwrap();
    assert!(submit.status.success(), "{}", text(&submit));
    let job = String::from_utf8_lossy(&submit.stdout).trim().to_string();
    let task = format!("{job}_0");
    let plan = bin()
        .args(["plan", cfg.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let ids: Vec<String> = (0..3)
        .map(|i| plan["runs"][i]["id"].as_str().unwrap().to_string())
        .collect();
    let runs = results.join("cell/runs");
    cluster.wait("the first checkpoint", &|| {
        runs.join(&ids[2])
            .join("checkpoint/state.safetensors")
            .exists()
    });
    cluster.client(&["scancel", "--signal=USR1", "--batch", &task]);
    cluster.wait("the requeue", &|| {
        cluster.state(&task).as_deref() == Some("PENDING")
    });
    cluster.client(&[
        "scontrol",
        "update",
        &format!("JobId={task}"),
        "StartTime=now",
    ]);
    cluster.wait("the task to finish", &|| cluster.state(&task).is_none());
    let log = fs::read_to_string(work.join(format!("logs/highway-{job}_0.log"))).unwrap();
    assert!(
        log.contains("stopped by SIGUSR1")
            && log.contains(&format!("requeued SLURM job {task}"))
            && log.matches("resumed at epoch").count() == 3
            && log.contains("[group 0] 3 trials of highway depth 20 as one stack"),
        "{log}"
    );
    let reference = bin()
        .args([
            "sweep",
            cfg.to_str().unwrap(),
            "--set",
            "execution.batch_trials=1",
        ])
        .arg("--out")
        .arg(dir.join("reference"))
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert!(reference.status.success(), "{}", text(&reference));
    let columns =
        |p: &Path| -> Vec<Vec<f64>> { curve(p).into_iter().map(|r| r[..6].to_vec()).collect() };
    for id in &ids {
        let status = fs::read_to_string(runs.join(id).join("status.json")).unwrap();
        assert!(status.contains("\"done\""), "{id}: {status}");
        assert_eq!(
            columns(&runs.join(id)),
            columns(&dir.join("reference/cell/runs").join(id)),
            "{id}"
        );
    }
}
