//! What goes with a trial's final loss across a random search, from the per-layer statistics of
//! the runs that recorded them from initialisation (`layers.csv`): the first/last-layer
//! weight-gradient ratio at initialisation and after epoch 1 (how much of the gradient reaches
//! the input layer; a vanishing gradient is a small ratio), the share of dead units after epoch
//! 1, and the last layer's output std at both. Four tables: how each ranks with the final loss;
//! who trained by the ratio after epoch 1; by initial learning rate, whether the gradient
//! vanished from the start or because of what the first epoch did; and highway nets by their
//! output scale at initialisation, which `b_T` sets. `highway analyze mechanism`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use anyhow::Result;
use highway_model::Kind;

use super::breakdown::LR_SPLIT;
use super::first_epoch::Features;
use super::rank_correlation::spearman;
use super::results::{collect_cells, RunResult};
use super::trainability::{trained, Outcomes, NEAR_CHANCE, TRAINED};
use crate::sig_digits::{g, sig};
use crate::store::{State, SweepDir};

/// A first/last gradient ratio below this has vanished.
const VANISHED: f64 = 0.01;
/// The output std at initialisation that splits the highway trials.
const STD_SPLIT: f64 = 0.01;
/// The gradient-ratio bins of the second table.
const RATIO_BINS: [(f64, f64); 3] = [(0.0, VANISHED), (VANISHED, 1.0), (1.0, f64::INFINITY)];
/// A column of the correlation table: its name and the statistic.
type Statistic = (&'static str, fn(&Features) -> f64);

/// The statistics of the correlation table, in its column order.
const STATISTICS: [Statistic; 5] = [
    ("ratio0", |f| f.ratio0),
    ("ratio1", |f| f.ratio1),
    ("dead1", |f| f.dead1),
    ("out_std0", |f| f.out_std0),
    ("out_std1", |f| f.out_std1),
];

/// A finished trial with statistics from initialisation.
struct Trial<'a> {
    run: &'a RunResult,
    /// The final training loss; infinite for a diverged trial (the worst).
    loss: f64,
    f: Features,
}

type Cells<'a> = BTreeMap<(Kind, usize), Vec<Trial<'a>>>;

/// Per (kind, depth), the done and diverged trials whose statistics start at initialisation.
fn cells<'a>(dir: &SweepDir, runs: &'a [RunResult]) -> Cells<'a> {
    let mut cells = Cells::new();
    for run in runs {
        let loss = match run.state() {
            Some(State::Diverged) => f64::INFINITY,
            Some(State::Done) => match run.final_train_loss() {
                Some(l) => l,
                None => continue,
            },
            _ => continue,
        };
        let Some(f) = dir
            .run(&run.spec.id)
            .layers()
            .and_then(|l| Features::of(&l))
        else {
            continue;
        };
        let key = (run.spec.kind, run.spec.depth);
        cells.entry(key).or_default().push(Trial { run, loss, f });
    }
    cells
}

/// `highway analyze mechanism DIR`: the four tables of the sweep in `root`.
pub(crate) fn mechanism(root: &Path) -> Result<String> {
    let dir = SweepDir::new(root.to_path_buf());
    let (_, runs) = collect_cells(&dir)?;
    Ok(mechanism_md(&dir, &runs))
}

/// The four tables, in Markdown.
pub(super) fn mechanism_md(dir: &SweepDir, runs: &[RunResult]) -> String {
    let cells = cells(dir, runs);
    let mut s = correlations_md(&cells);
    s += &by_ratio_md(&cells);
    s += &by_lr_md(&cells);
    s += &by_scale_md(&cells);
    s
}

/// Spearman's rho of each statistic with the final loss, and the median ratio after epoch 1
/// of the trials that trained and of the others.
fn correlations_md(cells: &Cells) -> String {
    let mut s = format!(
        "Spearman's rho of each statistic with the final training loss (positive: larger \
         values go with higher loss)\n\n| kind | depth | trials | {} | median ratio1, trained \
         | median ratio1, not trained |\n|---|---:|---:|{}---:|---:|\n",
        STATISTICS.map(|(name, _)| name).join(" | "),
        "---:|".repeat(STATISTICS.len())
    );
    for ((kind, depth), trials) in cells {
        let losses: Vec<f64> = trials.iter().map(|t| t.loss.min(1e9)).collect();
        let rhos: Vec<String> = STATISTICS
            .iter()
            .map(|(_, stat)| {
                let values: Vec<f64> = trials.iter().map(|t| stat(&t.f)).collect();
                spearman(&values, &losses).map_or("–".into(), |r| format!("{r:+.2}"))
            })
            .collect();
        let median_ratio = |pick: bool| {
            let mut v: Vec<f64> = trials
                .iter()
                .filter(|t| trained(t.run) == pick)
                .map(|t| t.f.ratio1)
                .collect();
            v.sort_by(f64::total_cmp);
            // The upper median, as the table was first written.
            v.get(v.len() / 2).map_or("–".into(), |&m| sig(m, 3))
        };
        let _ = writeln!(
            s,
            "| {} | {depth} | {} | {} | {} | {} |",
            kind.name(),
            trials.len(),
            rhos.join(" | "),
            median_ratio(true),
            median_ratio(false)
        );
    }
    s
}

/// How a part of a cell ended: its outcome counts by the report's thresholds.
fn outcomes(part: &[&Trial]) -> Outcomes {
    let runs: Vec<&RunResult> = part.iter().map(|t| t.run).collect();
    Outcomes::of(&runs)
}

/// Who trained, by the gradient ratio after epoch 1.
fn by_ratio_md(cells: &Cells) -> String {
    let bins: Vec<String> = RATIO_BINS
        .iter()
        .map(|&(lo, hi)| format!("ratio in [{}, {})", g(lo), g(hi)))
        .collect();
    let mut s = format!(
        "\nTrials that trained (final loss below {TRAINED}), by the first/last gradient ratio \
         after epoch 1\n\n| kind | depth | {} |\n|---|---:|{}\n",
        bins.join(" | "),
        "---:|".repeat(RATIO_BINS.len())
    );
    for ((kind, depth), trials) in cells {
        let parts: Vec<String> = RATIO_BINS
            .iter()
            .map(|&(lo, hi)| {
                let inside: Vec<&Trial> = trials
                    .iter()
                    .filter(|t| lo <= t.f.ratio1 && t.f.ratio1 < hi)
                    .collect();
                let o = outcomes(&inside);
                format!("{} of {}", o.trained, o.finished)
            })
            .collect();
        let _ = writeln!(s, "| {} | {depth} | {} |", kind.name(), parts.join(" | "));
    }
    s
}

/// A cell's trials in two parts, below `threshold` by `stat` and from it, each with its name.
fn split<'a, 'b>(
    trials: &'b [Trial<'a>],
    stat: impl Fn(&Trial) -> f64,
    threshold: f64,
) -> [(String, Vec<&'b Trial<'a>>); 2] {
    let part = |below: bool| {
        trials
            .iter()
            .filter(|t| (stat(t) < threshold) == below)
            .collect()
    };
    [
        (format!("< {}", g(threshold)), part(true)),
        (format!("≥ {}", g(threshold)), part(false)),
    ]
}

/// The smallest and largest of `v` to three digits, one value when they are equal.
fn span(v: impl Iterator<Item = f64>) -> String {
    let v: Vec<f64> = v.collect();
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match v.len() {
        0 => "–".into(),
        _ if lo == hi => sig(lo, 3),
        _ => format!("{}–{}", sig(lo, 3), sig(hi, 3)),
    }
}

/// By initial learning rate: vanished after epoch 1, near chance or diverged, trained, and
/// the ratio and output std at initialisation.
fn by_lr_md(cells: &Cells) -> String {
    let mut s = format!(
        "\nBy the initial learning rate: trials whose gradient ratio after epoch 1 vanished \
         (< {}), that ended near chance (> {NEAR_CHANCE:.1}) or diverged, that trained \
         (< {TRAINED}); range of the ratio and of the output std at initialisation\n\n\
         | kind | depth | lr | trials | vanished after epoch 1 | near chance or diverged | \
         trained | ratio at init | output std at init |\n\
         |---|---:|---|---:|---:|---:|---:|---|---|\n",
        g(VANISHED)
    );
    for ((kind, depth), trials) in cells {
        let lr = |t: &Trial| t.run.spec.training.lr;
        for (name, part) in split(trials, lr, LR_SPLIT) {
            let o = outcomes(&part);
            let _ = writeln!(
                s,
                "| {} | {depth} | {name} | {} | {} | {} | {} | {} | {} |",
                kind.name(),
                part.len(),
                part.iter().filter(|t| t.f.ratio1 < VANISHED).count(),
                o.near_chance + o.diverged,
                o.trained,
                span(part.iter().map(|t| t.f.ratio0)),
                span(part.iter().map(|t| t.f.out_std0)),
            );
        }
    }
    s
}

/// Highway nets by the output std at initialisation, with the range of `b_T` in each part.
fn by_scale_md(cells: &Cells) -> String {
    let mut s = format!(
        "\nHighway nets by the output std at initialisation: trials that ended near chance \
         (> {NEAR_CHANCE:.1}) or diverged, that trained (< {TRAINED}); the range of b_T\n\n\
         | depth | output std at init | trials | near chance or diverged | trained | b_T |\n\
         |---:|---|---:|---:|---:|---|\n"
    );
    for ((kind, depth), trials) in cells {
        if *kind != Kind::Highway {
            continue;
        }
        for (name, part) in split(trials, |t| t.f.out_std0, STD_SPLIT) {
            let o = outcomes(&part);
            let gates: Vec<f64> = part
                .iter()
                .map(|t| t.run.spec.model.gate_bias as f64)
                .collect();
            let range = match (
                gates.iter().copied().reduce(f64::min),
                gates.iter().copied().reduce(f64::max),
            ) {
                (Some(lo), Some(hi)) => format!("{lo:.2} to {hi:.2}"),
                _ => "–".into(),
            };
            let _ = writeln!(
                s,
                "| {depth} | {name} | {} | {} | {} | {range} |",
                part.len(),
                o.near_chance + o.diverged,
                o.trained,
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::results::tests::{run, Ending};
    use super::*;

    /// The tables split and count the trials by the report's thresholds: a diverged trial is
    /// near chance or diverged, never trained, and ranks as the worst loss.
    #[test]
    fn tables_count_each_trial_once_by_the_report_rules() {
        let runs = [
            run(Kind::Highway, 5, 0, 0.002, -1.5, Ending::Done(2.2)),
            run(Kind::Highway, 5, 1, 0.05, -6.0, Ending::Done(0.05)),
            run(Kind::Highway, 5, 2, 0.05, -2.0, Ending::Diverged),
            run(Kind::Highway, 5, 3, 0.05, -8.0, Ending::Done(0.5)),
        ];
        let features = |ratio1: f64, out_std0: f64| Features {
            ratio0: 10.0,
            ratio1,
            dead1: 0.0,
            out_std0,
            out_std1: 0.1,
        };
        let all = [(0.001, 0.001), (5.0, 0.2), (0.5, 0.005), (2.0, 0.3)];
        let trials = runs
            .iter()
            .zip(all)
            .map(|(run, (r, s))| {
                let loss = if run.is_done() {
                    run.final_train_loss().unwrap()
                } else {
                    f64::INFINITY
                };
                Trial {
                    run,
                    loss,
                    f: features(r, s),
                }
            })
            .collect();
        let cells: Cells = [((Kind::Highway, 5), trials)].into();
        let by_ratio = by_ratio_md(&cells);
        assert!(
            by_ratio.contains("| highway | 5 | 0 of 1 | 0 of 1 | 1 of 2 |"),
            "{by_ratio}"
        );
        let by_lr = by_lr_md(&cells);
        assert!(
            by_lr.contains("| highway | 5 | < 0.01 | 1 | 1 | 1 | 0 | 10 | 0.001 |"),
            "{by_lr}"
        );
        assert!(
            by_lr.contains("| highway | 5 | ≥ 0.01 | 3 | 0 | 1 | 1 | 10 | 0.005–0.3 |"),
            "{by_lr}"
        );
        let by_scale = by_scale_md(&cells);
        assert!(
            by_scale.contains("| 5 | < 0.01 | 2 | 2 | 0 | -2.00 to -1.50 |"),
            "{by_scale}"
        );
        assert!(
            by_scale.contains("| 5 | ≥ 0.01 | 2 | 0 | 1 | -8.00 to -6.00 |"),
            "{by_scale}"
        );
        // Ratio1 against the loss: 0.001 (2.2), 5 (0.05), 0.5 (∞), 2 (0.5).
        let rho = correlations_md(&cells);
        assert!(rho.contains("| highway | 5 | 4 | – | -0.80 | – |"), "{rho}");
        // The upper median of the ratios of the trials not trained: 0.001, 0.5, 2.
        assert!(rho.contains("| 5 | 0.5 |\n"), "{rho}");
    }
}
