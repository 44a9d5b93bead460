//! Writing arrays in the formats read here (tests and tools make small datasets with these, as
//! with `idx::encode`): NumPy `.npy` and `.npz`, CSV, safetensors.

use std::io::Write;

use npyz::WriterBuilder;

pub use ::safetensors::Dtype;

/// A `.npy` array of `shape` holding `values` (C order, NumPy's default type for `T`).
pub fn npy<T: npyz::AutoSerialize>(shape: &[usize], values: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(&mut out)
        .begin_nd()
        .expect("writing to memory");
    writer.extend(values).expect("writing to memory");
    writer.finish().expect("writing to memory");
    out
}

/// An `.npz` archive of `.npy` arrays by name, deflated (`numpy.savez_compressed`) or stored
/// (`numpy.savez`).
pub fn npz(arrays: &[(&str, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let method = match deflate {
        true => zip::CompressionMethod::Deflated,
        false => zip::CompressionMethod::Stored,
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, npy) in arrays {
        zip.start_file(format!("{name}.npy"), options)
            .expect("writing to memory");
        zip.write_all(npy).expect("writing to memory");
    }
    zip.finish().expect("writing to memory").into_inner()
}

/// A safetensors file of tensors (name, dtype, shape, little-endian bytes).
pub fn safetensors(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views = tensors.iter().map(|(name, dtype, shape, data)| {
        let view = ::safetensors::tensor::TensorView::new(*dtype, shape.clone(), data)
            .expect("the bytes fit the shape");
        (name.to_string(), view)
    });
    ::safetensors::serialize(views, None).expect("writing to memory")
}

/// A CSV file: the header row, then each example's features and its label in a last column
/// named `label`. Features are written as Rust writes them, which reads back exactly.
pub fn csv<T: std::fmt::Display>(
    dim: usize,
    features: &[T],
    labels: &[u32],
    label: &str,
) -> Vec<u8> {
    let mut out = String::new();
    let names: Vec<String> = (0..dim).map(|j| format!("f{j}")).collect();
    out.push_str(&names.join(","));
    out.push_str(&format!(",{label}\n"));
    for (row, y) in features.chunks(dim.max(1)).zip(labels) {
        for v in row {
            out.push_str(&format!("{v},"));
        }
        out.push_str(&format!("{y}\n"));
    }
    out.into_bytes()
}

/// A `.npy` file written by hand: header `dict` (padded as NumPy pads it), then `data`.
pub fn npy_raw(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut text = dict.to_string();
    while !(10 + text.len() + 1).is_multiple_of(64) {
        text.push(' ');
    }
    text.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Replaces the uncompressed size of every entry of a zip archive (its local header and its
/// central directory record) with `size`.
pub fn claim_size(zip: &mut [u8], size: u32) {
    for at in 0..zip.len().saturating_sub(4) {
        match &zip[at..at + 4] {
            [0x50, 0x4b, 0x03, 0x04] => zip[at + 22..at + 26].copy_from_slice(&size.to_le_bytes()),
            [0x50, 0x4b, 0x01, 0x02] => zip[at + 24..at + 28].copy_from_slice(&size.to_le_bytes()),
            _ => {}
        }
    }
}
