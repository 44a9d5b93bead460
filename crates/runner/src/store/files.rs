//! Atomic file writes and JSON files.
//!
//! A file is written under a temporary name and renamed into place, so a kill never leaves a
//! half-written file, and many processes can share one sweep folder. The temporary name is
//! unique across processes, machines and PID namespaces (host, process id, and a random number
//! drawn once per process: in containers every task may be PID 1 on a shared volume), and it is
//! created exclusively, so it never follows a link planted at its path.

use std::collections::hash_map::RandomState;
use std::fs::{self, OpenOptions};
use std::hash::BuildHasher;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use serde::{de::DeserializeOwned, Serialize};

/// What every temporary name contains (`.<name>.tmp-<host>-<pid>-<random>-<n>`).
const TEMP_MARK: &str = ".tmp-";

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}{TEMP_MARK}{}", unique_suffix()));
    let result = (|| -> std::io::Result<()> {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("{}: cannot write", path.display()))
}

/// `<host>-<pid>-<random>-<n>`: different in every process and for every call.
fn unique_suffix() -> String {
    static NONCE: OnceLock<(String, u64)> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let (host, nonce) = NONCE.get_or_init(|| {
        // `RandomState` is seeded from the operating system's random source.
        let host: String = crate::sys::host()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(32)
            .collect();
        (host, RandomState::new().hash_one(std::process::id()))
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{host}-{}-{nonce:016x}-{n}", std::process::id())
}

/// Removes the temporary files of [`write_atomic`] in `dir` that are older than `age`: the
/// leftovers of writers killed mid-write (a live writer's file lives for milliseconds).
pub(super) fn remove_stale_temporaries(dir: &Path, age: Duration) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with('.') && name.contains(TEMP_MARK)) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).unwrap_or_default() >= age);
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes each `(name, text)` into `dir`; returns the paths written.
pub(crate) fn write_files(dir: &Path, files: &[(&str, String)]) -> Result<Vec<PathBuf>> {
    files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            write_atomic(&path, text.as_bytes())?;
            Ok(path)
        })
        .collect()
}

pub(super) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// The most bytes a record (`status.json`, `spec.json`, `curve.csv`, `sweep.json`) is read
/// to: a sweep of ten thousand runs has a `sweep.json` of a few megabytes.
pub(crate) const MAX_RECORD: u64 = 256 << 20;
/// The most bytes a per-layer record (`layers.csv`, an event file) is read to: a 900-layer
/// net trained for a thousand epochs writes about 150 MB.
pub(crate) const MAX_LAYER_RECORD: u64 = 4 << 30;

/// The bytes of the regular file at `path`, refused (naming it) when it is a FIFO, a device,
/// a folder or a socket, which would block or never end, or when it has more than `max`
/// bytes. Every file the tool reads back goes through here or `highway_data::regular`.
pub(crate) fn read_bytes(path: &Path, max: u64) -> Result<Vec<u8>> {
    refuse_link(path).with_context(|| path.display().to_string())?;
    // The error names the file.
    Ok(highway_data::regular::read_regular(path, max)?)
}

/// Refuses a symbolic link at `path` (the caller names the file): the harness writes the
/// files of its folders itself, and a link planted among them (to `/etc/passwd`, to another
/// run's checkpoint) would be read as if it were the run's own.
pub(crate) fn refuse_link(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => anyhow::bail!(
            "is a symbolic link; the harness reads only the files it wrote itself (remove the \
             link)"
        ),
        _ => Ok(()),
    }
}

/// The text of the regular file at `path`, as [`read_bytes`] reads it; it must be UTF-8.
pub(crate) fn read_text(path: &Path, max: u64) -> Result<String> {
    String::from_utf8(read_bytes(path, max)?)
        .with_context(|| format!("{}: not UTF-8 text", path.display()))
}

pub(super) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = read_text(path, MAX_RECORD)?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a valid file of this kind", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_differ_and_stale_ones_are_removed() {
        let (a, b) = (unique_suffix(), unique_suffix());
        assert_ne!(a, b);
        assert!(a.contains(&format!("-{}-", std::process::id())), "{a}");
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        // A link planted where a temporary file would go is not followed: the write goes to
        // a new name, and the link's target is untouched.
        write_atomic(&dir.join("x.json"), b"1").unwrap();
        let stale = dir.join(".x.json.tmp-host-1-0-0");
        fs::write(&stale, b"half").unwrap();
        remove_stale_temporaries(&dir, Duration::from_secs(3600));
        assert!(
            stale.exists(),
            "a fresh temporary file may be a live writer's"
        );
        remove_stale_temporaries(&dir, Duration::ZERO);
        assert!(!stale.exists());
        assert_eq!(fs::read(dir.join("x.json")).unwrap(), b"1");
    }

    #[test]
    fn a_link_is_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target.json");
        fs::write(&target, b"{}").unwrap();
        let link = tmp.path().join("status.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = format!("{:#}", read_bytes(&link, 100).unwrap_err());
        assert!(e.contains("status.json: is a symbolic link"), "{e}");
        assert_eq!(read_bytes(&target, 100).unwrap(), b"{}");
    }

    #[test]
    fn json_floats_read_back_bit_for_bit() {
        // A drawn learning-rate decay whose shortest form serde_json's fast parser reads one
        // unit in the last place off.
        let v = f64::from_bits(0x3fee_c296_a283_acf2);
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("floats.json");
        write_json(&path, &vec![v, 0.1, 1.0 / 3.0, 5e-324, f64::MAX]).unwrap();
        let back: Vec<f64> = read_json(&path).unwrap();
        fs::remove_file(&path).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&[v, 0.1, 1.0 / 3.0, 5e-324, f64::MAX]));
    }
}
