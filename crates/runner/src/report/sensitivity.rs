//! How narrow the working range of a setting is: every trial's final training loss against its
//! learning rate, one panel per (kind, depth), coloured by activation; for highway nets also
//! coloured by the gate bias `b_T` it started with. Diverged trials are crosses in a strip
//! above each panel, and a dashed line marks chance. And, per depth, the `b_T` of the best
//! trials, to set against the variance argument (deeper nets want more negative `b_T`).

use std::fmt::Write;

use highway_data::DatasetName;
use highway_model::{Activation, Kind};

use super::results::{groups, median, RunResult};
use super::search::{ranked, TOP};
use crate::store::{State, SweepFile};
use crate::svg::plot::{side_by_side, Chart, Marker, Place, Series};

/// The colour of diverged trials, drawn as crosses in a strip above each panel (they have no
/// final loss).
const DIVERGED: &str = "hsl(0,0%,45%)";

/// The classes of the sweep's dataset, where its config fixes them (a `files` dataset without
/// `classes` counts its labels when loaded: `None`).
pub(super) fn classes(sweep: &SweepFile) -> Option<usize> {
    let d = &sweep.config.dataset;
    match d.name {
        DatasetName::Mnist | DatasetName::FashionMnist | DatasetName::Cifar10 => Some(10),
        // The label set's only two values, read through its name: fine or coarse.
        DatasetName::Cifar100 if format!("{:?}", d.labels) == "Coarse" => Some(20),
        DatasetName::Cifar100 => Some(100),
        DatasetName::Synthetic => Some(d.synthetic.classes),
        DatasetName::Files => d.files.as_ref().and_then(|f| f.classes),
    }
}

/// The chance line of a panel: the cross-entropy of a uniform prediction over `classes`,
/// ln(classes), where a net that learned nothing sits.
fn chance(classes: usize) -> Series {
    Series::across(
        format!("chance (ln {classes})"),
        "hsl(0,0%,25%)",
        (classes as f64).ln(),
    )
}

/// `(lr, final training loss)` of a group's done trials that `pick` selects.
fn points(rs: &[&RunResult], pick: &dyn Fn(&RunResult) -> bool) -> Vec<(f64, f64)> {
    rs.iter()
        .filter(|r| r.is_done() && pick(r))
        .filter_map(|r| Some((r.spec.training.lr, r.final_train_loss()?)))
        .collect()
}

/// The learning rates of a group's diverged trials, for the strip above the panel.
fn diverged(rs: &[&RunResult]) -> Series {
    let xs: Vec<f64> = rs
        .iter()
        .filter(|r| r.state() == Some(State::Diverged))
        .map(|r| r.spec.training.lr)
        .collect();
    Series::above("diverged", DIVERGED, &xs)
}

/// A panel: `series`, then the diverged trials above it and the chance line where `classes`
/// is known. `None` for a (kind, depth) with no trial finished yet.
fn panel(
    title: String,
    rs: &[&RunResult],
    mut series: Vec<Series>,
    classes: Option<usize>,
) -> Option<Chart> {
    let finished = rs
        .iter()
        .any(|r| matches!(r.state(), Some(State::Done | State::Diverged)));
    if !finished {
        return None;
    }
    series.push(diverged(rs));
    series.extend(classes.map(chance));
    Some(Chart {
        title,
        x_label: "initial learning rate (log)".into(),
        y_label: "final training loss (log)".into(),
        log_y: true,
        log_x: true,
        y_range: None,
        series,
    })
}

/// Gives every panel the same loss axis, from the lowest final loss of any panel to the
/// highest (or chance, if higher), so that the working ranges of the panels compare at a
/// glance.
fn share_loss_axis(charts: &mut [Chart]) {
    let ys = || {
        charts
            .iter()
            .flat_map(|c| c.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)))
            .filter(|&y| y > 0.0 && y.is_finite())
    };
    let lowest = ys().fold(f64::INFINITY, f64::min);
    let highest = ys().fold(f64::NEG_INFINITY, f64::max);
    let chance = charts
        .iter()
        .flat_map(|c| &c.series)
        .filter_map(|s| match s.place {
            Place::Across(y) => Some(y),
            _ => None,
        })
        .fold(f64::NEG_INFINITY, f64::max);
    let highest = highest.max(chance);
    if !(lowest.is_finite() && highest.is_finite()) {
        return;
    }
    for c in charts {
        c.y_range = Some((lowest, highest));
    }
}

/// The colour and marker of `a`'s trials: purple and mustard, apart from the red and blue of
/// plain and highway nets in every other figure.
fn activation_style(a: Activation) -> (&'static str, Marker) {
    match a {
        Activation::Relu => ("hsl(285,55%,42%)", Marker::Circle),
        Activation::Tanh => ("hsl(42,95%,40%)", Marker::Triangle),
    }
}

/// One panel per (kind, depth) with a finished trial, trials coloured by activation, diverged
/// trials as crosses above the panel, and the chance line.
pub(super) fn by_activation(runs: &[RunResult], classes: Option<usize>) -> String {
    let g = groups(runs);
    let mut charts: Vec<Chart> = g
        .iter()
        .filter_map(|(&(kind, depth), rs)| {
            let series: Vec<Series> = Activation::ALL
                .into_iter()
                .map(|a| {
                    let (color, marker) = activation_style(a);
                    let mut s = Series::scatter(
                        a.name(),
                        color,
                        points(rs, &|r| r.spec.model.activation == a),
                    );
                    s.marker = marker;
                    s
                })
                .collect();
            let title = format!(
                "{} {depth}: final loss vs learning rate, by activation",
                kind.name()
            );
            panel(title, rs, series, classes)
        })
        .collect();
    share_loss_axis(&mut charts);
    // Two panels to a row, with larger text, so that the grid stays legible at page width.
    side_by_side(&charts, 2)
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

/// The colour and marker of the trials in bin `i` of [`GATE_BINS`]: dark purple, teal and
/// ochre (ordered dark to light, as `b_T` rises), each with its own shape.
fn gate_bin_style(i: usize) -> (&'static str, Marker) {
    [
        ("hsl(275,70%,30%)", Marker::Circle),
        ("hsl(178,70%,32%)", Marker::Square),
        ("hsl(45,95%,42%)", Marker::Triangle),
    ][i]
}

/// The legend label of bin `i`: half-open, but the last bin closed.
fn gate_bin_label(i: usize) -> String {
    let (lo, hi) = GATE_BINS[i];
    let close = if i == GATE_BINS.len() - 1 { "]" } else { ")" };
    format!("b_T in [{lo}, {hi}{close}")
}

/// Highway panels only, trials coloured by their starting `b_T`; `None` without highway runs.
pub(super) fn by_gate_bias(runs: &[RunResult], classes: Option<usize>) -> Option<String> {
    let g = groups(runs);
    let mut charts: Vec<Chart> = g
        .iter()
        .filter(|((kind, _), _)| *kind == Kind::Highway)
        .filter_map(|(&(kind, depth), rs)| {
            let series: Vec<Series> = (0..GATE_BINS.len())
                .map(|i| {
                    let within = move |r: &RunResult| in_gate_bin(r.spec.model.gate_bias as f64, i);
                    let (color, marker) = gate_bin_style(i);
                    let mut s = Series::scatter(gate_bin_label(i), color, points(rs, &within));
                    s.marker = marker;
                    s
                })
                .collect();
            let title = format!(
                "{} {depth}: final loss vs learning rate, by starting gate bias b_T",
                kind.name()
            );
            panel(title, rs, series, classes)
        })
        .collect();
    share_loss_axis(&mut charts);
    (!charts.is_empty()).then(|| side_by_side(&charts, 2))
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
