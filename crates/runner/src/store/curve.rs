//! `curve.csv`: one row per epoch.

use std::path::Path;

use anyhow::{Context, Result};

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

pub(super) const CURVE_HEADER: &str = "epoch,train_loss,train_acc,eval_loss,eval_acc,lr,seconds";

pub(super) fn curve_csv(rows: &[CurveRow]) -> String {
    let mut s = format!("{CURVE_HEADER}\n");
    for r in rows {
        s += &format!(
            "{},{:e},{:.6},{:e},{:.6},{:e},{:.3}\n",
            r.epoch, r.train_loss, r.train_acc, r.eval_loss, r.eval_acc, r.lr, r.seconds
        );
    }
    s
}

pub(super) fn read_curve(path: &Path) -> Result<Vec<CurveRow>> {
    let text = super::files::read_text(path, super::files::MAX_RECORD)?;
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

/// A test's learning curve: one row per training loss, epochs counted from 1, every other
/// column a constant.
#[cfg(test)]
pub(crate) fn test_curve(losses: &[f64]) -> Vec<CurveRow> {
    (losses.iter().enumerate())
        .map(|(i, &train_loss)| CurveRow {
            epoch: i + 1,
            train_loss,
            train_acc: 0.0,
            eval_loss: 0.0,
            eval_acc: 0.0,
            lr: 0.1,
            seconds: 1.0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::write_atomic;
    use std::fs;

    #[test]
    fn curve_round_trip_and_atomic_write_leaves_no_temporaries() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
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
