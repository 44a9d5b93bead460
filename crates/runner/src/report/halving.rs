//! What a successive-halving search can and cannot show: per (kind, depth), how many trials
//! stopped at each rung and how many trained the whole budget, the trial-epochs spent against
//! the full budget, and the best trial among those that finished.

use std::fmt::Write;

use super::results::{groups, RunResult};
use crate::experiment::Halving;
use crate::store::State;

/// The section for `summary.md` of a search run with `halving` over a budget of `epochs`.
pub(super) fn halving_md(halving: &Halving, epochs: usize, runs: &[RunResult]) -> String {
    let rungs = halving.rungs(epochs);
    let mut s = format!(
        "\n## Successive halving\n\nRungs at epochs {} of {epochs} (eta {}): at each, the best \
         third (rounded up; `ceil(n / eta)`) of the trials there by training loss go on, the \
         others are `stopped`. The best trial below is the best of those trained to the end, \
         which halving picks from the loss at the rungs. Trainability is not defined (stopped \
         trials were never trained to the end); the top-10 panel is drawn only for cells with \
         at least 10 trials trained to the end; the sensitivity figures show the trials that \
         finished or diverged: the survivors, not the search.\n\n",
        rungs
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        halving.eta
    );
    let heads: Vec<String> = rungs.iter().map(|r| format!("stopped at {r}")).collect();
    let _ = writeln!(
        s,
        "| kind | depth | trials | {} | diverged | trained to {epochs} | unfinished | trial-epochs (full budget) | best trial | its final train loss |",
        heads.join(" | ")
    );
    let _ = writeln!(
        s,
        "|---|---:|---:|{}---:|---:|---:|---:|---|---:|",
        "---:|".repeat(rungs.len())
    );
    for ((kind, depth), rs) in groups(runs) {
        let stopped_at = |rung: usize| {
            rs.iter()
                .filter(|r| r.state() == Some(State::Stopped) && r.curve.len() == rung)
                .count()
        };
        let count = |st: State| rs.iter().filter(|r| r.state() == Some(st)).count();
        let spent: usize = rs.iter().map(|r| r.curve.len()).sum();
        let best = rs
            .iter()
            .filter(|r| r.is_done())
            .filter_map(|r| Some((r.final_train_loss()?, r)))
            .filter(|(l, _)| l.is_finite())
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let unfinished =
            rs.len() - count(State::Stopped) - count(State::Diverged) - count(State::Done);
        let _ = writeln!(
            s,
            "| {} | {depth} | {} | {} | {} | {} | {unfinished} | {spent} ({}, {:.0}%) | {} | {} |",
            kind.name(),
            rs.len(),
            rungs
                .iter()
                .map(|&r| stopped_at(r).to_string())
                .collect::<Vec<_>>()
                .join(" | "),
            count(State::Diverged),
            count(State::Done),
            rs.len() * epochs,
            100.0 * spent as f64 / (rs.len() * epochs).max(1) as f64,
            best.map_or("–".into(), |(_, r)| format!(
                "{} (trial {})",
                r.spec.id,
                r.spec.trial.unwrap_or_default()
            )),
            best.map_or("–".into(), |(l, _)| format!("{l:.3e}")),
        );
    }
    s
}
