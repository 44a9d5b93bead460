//! How much a trial's result owes to its seed: for every search trial trained with more than
//! one seed (a `search.rerun` of the best trials), its final training loss per seed and the
//! spread, then the same per (kind, depth) and between the kinds, so that the gaps between
//! kinds and depths can be read against the seed noise.

use std::collections::BTreeMap;
use std::fmt::Write;

use highway_model::Kind;

use super::results::{mean_std, RunResult};

/// Per (kind, depth, trial): each seed's final training loss, `None` when not done.
type BySeed = BTreeMap<(Kind, usize, usize), Vec<(u64, Option<f64>)>>;

/// The seed tables for `summary.md`; empty when no trial has more than one seed.
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
        seed_columns(&seeds, ""),
        "---:|".repeat(seeds.len())
    );
    for ((kind, depth, trial), runs) in &trials {
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
    let cells = cell_stats(&trials, &seeds);
    s += &cells_md(&cells, &trials, &seeds);
    s += &kinds_md(&cells, &seeds);
    s
}

/// The per-(kind, depth) table: each seed's best and mean final loss over the re-run trials
/// `trials`, and their spread across seeds.
fn cells_md(
    cells: &BTreeMap<(Kind, usize), Vec<SeedStat>>,
    trials: &BySeed,
    seeds: &[u64],
) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "\nPer (kind, depth), over the trials above: the best and the mean final loss of each \
         seed, and their spread across seeds. The trials were ranked by their first seed's \
         result, so that seed's best is picked on its own noise; the other seeds are fresh \
         draws of the same settings. (k of n): only k of the n trials done.\n\n\
         | kind | depth | trials | {} | spread | {} | spread |\n|---|---:|---:|{}---:|{}---:|\n",
        seed_columns(seeds, "best, "),
        seed_columns(seeds, "mean, "),
        "---:|".repeat(seeds.len()),
        "---:|".repeat(seeds.len())
    );
    for ((kind, depth), per_seed) in cells {
        let n = trials
            .keys()
            .filter(|(k, d, _)| (k, d) == (kind, depth))
            .count();
        let shown = |pick: fn(&SeedStat) -> f64| -> (Vec<String>, String) {
            let values = per_seed.iter().map(|c| c.shown(pick)).collect();
            let complete: Option<Vec<f64>> = per_seed.iter().map(|c| c.complete(pick)).collect();
            let spread = complete
                .and_then(|v| spread(&v))
                .map_or("–".into(), |x| format!("{x:.2}×"));
            (values, spread)
        };
        let (best, best_spread) = shown(|c| c.best);
        let (mean, mean_spread) = shown(|c| c.mean);
        let _ = writeln!(
            s,
            "| {} | {depth} | {n} | {} | {best_spread} | {} | {mean_spread} |",
            kind.name(),
            best.join(" | "),
            mean.join(" | ")
        );
    }
    s
}

/// One seed's results over the re-run trials of a (kind, depth).
#[derive(Clone, Copy)]
struct SeedStat {
    /// Trials of the cell trained with this seed.
    planned: usize,
    /// Of them, those done.
    done: usize,
    best: f64,
    mean: f64,
}

impl SeedStat {
    /// A statistic for the tables: with "(k of n)" when some trials are not done, "–" when
    /// none is.
    fn shown(&self, pick: fn(&SeedStat) -> f64) -> String {
        match self.done {
            0 => "–".into(),
            d if d == self.planned => format!("{:.3e}", pick(self)),
            d => format!("{:.3e} ({d} of {})", pick(self), self.planned),
        }
    }

    /// A statistic over every trial of the cell, `None` while some are not done.
    fn complete(&self, pick: fn(&SeedStat) -> f64) -> Option<f64> {
        (self.planned > 0 && self.done == self.planned).then(|| pick(self))
    }
}

/// Per (kind, depth), per seed (in `seeds` order): the best and mean final loss.
fn cell_stats(trials: &BySeed, seeds: &[u64]) -> BTreeMap<(Kind, usize), Vec<SeedStat>> {
    let mut cells: BTreeMap<(Kind, usize), Vec<SeedStat>> = BTreeMap::new();
    for &(kind, depth, _) in trials.keys() {
        cells.entry((kind, depth)).or_insert_with(|| {
            seeds
                .iter()
                .map(|s| {
                    let runs: Vec<Option<f64>> = trials
                        .iter()
                        .filter(|((k, d, _), _)| (*k, *d) == (kind, depth))
                        .filter_map(|(_, runs)| runs.iter().find(|(seed, _)| seed == s))
                        .map(|(_, loss)| *loss)
                        .collect();
                    let losses: Vec<f64> = runs.iter().flatten().copied().collect();
                    SeedStat {
                        planned: runs.len(),
                        done: losses.len(),
                        best: losses.iter().copied().fold(f64::INFINITY, f64::min),
                        mean: mean_std(&losses).map_or(f64::NAN, |(m, _)| m),
                    }
                })
                .collect()
        });
    }
    cells
}

/// Plain over highway at each depth that has both, per seed: whether the gap between the
/// kinds holds for every seed.
fn kinds_md(cells: &BTreeMap<(Kind, usize), Vec<SeedStat>>, seeds: &[u64]) -> String {
    let depths: Vec<usize> = cells
        .keys()
        .filter(|(k, d)| *k == Kind::Plain && cells.contains_key(&(Kind::Highway, *d)))
        .map(|(_, d)| *d)
        .collect();
    if depths.is_empty() {
        return String::new();
    }
    let mut s = format!(
        "\nBetween the kinds: plain over highway, the best against the best and the mean \
         against the mean, each seed on its own (– while a cell is not done). Above 1, the \
         highway trials did better.\n\n| depth | {} | {} |\n|---:|{}{}\n",
        seed_columns(seeds, "best, "),
        seed_columns(seeds, "mean, "),
        "---:|".repeat(seeds.len()),
        "---:|".repeat(seeds.len())
    );
    for d in depths {
        let (plain, highway) = (&cells[&(Kind::Plain, d)], &cells[&(Kind::Highway, d)]);
        let ratios = |pick: fn(&SeedStat) -> f64| -> Vec<String> {
            plain
                .iter()
                .zip(highway)
                .map(|(p, h)| match (p.complete(pick), h.complete(pick)) {
                    (Some(p), Some(h)) if h > 0.0 => ratio(p / h),
                    _ => "–".into(),
                })
                .collect()
        };
        let _ = writeln!(
            s,
            "| {d} | {} | {} |",
            ratios(|c| c.best).join(" | "),
            ratios(|c| c.mean).join(" | ")
        );
    }
    s
}

/// Table headers, one per seed: "{title}seed N".
fn seed_columns(seeds: &[u64], title: &str) -> String {
    seeds
        .iter()
        .map(|s| format!("{title}seed {s}"))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A ratio with three significant digits, at least two decimals below 10.
fn ratio(x: f64) -> String {
    match x {
        x if x >= 100.0 => format!("{x:.0}×"),
        x if x >= 10.0 => format!("{x:.1}×"),
        x => format!("{x:.2}×"),
    }
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

    /// A cell's statistic per seed counts only done trials, says so, and has no spread or
    /// ratio until every trial of every seed is done.
    #[test]
    fn cell_statistics_wait_for_every_trial() {
        let mut trials = BySeed::new();
        trials.insert((Kind::Plain, 10, 3), vec![(0, Some(0.02)), (1, Some(0.04))]);
        trials.insert((Kind::Plain, 10, 7), vec![(0, Some(0.01)), (1, None)]);
        trials.insert(
            (Kind::Highway, 10, 5),
            vec![(0, Some(0.005)), (1, Some(0.01))],
        );
        let cells = cell_stats(&trials, &[0, 1]);
        let plain = &cells[&(Kind::Plain, 10)];
        assert_eq!((plain[0].best, plain[0].mean), (0.01, 0.015));
        assert_eq!(plain[0].shown(|c| c.best), "1.000e-2");
        assert_eq!(plain[1].shown(|c| c.mean), "4.000e-2 (1 of 2)");
        assert_eq!(plain[1].complete(|c| c.best), None);
        let md = kinds_md(&cells, &[0, 1]);
        assert!(md.contains("| 10 | 2.00× | – | 3.00× | – |"), "{md}");
    }

    #[test]
    fn ratios_keep_three_digits() {
        assert_eq!(ratio(616.4), "616×");
        assert_eq!(ratio(97.04), "97.0×");
        assert_eq!(ratio(1.344), "1.34×");
    }
}
