//! The lock files that the processes of one sweep share (`.sweep.lock`, `.report.lock`, a run's
//! `.lock`): opened without following a link and without truncating, so a link planted at a
//! lock's path never makes this tool write outside the results folder; and waited for with a
//! deadline that a stop request cuts short, so no process waits for ever.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// How long a process waits for a sweep's shared lock (`.sweep.lock`, `.report.lock`) before
/// it gives up: their holders keep them for the seconds that writing a plan or a report takes.
pub(crate) const WAIT: Duration = Duration::from_secs(600);

/// Opens (creating it if needed) the lock file at `path`: never through a symbolic link, never
/// truncated, and only if it is a regular file; errors name it.
pub(crate) fn open(path: &Path) -> Result<File> {
    let not_a_file = |what: &str| {
        anyhow::anyhow!(
            "{}: is {what}, and a lock file must be a regular file (remove what is there)",
            path.display()
        )
    };
    if let Ok(meta) = path.symlink_metadata() {
        if meta.is_dir() {
            return Err(not_a_file("a folder"));
        }
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        // A FIFO must not block the open; a regular file ignores the flag.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => anyhow::anyhow!(
                "{}: is a symbolic link; a lock file must be a regular file (remove the link)",
                path.display()
            ),
            _ => anyhow::Error::new(e).context(format!("{}: cannot open", path.display())),
        })?;
    let kind = file
        .metadata()
        .with_context(|| format!("{}: cannot read", path.display()))?
        .file_type();
    if !kind.is_file() {
        return Err(not_a_file("not a regular file"));
    }
    Ok(file)
}

/// Takes the exclusive lock of `file` (the lock at `path`), waiting while another process
/// holds it, at most `deadline`, and giving up as soon as `give_up` says so (a stop request).
/// Whether it is held: `false` when given up; an error naming the file after the deadline.
pub(crate) fn lock_within(
    file: &File,
    path: &Path,
    deadline: Duration,
    give_up: &dyn Fn() -> bool,
) -> Result<bool> {
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(true),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("{}: cannot lock", path.display()))
            }
        }
        if give_up() {
            return Ok(false);
        }
        if start.elapsed() >= deadline {
            bail!(
                "{}: another process has held this lock for more than {} s; giving up (if no \
                 other highway process works on this folder, the file system's locks are stuck)",
                path.display(),
                deadline.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn links_and_special_files_are_refused_and_nothing_is_truncated() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let target = dir.join("precious");
        std::fs::write(&target, b"keep me").unwrap();
        let link = dir.join(".sweep.lock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = format!("{:#}", open(&link).unwrap_err());
        assert!(e.contains(".sweep.lock: is a symbolic link"), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
        let folder = dir.join(".report.lock");
        std::fs::create_dir(&folder).unwrap();
        assert!(format!("{:#}", open(&folder).unwrap_err()).contains(".report.lock"));
        let file = dir.join(".lock");
        std::fs::write(&file, b"holder").unwrap();
        open(&file).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"holder");
    }

    #[test]
    fn a_held_lock_is_waited_for_until_given_up_or_the_deadline() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(".report.lock");
        let holder = open(&path).unwrap();
        holder.lock().unwrap();
        let other = open(&path).unwrap();
        let asked = Cell::new(0);
        let give_up = || {
            asked.set(asked.get() + 1);
            asked.get() > 3
        };
        assert!(!lock_within(&other, &path, WAIT, &give_up).unwrap());
        let e = lock_within(&other, &path, Duration::ZERO, &|| false).unwrap_err();
        assert!(format!("{e:#}").contains("held this lock for more than 0 s"));
        drop(holder);
        assert!(lock_within(&other, &path, Duration::ZERO, &|| false).unwrap());
    }
}
