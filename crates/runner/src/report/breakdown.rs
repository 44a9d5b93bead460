//! Where in a random search's space the trials train: per (kind, depth), the trials that
//! trained (the trainability table's threshold) by initial learning rate, by activation and,
//! for highway nets, by the starting `b_T` (the sensitivity figure's bins); then the `b_T` bins
//! again over the highway trials with large learning rates only, since small rates are still
//! training when a short budget ends and would mix the two causes. `highway analyze search`.

use std::fmt::Write;
use std::path::Path;

use anyhow::Result;
use highway_model::{Activation, Kind};

use super::results::{collect_cells, groups, RunResult};
use super::sensitivity::{in_gate_bin, GATE_BINS};
use super::trainability::{Outcomes, NEAR_CHANCE, TRAINED};
use crate::sig_digits::g;
use crate::store::SweepDir;

/// The initial learning rate that splits the trials: below it, 20 epochs are short.
pub(super) const LR_SPLIT: f64 = 0.01;

/// Whether a run started with a learning rate from [`LR_SPLIT`] up.
pub(super) fn fast(r: &RunResult) -> bool {
    r.spec.training.lr >= LR_SPLIT
}

/// `highway analyze search DIR`: the two tables of the sweep in `root`.
pub(crate) fn breakdown(root: &Path) -> Result<String> {
    let (sweep, runs) = collect_cells(&SweepDir::new(root.to_path_buf()))?;
    let search = sweep.config.search.as_ref();
    let mut s = String::new();
    if search.is_some_and(|s| s.halving.is_some()) {
        // As in the report's trainability section: stopped trials never reached the end.
        s += "Successive halving: the trials it stopped were never trained to the end and are \
              not counted; these are the survivors, not the search.\n\n";
    }
    Ok(s + &breakdown_md(&runs))
}

/// The two tables, in Markdown.
pub(super) fn breakdown_md(runs: &[RunResult]) -> String {
    let bins: Vec<String> = GATE_BINS
        .iter()
        .map(|&(lo, hi)| format!("b_T in [{}, {})", g(lo), g(hi)))
        .collect();
    let split = g(LR_SPLIT);
    let mut s = format!(
        "Trials with final training loss < {TRAINED}, of the finished trials in each part of \
         the space; in brackets, final losses above {NEAR_CHANCE:.1} (near chance) and \
         divergences.\n\n| kind | depth | lr < {split} | lr ≥ {split} | relu | tanh | {} |\n\
         |---|---:|{}\n",
        bins.join(" | "),
        "---:|".repeat(4 + GATE_BINS.len())
    );
    let by_bin = |rs: &[&RunResult]| -> Vec<String> {
        (0..GATE_BINS.len())
            .map(|i| cell(rs, |r| in_gate_bin(r.spec.model.gate_bias as f64, i)))
            .collect()
    };
    for ((kind, depth), rs) in groups(runs) {
        let mut cells = vec![
            cell(&rs, |r| !fast(r)),
            cell(&rs, fast),
            cell(&rs, |r| r.spec.model.activation == Activation::Relu),
            cell(&rs, |r| r.spec.model.activation == Activation::Tanh),
        ];
        match kind {
            Kind::Highway => cells.extend(by_bin(&rs)),
            Kind::Plain | Kind::Residual => cells.extend(GATE_BINS.iter().map(|_| "–".to_string())),
        }
        let _ = writeln!(s, "| {} | {depth} | {} |", kind.name(), cells.join(" | "));
    }
    let _ = write!(
        s,
        "\nHighway nets with lr ≥ {split} only, by starting b_T.\n\n| depth | {} |\n|---:|{}\n",
        bins.join(" | "),
        "---:|".repeat(GATE_BINS.len())
    );
    for ((kind, depth), rs) in groups(runs) {
        if kind == Kind::Highway {
            let quick: Vec<&RunResult> = rs.into_iter().filter(|r| fast(r)).collect();
            let _ = writeln!(s, "| {depth} | {} |", by_bin(&quick).join(" | "));
        }
    }
    s
}

/// One cell: of the runs of `rs` that `pick` selects, those that trained over those that
/// finished, with the near-chance and diverged counts when there are any.
fn cell(rs: &[&RunResult], pick: impl Fn(&RunResult) -> bool) -> String {
    let part: Vec<&RunResult> = rs.iter().copied().filter(|r| pick(r)).collect();
    let o = Outcomes::of(&part);
    let mut notes = Vec::new();
    if o.near_chance > 0 {
        notes.push(format!("{} near chance", o.near_chance));
    }
    if o.diverged > 0 {
        notes.push(format!("{} diverged", o.diverged));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    };
    format!("{}/{}{notes}", o.trained, o.finished)
}

#[cfg(test)]
mod tests {
    use super::super::results::tests::{run, Ending};
    use super::*;

    /// A cell counts the finished runs it selects: trained below the threshold, near chance
    /// above it, diverged on their own; pending runs are not in the denominator.
    #[test]
    fn cells_count_finished_trials_by_the_report_thresholds() {
        let runs = [
            run(Kind::Highway, 10, 0, 0.05, -8.0, Ending::Done(0.05)),
            run(Kind::Highway, 10, 1, 0.05, -1.0, Ending::Done(2.1)),
            run(Kind::Highway, 10, 2, 0.002, -5.0, Ending::Diverged),
            run(Kind::Highway, 10, 3, 0.002, -5.0, Ending::Pending),
            run(Kind::Plain, 10, 0, 0.002, 0.0, Ending::Done(0.5)),
        ];
        let md = breakdown_md(&runs);
        assert!(
            md.contains("| plain | 10 | 0/1 | 0/0 | 0/1 | 0/0 | – | – | – |"),
            "{md}"
        );
        // lr < 0.01: one diverged (the pending one is not counted); ≥ 0.01: one trained, one
        // near chance; b_T −1 falls in the last bin, which holds its upper end.
        assert!(
            md.contains(
                "| highway | 10 | 0/1 (1 diverged) | 1/2 (1 near chance) | 1/3 (1 near chance, \
                 1 diverged) | 0/0 | 1/1 | 0/1 (1 diverged) | 0/1 (1 near chance) |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| 10 | 1/1 | 0/0 | 0/1 (1 near chance) |"),
            "{md}"
        );
    }
}
