//! safetensors files: named tensors, read by the `safetensors` crate, which checks the header
//! against the file (every tensor's bytes inside it, none overlapping) before handing a byte
//! out. Elements are little-endian, as the format fixes.

use std::path::Path;

use ::safetensors::{Dtype, SafeTensors};

use super::array::{sized, Array, Out, Widen, MAX_ARRAY_BYTES};
use crate::{regular, DataError, Result};

/// The file is read whole: two arrays, and a header of at most the 100 MB the format allows.
const MAX_FILE_BYTES: u64 = 2 * MAX_ARRAY_BYTES + (100 << 20);

/// The file at `path`, read whole, for [`tensor`].
pub fn open(path: &Path) -> Result<Vec<u8>> {
    regular::read_regular(path, MAX_FILE_BYTES)
}

/// The tensor `name` of the safetensors file `bytes` (read from `path`).
pub fn tensor<O: Out>(bytes: &[u8], path: &Path, name: &str) -> Result<Array<O>> {
    let invalid = |detail: String| DataError::Invalid {
        path: path.to_path_buf(),
        detail,
    };
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| invalid(format!("not a readable safetensors file: {e}")))?;
    let view = file.tensor(name).map_err(|_| {
        let mut names = file.names();
        names.sort();
        invalid(format!(
            "no tensor named '{name}' (it holds: {}); name the tensors in the dataset's files \
             section",
            names.join(", ")
        ))
    })?;
    let dtype = view.dtype();
    let shape = view.shape().to_vec();
    let what = format!("tensor '{name}'");
    if sized(&shape, dtype.bitsize().div_ceil(8)).is_none() {
        return Err(invalid(format!(
            "{what} has shape {shape:?}: more than the {MAX_ARRAY_BYTES} bytes an array may hold"
        )));
    }
    let data = view.data();
    let values = match dtype {
        Dtype::BOOL => decode(data, |b: [u8; 1]| b[0] != 0),
        Dtype::U8 => decode(data, u8::from_le_bytes),
        Dtype::I8 => decode(data, i8::from_le_bytes),
        Dtype::U16 => decode(data, u16::from_le_bytes),
        Dtype::I16 => decode(data, i16::from_le_bytes),
        Dtype::U32 => decode(data, u32::from_le_bytes),
        Dtype::I32 => decode(data, i32::from_le_bytes),
        Dtype::U64 => decode(data, u64::from_le_bytes),
        Dtype::I64 => decode(data, i64::from_le_bytes),
        Dtype::F16 => decode(data, half::f16::from_le_bytes),
        Dtype::BF16 => decode(data, half::bf16::from_le_bytes),
        Dtype::F32 => decode(data, f32::from_le_bytes),
        Dtype::F64 => decode(data, f64::from_le_bytes),
        other => {
            return Err(invalid(format!(
                "{what} has dtype {other:?}, not a number type this build reads (BOOL, integers, \
                 F16, BF16, F32, F64)"
            )))
        }
    };
    Ok(Array {
        shape,
        dtype: format!("{dtype:?}"),
        values,
    })
}

/// Little-endian elements of `N` bytes each, widened to `O`. `data` holds whole elements: the
/// `safetensors` crate checked its length against the shape.
fn decode<const N: usize, T: Widen, O: Out>(data: &[u8], from: impl Fn([u8; N]) -> T) -> Vec<O> {
    data.chunks_exact(N)
        .map(|c| {
            let mut b = [0u8; N];
            b.copy_from_slice(c);
            O::from_f64(from(b).widen())
        })
        .collect()
}

/// The names of the tensors of the safetensors file `bytes` (read from `path`), sorted.
pub fn names(bytes: &[u8], path: &Path) -> Result<Vec<String>> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| DataError::Invalid {
        path: path.to_path_buf(),
        detail: format!("not a readable safetensors file: {e}"),
    })?;
    let mut names: Vec<String> = file.names().into_iter().map(String::from).collect();
    names.sort();
    Ok(names)
}
