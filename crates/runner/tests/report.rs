//! End-to-end: reports of unfinished sweeps and of random searches.

mod common;

use common::*;

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

/// A `status.json` or `curve.csv` that cannot be read is not silently taken for a pending run
/// or an empty curve: `report` and `sweep` warn, naming the file, and say what they do instead.
#[test]
fn corrupt_run_files_are_reported_by_name() {
    let dir = tmp("corrupt");
    let cfg = config(&dir, "corrupt", "[2]", "[0]", 2);
    let o = run(&["sweep", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = dir.join("results/corrupt");
    let ids: Vec<String> = summary_rows(&sweep)
        .iter()
        .map(|r| r[col("id")].clone())
        .collect();
    let status = sweep.join("runs").join(&ids[0]).join("status.json");
    let curve = sweep.join("runs").join(&ids[1]).join("curve.csv");
    fs::write(&status, "{\"state\": \"do").unwrap();
    fs::write(&curve, "epoch,train_loss\n1,banana\n").unwrap();
    let o = run(&["report", sweep.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains(&format!("warning: {}", status.display()))
            && t.contains("treated as not started"),
        "{t}"
    );
    assert!(
        t.contains(&format!("warning: {}", curve.display())) && t.contains("left out"),
        "{t}"
    );
    // The sweep warns too, and trains the run whose status it cannot read again.
    let o = run(&["sweep", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains(&format!("warning: {}", status.display())), "{t}");
    assert_eq!(t.matches("skipped").count(), 1, "{t}");
    let state = &summary_rows(&sweep)[0][col("state")];
    assert_eq!(state, "done");
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
    let done = |kind: &str| -> Vec<&Vec<String>> {
        rows.iter()
            .filter(|r| r[col("kind")] == kind && r[col("state")] == "done")
            .collect()
    };
    // The done trial with the lowest training loss reached.
    let best = |kind: &str| {
        let loss = |r: &Vec<String>| r[col("best_train_loss")].parse::<f64>().unwrap();
        done(kind)
            .into_iter()
            .min_by(|a, b| loss(a).total_cmp(&loss(b)))
            .unwrap()
    };
    // The "Random search" table counts trials: each was trained with one seed.
    let search = &md[md.find("## Random search").unwrap()..];
    assert!(search.contains("| trials done | diverged | best trial |"));
    for kind in ["plain", "highway"] {
        let best = best(kind);
        // The kind's row of the table.
        let line = search
            .lines()
            .find(|l| l.starts_with(&format!("| {kind} | 2 | ")))
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
    // Trainability: per (kind, depth), the counts below each threshold agree with the summary.
    let line = |kind: &str, section: &str| {
        let part = &md[md.find(section).unwrap()..];
        part.lines()
            .find(|l| l.starts_with(&format!("| {kind} | 2 | ")))
            .unwrap()
            .split('|')
            .map(|c| c.trim().to_string())
            .collect::<Vec<_>>()
    };
    // `highway analyze search` splits the same counts by learning rate (every trial here drew
    // one in [0.01, 0.1]).
    let o = run(&["analyze", "search", sweep.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let breakdown = String::from_utf8(o.stdout).unwrap();
    for kind in ["plain", "highway"] {
        let finals: Vec<f64> = done(kind)
            .iter()
            .map(|r| r[col("final_train_loss")].parse().unwrap())
            .collect();
        let finished = rows
            .iter()
            .filter(|r| r[col("kind")] == kind && r[col("state")] != "failed")
            .count();
        let cells = line(kind, "## Trainability");
        assert_eq!(cells[3], finished.to_string());
        let below = finals.iter().filter(|&&l| l < 0.1).count();
        assert!(cells[4].starts_with(&format!("{below} (")), "{cells:?}");
        let row = format!("| {kind} | 2 | 0/0 | {below}/3");
        assert!(breakdown.contains(&row), "{row} not in\n{breakdown}");
        // Convergence: the best trial's first epoch below each threshold, read off its curve,
        // and the top-10 mean after the last epoch (here every done trial: fewer than 10).
        let losses: Vec<f64> = curve(&sweep.join("runs").join(&best(kind)[col("id")]))
            .iter()
            .map(|c| c[1])
            .collect();
        let cells = line(kind, "## Convergence");
        for (cell, threshold) in [(&cells[3], 0.1), (&cells[4], 0.01)] {
            let first = losses.iter().position(|&l| l < threshold);
            let want = first.map_or("–".to_string(), |i| (i + 1).to_string());
            assert_eq!(cell, &want, "{cells:?} {losses:?}");
        }
        let mean = finals.iter().sum::<f64>() / finals.len() as f64;
        let last: f64 = cells[cells.len() - 2].parse().unwrap();
        assert!((last - mean).abs() <= 1e-3 * mean, "{cells:?} {finals:?}");
    }
    assert!(md.contains("## Best b_T by depth"), "{md}");
    // The trainability figure: one line per kind and threshold; the sensitivity panels: one
    // marker per finished trial.
    let svg = fs::read_to_string(sweep.join("figures/trainability.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let lines = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("series"))
        .count();
    assert_eq!(lines, 4);
    for (f, markers) in [("sensitivity-lr", 6), ("sensitivity-gate-bias", 3)] {
        let svg = fs::read_to_string(sweep.join(format!("figures/{f}.svg"))).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let points = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("point"))
            .count();
        assert_eq!(points, markers, "{f}");
    }
    // Raising the trial count keeps the finished trials.
    let more = r#"search={"trials": 4, "seed": 5, "lr": [0.01, 0.1]}"#;
    let o = run(&["sweep", cfg.to_str().unwrap(), "--set", more]);
    assert!(o.status.success());
    assert!(
        text(&o).contains("6 of 8 runs already finished, skipped (6 done)"),
        "{}",
        text(&o)
    );
    assert_eq!(summary_rows(&sweep).len(), 8);
}

/// The best trials of a finished search run again with more seeds (`highway plan --rerun`,
/// `search.rerun`): each with its drawn setting, the search's own seed adopted instead of
/// trained again, the others trained, and the report's seed table shows every seed.
#[test]
fn best_trials_rerun_with_more_seeds_and_the_report_shows_the_spread() {
    let dir = tmp("seeds");
    let cfg = config(&dir, "search", "[2]", "[0]", 2);
    let set = r#"search={"trials": 4, "seed": 5, "lr": [0.01, 0.1]}"#;
    let o = run(&["sweep", cfg.to_str().unwrap(), "--set", set]);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = dir.join("results/search");
    let made = run(&[
        "plan",
        "--rerun",
        sweep.to_str().unwrap(),
        "--top",
        "2",
        "--seeds",
        "0,1,2",
        "--adopt",
    ]);
    assert!(made.status.success(), "{}", text(&made));
    assert!(
        text(&made).contains("adopted 4 finished runs"),
        "{}",
        text(&made)
    );
    let rerun_cfg = dir.join("seeds.json");
    fs::write(&rerun_cfg, &made.stdout).unwrap();
    let notes = String::from_utf8_lossy(&made.stdout);
    assert!(
        notes.contains("The 2 best trials per (kind, depth) of the search 'search'"),
        "the notes name the search the trials came from: {notes}"
    );
    let o = run(&["sweep", rerun_cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("4 of 12 runs already finished, skipped (4 done)"),
        "{}",
        text(&o)
    );
    let rerun = dir.join("results/search-seeds");
    let rows = summary_rows(&rerun);
    assert_eq!(rows.len(), 2 * 2 * 3, "2 kinds × top 2 × 3 seeds");
    // Each rerun has the learning rate its trial drew in the search.
    let original = summary_rows(&sweep);
    for r in &rows {
        let same = original
            .iter()
            .find(|o| (&o[col("kind")], &o[col("trial")]) == (&r[col("kind")], &r[col("trial")]))
            .unwrap();
        assert_eq!(r[col("lr")], same[col("lr")]);
        if r[col("seed")] == "0" {
            assert_eq!(r[col("id")], same[col("id")]);
        }
    }
    let md = fs::read_to_string(rerun.join("summary.md")).unwrap();
    // With several seeds per trial the search tables count runs, and the best names its seed.
    let search = &md[md.find("## Random search").unwrap()..];
    assert!(
        search.contains("| runs done | diverged | best run |"),
        "{search}"
    );
    for kind in ["plain", "highway"] {
        let best = search
            .lines()
            .find(|l| l.starts_with(&format!("| {kind} | 2 | 6 | ")))
            .unwrap_or_else(|| panic!("6 runs of {kind} ranked: {search}"));
        let named = best.split('|').nth(5).unwrap().trim();
        let (trial, seed) = named.split_once(" (seed ").expect(named);
        let seed = seed.trim_end_matches(')');
        let run = rows
            .iter()
            .find(|r| r[col("kind")] == kind && r[col("trial")] == trial && r[col("seed")] == seed);
        assert!(run.is_some(), "{named} is a run of the sweep");
    }
    let trainability = &md[md.find("## Trainability").unwrap()..];
    assert!(trainability.contains("the share of finished runs"));
    let table = &md[md.find("## Seeds").expect("a seed table")..];
    let table = &table[..table[3..].find("\n## ").map_or(table.len(), |i| i + 3)];
    assert!(
        table.contains("| seed 0 | seed 1 | seed 2 | spread |"),
        "{table}"
    );
    let cells = |prefix: &str| -> Vec<Vec<String>> {
        table
            .lines()
            .filter(|l| l.starts_with(prefix))
            .map(|l| l.split('|').map(|c| c.trim().to_string()).collect())
            .collect()
    };
    let numbers = |cells: &[String]| -> Vec<f64> {
        cells
            .iter()
            .map(|c| c.trim_end_matches('×').parse().unwrap())
            .collect()
    };
    let max = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    let min = |v: &[f64]| v.iter().cloned().fold(f64::INFINITY, f64::min);
    // Per trial: the three seeds' losses and their spread; per kind, each seed's best.
    let mut best = Vec::new();
    for kind in ["plain", "highway"] {
        let trials = cells(&format!("| {kind} | 2 | "));
        let (trial_rows, cell_row) = trials.split_at(2);
        let mut by_seed = vec![f64::INFINITY; 3];
        for row in trial_rows {
            let losses = numbers(&row[4..7]);
            let spread = max(&losses) / min(&losses);
            assert_eq!(row[7], format!("{spread:.2}×"), "{row:?}");
            for (b, l) in by_seed.iter_mut().zip(&losses) {
                *b = b.min(*l);
            }
        }
        // The cell's row: 2 trials, each seed's best (as printed) and their spread.
        let [row] = cell_row else {
            panic!("one cell row for {kind}: {table}")
        };
        assert_eq!(row[3], "2", "{row:?}");
        let shown = numbers(&row[4..7]);
        for (s, b) in shown.iter().zip(&by_seed) {
            assert_eq!(format!("{s:.3e}"), format!("{b:.3e}"), "{row:?}");
        }
        assert_eq!(row[7], format!("{:.2}×", max(&by_seed) / min(&by_seed)));
        best.push(by_seed);
    }
    // Between the kinds: plain's best over highway's, seed by seed.
    let [gap] = &cells("| 2 | ")[..] else {
        panic!("one row between the kinds: {table}")
    };
    for (seed, g) in numbers(&gap[2..5]).iter().enumerate() {
        let want = best[0][seed] / best[1][seed];
        assert!(
            (g / want - 1.0).abs() < 0.01,
            "seed {seed}: {g} against {want}"
        );
    }
}

/// `highway analyze mechanism` on a small search: every trial with per-layer statistics from
/// initialisation is counted once in each of its tables, and its learning-rate split follows
/// the rates the search drew (`sweep.json`).
#[test]
fn mechanism_counts_every_trial_once_and_splits_by_the_drawn_rate() {
    let dir = tmp("mechanism");
    let cfg = config(&dir, "search", "[3]", "[0]", 2);
    let set = r#"search={"trials": 8, "seed": 5, "lr": [0.002, 0.05]}"#;
    let o = run(&["sweep", cfg.to_str().unwrap(), "--set", set]);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = dir.join("results/search");
    let o = run(&["analyze", "mechanism", sweep.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let plan: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(sweep.join("sweep.json")).unwrap()).unwrap();
    let rows = |prefix: &str| -> Vec<Vec<String>> {
        out.lines()
            .filter(|l| l.starts_with(prefix))
            .map(|l| l.split('|').map(|c| c.trim().to_string()).collect())
            .collect()
    };
    for kind in ["plain", "highway"] {
        let low = plan["plan"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] == kind && r["training"]["lr"].as_f64().unwrap() < 0.01)
            .count();
        assert!(
            0 < low && low < 8,
            "{kind}: both sides of 0.01 drawn ({low} below)"
        );
        // The correlations: all 8 trials.
        assert_eq!(rows(&format!("| {kind} | 3 | 8 |")).len(), 1, "{out}");
        // By gradient ratio: the bins hold the 8 trials between them.
        let by_ratio = rows(&format!("| {kind} | 3 | "))
            .into_iter()
            .find(|r| r[3].contains(" of "))
            .unwrap_or_else(|| panic!("{kind}: no ratio row in {out}"));
        let in_bins: usize = by_ratio[3..6]
            .iter()
            .map(|c| c.split(" of ").nth(1).unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(in_bins, 8, "{by_ratio:?}");
        // By learning rate: as drawn.
        let below = rows(&format!("| {kind} | 3 | < 0.01 |"));
        let above = rows(&format!("| {kind} | 3 | ≥ 0.01 |"));
        assert_eq!(below[0][4], low.to_string(), "{out}");
        assert_eq!(above[0][4], (8 - low).to_string(), "{out}");
    }
    // Highway nets by their output scale at initialisation: the two parts hold the 8 trials.
    let by_scale: usize = rows("| 3 | ")
        .iter()
        .map(|r| r[3].parse::<usize>().unwrap())
        .sum();
    assert_eq!(by_scale, 8, "{out}");
}

/// `highway analyze time` adds up the wall times the runs recorded; `plan --rerun` writes a
/// config for the best trial of each cell for more epochs at chosen depths, which plans as a
/// sweep of its own.
#[test]
fn sweep_time_adds_up_and_rerun_picks_the_best_for_longer() {
    let dir = tmp("analyses");
    let cfg = config(&dir, "search", "[2, 3]", "[0]", 1);
    let set = r#"search={"trials": 3, "seed": 5, "lr": [0.01, 0.1]}"#;
    let o = run(&["sweep", cfg.to_str().unwrap(), "--set", set]);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = dir.join("results/search");
    let s = sweep.to_str().unwrap();
    let rows = summary_rows(&sweep);
    let o = run(&["analyze", "time", s]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    // Each run's wall time as its status records it (summary.csv rounds it).
    let wall = |r: &Vec<String>| {
        let status = sweep.join("runs").join(&r[col("id")]).join("status.json");
        let status: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(status).unwrap()).unwrap();
        status["wall_seconds"].as_f64().unwrap()
    };
    let total: f64 = rows.iter().map(wall).sum();
    let head = format!("12 finished runs, {:.1} core-hours\n", total / 3600.0);
    assert!(out.starts_with(&head), "{out}");
    for kind in ["plain", "highway"] {
        let mut walls: Vec<f64> = rows
            .iter()
            .filter(|r| r[col("kind")] == kind && r[col("depth")] == "3")
            .map(wall)
            .collect();
        walls.sort_by(f64::total_cmp);
        let row = format!("| {kind} | 3 | 3 | {:.0} | {:.0} |", walls[1], walls[2]);
        assert!(out.contains(&row), "{row} in {out}");
    }
    assert!(out.contains("UTC: ") && out.contains("  in all "), "{out}");

    // The best trial per cell, at depth 3 only, for 3 epochs.
    let o = run(&[
        "plan", "--rerun", s, "--top", "1", "--seeds", "0", "--epochs", "3", "--depths", "3",
        "--name", "long",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let made: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(made["name"], "long");
    assert_eq!(made["training"]["epochs"], 3);
    assert_eq!(made["model"]["depths"], serde_json::json!([3]));
    let notes = made["notes"].as_str().unwrap();
    assert!(notes.starts_with("The best trial per (kind, depth) of the search 'search', each run again with seeds [0] for 3 epochs"), "{notes}");
    let rerun = made["search"]["rerun"].as_array().unwrap();
    assert_eq!(rerun.len(), 2, "{rerun:?}");
    for (cell, kind) in rerun.iter().zip(["plain", "highway"]) {
        let loss = |r: &&Vec<String>| r[col("best_train_loss")].parse::<f64>().unwrap();
        let best = rows
            .iter()
            .filter(|r| {
                r[col("kind")] == kind && r[col("depth")] == "3" && r[col("state")] == "done"
            })
            .min_by(|a, b| loss(a).total_cmp(&loss(b)))
            .unwrap();
        let trial: u64 = best[col("trial")].parse().unwrap();
        assert_eq!(cell["kind"], kind);
        assert_eq!(cell["trials"], serde_json::json!([trial]), "{cell}");
    }
    let long = dir.join("long.json");
    fs::write(&long, &o.stdout).unwrap();
    let o = run(&["plan", long.to_str().unwrap()]);
    assert!(
        o.status.success() && text(&o).contains("\n2 runs:"),
        "{}",
        text(&o)
    );
    // The options of --rerun are refused without it, not silently ignored.
    let o = run(&["plan", long.to_str().unwrap(), "--top", "3"]);
    assert!(
        !o.status.success() && text(&o).contains("go with --rerun SWEEP_DIR"),
        "{}",
        text(&o)
    );
    // Runs of another length have other ids: nothing to adopt.
    let o = run(&["plan", "--rerun", s, "--epochs", "3", "--adopt"]);
    assert!(
        !o.status.success() && text(&o).contains("--epochs"),
        "{}",
        text(&o)
    );
}

/// A folder that is not a sweep, a sweep that is not a search, or a sweep file with a wrong
/// field: the sweep analyses and `plan --rerun` fail with an error that names it.
#[test]
fn sweep_analyses_name_what_they_cannot_use() {
    let dir = tmp("analyses-bad");
    let grid = config(&dir, "grid", "[2]", "[0]", 1);
    let o = run(&["sweep", grid.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let grid = dir.join("results/grid");
    let s = grid.to_str().unwrap();
    // Not a sweep folder.
    let here = dir.to_str().unwrap();
    for args in [
        vec!["analyze", "search", here],
        vec!["analyze", "mechanism", here],
        vec!["analyze", "time", here],
        vec!["analyze", "halving", s, "--against", here],
        vec!["plan", "--rerun", here],
    ] {
        let o = run(&args);
        let t = text(&o);
        assert!(!o.status.success(), "{args:?}: {t}");
        assert!(
            t.contains(&format!("{here}: no sweep.json here")),
            "{args:?}: {t}"
        );
    }
    let o = run(&["plan", "--rerun", s]);
    assert!(
        !o.status.success() && text(&o).contains("not a random search"),
        "{}",
        text(&o)
    );
    let file = grid.join("sweep.json");
    let json = fs::read_to_string(&file).unwrap();
    fs::write(&file, json.replacen("\"plan\"", "\"plans\"", 1)).unwrap();
    let o = run(&["analyze", "search", s]);
    let t = text(&o);
    assert!(
        !o.status.success() && t.contains(&format!("{}: not a valid", file.display())),
        "{t}"
    );
}
