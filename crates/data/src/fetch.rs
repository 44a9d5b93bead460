//! Downloading, checking and unpacking datasets.
//!
//! A download goes to a temporary `.part` name, its MD5 is checked, and only then is it renamed
//! (or unpacked into a temporary folder that is renamed): an interrupted or corrupted transfer
//! never leaves something that looks complete.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use md5::{Digest, Md5};

pub use crate::checksum::file_md5;
use crate::checksum::hex;
use crate::sources::{self, Source};
use crate::{idx, DataError, DatasetName, Result};

/// How long to wait for a mirror to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the response, and then for each read of its body, in milliseconds
/// (default 60 s): a mirror that stalls fails the download instead of hanging it.
static READ_TIMEOUT_MS: AtomicU64 = AtomicU64::new(60_000);

/// Sets how long a download waits for a mirror's response and for each read of its body.
pub fn set_read_timeout(timeout: Duration) {
    READ_TIMEOUT_MS.store(timeout.as_millis() as u64, Ordering::Relaxed);
}

/// Creates `dir` (and its parents) unless it is there; something else at its path is named.
fn make_folder(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(DataError::Invalid {
            path: dir.to_path_buf(),
            detail: "is a file, not a folder: the data goes into a folder of this name".into(),
        });
    }
    fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))
}

/// Called with (bytes so far, total bytes if known) as a download proceeds.
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, Option<u64>);

/// Downloads every file of `name` from `base` (the official address, or a mirror with the same
/// file names) into its folder under `data_dir`. Files already present and intact are kept.
pub fn fetch(name: DatasetName, data_dir: &Path, base: &str, progress: Progress) -> Result<()> {
    let (_, files) = sources::official(name);
    fetch_sources(name.folder(), data_dir, base, &files, progress)
}

/// [`fetch`] for an explicit list of files (tests use their own archives and checksums).
pub fn fetch_sources(
    folder: &str,
    data_dir: &Path,
    base: &str,
    files: &[Source],
    progress: Progress,
) -> Result<()> {
    make_folder(data_dir)?;
    for src in files {
        let url = format!("{}/{}", base.trim_end_matches('/'), src.file);
        if src.archive {
            let target = data_dir.join(folder);
            if complete(folder, &target) {
                continue;
            }
            let archive = data_dir.join(&src.file);
            download(&url, &archive, &src.md5, progress)?;
            let unpacked = unpack_tar_gz(&archive, data_dir, folder);
            let _ = fs::remove_file(&archive);
            unpacked?;
        } else {
            let dir = data_dir.join(folder);
            make_folder(&dir)?;
            let dest = dir.join(&src.file);
            if dest.is_file() && file_md5(&dest)? == src.md5 {
                continue;
            }
            download(&url, &dest, &src.md5, progress)?;
        }
    }
    Ok(())
}

/// Whether the unpacked dataset folder `target` holds every file its dataset needs (a folder
/// that is not a known dataset's counts as complete when it exists).
fn complete(folder: &str, target: &Path) -> bool {
    if !target.is_dir() {
        return false;
    }
    match DatasetName::ALL.iter().find(|n| n.folder() == folder) {
        Some(name) => name.files().iter().all(|f| target.join(f).is_file()),
        None => true,
    }
}

/// Streams `url` into `dest`, through `dest.part`, checking the MD5 before the rename.
pub fn download(url: &str, dest: &Path, md5: &str, progress: Progress) -> Result<()> {
    let part = dest.with_file_name(format!(
        "{}.part",
        dest.file_name().unwrap_or_default().to_string_lossy()
    ));
    let result = stream_to(url, &part, progress).and_then(|actual| {
        if actual == md5 {
            fs::rename(&part, dest).map_err(|e| DataError::io(dest, e))
        } else {
            Err(DataError::Checksum {
                path: dest.to_path_buf(),
                expected: md5.into(),
                actual,
            })
        }
    });
    if result.is_err() {
        let _ = fs::remove_file(&part);
    }
    result
}

fn stream_to(url: &str, part: &Path, progress: Progress) -> Result<String> {
    let fail = |detail: String| DataError::Download {
        url: url.into(),
        detail,
    };
    let read = Duration::from_millis(READ_TIMEOUT_MS.load(Ordering::Relaxed));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(read))
        .timeout_per_read(Some(read))
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| fail(e.to_string()))?;
    let total = response.body().content_length();
    let mut reader = response.into_body().into_reader();
    // A file or link left at the temporary name is removed (a link itself, never its target),
    // and the new file is created exclusively: a link planted meanwhile makes it fail.
    match fs::symlink_metadata(part) {
        Ok(m) if m.is_dir() => {
            return Err(DataError::Invalid {
                path: part.to_path_buf(),
                detail: "is a folder, where the download's temporary file goes".into(),
            })
        }
        Ok(_) => fs::remove_file(part).map_err(|e| DataError::io(part, e))?,
        Err(_) => {}
    }
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(part)
        .map_err(|e| DataError::io(part, e))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| fail(format!("transfer interrupted after {done} bytes: {e}")))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| DataError::io(part, e))?;
        done += n as u64;
        progress(url, done, total);
    }
    if let Some(t) = total {
        if done != t {
            return Err(fail(format!("transfer ended after {done} of {t} bytes")));
        }
    }
    out.sync_all().map_err(|e| DataError::io(part, e))?;
    Ok(hex(&hasher.finalize()))
}

/// Unpacks `archive` into `data_dir`, which must end up holding `folder`. Entries are unpacked
/// into a temporary folder first; any entry that would land outside it (absolute paths, `..`,
/// links) is refused.
pub fn unpack_tar_gz(archive: &Path, data_dir: &Path, folder: &str) -> Result<()> {
    let bad = |detail: String| DataError::Archive {
        path: archive.to_path_buf(),
        detail,
    };
    let staging = data_dir.join(format!(".{folder}.unpacking-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|e| DataError::io(&staging, e))?;
    let result = (|| {
        let file = File::open(archive).map_err(|e| DataError::io(archive, e))?;
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
        for entry in tar.entries().map_err(|e| bad(e.to_string()))? {
            let mut entry = entry.map_err(|e| bad(e.to_string()))?;
            let path = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
            let kind = entry.header().entry_type();
            if !(kind.is_file() || kind.is_dir()) {
                return Err(bad(format!(
                    "entry {} is not a plain file or folder",
                    path.display()
                )));
            }
            if path
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
            {
                return Err(bad(format!(
                    "entry {} would escape the data directory",
                    path.display()
                )));
            }
            let out = staging.join(&path);
            if kind.is_dir() {
                fs::create_dir_all(&out).map_err(|e| DataError::io(&out, e))?;
            } else {
                if let Some(parent) = out.parent() {
                    fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
                }
                let mut f = File::create(&out).map_err(|e| DataError::io(&out, e))?;
                std::io::copy(&mut entry, &mut f)
                    .map_err(|e| bad(format!("entry {}: {e}", path.display())))?;
            }
        }
        let inner = staging.join(folder);
        if !inner.is_dir() {
            return Err(bad(format!("no folder {folder}/ inside")));
        }
        let target = data_dir.join(folder);
        if !target.is_dir() {
            return fs::rename(&inner, &target).map_err(|e| DataError::io(&target, e));
        }
        // An incomplete earlier copy: add the files it lacks, keep the ones it has.
        for entry in fs::read_dir(&inner).map_err(|e| DataError::io(&inner, e))? {
            let entry = entry.map_err(|e| DataError::io(&inner, e))?;
            let dest = target.join(entry.file_name());
            if fs::symlink_metadata(&dest).is_err() {
                fs::rename(entry.path(), &dest).map_err(|e| DataError::io(&dest, e))?;
            }
        }
        Ok(())
    })();
    let _ = fs::remove_dir_all(&staging);
    result
}

/// What `verify` concluded about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    pub path: PathBuf,
    pub verdict: String,
}

/// Checks what is on disk for `name`: every file present, IDX files against the official MD5
/// (of the archive or of the uncompressed bytes), CIFAR files by their exact sizes and records.
pub fn verify(name: DatasetName, data_dir: &Path) -> Result<Vec<FileCheck>> {
    let folder = data_dir.join(name.folder());
    let (_, files) = sources::official(name);
    let mut checks = Vec::new();
    match name {
        DatasetName::Mnist | DatasetName::FashionMnist => {
            for src in &files {
                let stem = src.file.trim_end_matches(".gz");
                let path = idx::locate(&folder, stem)?;
                let verdict =
                    if path.extension().is_some_and(|e| e == "gz") && file_md5(&path)? == src.md5 {
                        "MD5 matches the official archive".to_string()
                    } else {
                        let actual = idx::raw_md5(&path)?;
                        let expected = src.raw_md5.clone().unwrap_or_default();
                        if actual != expected {
                            return Err(DataError::Checksum {
                                path,
                                expected,
                                actual,
                            });
                        }
                        "MD5 of the uncompressed bytes matches".to_string()
                    };
                checks.push(FileCheck { path, verdict });
            }
        }
        DatasetName::Cifar10 | DatasetName::Cifar100 => {
            for file in name.files() {
                let path = folder.join(file);
                let meta = fs::metadata(&path).map_err(|e| DataError::io(&path, e))?;
                if let Some(size) = sources::cifar_file_size(file) {
                    if meta.len() != size {
                        return Err(DataError::Truncated {
                            path,
                            detail: format!("{} bytes, the official file has {size}", meta.len()),
                        });
                    }
                }
                checks.push(FileCheck {
                    path,
                    verdict: "present, official size".into(),
                });
            }
        }
        DatasetName::Synthetic | DatasetName::Files => return Ok(checks),
    }
    // And the contents parse (headers, record sizes, labels in range).
    let raw = crate::LoadOptions {
        preprocess: crate::Preprocess::None,
        ..Default::default()
    };
    crate::load(name, data_dir, &raw)?;
    Ok(checks)
}
