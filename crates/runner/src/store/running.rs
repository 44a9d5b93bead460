//! The runs this process is training, so that a process that must quit at once (a second
//! Ctrl-C) records each of them as interrupted rather than leave it `running`.
//!
//! Status writes and that last record (`run_state::abandon_running`) are serialised: once the
//! process quits, no write of the training thread can land after it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The status files of the runs in training, each given by its recorder: the file's name is
/// `run_dir.rs`'s to know, and `run_dir.rs` uses this module ([`status_write`]), so this one
/// does not use it back.
static RUNNING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static STATUS_WRITES: Mutex<()> = Mutex::new(());

/// A run counted as in training until this is dropped.
#[derive(Debug)]
pub(super) struct Training(PathBuf);

/// Counts the run whose status file is `status` as in training.
pub(super) fn training(status: &Path) -> Training {
    lock(&RUNNING).push(status.to_path_buf());
    Training(status.to_path_buf())
}

impl Drop for Training {
    fn drop(&mut self) {
        let mut running = lock(&RUNNING);
        if let Some(i) = running.iter().position(|d| *d == self.0) {
            running.swap_remove(i);
        }
    }
}

/// Held while a status is written.
pub(super) fn status_write() -> MutexGuard<'static, ()> {
    lock(&STATUS_WRITES)
}

/// The status files of the runs in training, for a process that quits right after: the
/// status-write lock is taken for good, so that no write of a training thread can land after
/// the caller's (`run_state::abandon_running`).
pub(super) fn quitting() -> Vec<PathBuf> {
    // Never released: the process is about to exit.
    std::mem::forget(lock(&STATUS_WRITES));
    lock(&RUNNING).clone()
}

/// A lock that a panicking holder left poisoned still serves: its data is a plain list.
fn lock<T>(m: &'static Mutex<T>) -> MutexGuard<'static, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
