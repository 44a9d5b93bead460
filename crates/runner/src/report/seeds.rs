//! How much a trial's result owes to its seed: for every search trial trained with more than
//! one seed (a `search.rerun` of the best trials), its final training loss per seed and the
//! spread, so that the gaps between kinds and depths can be read against the seed noise.

use std::collections::BTreeMap;
use std::fmt::Write;

use highway_model::Kind;

use super::results::RunResult;

/// Per (kind, depth, trial): each seed's final training loss, `None` when not done.
type BySeed = BTreeMap<(Kind, usize, usize), Vec<(u64, Option<f64>)>>;

/// The seed table for `summary.md`; empty when no trial has more than one seed.
pub(super) fn seeds_md(runs: &[RunResult]) -> String {
    let mut trials = BySeed::new();
    for r in runs {
        if let Some(trial) = r.spec.trial {
            let loss = r.is_done().then(|| r.final_train_loss()).flatten();
            let key = (r.spec.kind, r.spec.depth, trial);
            trials.entry(key).or_default().push((r.spec.seed, loss));
        }
    }
    trials.retain(|_, seeds| seeds.len() > 1);
    let mut seeds: Vec<u64> = trials.values().flatten().map(|(seed, _)| *seed).collect();
    seeds.sort();
    seeds.dedup();
    if seeds.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\n## Seeds\n\nTrials trained with more than one seed: the final training loss per seed \
         (– not done) and the spread, the largest over the smallest. A gap between kinds or \
         depths smaller than these spreads is within seed noise.\n\n\
         | kind | depth | trial | {} | spread |\n|---|---:|---:|{}---:|\n",
        seeds
            .iter()
            .map(|s| format!("seed {s}"))
            .collect::<Vec<_>>()
            .join(" | "),
        "---:|".repeat(seeds.len())
    );
    for ((kind, depth, trial), runs) in trials {
        let cells: Vec<String> = seeds
            .iter()
            .map(|s| match runs.iter().find(|(seed, _)| seed == s) {
                Some((_, Some(loss))) => format!("{loss:.3e}"),
                Some((_, None)) => "–".into(),
                None => String::new(),
            })
            .collect();
        let losses: Vec<f64> = runs.iter().filter_map(|(_, l)| *l).collect();
        let spread = match (losses.len() == runs.len(), spread(&losses)) {
            (true, Some(x)) => format!("{x:.2}×"),
            _ => "–".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {depth} | {trial} | {} | {spread} |",
            kind.name(),
            cells.join(" | ")
        );
    }
    s
}

/// The largest loss over the smallest; `None` for fewer than two or a loss that is not
/// positive.
fn spread(losses: &[f64]) -> Option<f64> {
    let lo = losses.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = losses.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (losses.len() > 1 && lo > 0.0).then(|| hi / lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_the_largest_over_the_smallest() {
        assert_eq!(spread(&[0.01, 0.04, 0.02]), Some(4.0));
        assert_eq!(spread(&[0.01]), None);
        assert_eq!(spread(&[0.0, 0.1]), None);
    }
}
