//! A run's checkpoint, `runs/<id>/checkpoint/state.safetensors`: the net, the SGD velocity of
//! every parameter, and where training stands, so that a stopped run continues exactly where it
//! was, bit for bit.
//!
//! One file, written under a temporary name and renamed into place, so a kill leaves either the
//! previous checkpoint or the new one. The header's metadata holds the format, the run id, the
//! model config, the [`Position`] and a checksum of the tensors; a file whose format, run, net
//! or checksum does not match is refused with a message that names it, never loaded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use highway_model::{ModelConfig, NamedTensor};
use serde::{Deserialize, Serialize};

use super::{tensor_file, write_atomic};

/// The checkpoint folder in a run folder, and the file in it.
pub(super) const DIR: &str = "checkpoint";
pub(super) const FILE: &str = "state.safetensors";
/// The layout version; a file of another version is refused.
const FORMAT: &str = "highway-checkpoint/1";
/// The prefix of the velocity tensors' names: `velocity.highway.3.w_t`.
const VELOCITY: &str = "velocity.";

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
    /// The epoch's running sums so far: loss times batch size, and correct predictions.
    pub loss_sum: f32,
    pub correct_sum: i64,
    /// Seconds of training before this checkpoint, over every earlier attempt of the run.
    pub wall_seconds: f64,
    /// Seconds of the current epoch before this checkpoint (its `seconds` column).
    pub epoch_seconds: f64,
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

/// A checkpoint's contents.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub position: Position,
    /// The net's parameters, named as in a model file.
    pub params: Vec<NamedTensor>,
    /// The SGD velocity per parameter name; a parameter without one has taken no step yet.
    pub velocity: Vec<NamedTensor>,
}

/// The checkpoint file of the run folder `run_dir`.
pub(super) fn path(run_dir: &Path) -> PathBuf {
    run_dir.join(DIR).join(FILE)
}

/// Writes `checkpoint` of run `run_id` (a net of `model`) atomically; returns its size in bytes.
pub(super) fn save(
    run_dir: &Path,
    run_id: &str,
    model: &ModelConfig,
    checkpoint: &Checkpoint,
) -> Result<u64> {
    let mut tensors = checkpoint.params.clone();
    tensors.extend(checkpoint.velocity.iter().map(|v| NamedTensor {
        name: format!("{VELOCITY}{}", v.name),
        ..v.clone()
    }));
    let metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("run".to_string(), run_id.to_string()),
        ("model".to_string(), serde_json::to_string(model)?),
        (
            "position".to_string(),
            serde_json::to_string(&checkpoint.position)?,
        ),
        ("checksum".to_string(), tensor_file::checksum(&tensors)),
    ]);
    let path = path(run_dir);
    let bytes = tensor_file::encode(&tensors, metadata)
        .with_context(|| format!("{}: cannot encode the checkpoint", path.display()))?;
    write_atomic(&path, &bytes)?;
    Ok(bytes.len() as u64)
}

/// The checkpoint of run `run_id` in `run_dir`, if there is one; an error that names the file
/// if there is one that does not belong to this run (another id, another net, another format)
/// or is damaged. Temporary files left by a writer that was killed are removed.
pub(super) fn load(
    run_dir: &Path,
    run_id: &str,
    model: &ModelConfig,
) -> Result<Option<Checkpoint>> {
    // The run lock is held: any temporary file here is a killed writer's.
    super::files::remove_stale_temporaries(&run_dir.join(DIR), std::time::Duration::ZERO);
    let path = path(run_dir);
    if !path.exists() {
        return Ok(None);
    }
    let bytes = highway_data::regular::read_regular(&path, 1 << 34).context("cannot read")?;
    let refuse = |why: String| {
        anyhow::anyhow!(
            "{}: {why}; refusing to resume from it (delete it to train the run from epoch 1)",
            path.display()
        )
    };
    let (meta, tensors) =
        tensor_file::decode(&path, &bytes).map_err(|e| refuse(format!("{e:#}")))?;
    let get = |key: &str| {
        meta.get(key)
            .ok_or_else(|| refuse(format!("no '{key}' in its metadata")))
    };
    let format = get("format")?;
    if format != FORMAT {
        return Err(refuse(format!(
            "format '{format}', this build reads '{FORMAT}'"
        )));
    }
    let run = get("run")?;
    if run != run_id {
        return Err(refuse(format!("it belongs to run '{run}', not '{run_id}'")));
    }
    let saved: ModelConfig = serde_json::from_str(get("model")?)
        .map_err(|e| refuse(format!("its model config does not parse: {e}")))?;
    if &saved != model {
        return Err(refuse(format!(
            "it holds another net ({saved:?}; this run trains {model:?})"
        )));
    }
    let position: Position = serde_json::from_str(get("position")?)
        .map_err(|e| refuse(format!("its position does not parse: {e}")))?;
    if get("checksum")? != &tensor_file::checksum(&tensors) {
        return Err(refuse("its tensors do not match their checksum".into()));
    }
    let (velocity, params): (Vec<_>, Vec<_>) = tensors
        .into_iter()
        .partition(|t| t.name.starts_with(VELOCITY));
    let velocity = velocity
        .into_iter()
        .map(|v| NamedTensor {
            name: v.name[VELOCITY.len()..].to_string(),
            ..v
        })
        .collect();
    Ok(Some(Checkpoint {
        position,
        params,
        velocity,
    }))
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
    use highway_model::{Activation, Kind, WeightInit};

    use super::*;

    fn model(width: usize) -> ModelConfig {
        ModelConfig {
            kind: Kind::Highway,
            depth: 3,
            width,
            input_size: 4,
            classes: 2,
            activation: Activation::Relu,
            gate_bias: -2.0,
            init: WeightInit::Normalized,
        }
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
                batch: 17,
                step: 200,
                first_loss: Some(2.3),
                loss_sum: 12.5,
                correct_sum: 1000,
                wall_seconds: 61.5,
                epoch_seconds: 4.0,
            },
            params: vec![t("input.bias", vec![1.0, -0.0, f32::MIN_POSITIVE / 3.0])],
            velocity: vec![t("input.bias", vec![0.5, 1e-30, -2.0])],
        }
    }

    #[test]
    fn round_trip_is_exact_and_a_finished_run_keeps_none() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let c = checkpoint();
        assert!(save(&dir, "run-a", &model(5), &c).unwrap() > 0);
        let back = load(&dir, "run-a", &model(5)).unwrap().unwrap();
        // Bit for bit, denormals and negative zero included.
        let bits = |c: &Checkpoint| {
            c.params
                .iter()
                .chain(&c.velocity)
                .flat_map(|t| t.values.iter().map(|v| v.to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&back), bits(&c));
        assert_eq!(back.position, c.position);
        remove(&dir).unwrap();
        assert!(load(&dir, "run-a", &model(5)).unwrap().is_none());
    }

    #[test]
    fn checkpoints_of_other_runs_nets_formats_or_damaged_are_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        save(&dir, "run-a", &model(5), &checkpoint()).unwrap();
        let err =
            |id: &str, width: usize| format!("{:#}", load(&dir, id, &model(width)).unwrap_err());
        let file = path(&dir).display().to_string();
        let e = err("run-b", 5);
        assert!(
            e.contains(&file) && e.contains("belongs to run 'run-a'"),
            "{e}"
        );
        assert!(err("run-a", 6).contains("another net"));
        // A flipped byte in the data: it still parses, but the checksum tells.
        let mut bytes = std::fs::read(path(&dir)).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x40;
        std::fs::write(path(&dir), &bytes).unwrap();
        assert!(err("run-a", 5).contains("checksum"), "{}", err("run-a", 5));
        // Cut short.
        std::fs::write(path(&dir), &bytes[..bytes.len() / 2]).unwrap();
        assert!(err("run-a", 5).contains("not a safetensors file"));
        // A model file is not a checkpoint.
        let meta = HashMap::from([("format".to_string(), "highway-mlp/1".to_string())]);
        std::fs::write(path(&dir), tensor_file::encode(&[], meta).unwrap()).unwrap();
        assert!(err("run-a", 5).contains("format 'highway-mlp/1'"));
        // A writer killed mid-write left a temporary file: it is cleaned up.
        let stale = dir.join(DIR).join(".state.safetensors.tmp-99-0");
        std::fs::write(&stale, b"partial").unwrap();
        let _ = load(&dir, "run-a", &model(5));
        assert!(!stale.exists());
    }
}
