//! `layers.csv`: per epoch and hidden layer (1 = the input layer), the statistics of
//! [`LayerStats`] on the run's probe batch. Highway-only columns are empty for plain layers.

use super::files;
use std::path::Path;

use anyhow::{Context, Result};
use highway_model::LayerStats;

pub(super) const FILE: &str = "layers.csv";
pub(super) const LAYERS_HEADER: &str =
    "epoch,layer,grad_w,grad_w_h,grad_w_t,grad_out,out_mean,out_std,dead,mean_gate,mean_gate_bias";

/// One row of `layers.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRow {
    pub epoch: usize,
    pub layer: usize,
    pub stats: LayerStats,
}

/// The rows of one epoch, without header.
pub(super) fn epoch_rows(epoch: usize, stats: &[LayerStats]) -> String {
    let opt = |v: Option<f64>| v.map(|v| format!("{v:e}")).unwrap_or_default();
    stats
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "{epoch},{},{:e},{},{},{:e},{:e},{:e},{:.6},{},{}\n",
                i + 1,
                s.grad_w,
                opt(s.grad_w_h),
                opt(s.grad_w_t),
                s.grad_out,
                s.out_mean,
                s.out_std,
                s.dead,
                opt(s.gate),
                opt(s.gate_bias),
            )
        })
        .collect()
}

/// The text of `dir`'s `layers.csv` with the header and the rows of epochs before `epoch` only
/// (a resumed run writes the later ones again); just the header when there is no file. A file
/// that cannot be read (a FIFO, say) is an error: the rows it held would be lost.
pub(super) fn earlier(dir: &Path, epoch: usize) -> Result<String> {
    let mut out = format!("{LAYERS_HEADER}\n");
    let path = dir.join(FILE);
    if epoch > 0 && path.symlink_metadata().is_ok() {
        let text = files::read_text(&path, files::MAX_LAYER_RECORD)?;
        for line in text.lines().skip(1) {
            let e = line.split(',').next().and_then(|e| e.parse::<usize>().ok());
            if e.is_some_and(|e| e < epoch) {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// Reads a run's `layers.csv`.
pub(super) fn read(path: &Path) -> Result<Vec<LayerRow>> {
    let text = files::read_text(path, files::MAX_LAYER_RECORD)?;
    let mut lines = text.lines();
    anyhow::ensure!(
        lines.next() == Some(LAYERS_HEADER),
        "{}: unexpected header",
        path.display()
    );
    lines
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            let bad = || format!("{}: line {}: bad row", path.display(), i + 2);
            anyhow::ensure!(f.len() == 11, "{}", bad());
            let opt = |k: usize| -> Result<Option<f64>> {
                match f[k] {
                    "" => Ok(None),
                    v => v.parse().map(Some).with_context(bad),
                }
            };
            let num = |k: usize| -> Result<f64> { opt(k)?.with_context(bad) };
            Ok(LayerRow {
                epoch: f[0].parse().with_context(bad)?,
                layer: f[1].parse().with_context(bad)?,
                stats: LayerStats {
                    grad_w: num(2)?,
                    grad_w_h: opt(3)?,
                    grad_w_t: opt(4)?,
                    grad_out: num(5)?,
                    out_mean: num(6)?,
                    out_std: num(7)?,
                    dead: num(8)?,
                    gate: opt(9)?,
                    gate_bias: opt(10)?,
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn rows_read_back_and_a_resume_keeps_earlier_epochs() {
        let plain = LayerStats {
            grad_w: 1.5e-3,
            grad_w_h: None,
            grad_w_t: None,
            grad_out: 2e-2,
            out_mean: 0.25,
            out_std: 0.5,
            dead: 0.125,
            gate: None,
            gate_bias: None,
        };
        let highway = LayerStats {
            grad_w_h: Some(1e-3),
            grad_w_t: Some(1.118e-3),
            gate: Some(0.2),
            gate_bias: Some(-2.0),
            ..plain.clone()
        };
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let stats = [plain, highway];
        let text = format!(
            "{LAYERS_HEADER}\n{}{}",
            epoch_rows(1, &stats),
            epoch_rows(2, &stats)
        );
        fs::write(dir.join(FILE), &text).unwrap();
        let rows = read(&dir.join(FILE)).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!((rows[3].epoch, rows[3].layer), (2, 2));
        assert_eq!(rows[1].stats, stats[1]);
        assert_eq!(rows[0].stats, stats[0]);
        assert_eq!(earlier(&dir, 2).unwrap().lines().count(), 3);
        fs::remove_file(dir.join(FILE)).unwrap();
        assert_eq!(earlier(&dir, 2).unwrap(), format!("{LAYERS_HEADER}\n"));
    }
}
