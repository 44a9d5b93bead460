//! How fast a random search's best settings train: per (kind, depth), the epochs the best trial
//! needed to pass the trainability thresholds, and the top-10 mean loss early and late. The
//! paper's "highway nets converge faster" is a claim about these numbers, not about the final
//! loss.

use std::fmt::Write;

use super::results::{groups, mean_std, RunResult};
use super::search::{ranked, TOP};
use super::trainability::{TRAINED, TRAINED_WELL};
use crate::store::CurveRow;

/// The epochs after which the table reads the top-10 mean loss (the last epoch is added).
const EPOCHS: [usize; 3] = [1, 5, 10];

/// The first epoch (counted from 1) whose training loss is below `threshold`.
pub(super) fn epochs_to(curve: &[CurveRow], threshold: f64) -> Option<usize> {
    curve
        .iter()
        .position(|c| c.train_loss < threshold)
        .map(|i| i + 1)
}

/// The mean training loss of `rs` after `epoch` (counted from 1), over the runs that reached it.
fn mean_after(rs: &[&RunResult], epoch: usize) -> Option<f64> {
    let v: Vec<f64> = rs
        .iter()
        .filter_map(|r| r.curve.get(epoch.checked_sub(1)?))
        .map(|c| c.train_loss)
        .collect();
    mean_std(&v).map(|(m, _)| m)
}

/// The table for `summary.md`.
pub(super) fn convergence_md(runs: &[RunResult]) -> String {
    let last = runs
        .iter()
        .map(|r| r.spec.training.epochs)
        .max()
        .unwrap_or(0);
    let mut epochs: Vec<usize> = EPOCHS.into_iter().filter(|&e| e < last).collect();
    epochs.push(last);
    let mut s = format!(
        "\n## Convergence\n\nPer (kind, depth): the first epoch at which the best trial's training \
         loss was below {TRAINED} and below {TRAINED_WELL} (– if never), and the mean training loss \
         of the top {TOP} trials after epochs {}.\n\n| kind | depth | best: epochs to < {TRAINED} \
         | best: epochs to < {TRAINED_WELL} |",
        epochs
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    for e in &epochs {
        let _ = write!(s, " top {TOP}, epoch {e} |");
    }
    s += "\n|---|---:|---:|---:|";
    s += &"---:|".repeat(epochs.len());
    s += "\n";
    let cell = |v: Option<String>| v.unwrap_or_else(|| "–".into());
    for ((kind, depth), rs) in groups(runs) {
        let ranked = ranked(&rs);
        let top: Vec<&RunResult> = ranked.iter().copied().take(TOP).collect();
        let best = ranked.first();
        let to = |t: f64| {
            cell(
                best.and_then(|r| epochs_to(&r.curve, t))
                    .map(|e| e.to_string()),
            )
        };
        let _ = write!(
            s,
            "| {} | {depth} | {} | {} |",
            kind.name(),
            to(TRAINED),
            to(TRAINED_WELL)
        );
        for &e in &epochs {
            let _ = write!(
                s,
                " {} |",
                cell(mean_after(&top, e).map(|m| format!("{m:.3e}")))
            );
        }
        s += "\n";
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_curve as curve;

    #[test]
    fn epochs_to_counts_from_one_and_needs_strictly_below() {
        let c = curve(&[2.3, 0.5, 0.1, 0.05, 0.009]);
        assert_eq!(epochs_to(&c, 0.1), Some(4));
        assert_eq!(epochs_to(&c, 0.01), Some(5));
        assert_eq!(epochs_to(&c, 3.0), Some(1));
        assert_eq!(epochs_to(&c, 1e-3), None);
        assert_eq!(epochs_to(&[], 0.1), None);
    }

    #[test]
    fn a_nan_loss_never_counts_as_below() {
        assert_eq!(epochs_to(&curve(&[f64::NAN, 0.05]), 0.1), Some(2));
    }
}
