//! A run's checkpoint, `runs/<id>/checkpoint/state.safetensors`: the net, the optimiser's state
//! of every parameter (SGD's velocity, Adam's two moments), and where training stands, so that a stopped run continues exactly where it
//! was, bit for bit.
//!
//! One file, written under a temporary name and renamed into place, so a kill leaves either the
//! previous checkpoint or the new one. The header's metadata holds the format, the run id, the
//! model config, the fingerprint of the data trained on, the [`Position`] and a checksum of all
//! of it and the tensors. Nothing in it is trusted unchecked: a file larger than the net can
//! fill is refused before it is read, and one whose format, run, net, data or checksum does not
//! match, or whose position is not a place in the run's plan, is refused with a message that
//! names it, never loaded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use highway_model::{ModelConfig, NamedTensor};
use serde::{Deserialize, Serialize};

use super::spec::DataRecord;
use super::{tensor_file, write_atomic, CurveRow, Spec};

/// The checkpoint folder in a run folder, and the file in it.
pub(super) const DIR: &str = "checkpoint";
pub(super) const FILE: &str = "state.safetensors";
/// The layout version written. Version 2 adds the data's fingerprint and checksums the
/// metadata with the tensors.
const FORMAT: &str = "highway-checkpoint/2";
/// The version before, still read (a run stopped by an older build continues): its checksum
/// covers the tensors only, and its data is the one the run's earlier `spec.json` names.
const FORMAT_1: &str = "highway-checkpoint/1";
/// The slots of SGD's state per parameter (its velocity) and of Adam's (its first and second
/// moments): the prefixes of their tensors' names, `velocity.highway.3.w_t`,
/// `adam_m.highway.3.w_t`. Adam's step count, which its bias correction needs, is the
/// position's `step`.
pub(crate) const SGD_SLOTS: &[&str] = &["velocity"];
pub(crate) const ADAM_SLOTS: &[&str] = &["adam_m", "adam_v"];
/// The metadata key of the checksum, the one entry it does not cover.
const CHECKSUM: &str = "checksum";
/// The metadata key of the training losses of the epochs before the checkpoint, as the run's
/// curve held them when it was written: what the checkpoint vouches for.
const LOSSES: &str = "losses";
/// What happens to a checkpoint that is refused, and what the user can do.
const REFUSED: &str = "refusing to resume from it (delete it to train the run from epoch 1)";

/// Where training stands: everything the next step depends on besides the tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// The epoch to continue in (1-based), and the batch of its order to continue from (0: the
    /// epoch's start).
    pub epoch: usize,
    pub batch: usize,
    /// Steps taken so far (the learning rate may decay per step).
    pub step: usize,
    /// The first loss read back: the reference of the divergence check.
    pub first_loss: Option<f64>,
    /// The epoch's running sums so far: loss times batch size, and correct predictions. A
    /// loss sum that blew up (JSON writes it as `null`) reads back as NaN: the epoch's end
    /// then records the run as diverged.
    #[serde(deserialize_with = "nan_if_null")]
    pub loss_sum: f32,
    pub correct_sum: i64,
    /// Seconds of training before this checkpoint, over every earlier attempt of the run.
    pub wall_seconds: f64,
    /// Seconds of the current epoch before this checkpoint (its `seconds` column).
    pub epoch_seconds: f64,
}

/// What the checkpoint of a run folder vouches for.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Vouched {
    /// There is no checkpoint.
    Nothing,
    /// There is one, but it cannot say: it cannot be read, it is another run's, or it was
    /// written before checkpoints vouched for losses. Its loading will say what is wrong.
    Unknown,
    /// The training losses of the epochs before it, as the run's curve held them.
    Losses(Vec<f64>),
}

/// Whether the run folder `run_dir` holds a checkpoint (a link counts: its loading refuses it).
pub(super) fn exists(run_dir: &Path) -> bool {
    path(run_dir).symlink_metadata().is_ok()
}

/// What the checkpoint in the folder of run `id` vouches for, read from its header alone.
pub(super) fn vouched(run_dir: &Path, id: &str) -> Vouched {
    if !exists(run_dir) {
        return Vouched::Nothing;
    }
    let Ok(metadata) = tensor_file::read_metadata(&path(run_dir)) else {
        return Vouched::Unknown;
    };
    if metadata.get("run").map(String::as_str) != Some(id) {
        return Vouched::Unknown;
    }
    match metadata.get(LOSSES).map(|l| serde_json::from_str(l)) {
        Some(Ok(losses)) => Vouched::Losses(losses),
        _ => Vouched::Unknown,
    }
}

/// Why `curve` is not the curve that `losses` (a checkpoint's) vouch for: an epoch whose
/// training loss differs, or that is missing; `None` when it is.
pub(super) fn unvouched(curve: &[CurveRow], losses: &[f64]) -> Option<String> {
    losses.iter().enumerate().find_map(|(i, &want)| {
        let epoch = i + 1;
        match curve.iter().find(|r| r.epoch == epoch) {
            Some(r) if r.train_loss.to_bits() == want.to_bits() => None,
            Some(r) => Some(format!(
                "its training loss of epoch {epoch} is {:e}, but the run's checkpoint vouches for \
                 {want:e} (edited after the checkpoint was written?)",
                r.train_loss
            )),
            None => Some(format!(
                "it has no row for epoch {epoch}, which the run's checkpoint vouches for"
            )),
        }
    })
}

/// Refuses (by `refuse`) a checkpoint whose metadata `meta` (of format `format`) names another
/// run, another net or other data than the run `spec`; `earlier` as for [`load`].
fn belongs(
    meta: &HashMap<String, String>,
    format: &str,
    spec: &Spec,
    earlier: Option<&DataRecord>,
    refuse: &dyn Fn(String) -> anyhow::Error,
) -> Result<()> {
    let get = |key: &str| {
        meta.get(key)
            .map(String::as_str)
            .ok_or_else(|| refuse(format!("no '{key}' in its metadata")))
    };
    let run = get("run")?;
    if run != spec.id() {
        return Err(refuse(format!(
            "it belongs to run '{run}', not '{}'",
            spec.id()
        )));
    }
    let saved: ModelConfig = serde_json::from_str(get("model")?)
        .map_err(|e| refuse(format!("its model config does not parse: {e}")))?;
    if saved != spec.model {
        return Err(refuse(format!(
            "it holds another net ({saved:?}; this run trains {:?})",
            spec.model
        )));
    }
    let trained_on = match format {
        FORMAT => meta.get("data").map(String::as_str),
        _ => earlier.and_then(|d| d.fingerprint.as_deref()),
    };
    if let (Some(then), Some(now)) = (trained_on, spec.data.fingerprint.as_deref()) {
        if then != now {
            // The files dataset's files, as the run's earlier spec recorded them.
            let changed = earlier.map_or_else(Vec::new, |d| d.changed_files(&spec.data.files));
            let changed = match changed.is_empty() {
                true => String::new(),
                false => format!("; changed since: {}", changed.join(", ")),
            };
            return Err(refuse(format!(
                "it was trained on other data (fingerprint {then}; the data loaded now, {:?} \
                 from the data folder given, has fingerprint {now}{changed})",
                spec.data.dataset
            )));
        }
    }
    Ok(())
}

/// A checkpoint's tensors as the net's parameters and the optimiser's state.
fn split_state(tensors: Vec<NamedTensor>) -> (Vec<NamedTensor>, Vec<NamedTensor>) {
    let is_state = |name: &str| {
        SGD_SLOTS.iter().chain(ADAM_SLOTS).any(|slot| {
            name.strip_prefix(slot)
                .is_some_and(|rest| rest.starts_with('.'))
        })
    };
    let (state, params) = tensors.into_iter().partition(|t| is_state(&t.name));
    (params, state)
}

impl Position {
    /// The start of a run: epoch 1, nothing done.
    pub fn start() -> Position {
        Position {
            epoch: 1,
            batch: 0,
            step: 0,
            first_loss: None,
            loss_sum: 0.0,
            correct_sum: 0,
            wall_seconds: 0.0,
            epoch_seconds: 0.0,
        }
    }
}

fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    Ok(Option::<f32>::deserialize(d)?.unwrap_or(f32::NAN))
}

/// A checkpoint's contents.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub position: Position,
    /// The net's parameters, named as in a model file.
    pub params: Vec<NamedTensor>,
    /// The optimiser's state, each tensor named `<slot>.<parameter>` (`velocity.input.bias`;
    /// see [`SGD_SLOTS`], [`ADAM_SLOTS`]); a parameter without one has taken no step yet.
    pub optimizer: Vec<NamedTensor>,
}

/// The checkpoint file of the run folder `run_dir`.
pub(super) fn path(run_dir: &Path) -> PathBuf {
    run_dir.join(DIR).join(FILE)
}

/// Writes `checkpoint` of the run `spec` atomically, vouching for the training losses of the
/// epochs before it, `losses` (the curve's, in order); returns its size in bytes.
pub(super) fn save(
    run_dir: &Path,
    spec: &Spec,
    checkpoint: &Checkpoint,
    losses: &[f64],
) -> Result<u64> {
    let mut tensors = checkpoint.params.clone();
    tensors.extend(checkpoint.optimizer.iter().cloned());
    let mut metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("run".to_string(), spec.id().to_string()),
        ("model".to_string(), serde_json::to_string(&spec.model)?),
        (
            "position".to_string(),
            serde_json::to_string(&checkpoint.position)?,
        ),
        (LOSSES.to_string(), serde_json::to_string(losses)?),
    ]);
    if let Some(fingerprint) = &spec.data.fingerprint {
        metadata.insert("data".to_string(), fingerprint.clone());
    }
    metadata.insert(CHECKSUM.to_string(), checksum(&metadata, &tensors));
    let path = path(run_dir);
    let bytes = tensor_file::encode(&tensors, metadata)
        .with_context(|| format!("{}: cannot encode the checkpoint", path.display()))?;
    write_atomic(&path, &bytes)?;
    Ok(bytes.len() as u64)
}

/// The checksum of a checkpoint of today's format: every metadata entry but the checksum
/// itself, and the tensors.
fn checksum(metadata: &HashMap<String, String>, tensors: &[NamedTensor]) -> String {
    let mut entries: Vec<(&str, &str)> = metadata
        .iter()
        .filter(|(key, _)| key.as_str() != CHECKSUM)
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    entries.sort_unstable();
    tensor_file::checksum(&entries, tensors)
}

/// The checkpoint of the run `spec` in `run_dir`, if there is one; an error that names the
/// file if there is one that does not belong to this run (another id, net, format or data) or
/// is damaged. `earlier` is the data record of the run's `spec.json` before this attempt: its
/// fingerprint is the data a checkpoint of the format before today's was trained on, and its
/// files are named when they changed. Temporary files
/// left by a writer that was killed are removed.
pub(super) fn load(
    run_dir: &Path,
    spec: &Spec,
    earlier: Option<&DataRecord>,
) -> Result<Option<Checkpoint>> {
    // The run lock is held: any temporary file here is a killed writer's.
    super::files::remove_stale_temporaries(&run_dir.join(DIR), std::time::Duration::ZERO);
    let path = path(run_dir);
    if path.symlink_metadata().is_err() {
        return Ok(None);
    }
    let refuse = |why: String| anyhow::anyhow!("{}: {why}; {REFUSED}", path.display());
    // Its errors name the file.
    let slots = match spec.run.training.optimizer.is_sgd() {
        true => SGD_SLOTS.len(),
        false => ADAM_SLOTS.len(),
    };
    let max_values = (1 + slots as u64) * spec.model.param_count() as u64;
    let (meta, tensors) = tensor_file::read(&path, |_| Ok(max_values))
        .map_err(|e| anyhow::anyhow!("{e:#}; {REFUSED}"))?;
    let get = |key: &str| {
        meta.get(key)
            .map(String::as_str)
            .ok_or_else(|| refuse(format!("no '{key}' in its metadata")))
    };
    let format = get("format")?;
    let sum = match format {
        FORMAT => checksum(&meta, &tensors),
        FORMAT_1 => tensor_file::checksum(&[], &tensors),
        _ => {
            return Err(refuse(format!(
                "format '{format}', this build reads '{FORMAT}' and '{FORMAT_1}'"
            )))
        }
    };
    if get(CHECKSUM)? != sum {
        return Err(refuse(
            "its contents do not match their checksum (damaged or edited)".into(),
        ));
    }
    belongs(&meta, format, spec, earlier, &refuse)?;
    let position: Position = serde_json::from_str(get("position")?)
        .map_err(|e| refuse(format!("its position does not parse: {e}")))?;
    position.check(spec).map_err(refuse)?;
    let (params, optimizer) = split_state(tensors);
    Ok(Some(Checkpoint {
        position,
        params,
        optimizer,
    }))
}

impl Position {
    /// Whether this is a place in the plan of the run `spec`, where a checkpoint can stand:
    /// an epoch of the run, a batch of that epoch, the steps those make, and sums that the
    /// batches taken can have; why not, otherwise.
    fn check(&self, spec: &Spec) -> Result<(), String> {
        let t = &spec.run.training;
        let steps_per_epoch = spec.data.train_examples.div_ceil(t.batch_size.max(1));
        let Position {
            epoch, batch, step, ..
        } = *self;
        if !(1..=t.epochs).contains(&epoch) {
            return Err(format!(
                "its position is epoch {epoch}, and the run has epochs 1 to {}",
                t.epochs
            ));
        }
        if batch > steps_per_epoch {
            return Err(format!(
                "its position is batch {batch}, and an epoch has {steps_per_epoch}"
            ));
        }
        let steps = (epoch - 1) * steps_per_epoch + batch;
        if step != steps {
            return Err(format!(
                "its position is step {step}, and epoch {epoch}, batch {batch} is step {steps}"
            ));
        }
        let seen = (batch * t.batch_size).min(spec.data.train_examples);
        let sums_fit = if batch == 0 {
            self.loss_sum == 0.0 && self.correct_sum == 0
        } else {
            // A loss that blew up between two read-backs may be infinite or NaN here: the
            // epoch's end records the run as diverged.
            (self.loss_sum >= 0.0 || self.loss_sum.is_nan())
                && (0..=seen as i64).contains(&self.correct_sum)
        };
        if !sums_fit {
            return Err(format!(
                "its epoch's running sums (loss {}, {} correct) cannot come from {batch} \
                 batches of {seen} examples",
                self.loss_sum, self.correct_sum
            ));
        }
        let finite = |x: f64| x.is_finite() && x >= 0.0;
        let first_ok = self.first_loss.is_none_or(|l| l.is_finite());
        if !(finite(self.wall_seconds) && finite(self.epoch_seconds) && first_ok) {
            return Err(format!(
                "its times ({} s, {} s in the epoch) or first loss ({:?}) are not possible",
                self.wall_seconds, self.epoch_seconds, self.first_loss
            ));
        }
        Ok(())
    }
}

/// Removes the checkpoint of a run that has finished: it keeps no state it does not need.
pub(super) fn remove(run_dir: &Path) -> Result<()> {
    let dir = run_dir.join(DIR);
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("{}: cannot remove", dir.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec of run `id`: a highway net of width `width` (3 layers, 4 inputs, 2 classes),
    /// 4 epochs of 10 batches of 10 examples, on data of fingerprint `data`.
    fn spec(id: &str, width: usize, data: &str) -> Spec {
        let model = serde_json::json!({"kind": "highway", "depth": 3, "width": width,
            "input_size": 4, "classes": 2, "activation": "relu", "gate_bias": -2.0,
            "init": "normalized"});
        serde_json::from_value(serde_json::json!({
            "data": {"dataset": "synthetic", "fingerprint": data, "eval_examples": 10,
                "eval_split": "test", "mean": [0.0], "preprocess": "none", "std": [1.0],
                "train_examples": 100},
            "model": model,
            "run": {"depth": 3, "id": id, "index": 0, "kind": "highway", "model": model,
                "seed": 0, "trial": null, "training": {"batch_size": 10, "decay_every": "epoch",
                "divergence_factor": 10.0, "epochs": 4, "gradient_checkpointing": false,
                "lr": 0.1, "lr_decay": 1.0, "momentum": 0.9, "nesterov": false,
                "weight_decay": 0.0}}
        }))
        .unwrap()
    }

    fn checkpoint() -> Checkpoint {
        let t = |name: &str, values: Vec<f32>| NamedTensor {
            name: name.into(),
            shape: vec![values.len()],
            values,
        };
        Checkpoint {
            position: Position {
                epoch: 3,
                batch: 7,
                step: 27,
                first_loss: Some(2.3),
                loss_sum: 12.5,
                correct_sum: 50,
                wall_seconds: 61.5,
                epoch_seconds: 4.0,
            },
            params: vec![t("input.bias", vec![1.0, -0.0, f32::MIN_POSITIVE / 3.0])],
            optimizer: vec![t("velocity.input.bias", vec![0.5, 1e-30, -2.0])],
        }
    }

    #[test]
    fn round_trip_is_exact_and_a_finished_run_keeps_none() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let c = checkpoint();
        let a = spec("run-a", 5, "d1");
        assert!(save(&dir, &a, &c, &[2.5, 1.25]).unwrap() > 0);
        assert_eq!(vouched(&dir, "run-a"), Vouched::Losses(vec![2.5, 1.25]));
        assert_eq!(vouched(&dir, "run-b"), Vouched::Unknown, "another run's");
        let back = load(&dir, &a, None).unwrap().unwrap();
        // Bit for bit, denormals and negative zero included.
        let bits = |c: &Checkpoint| {
            c.params
                .iter()
                .chain(&c.optimizer)
                .flat_map(|t| t.values.iter().map(|v| v.to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&back), bits(&c));
        assert_eq!(back.position, c.position);
        remove(&dir).unwrap();
        assert!(load(&dir, &a, None).unwrap().is_none());
    }

    #[test]
    fn checkpoints_of_other_runs_nets_data_formats_or_damaged_are_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        save(&dir, &spec("run-a", 5, "d1"), &checkpoint(), &[]).unwrap();
        let err = |s: Spec| format!("{:#}", load(&dir, &s, None).unwrap_err());
        let file = path(&dir).display().to_string();
        let e = err(spec("run-b", 5, "d1"));
        assert!(
            e.contains(&file) && e.contains("belongs to run 'run-a'"),
            "{e}"
        );
        assert!(err(spec("run-a", 6, "d1")).contains("another net"));
        let e = err(spec("run-a", 5, "d2"));
        assert!(
            e.contains("trained on other data (fingerprint d1") && e.contains("fingerprint d2"),
            "{e}"
        );
        // A flipped byte in the data: it still parses, but the checksum tells.
        let mut bytes = std::fs::read(path(&dir)).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x40;
        std::fs::write(path(&dir), &bytes).unwrap();
        let e = err(spec("run-a", 5, "d1"));
        assert!(e.contains("checksum"), "{e}");
        // Cut short; the path is said once.
        std::fs::write(path(&dir), &bytes[..bytes.len() / 2]).unwrap();
        let e = err(spec("run-a", 5, "d1"));
        assert!(e.contains("not a safetensors file"), "{e}");
        assert_eq!(e.matches(&file).count(), 1, "{e}");
        // A model file is not a checkpoint.
        let meta = HashMap::from([("format".to_string(), "highway-mlp/1".to_string())]);
        std::fs::write(path(&dir), tensor_file::encode(&[], meta).unwrap()).unwrap();
        assert!(err(spec("run-a", 5, "d1")).contains("format 'highway-mlp/1'"));
        // A writer killed mid-write left a temporary file: it is cleaned up.
        let stale = dir.join(DIR).join(".state.safetensors.tmp-99-0");
        std::fs::write(&stale, b"partial").unwrap();
        let _ = load(&dir, &spec("run-a", 5, "d1"), None);
        assert!(!stale.exists());
    }

    /// A checkpoint whose position is no place of the run's plan is refused, whole-file
    /// checksum or not (written here through `save`, as a bug would write it).
    #[test]
    fn positions_outside_the_plan_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let a = spec("run-a", 5, "d1");
        let at = |edit: &dyn Fn(&mut Position)| {
            let mut c = checkpoint();
            edit(&mut c.position);
            save(&dir, &a, &c, &[]).unwrap();
            load(&dir, &a, None)
                .map(|_| ())
                .map_err(|e| format!("{e:#}"))
        };
        assert!(at(&|_| {}).is_ok());
        // The epoch's end: the next epoch's start.
        assert!(
            at(&|p| (p.epoch, p.batch, p.step, p.loss_sum, p.correct_sum) = (4, 0, 30, 0.0, 0))
                .is_ok()
        );
        // A stop after an epoch's last step, before its end was recorded.
        assert!(at(&|p| (p.batch, p.step) = (10, 30)).is_ok());
        // A stop after the loss blew up between two read-backs.
        assert!(at(&|p| p.loss_sum = f32::INFINITY).is_ok());
        for (edit, want) in [
            (
                &(|p: &mut Position| p.epoch = 0) as &dyn Fn(&mut Position),
                "epoch 0, and the run has epochs 1 to 4",
            ),
            (&|p| p.epoch = 9, "epoch 9"),
            (&|p| p.batch = 11, "batch 11, and an epoch has 10"),
            (&|p| p.step = 26, "step 26, and epoch 3, batch 7 is step 27"),
            (
                &|p| p.correct_sum = 71,
                "cannot come from 7 batches of 70 examples",
            ),
            (&|p| p.loss_sum = -1.0, "running sums"),
            (&|p| (p.batch, p.step) = (0, 20), "running sums"),
            (&|p| p.wall_seconds = -1.0, "times"),
        ] {
            let e = at(edit).unwrap_err();
            assert!(e.contains(want) && e.contains(REFUSED), "{want}: {e}");
        }
    }

    /// A checkpoint of the format before today's (tensors checksummed alone, no data
    /// fingerprint) still loads: its data is the one the run's earlier spec names.
    #[test]
    fn a_checkpoint_of_the_format_before_loads_and_its_data_is_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let a = spec("run-a", 5, "d1");
        let c = checkpoint();
        let mut tensors = c.params.clone();
        tensors.extend(c.optimizer.iter().cloned());
        let meta = HashMap::from([
            ("format".to_string(), FORMAT_1.to_string()),
            ("run".to_string(), "run-a".to_string()),
            (
                "model".to_string(),
                serde_json::to_string(&a.model).unwrap(),
            ),
            (
                "position".to_string(),
                serde_json::to_string(&c.position).unwrap(),
            ),
            (CHECKSUM.to_string(), tensor_file::checksum(&[], &tensors)),
        ]);
        std::fs::create_dir_all(dir.join(DIR)).unwrap();
        std::fs::write(path(&dir), tensor_file::encode(&tensors, meta).unwrap()).unwrap();
        let earlier = |fingerprint: &str| spec("run-a", 5, fingerprint).data;
        assert_eq!(load(&dir, &a, Some(&earlier("d1"))).unwrap().unwrap(), c);
        assert_eq!(load(&dir, &a, None).unwrap().unwrap(), c);
        let e = format!("{:#}", load(&dir, &a, Some(&earlier("d0"))).unwrap_err());
        assert!(e.contains("trained on other data"), "{e}");
        // The files dataset's files that changed since the earlier spec are named.
        let file = |md5: &str| highway_data::SourceFile {
            path: "/d/x.npy".into(),
            md5: md5.into(),
            arrays: Vec::new(),
        };
        let mut now = a.clone();
        now.data.files = vec![file("b")];
        let mut then = earlier("d0");
        then.files = vec![file("a")];
        let e = format!("{:#}", load(&dir, &now, Some(&then)).unwrap_err());
        assert!(e.contains("changed since: /d/x.npy (MD5 a, now b))"), "{e}");
    }

    /// A file far larger than the net's parameters and velocities is refused before its body
    /// is read (a sparse file: it takes no disk).
    #[test]
    fn an_oversized_checkpoint_is_refused_before_it_is_read() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let a = spec("run-a", 5, "d1");
        save(&dir, &a, &checkpoint(), &[]).unwrap();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path(&dir))
            .unwrap();
        file.set_len(1 << 40).unwrap();
        let e = format!("{:#}", load(&dir, &a, None).unwrap_err());
        assert!(e.contains("more than the") && e.contains(REFUSED), "{e}");
    }

    /// A curve is vouched for when each epoch the checkpoint names has its loss, bit for bit.
    #[test]
    fn a_curve_is_vouched_for_bit_for_bit() {
        let row = |epoch: usize, train_loss: f64| CurveRow {
            epoch,
            train_loss,
            train_acc: 0.5,
            eval_loss: 1.0,
            eval_acc: 0.5,
            lr: 0.1,
            seconds: 1.0,
        };
        let curve = [row(1, 2.5), row(2, 1.25)];
        assert_eq!(unvouched(&curve, &[2.5, 1.25]), None);
        assert_eq!(unvouched(&curve, &[2.5]), None);
        let why = unvouched(&curve, &[2.5, 1.2500000000000002]).unwrap();
        assert!(
            why.starts_with("its training loss of epoch 2 is 1.25e0, but"),
            "{why}"
        );
        let why = unvouched(&curve[..1], &[2.5, 1.25]).unwrap();
        assert!(why.starts_with("it has no row for epoch 2"), "{why}");
    }
}
