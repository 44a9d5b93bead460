//! End-to-end: nothing in a checkpoint is trusted unchecked. A checkpoint whose position was
//! edited, one of a run resumed on other data, and one far larger than its net are refused by
//! name, and the run's records are left as they were.

mod common;

use common::*;

/// `highway run CONFIG --index 0 --out OUT [extra]` to its end.
fn resume(cfg: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .args(["run", cfg.to_str().unwrap(), "--index", "0", "--out"])
        .arg(out)
        .args(extra)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap()
}

/// Rewrites the position in the header of the checkpoint at `path` with `edit`, keeping its
/// tensors and every other metadata entry (its checksum included) as they are.
fn edit_position(path: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let bytes = fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let meta = &mut header["__metadata__"];
    let mut position: serde_json::Value =
        serde_json::from_str(meta["position"].as_str().unwrap()).unwrap();
    edit(&mut position);
    meta["position"] = position.to_string().into();
    let mut text = header.to_string().into_bytes();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(text);
    out.extend(&bytes[8 + n..]);
    fs::write(path, out).unwrap();
}

#[test]
fn an_edited_position_is_refused_and_the_records_stay() {
    let dir = tmp("edited-position");
    let cfg = long_config(&dir, 64, 20, 8192, 4);
    let out = dir.join("out");
    let run = killed_after_checkpoint(&cfg, &out, &[]);
    let file = run.join("checkpoint/state.safetensors");
    let original = fs::read(&file).unwrap();
    let curve_before = fs::read_to_string(run.join("curve.csv")).unwrap();
    for edit in [
        (|p: &mut serde_json::Value| p["epoch"] = 1.into()) as fn(&mut serde_json::Value),
        |p| p["epoch"] = 9.into(),
        |p| p["batch"] = 1923.into(),
        |p| p["loss_sum"] = 0.5.into(),
    ] {
        fs::write(&file, &original).unwrap();
        edit_position(&file, edit);
        let o = resume(&cfg, &out, &[]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{t}");
        assert!(
            t.contains(&file.display().to_string())
                && t.contains("do not match their checksum")
                && t.contains("refusing to resume from it"),
            "{t}"
        );
        assert!(!t.contains("resumed at"), "{t}");
        assert_eq!(
            fs::read_to_string(run.join("curve.csv")).unwrap(),
            curve_before
        );
        let status = fs::read_to_string(run.join("status.json")).unwrap();
        assert!(!status.contains("\"done\""), "{status}");
    }
    // The checkpoint as written resumes and finishes the run.
    fs::write(&file, &original).unwrap();
    let o = resume(&cfg, &out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("resumed at epoch 2 of 4"), "{}", text(&o));
    assert_eq!(curve(&run).len(), 4);
}

#[test]
fn a_run_resumed_on_other_data_is_refused_naming_both() {
    let dir = tmp("other-data");
    let cfg = config(&dir, "od", "[20]", "[0]", 50);
    let body = fs::read_to_string(&cfg)
        .unwrap()
        .replace("\"name\": \"synthetic\"", "\"name\": \"mnist\"")
        .replace(
            "\"kinds\": [\"plain\", \"highway\"]",
            "\"kinds\": [\"highway\"]",
        );
    fs::write(&cfg, body).unwrap();
    let first = mnist_files(&dir.join("first"), 2048, 28, 10, 28);
    let out = dir.join("out");
    let data = |d: &Path| ["--data-dir".to_string(), d.display().to_string()];
    let args = data(&first);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = killed_after_checkpoint(&cfg, &out, &args);
    let spec_before = fs::read_to_string(run.join("spec.json")).unwrap();
    // Other pixels, the same layout.
    let other = mnist_files(&dir.join("other"), 2048, 28, 10, 28);
    let images = highway_data::idx::encode(&[2048, 28, 28], &vec![200u8; 2048 * 784]);
    fs::write(other.join("mnist/train-images-idx3-ubyte"), images).unwrap();
    let o = resume(&cfg, &out, &["--data-dir", other.to_str().unwrap()]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    let spec: serde_json::Value = serde_json::from_str(&spec_before).unwrap();
    let then = spec["data"]["fingerprint"].as_str().unwrap();
    assert!(
        t.contains("state.safetensors")
            && t.contains(&format!("trained on other data (fingerprint {then}"))
            && t.contains("has fingerprint "),
        "{t}"
    );
    assert_eq!(
        fs::read_to_string(run.join("spec.json")).unwrap(),
        spec_before,
        "the record of the data trained on is kept"
    );
    assert!(run.join("checkpoint/state.safetensors").is_file());
}

#[test]
fn an_oversized_checkpoint_is_refused_before_it_is_read() {
    let dir = tmp("oversized");
    let cfg = long_config(&dir, 64, 20, 8192, 4);
    let out = dir.join("out");
    let run = killed_after_checkpoint(&cfg, &out, &[]);
    let file = run.join("checkpoint/state.safetensors");
    // A sparse file of 64 GiB: were it read, this process would run out of memory.
    fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(64 << 30)
        .unwrap();
    let o = resume(&cfg, &out, &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(&file.display().to_string()) && t.contains("bytes of tensors, more than the"),
        "{t}"
    );
}

/// A cut-short checkpoint is named once in the message.
#[test]
fn a_truncated_checkpoint_is_named_once() {
    let dir = tmp("truncated");
    let cfg = long_config(&dir, 64, 20, 8192, 4);
    let out = dir.join("out");
    let run = killed_after_checkpoint(&cfg, &out, &[]);
    let file = run.join("checkpoint/state.safetensors");
    let bytes = fs::read(&file).unwrap();
    fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let o = resume(&cfg, &out, &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    let failed = t
        .lines()
        .find(|l| l.contains("failed:"))
        .unwrap_or_default();
    assert!(failed.contains("not a safetensors file"), "{t}");
    assert_eq!(
        failed.matches(&file.display().to_string()).count(),
        1,
        "{t}"
    );
}

/// A checkpoint that is a symbolic link (here to `/etc/passwd`) is refused as a link, by name,
/// and never followed.
#[test]
fn a_linked_checkpoint_is_refused_as_a_link() {
    let dir = tmp("linked");
    let cfg = long_config(&dir, 64, 20, 8192, 4);
    let out = dir.join("out");
    let run = killed_after_checkpoint(&cfg, &out, &[]);
    let file = run.join("checkpoint/state.safetensors");
    fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &file).unwrap();
    let o = resume(&cfg, &out, &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    let want = format!("{}: is a symbolic link", file.display());
    assert!(t.contains(&want), "{t}");
    assert!(!t.contains("header announces"), "{t}");
}

/// Resumed on another backend with checkpoints turned off, and stopped: the status keeps both
/// backends, and says that the older checkpoint is still the one to continue from.
#[test]
fn a_resumed_run_keeps_its_backends_and_its_older_checkpoint() {
    let dir = tmp("other-backend");
    let cfg = long_config(&dir, 64, 20, 8192, 4);
    let out = dir.join("out");
    let run = killed_after_checkpoint(&cfg, &out, &[]);
    let child = bin()
        .args(["run", cfg.to_str().unwrap(), "--index", "0", "--out"])
        .arg(&out)
        .args([
            "--backend",
            "ndarray",
            "--set",
            "training.checkpoint_every=0",
        ])
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Its status names this process once it trains.
    let pid = child.id();
    let status = || -> serde_json::Value {
        fs::read_to_string(run.join("status.json"))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    };
    wait_until(|| status()["pid"] == pid);
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", text(&o));
    let s = status();
    assert_eq!(s["state"], "interrupted", "{s}");
    assert_eq!(s["backend"], "ndarray", "{s}");
    assert_eq!(s["earlier_backends"], serde_json::json!(["flex"]), "{s}");
    let message = s["message"].as_str().unwrap();
    assert!(
        message
            .contains("no new checkpoint (checkpoint_every is 0): it continues from its older one"),
        "{message}"
    );
    assert!(run.join("checkpoint/state.safetensors").is_file());
}
