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
