//! How much of a random search trains: per (kind, depth), the share of trials that reached a
//! low training loss, that diverged, and that stayed near chance. The thresholds are fixed
//! here, before any search is looked at, and printed with every table.

use std::fmt::Write;

use super::figures::{axes, kind_color};
use super::results::{groups, Counted, RunResult};
use crate::store::State;
use crate::svg::plot::{Chart, Series};

/// Final training loss below which a trial counts as trained.
pub(super) const TRAINED: f64 = 0.1;
/// The stricter threshold, reported separately.
pub(super) const TRAINED_WELL: f64 = 1e-2;
/// Final training loss above which a trial stayed near chance (ln 10 ≈ 2.30 for ten classes).
pub(super) const NEAR_CHANCE: f64 = 2.0;

/// Whether a run trained: done, with a final training loss below [`TRAINED`].
pub(super) fn trained(r: &RunResult) -> bool {
    r.is_done() && r.final_train_loss().is_some_and(|l| l < TRAINED)
}

/// The outcome counts of one (kind, depth).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Outcomes {
    /// Trials that ended (done or diverged): the denominator of every fraction.
    pub finished: usize,
    pub trained: usize,
    pub trained_well: usize,
    pub diverged: usize,
    pub near_chance: usize,
}

impl Outcomes {
    /// Counts the finished runs of `rs`.
    pub(super) fn of(rs: &[&RunResult]) -> Outcomes {
        let mut o = Outcomes::default();
        for r in rs {
            match r.state() {
                Some(State::Diverged) => {
                    o.finished += 1;
                    o.diverged += 1;
                }
                Some(State::Done) => {
                    o.finished += 1;
                    let loss = r.final_train_loss().unwrap_or(f64::NAN);
                    o.trained += usize::from(trained(r));
                    o.trained_well += usize::from(loss < TRAINED_WELL);
                    o.near_chance += usize::from(loss > NEAR_CHANCE);
                }
                _ => {}
            }
        }
        o
    }

    /// `count` as a share of the finished trials.
    pub(super) fn share(&self, count: usize) -> f64 {
        count as f64 / self.finished.max(1) as f64
    }
}

/// The table for `summary.md`.
pub(super) fn trainability_md(runs: &[RunResult], halving: bool) -> String {
    if halving {
        return "\n## Trainability\n\nNot defined under successive halving: the trials it \
                stopped were never trained to the end, so the share of settings that train \
                cannot be read from this search (see \"Successive halving\").\n"
            .into();
    }
    let many = Counted::of(runs).many();
    let mut s = format!(
        "\n## Trainability\n\nPer (kind, depth), the share of finished {many} (done or diverged) whose final \
         training loss is below {TRAINED} (trained) and below {TRAINED_WELL}, that diverged, and whose final \
         loss is above {NEAR_CHANCE} (near chance). Thresholds fixed in `report/trainability.rs`.\n\n\
         | kind | depth | finished | loss < {TRAINED} | loss < {TRAINED_WELL} | diverged | near chance |\n\
         |---|---:|---:|---:|---:|---:|---:|\n"
    );
    for ((kind, depth), rs) in groups(runs) {
        let o = Outcomes::of(&rs);
        let cell = |n: usize| format!("{n} ({:.0}%)", 100.0 * o.share(n));
        let _ = writeln!(
            s,
            "| {} | {depth} | {} | {} | {} | {} | {} |",
            kind.name(),
            o.finished,
            cell(o.trained),
            cell(o.trained_well),
            cell(o.diverged),
            cell(o.near_chance)
        );
    }
    s
}

/// The share of settings that trained against depth, plain against highway: solid for
/// loss < `TRAINED`, dashed for loss < `TRAINED_WELL`. Not defined under successive halving
/// (`halving`: stopped trials were never trained to the end): the chart then says so and
/// draws nothing.
pub(super) fn trainability_chart(runs: &[RunResult], halving: bool) -> Chart {
    let g = groups(runs);
    let (kinds, depths) = axes(&g);
    let mut series = Vec::new();
    for &kind in &kinds {
        let share = |pick: fn(&Outcomes) -> usize| -> Vec<(f64, f64)> {
            depths
                .iter()
                .filter_map(|&d| {
                    let o = Outcomes::of(g.get(&(kind, d))?);
                    (o.finished > 0).then(|| (d as f64, o.share(pick(&o))))
                })
                .collect()
        };
        let mut loose = Series::line(
            format!("{} < {TRAINED}", kind.name()),
            kind_color(kind),
            share(|o| o.trained),
        );
        loose.markers = true;
        let mut strict = Series::line(
            format!("{} < {TRAINED_WELL}", kind.name()),
            kind_color(kind),
            share(|o| o.trained_well),
        );
        strict.markers = true;
        strict.dashed = true;
        series.extend([loose, strict]);
    }
    if halving {
        series.clear();
    }
    Chart {
        title: if halving {
            "Share of random settings that trained: not defined under successive halving".into()
        } else {
            "Share of random settings that trained".into()
        },
        x_label: "depth (hidden layers)".into(),
        y_label: format!("share of finished {}", Counted::of(runs).many()),
        log_y: false,
        log_x: false,
        y_range: Some((0.0, 1.0)),
        series,
    }
}
