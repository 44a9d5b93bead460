//! Reading data files safely: only regular files (a FIFO would block for ever, `/dev/zero` would
//! fill the memory, a folder is a mistake), and never more bytes than the reader expects.

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use crate::{DataError, Result};

/// What `path` is, when it exists and is not a regular file: "a folder", "a FIFO", ...
pub fn not_regular(path: &Path) -> Option<&'static str> {
    let kind = fs::metadata(path).ok()?.file_type();
    if kind.is_file() {
        return None;
    }
    use std::os::unix::fs::FileTypeExt;
    Some(if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    })
}

/// Opens `path` for reading if it is a regular file (a link to one is fine).
pub fn open_regular(path: &Path) -> Result<File> {
    if let Some(what) = not_regular(path) {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            detail: format!("is {what}, not a regular file"),
        });
    }
    File::open(path).map_err(|e| DataError::io(path, e))
}

/// Reads a regular file whole, refusing one of more than `max` bytes (by its length, before
/// reading it, and by what is read, should it grow meanwhile).
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>> {
    let file = open_regular(path)?;
    let len = file.metadata().map_err(|e| DataError::io(path, e))?.len();
    let too_big = || DataError::Invalid {
        path: path.to_path_buf(),
        detail: format!("larger than the {max} bytes a file of this kind can have"),
    };
    if len > max {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| DataError::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_big());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_and_oversized_files_are_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let e = open_regular(dir).unwrap_err().to_string();
        assert!(e.contains("is a folder, not a regular file"), "{e}");
        let e = read_regular(Path::new("/dev/zero"), 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/dev/zero: is a device"), "{e}");
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let e = open_regular(&fifo).unwrap_err().to_string();
            assert!(e.contains("is a FIFO"), "{e}");
        }
        let file = dir.join("big");
        fs::write(&file, [0u8; 11]).unwrap();
        assert!(read_regular(&file, 10)
            .unwrap_err()
            .to_string()
            .contains("larger than the 10"));
        assert_eq!(read_regular(&file, 11).unwrap().len(), 11);
    }
}
