//! MD5 checksums written as lowercase hex, the form the official checksums are given in: both
//! the download's check of an archive (`fetch.rs`) and that of an IDX file's uncompressed bytes
//! (`idx.rs`) write theirs here, so neither of the two needs the other.

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
