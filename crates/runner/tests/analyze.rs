//! End-to-end: a saved model analysed for gates and lesions.

mod common;

use common::*;

#[test]
fn saved_model_is_analysed_for_gates_and_lesions() {
    let dir = tmp("analyze");
    let cfg = config(&dir, "kept", "[4]", "[0]", 2);
    let out = run(&[
        "sweep",
        cfg.to_str().unwrap(),
        "--set",
        "training.save_model=true",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let sweep = dir.join("results/kept");
    let rows = summary_rows(&sweep);
    let run_of = |kind: &str| {
        let row = rows.iter().find(|r| r[col("kind")] == kind).unwrap();
        sweep.join("runs").join(&row[col("id")])
    };
    let (plain, highway) = (run_of("plain"), run_of("highway"));
    assert!(plain.join("model.safetensors").is_file());
    let dir_arg = highway.to_str().unwrap();

    let out = run(&[
        "analyze",
        "gates",
        dir_arg,
        "--sample",
        "5",
        "--classes",
        "2,1",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let analysis = highway.join("analysis");
    let gates = fs::read_to_string(analysis.join("gates.csv")).unwrap();
    let lines: Vec<&str> = gates.lines().collect();
    assert_eq!(
        lines[0],
        "layer,block,bias,mean_gate,sample_gate,sample_output"
    );
    assert_eq!(lines.len(), 1 + 3 * 10, "3 highway layers × 10 blocks");
    for line in &lines[1..] {
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        assert!(
            (0.0..=1.0).contains(&v[3]) && (0.0..=1.0).contains(&v[4]),
            "{line}"
        );
    }
    let by_class = fs::read_to_string(analysis.join("gates-by-class.csv")).unwrap();
    assert_eq!(by_class.lines().count(), 1 + 3 * 3 * 10);
    for svg in ["figure2-gates.svg", "figure3-classes.svg"] {
        let text = fs::read_to_string(analysis.join(svg)).unwrap();
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{svg}: {e}"));
    }

    let out = run(&["analyze", "lesion", dir_arg]);
    assert!(out.status.success(), "{}", text(&out));
    let lesion = fs::read_to_string(analysis.join("lesion.csv")).unwrap();
    let lines: Vec<&str> = lesion.lines().collect();
    assert_eq!(lines[0], "lesioned_layer,loss,accuracy");
    assert!(lines[1].starts_with("none,"));
    assert_eq!(lines.len(), 2 + 3);
    let text4 = fs::read_to_string(analysis.join("figure4-lesion.svg")).unwrap();
    roxmltree::Document::parse(&text4).unwrap();

    // Clear errors: a plain net, a run without a model, a class that does not exist.
    let out = run(&["analyze", "lesion", plain.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no highway layers"), "{}", text(&out));
    let out = run(&["analyze", "gates", dir_arg, "--classes", "0,3"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("class 3 does not exist"),
        "{}",
        text(&out)
    );
    fs::remove_file(highway.join("model.safetensors")).unwrap();
    let out = run(&["analyze", "gates", dir_arg]);
    assert!(!out.status.success());
    // Turning save_model on afterwards: the sweep says which done runs have no model, and how
    // to get one.
    let again = run(&[
        "sweep",
        cfg.to_str().unwrap(),
        "--set",
        "training.save_model=true",
    ]);
    assert!(
        text(&again).contains("has no model.safetensors (trained without save_model)"),
        "{}",
        text(&again)
    );
    // How to get a model: a done run is skipped, so turning save_model on is not enough.
    assert!(
        text(&out).contains("--set training.save_model=true")
            && text(&out).contains("delete its folder"),
        "{}",
        text(&out)
    );
    // A FIFO in place of the model: refused at once, not read for ever.
    let made = Command::new("mkfifo")
        .arg(highway.join("model.safetensors"))
        .status();
    if made.is_ok_and(|s| s.success()) {
        let out = run(&["analyze", "gates", dir_arg]);
        assert!(!out.status.success());
        assert!(
            text(&out).contains("is a FIFO, not a regular file"),
            "{}",
            text(&out)
        );
    }
}
