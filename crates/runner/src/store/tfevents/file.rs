//! One event file, appended to as a run trains.
//!
//! A run has one file, `events.out.tfevents.<time>.<host>`, named when the run first starts.
//! When a run continues from a checkpoint, the events of the epochs it trains again are cut
//! from the file first (and any record a killed writer left half-written), so the file never
//! holds a step twice and loses none.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::event::{Event, What};
use super::record;
use crate::store::files::{read_bytes, MAX_LAYER_RECORD};
use crate::store::write_atomic;

/// What every event file's name starts with (TensorBoard looks for `tfevents` in the name).
pub(crate) const PREFIX: &str = "events.out.tfevents.";

/// An event file open for appending.
pub(crate) struct EventFile {
    path: PathBuf,
    file: File,
}

impl EventFile {
    /// Opens the event file in `dir`, keeping only the events of steps before `keep_before`
    /// (0: a fresh start keeps nothing but the version record; 1 keeps step 0); creates it if
    /// there is none.
    pub(crate) fn open(dir: &Path, keep_before: i64, host: &str, now: f64) -> Result<Self> {
        let path = match existing(dir)? {
            Some(path) => {
                trim(&path, keep_before)?;
                path
            }
            None => {
                let path = dir.join(format!("{PREFIX}{}.{host}", now as u64));
                let version = Event {
                    wall_time: now,
                    step: 0,
                    what: What::FileVersion,
                };
                write_atomic(&path, &record::frame(&version.encode()))?;
                path
            }
        };
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .with_context(|| format!("{}: cannot open for appending", path.display()))?;
        Ok(Self { path, file })
    }

    /// Appends `event`, flushed to the OS so that TensorBoard sees it at once.
    pub(crate) fn write(&mut self, event: &Event) -> Result<()> {
        self.file
            .write_all(&record::frame(&event.encode()))
            .and_then(|()| self.file.flush())
            .with_context(|| format!("{}: cannot write", self.path.display()))
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// The run's event file in `dir`, if it has one; an error naming them if there are several
/// (a stray copy would show every step twice in TensorBoard).
pub(crate) fn existing(dir: &Path) -> Result<Option<PathBuf>> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX))
        })
        .collect();
    found.sort();
    if found.len() > 1 {
        let names: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
        anyhow::bail!(
            "{}: {} event files, and a run keeps one (TensorBoard would show each step once \
             per file): {}; move away the one(s) this run did not write",
            dir.display(),
            found.len(),
            names.join(", ")
        );
    }
    Ok(found.pop())
}

/// The events of a file, in order, up to any torn or corrupt tail.
pub(crate) fn read(path: &Path) -> Result<Vec<Event>> {
    let bytes = read_bytes(path, MAX_LAYER_RECORD)?;
    record::read(&bytes)
        .0
        .into_iter()
        .map(|r| {
            Event::decode(r)
                .with_context(|| format!("{}: an event that is not one", path.display()))
        })
        .collect()
}

/// Rewrites `path` without the events of steps `keep_before` and later (the version record,
/// step 0, is always kept) and without a torn tail; leaves it alone when there is nothing to cut.
fn trim(path: &Path, keep_before: i64) -> Result<()> {
    let bytes = read_bytes(path, MAX_LAYER_RECORD)?;
    let (records, valid) = record::read(&bytes);
    let kept: Vec<&[u8]> = records
        .iter()
        .enumerate()
        .filter(|(i, r)| *i == 0 || Event::step_of(r).is_some_and(|s| s < keep_before))
        .map(|(_, r)| *r)
        .collect();
    if kept.len() == records.len() && valid == bytes.len() {
        return Ok(());
    }
    let out: Vec<u8> = kept.iter().flat_map(|r| record::frame(r)).collect();
    write_atomic(path, &out)
}

#[cfg(test)]
mod tests {
    use super::super::event::Value;
    use super::*;

    fn scalar(step: i64) -> Event {
        Event {
            wall_time: 10.0 + step as f64,
            step,
            what: What::Summary(vec![Value::scalar("train/loss", 1.0 / step as f64)]),
        }
    }

    fn steps(path: &Path) -> Vec<i64> {
        read(path).unwrap().iter().map(|e| e.step).collect()
    }

    #[test]
    fn a_resumed_run_neither_repeats_nor_loses_a_step() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let mut f = EventFile::open(&dir, 0, "host", 1_700_000_000.0).unwrap();
        assert!(f.path().ends_with("events.out.tfevents.1700000000.host"));
        for step in 1..=4 {
            f.write(&scalar(step)).unwrap();
        }
        let path = f.path().to_path_buf();
        drop(f);
        // Killed mid-record after epoch 4; the checkpoint is from the end of epoch 2.
        let mut bytes = fs::read(&path).unwrap();
        bytes.extend_from_slice(&record::frame(&scalar(5).encode())[..9]);
        fs::write(&path, &bytes).unwrap();
        let mut f = EventFile::open(&dir, 3, "other", 1_800_000_000.0).unwrap();
        assert_eq!(f.path(), path, "the same file is continued");
        assert_eq!(steps(&path), vec![0, 1, 2]);
        for step in 3..=5 {
            f.write(&scalar(step)).unwrap();
        }
        assert_eq!(steps(&path), vec![0, 1, 2, 3, 4, 5]);
        // A run trained again from scratch keeps only the version record.
        EventFile::open(&dir, 0, "host", 0.0).unwrap();
        assert_eq!(steps(&path), vec![0]);
    }
}
