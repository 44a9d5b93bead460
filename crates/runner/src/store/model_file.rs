//! Trained models on disk: `model.safetensors` in the run folder, written when the config asks
//! for it (`training.save_model`; which runs keep one is `kept_models.rs`). Its metadata carries the model config as JSON, so the file
//! alone is enough to rebuild the net.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use burn::tensor::Device;
use highway_model::{Mlp, ModelConfig};

use super::tensor_file;
use crate::store;

/// The model file's name in a run folder.
pub(super) const FILE: &str = "model.safetensors";
/// The metadata key of the layout version, and its value.
const FORMAT_KEY: &str = "format";
const FORMAT: &str = "highway-mlp/1";
/// The metadata key of the model config (JSON).
const MODEL_KEY: &str = "model";

/// Writes `net` and its config to `path`, atomically.
pub(super) fn save(path: &Path, net: &Mlp, config: &ModelConfig) -> Result<()> {
    let metadata = HashMap::from([
        (FORMAT_KEY.to_string(), FORMAT.to_string()),
        (MODEL_KEY.to_string(), serde_json::to_string(config)?),
    ]);
    let file = tensor_file::encode(&net.tensors(), metadata)
        .with_context(|| format!("{}: cannot encode the model", path.display()))?;
    store::write_atomic(path, &file)
}

/// Reads a model file written by [`save`] and rebuilds the net on `device`. The file's size is
/// checked against the net its metadata describes before its tensors are read.
pub(super) fn load(path: &Path, device: &Device) -> Result<(ModelConfig, Mlp)> {
    let name = path.display();
    if !path.exists() {
        bail!("{name}: no model here");
    }
    let mut config = None;
    let (_, tensors) = tensor_file::read(path, |meta| {
        let c = model_config(meta)?;
        let values = c.param_count() as u64;
        config = Some(c);
        Ok(values)
    })?;
    let config = config.context("the model config was read")?;
    let net = config
        .load(tensors, device)
        .with_context(|| format!("{name}: does not match its own model config"))?;
    Ok((config, net))
}

/// The model config of a model file's metadata; why the file is not a model file otherwise.
fn model_config(meta: &HashMap<String, String>) -> Result<ModelConfig> {
    if meta.get(FORMAT_KEY).map(String::as_str) != Some(FORMAT) {
        bail!("not a highway model (metadata '{FORMAT_KEY}' is not '{FORMAT}')");
    }
    let model = meta
        .get(MODEL_KEY)
        .with_context(|| format!("no '{MODEL_KEY}' entry in the metadata"))?;
    serde_json::from_str(model)
        .with_context(|| format!("the '{MODEL_KEY}' metadata is not a model config"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Tensor, TensorData};
    use highway_model::{Activation, Kind, WeightInit};

    fn config() -> ModelConfig {
        ModelConfig {
            kind: Kind::Highway,
            depth: 3,
            width: 4,
            input_size: 6,
            classes: 3,
            activation: Activation::Relu,
            gate_bias: -3.0,
            residual_alpha: 0.0,
            init: WeightInit::Normalized,
        }
    }

    #[test]
    fn saved_models_load_back_with_the_same_outputs() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let path = dir.join(FILE);
        let d = Device::flex();
        let net = config().init(4, &d);
        save(&path, &net, &config()).unwrap();
        let (back_config, back) = load(&path, &d).unwrap();
        assert_eq!(back_config, config());
        let x = Tensor::<2>::from_data(
            TensorData::new((0..12).map(|i| i as f32 * 0.2 - 1.0).collect(), [2, 6]),
            &d,
        );
        assert_eq!(
            back.forward(x.clone()).into_data(),
            net.forward(x).into_data()
        );

        // A truncated file is an error that names it, not a panic.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        let err = format!("{:#}", load(&path, &d).unwrap_err());
        assert!(err.contains(FILE) && err.contains("truncated"), "{err}");
    }
}
