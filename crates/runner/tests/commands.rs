//! End-to-end: `plan`, `backends`, `bench` and `completions`.

mod common;

use common::*;

#[test]
fn plan_prints_runs_and_backends_lists_all() {
    let dir = tmp("plan");
    let cfg = config(&dir, "plan", "[2, 3]", "[0, 1]", 1);
    let o = run(&["plan", cfg.to_str().unwrap(), "--set", "model.depths=[5]"]);
    assert!(o.status.success());
    let t = text(&o);
    assert!(t.contains("4 runs:") && t.contains("highway-d5-s1-"), "{t}");
    // The whole resolved config, the fields its files leave out at their defaults too.
    for field in [
        "\"layer_stats\": true",
        "\"save_model\"",
        "\"batch_trials\": 8",
        "\"optimizer\": \"sgd\"",
        "\"version\": 1",
    ] {
        assert!(t.contains(field), "{field}: {t}");
    }
    // Every setting a search draws, on each run's line.
    let o = run(&[
        "plan",
        cfg.to_str().unwrap(),
        "--set",
        "search.trials=2",
        "--set",
        "training.epochs=1",
    ]);
    let t = text(&o);
    let line = t
        .lines()
        .find(|l| l.contains("highway-d2-t001-s0-"))
        .unwrap_or_else(|| panic!("{t}"));
    for drawn in [
        "trial   1",
        "1 epoch ",
        "lr ",
        "momentum ",
        "decay ",
        "b_T ",
    ] {
        assert!(line.contains(drawn), "{drawn}: {line}");
    }
    assert!(line.contains(" relu") || line.contains(" tanh"), "{line}");
    let o = run(&["backends"]);
    let t = text(&o);
    assert!(
        o.status.success() && t.contains("flex     ok") && t.contains("ndarray  ok"),
        "{t}"
    );
    assert!(t.contains("cuda") && t.contains("wgpu"), "{t}");
    // A GPU backend that starts names its adapter (CI's is Mesa's lavapipe, a software one).
    let wgpu = t.lines().find(|l| l.starts_with("wgpu")).unwrap();
    assert!(
        !wgpu.contains(" ok") || wgpu.contains(", adapter "),
        "{wgpu}"
    );
}

/// `HIGHWAY_NO_REQUEUE=` and `HIGHWAY_KEEP_DENORMALS=` (empty, as sbatch templates write them)
/// mean unset; a value that is not a yes or a no is still refused.
#[test]
fn empty_flag_variables_mean_unset() {
    let dir = tmp("empty-env");
    let cfg = config(&dir, "env", "[2]", "[0]", 1);
    for var in ["HIGHWAY_NO_REQUEUE", "HIGHWAY_KEEP_DENORMALS"] {
        let o = bin()
            .args(["plan", cfg.to_str().unwrap()])
            .env(var, "")
            .output()
            .unwrap();
        assert!(o.status.success(), "{var}=: {}", text(&o));
        let o = bin()
            .args(["plan", cfg.to_str().unwrap()])
            .env(var, "perhaps")
            .output()
            .unwrap();
        assert!(!o.status.success(), "{var}=perhaps: {}", text(&o));
    }
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
        assert_eq!(v["busy"], 0);
    }
    // Beside a busy thread of its own, recorded.
    let o = run(&[
        "bench", "--depth", "3", "--input", "16", "--batch", "8", "--steps", "3", "--busy", "1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["busy"], 1);
}

/// The process keeps the memory a step frees (`main.rs`, `keep_freed_memory`): once warm, its
/// steps take fewer page faults than those of a process that gives freed memory back at once.
/// Counts, not times.
#[cfg(target_os = "linux")]
#[test]
fn bench_steps_reuse_freed_memory() {
    let args = [
        "bench",
        "--depth",
        "20",
        "--input",
        "784",
        "--steps",
        "5",
        "--threads",
        "1",
        "--json",
    ];
    let faults = |purge: Option<&str>| {
        let mut cmd = bin();
        cmd.args(args).env_remove("MIMALLOC_PURGE_DELAY");
        if let Some(delay) = purge {
            cmd.env("MIMALLOC_PURGE_DELAY", delay);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["page_faults_per_step"]
            .as_f64()
            .expect("a count on Linux")
    };
    let (kept, given_back) = (faults(None), faults(Some("0")));
    assert!(
        kept < given_back,
        "page faults per step: {kept} kept, {given_back} given back"
    );
}

/// `--roofline` adds the step's matmuls alone, for every kind, with an input wide enough for the
/// input layer's transposed `dW`; sanity of the fields only, never a time.
#[test]
fn bench_roofline_reports_the_matmuls_alone() {
    for kind in ["highway", "plain", "residual"] {
        let o = run(&[
            "bench",
            "--kind",
            kind,
            "--depth",
            "3",
            "--width",
            "8",
            "--input",
            "600",
            "--batch",
            "8",
            "--steps",
            "3",
            "--roofline",
            "--json",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for field in [
            "matmul_ms",
            "matmul_share",
            "gflop_per_step",
            "gflops",
            "matmul_gflops",
        ] {
            let x = v[field].as_f64().unwrap_or(f64::NAN);
            assert!(x > 0.0 && x.is_finite(), "{kind}: {field} = {}", v[field]);
        }
        let share = v["matmul_share"].as_f64().unwrap();
        assert!(share < 1.5, "{kind}: matmul_share {share}");
        assert!(!v["cpu"].as_str().unwrap().is_empty());
        let simd = v["simd"].as_str().unwrap();
        assert!(["avx512", "avx2", "baseline"].contains(&simd), "{simd}");
    }
    // The human line names it; other backends, composed layers and stacks are refused.
    let o = run(&[
        "bench",
        "--depth",
        "2",
        "--input",
        "16",
        "--batch",
        "8",
        "--steps",
        "2",
        "--roofline",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("matmul_share"), "{}", text(&o));
    for extra in [
        &["--backend", "ndarray"][..],
        &["--composed"],
        &["--trials", "2"],
    ] {
        let mut args = vec!["bench", "--depth", "2", "--input", "16", "--roofline"];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert!(!o.status.success(), "{extra:?}: {}", text(&o));
        assert!(text(&o).contains("--roofline"), "{extra:?}: {}", text(&o));
    }
    // Without it, no roofline fields.
    let o = run(&[
        "bench", "--depth", "2", "--input", "16", "--batch", "8", "--steps", "2", "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v.get("matmul_share").is_none() && v.get("cpu").is_some());
}

/// Every bench flag that sizes the net or the run is checked before anything is built.
#[test]
fn bench_refuses_impossible_values_by_flag() {
    for (flag, value, want) in [
        ("--width", "0", "--width 0: must be at least 1"),
        ("--depth", "0", "--depth 0: must be at least 1"),
        ("--batch", "0", "--batch 0: must be at least 1"),
        ("--steps", "0", "--steps 0: must be at least 1"),
        ("--input", "0", "--input 0: must be at least 1"),
        ("--threads", "0", "--threads 0: must be between 1 and 255"),
        (
            "--threads",
            "100000",
            "--threads 100000: must be between 1 and 255",
        ),
        ("--busy", "100000", "--busy 100000: must be at most 1024"),
        (
            "--kind",
            "resnet",
            "'resnet': expected one of plain, highway, residual",
        ),
    ] {
        let o = run(&["bench", flag, value]);
        assert!(!o.status.success(), "{flag} {value}: {}", text(&o));
        assert!(text(&o).contains(want), "{flag} {value}: {}", text(&o));
        assert!(!text(&o).contains("panicked"), "{}", text(&o));
    }
}

/// A reader that stops early (`highway plan CONFIG | head`) ends the command quietly, with
/// status 0, instead of a panic about a broken pipe.
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::io::Read;
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/fig1-mnist-search.json");
    let mut child = bin()
        .args(["plan", cfg.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then closed
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{:?} {err}", o.status);
    assert!(!err.contains("panicked"), "{err}");
}

/// `highway completions SHELL` prints the shell's script, which knows the commands; a shell it
/// does not know is refused.
#[test]
fn completions_print_a_script_that_knows_the_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let o = run(&["completions", shell]);
        let t = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{shell}: {}", text(&o));
        for command in ["sweep", "status", "report"] {
            assert!(t.contains(command), "{shell}: no {command} in\n{t}");
        }
    }
    let o = run(&["completions", "bash"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("complete -F _highway"));
    let o = run(&["completions", "tcsh"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("invalid value 'tcsh'"), "{}", text(&o));
}

/// The first steps on a GPU wait for its kernels to compile: the process says so once, before
/// the first epoch's line, so that a minute without output does not look like a hang.
#[test]
fn a_gpu_sweep_says_it_compiles_first() {
    let listing = text(&run(&["backends"]));
    let wgpu = listing.lines().find(|l| l.starts_with("wgpu")).unwrap();
    if !wgpu.contains(" ok") {
        eprintln!("skipped: wgpu cannot start here ({wgpu})");
        return;
    }
    let dir = tmp("gpu-compiles");
    let cfg = config(&dir, "gpu", "[2]", "[0]", 1);
    // One net, without the per-layer statistics: fewer kernels to compile on a software adapter.
    let o = run(&[
        "sweep",
        cfg.to_str().unwrap(),
        "--backend",
        "wgpu",
        "--set",
        "model.kinds=[highway]",
        "--set",
        "training.layer_stats=false",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let said = t.matches("wgpu: the first steps compile").count();
    assert_eq!(said, 1, "{t}");
    let compiling = t.find("the first steps compile").unwrap();
    let first_epoch = t.find("epoch 1/1").unwrap();
    assert!(compiling < first_epoch, "{t}");
}
