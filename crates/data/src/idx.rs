//! The IDX format of MNIST and Fashion-MNIST, raw or gzipped.
//!
//! A big-endian header (magic `0x0000_08TT_0D` with type `08` = unsigned byte and `D` the number
//! of dimensions, then `D` sizes), followed by the bytes.

use std::path::{Path, PathBuf};

use crate::{read_maybe_gz, DataError, Result, Split};

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Finds `dir/name` or `dir/name.gz`, whichever exists (raw first).
pub fn locate(dir: &Path, name: &str) -> Result<PathBuf> {
    let raw = dir.join(name);
    if raw.is_file() {
        return Ok(raw);
    }
    let gz = dir.join(format!("{name}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    Err(DataError::Missing {
        path: gz,
        hint: format!(" (nor {})", raw.display()),
    })
}

/// Reads an IDX header and checks that the sizes it announces match the bytes that follow.
fn parse<'a>(
    path: &Path,
    bytes: &'a [u8],
    magic: u32,
    what: &'static str,
) -> Result<(Vec<usize>, &'a [u8])> {
    let word = |i: usize| -> Result<u32> {
        bytes
            .get(4 * i..4 * i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| DataError::Truncated {
                path: path.to_path_buf(),
                detail: format!("{} bytes is too short for an IDX header", bytes.len()),
            })
    };
    let found = word(0)?;
    if found != magic {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found,
            expected: magic,
            what,
        });
    }
    let rank = (magic & 0xff) as usize;
    let dims = (1..=rank)
        .map(|i| word(i).map(|d| d as usize))
        .collect::<Result<Vec<_>>>()?;
    let body = &bytes[4 * (rank + 1)..];
    let expected: usize = dims.iter().product();
    if body.len() != expected {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            detail: format!(
                "header announces {dims:?} = {expected} bytes of data, file has {}",
                body.len()
            ),
        });
    }
    Ok((dims, body))
}

/// Reads one images file and its labels file into a split with `rows × cols` raw pixel values
/// (0–255) per example.
pub fn read_pair(images: &Path, labels: &Path, classes: usize) -> Result<Split> {
    let image_bytes = read_maybe_gz(images)?;
    let (dims, pixels) = parse(images, &image_bytes, IMAGES_MAGIC, "images")?;
    let label_bytes = read_maybe_gz(labels)?;
    let (label_dims, label_body) = parse(labels, &label_bytes, LABELS_MAGIC, "labels")?;
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

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("highway-idx-{}-{name}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn round_trip_raw_and_gz() {
        let dir = tmp("rt");
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
        let dir = tmp("err");
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
