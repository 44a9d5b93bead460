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
        drop(lock);
        assert!(matches!(
            RunLock::try_acquire(&dir).unwrap(),
            Acquired::Held(_)
        ));
    }
}
