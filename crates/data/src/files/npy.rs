//! One NumPy `.npy` array from a stream of known length (a file, or an entry of an `.npz`
//! archive). The header is read by `npyz`; its element types are decoded by `npyz` too (either
//! byte order), and a Fortran-order array is reordered into C order.
//!
//! Nothing is allocated on a header's word alone: its announced length is checked against the
//! stream's before `npyz` reads it (`npyz` allocates what a header says it is long), and the
//! array's bytes against what the stream holds before a single element is read.

use std::io::{Cursor, Read};
use std::path::Path;

use npyz::{DType, NpyFile, Order, TypeChar};

use super::array::{fortran_to_c, sized, Array, Out, Widen};
use crate::{DataError, Result};

/// The magic string every `.npy` file starts with.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Reads the array `stream` holds, whose length is `len` bytes, as elements of type `O`.
/// `path` and `what` (`""`, or `"x.npy in the archive: "`) name it in errors.
pub fn read<O: Out>(mut stream: impl Read, len: u64, path: &Path, what: &str) -> Result<Array<O>> {
    let invalid = |detail: String| DataError::Invalid {
        path: path.to_path_buf(),
        detail: format!("{what}{detail}"),
    };
    let truncated = |detail: String| DataError::Truncated {
        path: path.to_path_buf(),
        detail: format!("{what}{detail}"),
    };
    // The fixed start: magic, version, and the header's length (2 bytes in version 1, 4 after).
    let mut start = [0u8; 12];
    let got = read_up_to(&mut stream, &mut start).map_err(|e| io(path, what, e))?;
    if got < 10 || &start[..6] != MAGIC {
        return Err(invalid(
            "not a NumPy .npy array (no \\x93NUMPY magic string at its start)".into(),
        ));
    }
    let (prefix, header_len) = header_length(&start, got).map_err(invalid)?;
    if prefix + header_len > len {
        return Err(truncated(format!(
            "its header announces {header_len} bytes of header text, but the array is only \
             {len} bytes long"
        )));
    }
    let header =
        npyz::NpyHeader::from_reader(Cursor::new(start[..got].to_vec()).chain(&mut stream))
            .map_err(|e| invalid(format!("unreadable .npy header: {e}")))?;
    let available = len - prefix - header_len;
    let dtype = header.dtype();
    let type_str = match &dtype {
        DType::Plain(t) => t.clone(),
        other => {
            return Err(invalid(format!(
                "dtype {} is a structured type: features and labels are arrays of numbers",
                other.descr()
            )))
        }
    };
    let shape: Vec<usize> = header.shape().iter().map(|&d| d as usize).collect();
    if header.shape().iter().any(|&d| d > usize::MAX as u64) {
        return Err(invalid(format!("shape {:?} is too large", header.shape())));
    }
    let item = type_str.num_bytes().unwrap_or(0);
    // Before the sizes: an array of objects or strings is refused as what it is.
    if !numeric(type_str.type_char(), item) {
        return Err(invalid(format!(
            "dtype {type_str} ({}) is not a number type this build reads (bool, integers, \
             float16, float32, float64)",
            describe(type_str.type_char())
        )));
    }
    let (n, bytes) = data_size(&shape, &type_str.to_string(), item, available).map_err(
        |(is_truncated, detail)| match is_truncated {
            true => truncated(detail),
            false => invalid(detail),
        },
    )?;
    let order = header.order();
    let file = NpyFile::with_header(header, (&mut stream).take(bytes));
    let values = values::<_, O>(file, type_str.type_char(), item, n, path, what)?;
    // A stream longer than its length said (an archive entry that inflates past its size).
    if read_up_to(&mut stream, &mut [0u8; 1]).map_err(|e| io(path, what, e))? > 0 {
        return Err(invalid(format!(
            "more bytes follow the {bytes} bytes of data that its header announces"
        )));
    }
    let values = match order {
        Order::C => values,
        Order::Fortran => fortran_to_c(&shape, &values),
    };
    Ok(Array {
        shape,
        dtype: type_str.to_string(),
        values,
    })
}

/// The element count and data bytes of an array of `shape` and `type_str` (`item` bytes an
/// element), when its file has `available` bytes after the header for exactly those; else
/// whether the file is truncated, and what is wrong.
fn data_size(
    shape: &[usize],
    type_str: &str,
    item: usize,
    available: u64,
) -> std::result::Result<(usize, u64), (bool, String)> {
    let Some((n, bytes)) = sized(shape, item) else {
        return Err((
            false,
            format!(
                "its header announces shape {shape:?} of {type_str}: more than the {} bytes an \
             array may hold",
                super::array::MAX_ARRAY_BYTES
            ),
        ));
    };
    if bytes > available {
        return Err((
            true,
            format!(
                "its header announces shape {shape:?} of {type_str} = {bytes} bytes of data, but \
             only {available} follow its header"
            ),
        ));
    }
    if bytes < available {
        return Err((
            false,
            format!(
                "{} bytes follow the {bytes} bytes of data that its header announces (shape \
             {shape:?} of {type_str}): not a .npy array as NumPy writes it",
                available - bytes
            ),
        ));
    }
    Ok((n, bytes))
}

/// From a `.npy` file's first `got` bytes (`start`): the bytes before its header text and
/// the header text's length (2 bytes in format 1.0, 4 in 2.0 and 3.0); else what is wrong.
fn header_length(start: &[u8; 12], got: usize) -> std::result::Result<(u64, u64), String> {
    Ok(match start[6] {
        1 => (10, u64::from(u16::from_le_bytes([start[8], start[9]]))),
        2 | 3 if got == 12 => (
            12,
            u64::from(u32::from_le_bytes([
                start[8], start[9], start[10], start[11],
            ])),
        ),
        v => {
            return Err(format!(
                "NumPy format version {v}.{} (this build reads 1.0, 2.0 and 3.0)",
                start[7]
            ))
        }
    })
}

/// The `n` elements of `file`, whose type in the file is `type_char` of `item` bytes (one that
/// [`numeric`] accepts), as `O`.
fn values<R: Read, O: Out>(
    file: NpyFile<R>,
    type_char: TypeChar,
    item: usize,
    n: usize,
    path: &Path,
    what: &str,
) -> Result<Vec<O>> {
    use TypeChar::*;
    Ok(match (type_char, item) {
        (Bool, 1) => elements::<bool, _, O>(file, n, path, what)?,
        (Uint, 1) => elements::<u8, _, O>(file, n, path, what)?,
        (Uint, 2) => elements::<u16, _, O>(file, n, path, what)?,
        (Uint, 4) => elements::<u32, _, O>(file, n, path, what)?,
        (Uint, 8) => elements::<u64, _, O>(file, n, path, what)?,
        (Int, 1) => elements::<i8, _, O>(file, n, path, what)?,
        (Int, 2) => elements::<i16, _, O>(file, n, path, what)?,
        (Int, 4) => elements::<i32, _, O>(file, n, path, what)?,
        (Int, 8) => elements::<i64, _, O>(file, n, path, what)?,
        (Float, 2) => elements::<half::f16, _, O>(file, n, path, what)?,
        (Float, 4) => elements::<f32, _, O>(file, n, path, what)?,
        (Float, 8) => elements::<f64, _, O>(file, n, path, what)?,
        _ => unreachable!("checked by `numeric`"),
    })
}

/// The `n` elements of `file`, of type `T` in the file, as `O`.
fn elements<T, R, O>(file: NpyFile<R>, n: usize, path: &Path, what: &str) -> Result<Vec<O>>
where
    T: npyz::Deserialize + Widen,
    R: Read,
    O: Out,
{
    let reader = file.data::<T>().map_err(|e| DataError::Invalid {
        path: path.to_path_buf(),
        detail: format!("{what}{e}"),
    })?;
    // `n` was checked against the bytes the stream holds.
    let mut values = Vec::with_capacity(n);
    for v in reader {
        values.push(O::from_f64(v.map_err(|e| io(path, what, e))?.widen()));
    }
    Ok(values)
}

/// Reads into `buf` until it is full or the stream ends; how many bytes were read.
fn read_up_to(stream: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The error of a failed read: a stream that ends early is truncated.
fn io(path: &Path, what: &str, e: std::io::Error) -> DataError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => DataError::Truncated {
            path: path.to_path_buf(),
            detail: format!("{what}the data ends before the array does"),
        },
        std::io::ErrorKind::InvalidData => DataError::Invalid {
            path: path.to_path_buf(),
            detail: format!("{what}{e}"),
        },
        _ => DataError::io(path, e),
    }
}

/// Whether elements of `kind` and `item` bytes are numbers read here.
fn numeric(kind: TypeChar, item: usize) -> bool {
    use TypeChar::*;
    matches!(
        (kind, item),
        (Bool, 1) | (Uint | Int, 1 | 2 | 4 | 8) | (Float, 2 | 4 | 8)
    )
}

/// What a NumPy type character stands for, for an error.
fn describe(kind: TypeChar) -> &'static str {
    match kind {
        TypeChar::Object => "Python objects, stored pickled",
        TypeChar::ByteStr | TypeChar::UnicodeStr => "strings",
        TypeChar::Complex => "complex numbers",
        TypeChar::TimeDelta | TypeChar::DateTime => "dates or times",
        TypeChar::RawData => "raw bytes",
        _ => "numbers of an unusual size",
    }
}
