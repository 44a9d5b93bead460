//! End-to-end: bad configs and files give errors that name the field or file.

mod common;

use common::*;

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
        // Adam's settings.
        (
            "optimizer-unknown",
            good.replace("\"lr\": 0.05", "\"lr\": 0.05, \"optimizer\": \"lbfgs\""),
            "training.optimizer",
        ),
        (
            "betas-one",
            good.replace(
                "\"lr\": 0.05",
                "\"lr\": 0.05, \"optimizer\": \"adam\", \"betas\": [0.9, 1.0]",
            ),
            "training.betas: must be two numbers in [0, 1)",
        ),
        (
            "eps-zero",
            good.replace(
                "\"lr\": 0.05",
                "\"lr\": 0.05, \"optimizer\": \"adamw\", \"eps\": 0",
            ),
            "training.eps: must be a positive number",
        ),
        (
            "save-model-word",
            good.replace("\"lr\": 0.05", "\"lr\": 0.05, \"save_model\": \"all\""),
            "training.save_model: invalid value: string \"all\", expected true (every run keeps \
             its model), false (none) or \"best\" (the default)",
        ),
        (
            "adam-nesterov",
            good.replace(
                "\"lr\": 0.05",
                "\"lr\": 0.05, \"optimizer\": \"adam\", \"nesterov\": true",
            ),
            "training.nesterov: is SGD's",
        ),
        // Values given once or per kind, and b_T maps: what was wrong, and what was expected.
        (
            "width-fraction",
            good.replace("{\"plain\": 12, \"highway\": 10}", "8.5"),
            "model.width: got `8.5`, expected a whole number, 0 or more (one value for every \
             kind",
        ),
        (
            "width-one-kind",
            good.replace("{\"plain\": 12, \"highway\": 10}", "{\"plain\": 8}"),
            "model.width: no value for highway",
        ),
        (
            "lr-unknown-kind",
            good.replace(
                "\"lr\": 0.05",
                "\"lr\": {\"plain\": 0.1, \"highway\": 0.2, \"resnet\": 1}",
            ),
            "training.lr: unknown key \"resnet\"",
        ),
        (
            "activation-gelu",
            good.replace(
                "\"depths\": [2]",
                "\"depths\": [2], \"activation\": \"gelu\"",
            ),
            "model.activation: unknown variant `gelu`, expected `relu` or `tanh`",
        ),
        (
            "gate-bias-banana",
            good.replace(
                "\"depths\": [2]",
                "\"depths\": [2], \"gate_bias\": {\"banana\": -2, \"2\": -1}",
            ),
            "model.gate_bias: key \"banana\" is not a depth",
        ),
        (
            "gate-bias-huge",
            good.replace("\"depths\": [2]", "\"depths\": [2], \"gate_bias\": -1e300"),
            "model.gate_bias: -1e300 is outside the range of a 32-bit float",
        ),
        // A name that is not one folder inside the output folder.
        (
            "name-dotdot",
            good.replace("\"name\": \"good\"", "\"name\": \"..\""),
            "name:",
        ),
        (
            "name-dot",
            good.replace("\"name\": \"good\"", "\"name\": \".\""),
            "name:",
        ),
        (
            "name-hidden",
            good.replace("\"name\": \"good\"", "\"name\": \".x\""),
            "name:",
        ),
        // Repeats would train the same runs again and average them as independent.
        (
            "repeated-depth",
            good.replace("\"depths\": [2]", "\"depths\": [2, 3, 2]"),
            "model.depths[2]: 2 repeats model.depths[0]",
        ),
        (
            "repeated-kind",
            good.replace("[\"plain\", \"highway\"]", "[\"plain\", \"plain\"]"),
            "model.kinds[1]",
        ),
        (
            "repeated-seed",
            good.replace("\"seeds\": [0]", "\"seeds\": [0, 0]"),
            "training.seeds[1]",
        ),
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
        assert!(
            !dir.join("sweep.json").exists() && !dir.join("results/sweep.json").exists(),
            "{name}: wrote a sweep outside its own folder"
        );
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
    // A failed start takes back the folders it made: no sweep folder without a run.
    assert!(
        !dir.join("results").exists(),
        "a failed start left a folder"
    );
    // A bad --set is named as the flag, in plain words; a bare list is a list.
    let good_path = dir.join("good.json");
    let good_cfg = good_path.to_str().unwrap();
    for (set, want) in [
        ("training.lr=-1", "--set training.lr=-1: training.lr"),
        (
            "training.lr=abc",
            "--set training.lr=abc: training.lr: got the text \"abc\", expected a number",
        ),
        (
            "training.epochs=1.5",
            "--set training.epochs=1.5: training.epochs: got `1.5`, expected a whole number",
        ),
        (
            "model.depths=[2,x]",
            "--set model.depths=[2,x]: model.depths[1]",
        ),
    ] {
        let o = run(&["sweep", good_cfg, "--set", set]);
        let t = text(&o);
        assert!(!o.status.success() && t.contains(want), "{set}: {t}");
        assert!(!t.contains(good_cfg), "{set} blamed the file: {t}");
    }
    let o = run(&["plan", good_cfg, "--set", "model.kinds=[highway]"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("plain-d2"), "{}", text(&o));
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

/// A backend that is not in this build is a config error before anything is planned or
/// written, naming where it came from, not one failed run per planned run. (A build with every
/// optional backend has none to try.)
#[test]
#[cfg_attr(
    all(feature = "cuda", feature = "cpu"),
    ignore = "every backend is compiled into this build"
)]
fn a_backend_not_compiled_in_is_a_config_error() {
    let listing = text(&run(&["backends"]));
    let missing = ["cuda", "cpu"]
        .into_iter()
        .find(|b| {
            listing
                .lines()
                .any(|l| l.trim_start().starts_with(b) && l.contains("not compiled"))
        })
        .expect("this build lacks cuda or cpu");
    let dir = tmp("no-backend");
    let cfg = config(&dir, "nb", "[2]", "[0]", 1);
    let body = fs::read_to_string(&cfg).unwrap().replacen(
        "\"output\"",
        &format!("\"backend\": \"{missing}\", \"output\""),
        1,
    );
    fs::write(&cfg, body).unwrap();
    for command in ["plan", "sweep"] {
        let o = run(&[command, cfg.to_str().unwrap()]);
        let t = text(&o);
        assert!(!o.status.success(), "{command}: {t}");
        assert!(
            t.contains(&format!("backend {missing}: not compiled")) && t.contains("nb.json"),
            "{command}: {t}"
        );
    }
    let good = config(&dir, "ok", "[2]", "[0]", 1);
    let o = run(&["sweep", good.to_str().unwrap(), "--backend", missing]);
    assert!(
        text(&o).contains(&format!("--backend {missing}: not compiled")),
        "{}",
        text(&o)
    );
    assert!(!dir.join("results").exists(), "nothing is written");
}

/// Sizes that cannot fit are refused before anything is allocated, naming the field and the
/// size: no failed allocation (SIGABRT), no run left `running`, nothing written.
#[test]
fn sizes_that_cannot_fit_are_refused_before_allocating() {
    let dir = tmp("huge");
    let good = fs::read_to_string(config(&dir, "huge", "[2]", "[0]", 1)).unwrap();
    let search = |trials: &str, gate_bias: &str| {
        good.replacen(
            "\"output\"",
            &format!(
                "\"search\": {{\"trials\": {trials}, \"gate_bias\": {gate_bias}}}, \"output\""
            ),
            1,
        )
    };
    let cases = [
        (
            "depth",
            good.replace("\"depths\": [2]", "\"depths\": [1000000000]"),
            "model.depths[0] = 1000000000",
        ),
        (
            "width",
            good.replace("{\"plain\": 12, \"highway\": 10}", "10000000"),
            "model.width = 10000000",
        ),
        (
            "synthetic-train",
            good.replace("\"train\": 256", "\"train\": 1000000000000"),
            "dataset: the data needs about",
        ),
        ("trials", search("1000000000", "[-3, -1]"), "search.trials"),
        (
            "classes",
            good.replace("\"classes\": 3", "\"classes\": 4294967296"),
            "dataset.synthetic.classes",
        ),
        // A bound that a 32-bit b_T cannot hold would be written to sweep.json as null.
        (
            "gate-bias",
            search("2", "[-1e300, -1e300]"),
            "search.gate_bias",
        ),
    ];
    for (name, body, want) in cases {
        let path = dir.join(format!("{name}.json"));
        fs::write(&path, body).unwrap();
        let o = run(&["sweep", path.to_str().unwrap()]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {t}");
        assert!(t.contains(want), "{name}: {t}");
        assert!(!dir.join("results").exists(), "{name}: wrote results");
    }
    for (args, want) in [
        (
            &["--steps", "1000000000000000000"][..],
            "--steps 1000000000000000000: must be at most",
        ),
        (
            &["--depth", "1000000000"][..],
            "--depth 1000000000 --width 50",
        ),
    ] {
        let o = run(&[&["bench", "--kind", "highway"][..], args].concat());
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(want), "{}", text(&o));
    }
}

/// A config's `"version"`: the current one plans the same runs (ids) as none, and is kept in
/// `sweep.json` only where the config says it; a newer one is refused naming the field and the
/// harness's version.
#[test]
fn a_config_says_its_version_and_a_newer_one_is_refused() {
    let dir = tmp("version");
    let cfg = config(&dir, "v", "[2]", "[0, 1]", 1);
    let plan = |extra: &[&str]| {
        let o = bin()
            .args(["plan", "--json", cfg.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let (none, one) = (plan(&[]), plan(&["--set", "version=1"]));
    // The plan shows the version a config without one is read as: the same config.
    assert_eq!(none["config"]["version"], 1, "{none}");
    assert_eq!(none["config"], one["config"]);
    assert_eq!(none["runs"], one["runs"]);
    let o = run(&["plan", cfg.to_str().unwrap(), "--set", "version=2"]);
    let t = text(&o);
    assert!(!o.status.success());
    assert!(
        t.contains("version: 2 is newer than this harness knows")
            && t.contains(&format!("highway {}", env!("CARGO_PKG_VERSION"))),
        "{t}"
    );
}
