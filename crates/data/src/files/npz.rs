//! NumPy `.npz` archives (`numpy.savez`, `numpy.savez_compressed`): a zip of `.npy` arrays,
//! one entry per array, named `NAME.npy`.
//!
//! An entry is inflated as a stream and never past the size its zip entry claims, nor past
//! [`MAX_ARRAY_BYTES`]: a zip bomb (an entry that inflates far beyond its claim, or claims a
//! monstrous size) is refused after at most that many bytes, none of them held beyond the
//! array its `.npy` header announces.

use std::io::{BufReader, Read};
use std::path::Path;

use super::array::{Array, Out, MAX_ARRAY_BYTES};
use super::npy;
use crate::{regular, DataError, Result};

/// Reads the array `name` (the entry `name.npy`, or `name` itself) of the archive at `path`.
pub fn read<O: Out>(path: &Path, name: &str) -> Result<Array<O>> {
    let archive_error = |detail: String| DataError::Archive {
        path: path.to_path_buf(),
        detail,
    };
    let file = BufReader::new(regular::open_regular(path)?);
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| archive_error(format!("not a readable .npz (zip) archive: {e}")))?;
    let entry = [format!("{name}.npy"), name.to_string()]
        .into_iter()
        .find(|e| zip.index_for_name(e).is_some());
    let Some(entry) = entry else {
        let names = names(path)?;
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            detail: format!(
                "no array named '{name}' in the archive (it holds: {}); name the arrays in the \
                 dataset's files section",
                if names.is_empty() {
                    "nothing".to_string()
                } else {
                    names.join(", ")
                }
            ),
        });
    };
    let what = format!("array '{name}' ({entry} in the archive): ");
    let stream = zip
        .by_name(&entry)
        .map_err(|e| archive_error(format!("{what}{e}")))?;
    let claimed = stream.size();
    if claimed > MAX_ARRAY_BYTES + (1 << 16) {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            detail: format!(
                "{what}its zip entry claims {claimed} bytes, more than the {MAX_ARRAY_BYTES} \
                 bytes an array may hold"
            ),
        });
    }
    // One byte past the claim, so that an entry inflating beyond it is seen (and refused by
    // the reader as bytes past its array), not cut short into a valid-looking array.
    let limited = stream.take(claimed + 1);
    npy::read(ZipErrors(limited), claimed, path, &what)
}

/// A zip entry's stream whose inflation errors (a corrupt deflate stream, a wrong CRC) read as
/// invalid data, which the `.npy` reader reports as such.
struct ZipErrors<R>(R);

impl<R: Read> Read for ZipErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::Interrupted => e,
            _ => std::io::Error::new(std::io::ErrorKind::InvalidData, format!("zip: {e}")),
        })
    }
}

/// The names of the arrays in the archive at `path` (entry names without `.npy`).
pub fn names(path: &Path) -> Result<Vec<String>> {
    let file = BufReader::new(regular::open_regular(path)?);
    let zip = zip::ZipArchive::new(file).map_err(|e| DataError::Archive {
        path: path.to_path_buf(),
        detail: format!("not a readable .npz (zip) archive: {e}"),
    })?;
    Ok(zip
        .file_names_raw()
        .map(|n| {
            String::from_utf8_lossy(n)
                .trim_end_matches(".npy")
                .to_string()
        })
        .collect())
}
