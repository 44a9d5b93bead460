//! How narrow the working range of a setting is: every trial's final training loss against its
//! learning rate, one panel per (kind, depth), coloured by activation; for highway nets also
//! coloured by the gate bias `b_T` it started with. And, per depth, the `b_T` of the best
//! trials, to set against the variance argument (deeper nets want more negative `b_T`).

use std::fmt::Write;

use highway_model::{Activation, Kind};

use super::results::{groups, RunResult};
use super::search::{ranked, TOP};
use crate::store::State;
use crate::svg::plot::{side_by_side_large, Chart, Series};

/// Where diverged trials are drawn (they have no final loss): above chance, off the scale of
/// any trial that trained.
const DIVERGED_AT: f64 = 10.0;

/// `(lr, final training loss)` of a group's finished trials that `pick` selects; diverged ones
/// at [`DIVERGED_AT`] when `diverged` is set.
fn points(rs: &[&RunResult], pick: &dyn Fn(&RunResult) -> bool, diverged: bool) -> Vec<(f64, f64)> {
    rs.iter()
        .filter(|r| pick(r))
        .filter_map(|r| match r.state() {
            Some(State::Done) => Some((r.spec.training.lr, r.final_train_loss()?)),
            Some(State::Diverged) if diverged => Some((r.spec.training.lr, DIVERGED_AT)),
            _ => None,
        })
        .collect()
}

fn panel(kind: Kind, depth: usize, series: Vec<Series>) -> Chart {
    Chart {
        title: format!("{} {depth}: final loss vs learning rate", kind.name()),
        x_label: "initial learning rate (log)".into(),
        y_label: format!("final loss (log; diverged at {DIVERGED_AT})"),
        log_y: true,
        log_x: true,
        y_range: None,
        series,
    }
}

/// Gives every panel the same loss axis, from the lowest loss of any panel to
/// [`DIVERGED_AT`], so that the working ranges of the panels compare at a glance.
fn share_loss_axis(charts: &mut [Chart]) {
    let lowest = charts
        .iter()
        .flat_map(|c| c.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)))
        .filter(|&y| y > 0.0 && y.is_finite())
        .fold(DIVERGED_AT, f64::min);
    for c in charts {
        c.y_range = Some((lowest, DIVERGED_AT));
    }
}

/// The colour of `a`'s trials.
fn activation_color(a: Activation) -> &'static str {
    match a {
        Activation::Relu => "hsl(25,80%,50%)",
        Activation::Tanh => "hsl(200,70%,40%)",
    }
}

/// One panel per (kind, depth), trials coloured by activation, diverged trials in grey.
pub(super) fn by_activation(runs: &[RunResult]) -> String {
    let g = groups(runs);
    let mut charts: Vec<Chart> = g
        .iter()
        .map(|(&(kind, depth), rs)| {
            let act =
                |a: Activation| move |r: &RunResult| r.spec.model.activation == a && r.is_done();
            let mut series: Vec<Series> = Activation::ALL
                .into_iter()
                .map(|a| Series::scatter(a.name(), activation_color(a), points(rs, &act(a), false)))
                .collect();
            series.push(Series::scatter(
                "diverged",
                "hsl(0,0%,60%)",
                points(rs, &|r| r.state() == Some(State::Diverged), true),
            ));
            panel(kind, depth, series)
        })
        .collect();
    share_loss_axis(&mut charts);
    // Two panels to a row, with larger text, so that the grid stays legible at page width.
    side_by_side_large(&charts, 2)
}

/// The starting `b_T` ranges that colour the highway panels, from most negative; the search
/// breakdown splits the highway trials by them too.
pub(super) const GATE_BINS: [(f64, f64); 3] = [(-10.0, -7.0), (-7.0, -4.0), (-4.0, -1.0)];

/// Whether `b_T` lies in bin `i` of [`GATE_BINS`]: each holds its lower end, and the last one
/// its upper end too (the search draws from a closed range).
pub(super) fn in_gate_bin(b_t: f64, i: usize) -> bool {
    let (lo, hi) = GATE_BINS[i];
    (lo..hi).contains(&b_t) || (i == GATE_BINS.len() - 1 && b_t == hi)
}

/// Highway panels only, trials coloured by their starting `b_T`; `None` without highway runs.
pub(super) fn by_gate_bias(runs: &[RunResult]) -> Option<String> {
    let g = groups(runs);
    let mut charts: Vec<Chart> = g
        .iter()
        .filter(|((kind, _), _)| *kind == Kind::Highway)
        .map(|(&(kind, depth), rs)| {
            let mut series: Vec<Series> = GATE_BINS
                .iter()
                .enumerate()
                .map(|(i, &(lo, hi))| {
                    let within = move |r: &RunResult| in_gate_bin(r.spec.model.gate_bias as f64, i);
                    let color = format!("hsl(215,70%,{}%)", 25 + 22 * i);
                    Series::scatter(
                        format!("b_T in [{lo}, {hi})"),
                        color,
                        points(rs, &within, false),
                    )
                })
                .collect();
            let diverged = points(rs, &|r| r.state() == Some(State::Diverged), true);
            series.push(Series::scatter("diverged", "hsl(0,0%,60%)", diverged));
            panel(kind, depth, series)
        })
        .collect();
    share_loss_axis(&mut charts);
    (!charts.is_empty()).then(|| side_by_side_large(&charts, 2))
}

/// Per highway depth: the starting `b_T` of the best trial, and the median over the top 10 and
/// over every trial that trained (final loss below the trainability threshold).
pub(super) fn gate_bias_md(runs: &[RunResult]) -> String {
    let mut s = format!(
        "\n## Best b_T by depth\n\nThe starting transform-gate bias of the best highway trials. The variance \
         argument (README, \"Choosing b_T\") says deeper nets need more negative values.\n\n\
         | depth | best trial's b_T | median b_T, top {TOP} | median b_T, trials that trained | trials that trained |\n\
         |---:|---:|---:|---:|---:|\n",
    );
    for ((kind, depth), rs) in groups(runs) {
        if kind != Kind::Highway {
            continue;
        }
        let bias = |r: &RunResult| r.spec.model.gate_bias as f64;
        let ranked = ranked(&rs);
        let top: Vec<f64> = ranked.iter().take(TOP).map(|r| bias(r)).collect();
        let trained: Vec<f64> = ranked
            .iter()
            .filter(|r| {
                r.final_train_loss()
                    .is_some_and(|l| l < super::trainability::TRAINED)
            })
            .map(|r| bias(r))
            .collect();
        let fmt = |v: Option<f64>| v.map_or("–".into(), |b| format!("{b:.2}"));
        let _ = writeln!(
            s,
            "| {depth} | {} | {} | {} | {} |",
            fmt(ranked.first().map(|r| bias(r))),
            fmt(median(&top)),
            fmt(median(&trained)),
            trained.len()
        );
    }
    s
}

fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}
