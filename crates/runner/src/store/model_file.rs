//! Trained models on disk: `model.safetensors` in the run folder, written when the config asks
//! for it (`training.save_model`). Safetensors is a plain header-plus-bytes format that Python
//! reads without Burn (`safetensors.numpy.load_file`); its metadata carries the model config as
//! JSON, so the file alone is enough to rebuild the net.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use burn::tensor::Device;
use highway_model::{Mlp, ModelConfig, NamedTensor};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::store;

/// The model file's name in a run folder.
pub const FILE: &str = "model.safetensors";
/// The metadata key of the layout version, and its value.
const FORMAT_KEY: &str = "format";
const FORMAT: &str = "highway-mlp/1";
/// The metadata key of the model config (JSON).
const MODEL_KEY: &str = "model";

/// Writes `net` and its config to `path`, atomically.
pub fn save(path: &Path, net: &Mlp, config: &ModelConfig) -> Result<()> {
    let tensors = net.tensors();
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|t| t.values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|(t, b)| {
            Ok((
                t.name.clone(),
                TensorView::new(Dtype::F32, t.shape.clone(), b)?,
            ))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let metadata = HashMap::from([
        (FORMAT_KEY.to_string(), FORMAT.to_string()),
        (MODEL_KEY.to_string(), serde_json::to_string(config)?),
    ]);
    let file = safetensors::serialize(views, Some(metadata))
        .with_context(|| format!("{}: cannot encode the model", path.display()))?;
    store::write_atomic(path, &file)
}

/// Reads a model file written by [`save`] and rebuilds the net on `device`.
pub fn load(path: &Path, device: &Device) -> Result<(ModelConfig, Mlp)> {
    let name = path.display();
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "{name}: cannot read the model (was the run trained with training.save_model = true?)"
        )
    })?;
    let file = SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{name}: not a safetensors file (truncated or damaged?)"))?;
    let (_, header) = SafeTensors::read_metadata(&bytes)?;
    let meta = header.metadata().clone().unwrap_or_default();
    if meta.get(FORMAT_KEY).map(String::as_str) != Some(FORMAT) {
        bail!("{name}: not a highway model (metadata '{FORMAT_KEY}' is not '{FORMAT}')");
    }
    let config: ModelConfig = serde_json::from_str(
        meta.get(MODEL_KEY)
            .with_context(|| format!("{name}: no '{MODEL_KEY}' entry in the metadata"))?,
    )
    .with_context(|| format!("{name}: the '{MODEL_KEY}' metadata is not a model config"))?;
    let mut tensors = Vec::new();
    for (tensor_name, view) in file.tensors() {
        if view.dtype() != Dtype::F32 {
            bail!(
                "{name}: tensor '{tensor_name}' is {:?}, expected F32",
                view.dtype()
            );
        }
        tensors.push(NamedTensor {
            name: tensor_name,
            shape: view.shape().to_vec(),
            values: view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        });
    }
    let net = config
        .load(tensors, device)
        .with_context(|| format!("{name}: does not match its own model config"))?;
    Ok((config, net))
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
            init: WeightInit::Normalized,
        }
    }

    #[test]
    fn saved_models_load_back_with_the_same_outputs() {
        let dir = std::env::temp_dir().join(format!("highway-model-file-{}", std::process::id()));
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
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
