//! One process per run: a run folder's `.lock`, held (an OS file lock, `flock`) while a process
//! trains the run. Every other process skips the run. The kernel drops the lock when its holder
//! exits or is killed, however it dies, so a dead holder never blocks a run; on NFS the server
//! drops it when the client's lease lapses. The file also names its holder, for the message.

use std::fs::{self, File, TryLockError};
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result};

const FILE: &str = ".lock";

/// A held run lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// The outcome of trying to take a run's lock.
#[derive(Debug)]
pub enum Acquired {
    Held(RunLock),
    /// Another live process holds it: who, as it wrote itself into the file.
    Busy(String),
}

impl RunLock {
    /// Takes the lock of the run folder `dir` (created if needed) without waiting.
    pub fn try_acquire(dir: &Path) -> Result<Acquired> {
        fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
        let path = dir.join(FILE);
        let mut file = super::lock_file::open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                // From the open file: the path may have been replaced meanwhile.
                let mut holder = String::new();
                let _ = (&file).take(256).read_to_string(&mut holder);
                let holder = holder.trim();
                return Ok(Acquired::Busy(if holder.is_empty() {
                    "another process".into()
                } else {
                    holder.to_string()
                }));
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("{}: cannot lock", path.display()))
            }
        }
        let me = format!("process {} on {}", std::process::id(), crate::sys::host());
        file.set_len(0)
            .and_then(|()| file.write_all(me.as_bytes()))
            .with_context(|| format!("{}: cannot write", path.display()))?;
        Ok(Acquired::Held(RunLock { _file: file }))
    }
}

/// Whether a process on this machine holds the lock of the run folder `dir`, found without
/// taking it: taking it, even for an instant, could make a training process that tries at that
/// instant skip the run. The kernel's table of file locks (`/proc/locks`) says, by the lock
/// file's inode; a folder without a lock file is held by no one. `None` where that table cannot
/// be read (not Linux). A lock that a process on another machine holds (NFS) is not in it.
pub(super) fn held_here(dir: &Path) -> Option<bool> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = dir.join(FILE).symlink_metadata() else {
        return Some(false);
    };
    let table = fs::read_to_string("/proc/locks").ok()?;
    let held = locked_inodes(&table).any(|ino| ino == meta.ino());
    Some(held)
}

/// The inodes of the files that `/proc/locks` says are locked (`1: FLOCK  ADVISORY  WRITE 31164
/// fe:00:6038396 0 EOF`), requests still waiting (`1: -> FLOCK …`) left out. Only the inode
/// is compared: on an overlay file system the device named is the layer's, not the one that
/// `stat` says.
fn locked_inodes(table: &str) -> impl Iterator<Item = u64> + '_ {
    table
        .lines()
        .filter(|line| !line.contains("->"))
        .filter_map(|line| {
            let place = line.split_whitespace().nth(5)?;
            let mut parts = place.split(':');
            let (_major, _minor, ino) = (parts.next()?, parts.next()?, parts.next()?);
            ino.parse().ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_busy_for_others_and_free_once_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let Acquired::Held(lock) = RunLock::try_acquire(&dir).unwrap() else {
            panic!("a fresh folder is free")
        };
        match RunLock::try_acquire(&dir).unwrap() {
            Acquired::Busy(who) => assert!(who.contains(&std::process::id().to_string())),
            Acquired::Held(_) => panic!("taken twice"),
        }
        assert_eq!(held_here(&dir), Some(true));
        drop(lock);
        assert_eq!(held_here(&dir), Some(false));
        assert!(matches!(
            RunLock::try_acquire(&dir).unwrap(),
            Acquired::Held(_)
        ));
    }

    #[test]
    fn the_kernel_table_of_locks_is_read_by_inode() {
        let table = "1: FLOCK  ADVISORY  WRITE 31164 fe:00:6038396 0 EOF\n\
                     1: -> FLOCK  ADVISORY  WRITE 31170 fe:00:77 0 EOF\n\
                     2: POSIX  ADVISORY  READ 12 00:1f:42 0 EOF\n";
        assert_eq!(locked_inodes(table).collect::<Vec<_>>(), vec![6038396, 42]);
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(held_here(tmp.path()), Some(false), "no lock file");
    }
}
