//! The IDX format of MNIST and Fashion-MNIST, raw or gzipped.
//!
//! A big-endian header (magic `0x0000_08TT_0D` with type `08` = unsigned byte and `D` the number
//! of dimensions, then `D` sizes), followed by the bytes.

use std::path::{Path, PathBuf};

use std::io::Read;

use crate::regular::not_regular;
use crate::{open_maybe_gz, DataError, Result, Split};

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Finds `dir/name` or `dir/name.gz`, whichever exists (raw first). Something other than a
/// regular file at either name is named as what it is, not reported missing.
pub fn locate(dir: &Path, name: &str) -> Result<PathBuf> {
    let raw = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    for path in [&raw, &gz] {
        if path.is_file() {
            return Ok(path.clone());
        }
        if let Some(what) = not_regular(path) {
            return Err(DataError::Invalid {
                path: path.clone(),
                detail: format!("is {what}, not a regular file"),
            });
        }
    }
    Err(DataError::Missing {
        path: gz,
        hint: format!(" (nor {})", raw.display()),
    })
}

/// The most data bytes an IDX file may announce (the real ones have at most 47 MB).
const MAX_BYTES: usize = 1 << 32;

/// Reads an IDX file: its header, then exactly the bytes the header announces; a file with
/// fewer or more is refused, and a header whose sizes overflow or exceed [`MAX_BYTES`] too.
fn read(path: &Path, magic: u32, what: &'static str) -> Result<(Vec<usize>, Vec<u8>)> {
    let mut stream = open_maybe_gz(path)?;
    let fail = |e| read_error(path, e);
    let (dims, expected) = header(&mut stream, path, Some((magic, what)), |_| {})?;
    let mut body = Vec::with_capacity(expected.min(1 << 26));
    (&mut stream)
        .take(expected as u64)
        .read_to_end(&mut body)
        .map_err(fail)?;
    let extra = stream.read(&mut [0u8; 1]).map_err(fail)?;
    if body.len() != expected || extra > 0 {
        return Err(size_mismatch(
            path,
            &dims,
            expected as u64,
            body.len() as u64 + extra as u64,
        ));
    }
    Ok((dims, body))
}

/// The error of an IDX file whose data (`read` bytes) is not the `expected` bytes its header
/// announces as `dims`. A reader may stop one byte past `expected`, so any excess is said as
/// "more", not counted.
fn size_mismatch(path: &Path, dims: &[usize], expected: u64, read: u64) -> DataError {
    let has = if read > expected {
        "more".to_string()
    } else {
        read.to_string()
    };
    DataError::Truncated {
        path: path.to_path_buf(),
        detail: format!("header announces {dims:?} = {expected} bytes of data, file has {has}"),
    }
}

/// The error of a failed read of the IDX file at `path`.
fn read_error(path: &Path, e: std::io::Error) -> DataError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => DataError::Truncated {
            path: path.to_path_buf(),
            detail: "too short for an IDX header".into(),
        },
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => DataError::Archive {
            path: path.to_path_buf(),
            detail: format!("gzip: {e}"),
        },
        _ => DataError::io(path, e),
    }
}

/// Reads the IDX header of `stream` (the file at `path`), whose magic number must be
/// `expect`'s when given; its dimensions and the bytes of data they announce. `seen` is
/// handed every header byte. Sizes that overflow or exceed [`MAX_BYTES`] are refused.
fn header(
    stream: &mut dyn Read,
    path: &Path,
    expect: Option<(u32, &'static str)>,
    mut seen: impl FnMut(&[u8]),
) -> Result<(Vec<usize>, usize)> {
    let mut word = || -> Result<u32> {
        let mut b = [0u8; 4];
        stream.read_exact(&mut b).map_err(|e| read_error(path, e))?;
        seen(&b);
        Ok(u32::from_be_bytes(b))
    };
    let found = word()?;
    if let Some((magic, what)) = expect.filter(|&(magic, _)| magic != found) {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found,
            expected: magic,
            what,
        });
    }
    // IDX files have at most a few dimensions; the rank byte of a foreign file may say 255.
    let rank = ((found & 0xff) as usize).min(8);
    let dims = (0..rank)
        .map(|_| word().map(|d| d as usize))
        .collect::<Result<Vec<_>>>()?;
    let expected = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_BYTES)
        .ok_or_else(|| DataError::Invalid {
            path: path.to_path_buf(),
            detail: format!(
                "header announces {dims:?}: more than the {MAX_BYTES} bytes an IDX file may hold"
            ),
        })?;
    Ok((dims, expected))
}

/// The MD5 of the uncompressed bytes of the IDX file at `path` (gzipped or not), streamed: no
/// more than its header announces is ever decompressed, so a gzip bomb (a valid header, then
/// far more bytes) is refused after reading one byte too many, not held in memory.
pub fn raw_md5(path: &Path) -> Result<String> {
    use md5::{Digest, Md5};
    let mut stream = open_maybe_gz(path)?;
    let mut hasher = Md5::new();
    let (dims, expected) = header(&mut stream, path, None, |b| hasher.update(b))?;
    let expected = expected as u64;
    let mut body = (&mut stream).take(expected + 1);
    let mut buf = vec![0u8; 1 << 16];
    let mut read = 0u64;
    loop {
        let n = body.read(&mut buf).map_err(|e| read_error(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        read += n as u64;
    }
    if read != expected {
        return Err(size_mismatch(path, &dims, expected, read));
    }
    Ok(crate::checksum::hex(&hasher.finalize()))
}

/// Reads one images file and its labels file into a split with `rows × cols` raw pixel values
/// (0–255) per example.
pub fn read_pair(images: &Path, labels: &Path, classes: usize) -> Result<Split> {
    let (dims, pixels) = read(images, IMAGES_MAGIC, "images")?;
    let (label_dims, label_body) = read(labels, LABELS_MAGIC, "labels")?;
    if label_dims[0] != dims[0] {
        return Err(DataError::Invalid {
            path: labels.to_path_buf(),
            detail: format!(
                "{} labels for {} images in {}",
                label_dims[0],
                dims[0],
                images.display()
            ),
        });
    }
    if let Some(index) = label_body.iter().position(|&l| l as usize >= classes) {
        return Err(DataError::LabelOutOfRange {
            path: labels.to_path_buf(),
            index,
            label: label_body[index] as u32,
            classes,
        });
    }
    Ok(Split {
        features: pixels.iter().map(|&p| p as f32).collect(),
        labels: label_body.iter().map(|&l| l as u32).collect(),
        dim: dims[1..].iter().product(),
    })
}

/// Writes an IDX file (tests and tools make small datasets in the official layout with it).
pub fn encode(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let magic = 0x0000_0800u32 | dims.len() as u32;
    let mut out = magic.to_be_bytes().to_vec();
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tmp(name: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::Builder::new()
            .prefix(&format!("highway-idx-{name}-"))
            .tempdir()
            .unwrap();
        let path = dir.path().to_path_buf();
        (dir, path)
    }

    #[test]
    fn round_trip_raw_and_gz() {
        let (_tmp, dir) = tmp("rt");
        let pixels: Vec<u8> = (0..3 * 4).map(|i| i as u8 * 10).collect();
        fs::write(dir.join("img"), encode(&[3, 2, 2], &pixels)).unwrap();
        let gz = crate::gzip(&encode(&[3], &[1, 0, 2]));
        fs::write(dir.join("lab.gz"), gz).unwrap();
        let split = read_pair(
            &locate(&dir, "img").unwrap(),
            &locate(&dir, "lab").unwrap(),
            10,
        )
        .unwrap();
        assert_eq!(split.len(), 3);
        assert_eq!(split.dim, 4);
        assert_eq!(split.labels, vec![1, 0, 2]);
        assert_eq!(split.row(1), &[40.0, 50.0, 60.0, 70.0]);
    }

    #[test]
    fn each_error_names_the_file() {
        let (_tmp, dir) = tmp("err");
        let labels = dir.join("labels");
        fs::write(&labels, encode(&[2], &[1, 1])).unwrap();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("bad-magic", encode(&[2], &[0, 0]), "bad IDX magic"),
            ("short-header", vec![0, 0, 8], "truncated"),
            ("short-body", encode(&[2, 2, 2], &[0; 7]), "truncated"),
        ];
        for (name, bytes, want) in cases {
            let path = dir.join(name);
            fs::write(&path, bytes).unwrap();
            let msg = read_pair(&path, &labels, 10).unwrap_err().to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains(want), "{msg}");
        }
        let images = dir.join("images");
        fs::write(&images, encode(&[2, 1, 1], &[0, 0])).unwrap();
        let bad_label = dir.join("bad-label");
        fs::write(&bad_label, encode(&[2], &[1, 12])).unwrap();
        let msg = read_pair(&images, &bad_label, 10).unwrap_err().to_string();
        assert!(
            msg.contains("bad-label") && msg.contains("label 12"),
            "{msg}"
        );
        let msg = read_pair(&dir.join("nope"), &labels, 10)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("nope") && msg.contains("not found"), "{msg}");
        let not_gz = dir.join("broken.gz");
        fs::write(&not_gz, b"this is not gzip").unwrap();
        let msg = read_pair(&not_gz, &labels, 10).unwrap_err().to_string();
        assert!(msg.contains("broken.gz") && msg.contains("gzip"), "{msg}");
    }
}
