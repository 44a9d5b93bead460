//! The results folder: one folder per sweep, one per run, every file written atomically.
//!
//! ```text
//! <sweep>/sweep.json            resolved config and the plan
//! <sweep>/runs/<id>/spec.json   the run's resolved settings
//! <sweep>/runs/<id>/curve.csv   one row per epoch
//! <sweep>/runs/<id>/gates.csv   highway nets: mean transform gate per layer per epoch
//! <sweep>/runs/<id>/status.json running | done | diverged | failed | interrupted
//! ```
//! A file is written under a temporary name unique to the process and renamed into place, so a
//! kill never leaves a half-written file, and many processes can share one sweep folder.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::config::Config;
use crate::plan::RunSpec;

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("{}: cannot write", path.display()))
}

/// Writes each `(name, text)` into `dir`; returns the paths written.
pub fn write_files(dir: &Path, files: &[(&str, String)]) -> Result<Vec<PathBuf>> {
    files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            write_atomic(&path, text.as_bytes())?;
            Ok(path)
        })
        .collect()
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a valid file of this kind", path.display()))
}

/// `sweep.json`: what the sweep is, so that `report` and `run --index` need nothing else.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepFile {
    pub config: Config,
    pub plan: Vec<RunSpec>,
    pub harness_version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Running,
    Done,
    Diverged,
    Failed,
    Interrupted,
}

impl State {
    /// Finished results that a restarted sweep keeps.
    pub fn is_final(self) -> bool {
        matches!(self, State::Done | State::Diverged)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Done => "done",
            State::Diverged => "diverged",
            State::Failed => "failed",
            State::Interrupted => "interrupted",
        }
    }
}

/// `status.json` of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub state: State,
    pub epochs: usize,
    pub best_train_loss: Option<f64>,
    pub final_train_loss: Option<f64>,
    pub final_eval_loss: Option<f64>,
    pub final_eval_acc: Option<f64>,
    pub wall_seconds: f64,
    pub peak_rss_mib: f64,
    pub backend: String,
    pub git_revision: String,
    pub host: String,
    pub pid: u32,
    pub started_at: f64,
    /// Why a run diverged or failed.
    pub message: Option<String>,
}

impl Status {
    /// The status of a run that is starting now on `backend`.
    pub fn starting(backend: &str) -> Self {
        Status {
            state: State::Running,
            epochs: 0,
            best_train_loss: None,
            final_train_loss: None,
            final_eval_loss: None,
            final_eval_acc: None,
            wall_seconds: 0.0,
            peak_rss_mib: 0.0,
            backend: backend.to_string(),
            git_revision: crate::sys::git_revision(),
            host: crate::sys::host(),
            pid: std::process::id(),
            started_at: crate::sys::now(),
            message: None,
        }
    }
}

/// One epoch of a learning curve.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveRow {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_acc: f64,
    pub eval_loss: f64,
    pub eval_acc: f64,
    pub lr: f64,
    pub seconds: f64,
}

pub const CURVE_HEADER: &str = "epoch,train_loss,train_acc,eval_loss,eval_acc,lr,seconds";

pub fn curve_csv(rows: &[CurveRow]) -> String {
    let mut s = format!("{CURVE_HEADER}\n");
    for r in rows {
        s += &format!(
            "{},{:e},{:.6},{:e},{:.6},{:e},{:.3}\n",
            r.epoch, r.train_loss, r.train_acc, r.eval_loss, r.eval_acc, r.lr, r.seconds
        );
    }
    s
}

pub fn read_curve(path: &Path) -> Result<Vec<CurveRow>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut lines = text.lines();
    anyhow::ensure!(
        lines.next() == Some(CURVE_HEADER),
        "{}: unexpected header",
        path.display()
    );
    lines
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |k: usize| -> Result<f64> {
                f.get(k)
                    .and_then(|v| v.parse::<f64>().ok())
                    .with_context(|| {
                        format!("{}: line {}: bad field {}", path.display(), i + 2, k + 1)
                    })
            };
            Ok(CurveRow {
                epoch: num(0)? as usize,
                train_loss: num(1)?,
                train_acc: num(2)?,
                eval_loss: num(3)?,
                eval_acc: num(4)?,
                lr: num(5)?,
                seconds: num(6)?,
            })
        })
        .collect()
}

/// A sweep's folder.
#[derive(Debug, Clone)]
pub struct SweepDir {
    pub root: PathBuf,
}

impl SweepDir {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Writes `sweep.json` (the same bytes from every process of one sweep).
    pub fn prepare(&self, config: &Config, plan: &[RunSpec]) -> Result<()> {
        let file = SweepFile {
            config: config.clone(),
            plan: plan.to_vec(),
            harness_version: env!("CARGO_PKG_VERSION").into(),
        };
        write_json(&self.root.join("sweep.json"), &file)
    }

    pub fn load(&self) -> Result<SweepFile> {
        let path = self.root.join("sweep.json");
        anyhow::ensure!(
            path.is_file(),
            "{}: no sweep.json here: not a sweep folder",
            self.root.display()
        );
        read_json(&path)
    }

    pub fn run_dir(&self, id: &str) -> PathBuf {
        self.root.join("runs").join(id)
    }

    /// The run's status, if it has one that can be read.
    pub fn status(&self, id: &str) -> Option<Status> {
        read_json(&self.run_dir(id).join("status.json")).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_round_trip_and_atomic_write_leaves_no_temporaries() {
        let dir = std::env::temp_dir().join(format!("highway-store-{}", std::process::id()));
        let rows = vec![
            CurveRow {
                epoch: 1,
                train_loss: 2.3,
                train_acc: 0.1,
                eval_loss: 2.2,
                eval_acc: 0.15,
                lr: 0.01,
                seconds: 1.5,
            },
            CurveRow {
                epoch: 2,
                train_loss: 1e-5,
                train_acc: 1.0,
                eval_loss: f64::NAN,
                eval_acc: 0.9,
                lr: 0.005,
                seconds: 1.25,
            },
        ];
        let path = dir.join("curve.csv");
        write_atomic(&path, curve_csv(&rows).as_bytes()).unwrap();
        let back = read_curve(&path).unwrap();
        assert_eq!(back[0], rows[0]);
        assert_eq!(back[1].train_loss, 1e-5);
        assert!(back[1].eval_loss.is_nan());
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("curve.csv")]);
    }
}
