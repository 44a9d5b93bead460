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
