//! Named `f32` tensors and string metadata in one safetensors file: the encoding shared by
//! model files and checkpoints. Safetensors is a plain header-plus-bytes format that Python
//! reads without Burn (`safetensors.numpy.load_file`).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use highway_model::NamedTensor;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

/// The file's bytes: every tensor as little-endian `f32`, and `metadata` in the header.
pub(super) fn encode(
    tensors: &[NamedTensor],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>> {
    let bytes: Vec<Vec<u8>> = tensors.iter().map(|t| le_bytes(&t.values)).collect();
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
    Ok(safetensors::serialize(views, Some(metadata))?)
}

/// The metadata and tensors of a file's `bytes`; errors name `path`.
pub(super) fn decode(
    path: &Path,
    bytes: &[u8],
) -> Result<(HashMap<String, String>, Vec<NamedTensor>)> {
    let name = path.display();
    let file = SafeTensors::deserialize(bytes)
        .with_context(|| format!("{name}: not a safetensors file (truncated or damaged?)"))?;
    let (_, header) = SafeTensors::read_metadata(bytes)?;
    let metadata = header.metadata().clone().unwrap_or_default();
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
    Ok((metadata, tensors))
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A checksum of tensors (FNV-1a over their names and bytes, in name order), to tell a
/// complete file from one that parses but holds other bytes.
pub(super) fn checksum(tensors: &[NamedTensor]) -> String {
    let mut sorted: Vec<&NamedTensor> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut bytes = Vec::new();
    for t in sorted {
        bytes.extend_from_slice(t.name.as_bytes());
        bytes.extend(le_bytes(&t.values));
    }
    format!("{:016x}", highway_rng::fnv1a(&bytes))
}
