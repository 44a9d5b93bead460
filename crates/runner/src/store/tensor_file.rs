//! Named `f32` tensors and string metadata in one safetensors file: the encoding shared by
//! model files and checkpoints. Safetensors is a plain header-plus-bytes format that Python
//! reads without Burn (`safetensors.numpy.load_file`).

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
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

/// The most bytes a header may have: the names, shapes and metadata of a 900-layer net's
/// checkpoint take well under a megabyte.
const MAX_HEADER: u64 = 16 << 20;

/// The metadata and tensors of the safetensors file at `path`, read only once its header says
/// that it is one and that its length fits: `max_values` says, from the header's metadata,
/// the most `f32` values its tensors may hold (the net's size), or why the file is refused.
/// A file larger than that, a special file, or a header that announces more than the file
/// holds is refused before its body is read. Errors name the file.
pub(super) fn read(
    path: &Path,
    max_values: impl FnOnce(&HashMap<String, String>) -> Result<u64>,
) -> Result<(HashMap<String, String>, Vec<NamedTensor>)> {
    read_checked(path, max_values).with_context(|| path.display().to_string())
}

/// The metadata of the safetensors file at `path`, from its header alone (its tensors are
/// neither read nor checked). Errors name the file.
pub(super) fn read_metadata(path: &Path) -> Result<HashMap<String, String>> {
    let header = open_header(path).with_context(|| path.display().to_string())?;
    Ok(header.metadata)
}

/// A file opened and read up to the end of its header.
struct Header {
    file: File,
    len: u64,
    prefix: [u8; 8],
    bytes: Vec<u8>,
    metadata: HashMap<String, String>,
}

const NOT_SAFETENSORS: &str = "not a safetensors file (truncated or damaged?)";

fn open_header(path: &Path) -> Result<Header> {
    super::files::refuse_link(path)?;
    if let Some(what) = highway_data::regular::not_regular(path) {
        bail!("is {what}, not a regular file");
    }
    let mut file = File::open(path).context("cannot open")?;
    let len = file.metadata().context("cannot read")?.len();
    let mut prefix = [0u8; 8];
    file.read_exact(&mut prefix).context(NOT_SAFETENSORS)?;
    let header_len = u64::from_le_bytes(prefix);
    if header_len > MAX_HEADER || header_len > len - 8 {
        bail!("{NOT_SAFETENSORS}: its header announces {header_len} bytes, the file has {len}");
    }
    let mut bytes = vec![0u8; header_len as usize];
    file.read_exact(&mut bytes).context(NOT_SAFETENSORS)?;
    let metadata = header_metadata(&bytes).context(NOT_SAFETENSORS)?;
    Ok(Header {
        file,
        len,
        prefix,
        bytes,
        metadata,
    })
}

fn read_checked(
    path: &Path,
    max_values: impl FnOnce(&HashMap<String, String>) -> Result<u64>,
) -> Result<(HashMap<String, String>, Vec<NamedTensor>)> {
    let Header {
        mut file,
        len,
        prefix,
        bytes: header,
        metadata,
    } = open_header(path)?;
    let header_len = header.len() as u64;
    let body = len - 8 - header_len;
    let max = max_values(&metadata)?.saturating_mul(4);
    if body > max {
        bail!("{body} bytes of tensors, more than the {max} that a net of its kind holds");
    }
    let mut bytes = Vec::with_capacity(len as usize);
    bytes.extend_from_slice(&prefix);
    bytes.extend_from_slice(&header);
    // At most one byte more than measured: a file that grows meanwhile is refused by `decode`.
    (&mut file)
        .take(body + 1)
        .read_to_end(&mut bytes)
        .context("cannot read")?;
    decode(&bytes)
}

/// The `__metadata__` of a safetensors header.
fn header_metadata(header: &[u8]) -> Result<HashMap<String, String>> {
    let mut entries: HashMap<String, serde_json::Value> = serde_json::from_slice(header)?;
    Ok(match entries.remove("__metadata__") {
        Some(metadata) => serde_json::from_value(metadata)?,
        None => HashMap::new(),
    })
}

/// The metadata and tensors of a file's `bytes`; the caller names the file in errors.
fn decode(bytes: &[u8]) -> Result<(HashMap<String, String>, Vec<NamedTensor>)> {
    let file = SafeTensors::deserialize(bytes)
        .context("not a safetensors file (truncated or damaged?)")?;
    let (_, header) = SafeTensors::read_metadata(bytes)?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let mut tensors = Vec::new();
    for (tensor_name, view) in file.tensors() {
        if view.dtype() != Dtype::F32 {
            bail!("tensor '{tensor_name}' is {:?}, expected F32", view.dtype());
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

/// A checksum of `entries` (key and value pairs, in the order given, each string ended by a
/// zero byte) and tensors (their names and bytes, in name order), by FNV-1a, to tell a
/// complete file from one that parses but holds other bytes. Without entries it is the
/// checksum of the tensors alone.
pub(super) fn checksum(entries: &[(&str, &str)], tensors: &[NamedTensor]) -> String {
    let mut sorted: Vec<&NamedTensor> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut bytes = Vec::new();
    for (key, value) in entries {
        for text in [key, value] {
            bytes.extend_from_slice(text.as_bytes());
            bytes.push(0);
        }
    }
    for t in sorted {
        bytes.extend_from_slice(t.name.as_bytes());
        bytes.extend(le_bytes(&t.values));
    }
    format!("{:016x}", highway_rng::fnv1a(&bytes))
}
