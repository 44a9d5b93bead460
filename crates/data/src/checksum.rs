//! MD5 checksums written as lowercase hex, the form the official checksums are given in: both
//! the download's check of an archive (`fetch.rs`) and that of an IDX file's uncompressed bytes
//! (`idx.rs`) write theirs here, so neither of the two needs the other; and a whole file's, the
//! fingerprint of the user's data files (`files/`) too.

use std::io::Read;
use std::path::Path;

use md5::{Digest, Md5};

use crate::{DataError, Result};

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// MD5 of a file, as lowercase hex.
pub fn file_md5(path: &Path) -> Result<String> {
    let mut f = crate::regular::open_regular(path)?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| DataError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}
