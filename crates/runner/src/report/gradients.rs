//! Where the gradient goes: per depth, the norm of the gradient by layer in a plain and a
//! highway net, at initialisation and after the first and the last epoch (the picture of
//! vanishing gradients the paper argues from), and a table of the numbers behind it. From each run's `layers.csv`; sweeps
//! made without it have no such figure.

use std::collections::BTreeMap;
use std::fmt::Write;

use highway_model::Kind;

use super::figures::kind_color;
use super::results::RunResult;
use crate::store::{LayerRow, SweepDir};
use crate::svg::plot::{side_by_side, Chart, Series};

/// The per-layer rows of one run: at initialisation (epoch 0, when recorded), after the first
/// epoch, and after the last.
pub(super) struct LayerProfile<'a> {
    pub run: &'a RunResult,
    pub epochs: Vec<Vec<LayerRow>>,
}

/// Per (depth, kind), the profile of one run: the lowest seed, and in a random search the best
/// trial (lowest training loss reached, done before diverged), among the runs that have one. A
/// profile recorded from initialisation is preferred to one that starts part-way (a run resumed
/// by a binary that added `layers.csv`).
pub(super) fn profiles<'a>(
    dir: &SweepDir,
    runs: &'a [RunResult],
) -> BTreeMap<(usize, Kind), LayerProfile<'a>> {
    let mut ordered: Vec<&RunResult> = runs
        .iter()
        .filter(|r| r.state().is_some_and(|s| s.is_final()))
        .collect();
    let loss = |r: &RunResult| r.best_train_loss().unwrap_or(f64::INFINITY);
    ordered.sort_by(|a, b| {
        (a.spec.seed, !a.is_done())
            .cmp(&(b.spec.seed, !b.is_done()))
            .then_with(|| loss(a).total_cmp(&loss(b)))
    });
    // Per (depth, kind): the first profile recorded from initialisation, else the first one.
    let mut out = BTreeMap::new();
    let mut part_way = BTreeMap::new();
    for run in ordered {
        let key = (run.spec.depth, run.spec.kind);
        if out.contains_key(&key) {
            continue;
        }
        let Some(rows) = dir.run(&run.spec.id).layers() else {
            continue;
        };
        let mut epochs: Vec<usize> = rows.iter().map(|r| r.epoch).collect();
        epochs.dedup();
        let from_start = epochs.first() == Some(&0);
        if !from_start && part_way.contains_key(&key) {
            continue;
        }
        let mut picked: Vec<usize> = epochs.iter().copied().filter(|&e| e <= 1).collect();
        picked.extend(epochs.last().filter(|&&e| e > 1));
        let of = |e: usize| rows.iter().filter(|r| r.epoch == e).cloned().collect();
        let epochs = picked.into_iter().map(of).collect();
        let profile = LayerProfile { run, epochs };
        if from_start {
            out.insert(key, profile);
        } else {
            part_way.insert(key, profile);
        }
    }
    for (key, profile) in part_way {
        out.entry(key).or_insert(profile);
    }
    out
}

/// Which run a profile shows, for its title: the trial (and seed) in a search, the seed
/// otherwise.
fn which_run(run: &RunResult) -> String {
    match run.spec.trial {
        Some(trial) => format!("trial {trial} (seed {})", run.spec.seed),
        None => format!("seed {}", run.spec.seed),
    }
}

/// One SVG per depth: `(file stem, svg)`. Top row the gradient with respect to the weights,
/// bottom row with respect to the layer outputs; plain left, highway right; one line each at
/// initialisation (dashed), after the first epoch (markers) and after the last (solid). Both
/// panels of a row share their y range.
pub(super) fn gradient_figures(
    profiles: &BTreeMap<(usize, Kind), LayerProfile>,
) -> Vec<(String, String)> {
    let depths: Vec<usize> = profiles
        .keys()
        .map(|(d, _)| *d)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = Vec::new();
    for depth in depths {
        let mut charts = Vec::new();
        for (what, get) in [
            (
                "weights",
                (|r: &LayerRow| r.stats.grad_w) as fn(&LayerRow) -> f64,
            ),
            ("layer output", |r: &LayerRow| r.stats.grad_out),
        ] {
            let mut row = Vec::new();
            for kind in Kind::ALL {
                let Some(p) = profiles.get(&(depth, kind)) else {
                    continue;
                };
                row.push(gradient_chart(p, kind, depth, what, get));
            }
            let values: Vec<f64> = row
                .iter()
                .flat_map(|c| c.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)))
                .collect();
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if lo.is_finite() && hi.is_finite() {
                for c in &mut row {
                    c.y_range = Some((lo, hi));
                }
            }
            charts.extend(row);
        }
        if !charts.is_empty() {
            let columns = charts.len().min(2);
            out.push((
                format!("gradients-depth-{depth}"),
                side_by_side(&charts, columns),
            ));
        }
    }
    out
}

/// One panel of [`gradient_figures`]: the gradient `get` (with respect to `what`) by layer of
/// the `kind` net of `depth`, one line per recorded epoch.
fn gradient_chart(
    p: &LayerProfile,
    kind: Kind,
    depth: usize,
    what: &str,
    get: fn(&LayerRow) -> f64,
) -> Chart {
    let points = |rows: &[LayerRow]| -> Vec<(f64, f64)> {
        rows.iter()
            .map(|r| (r.layer as f64, get(r)))
            .filter(|(_, v)| *v > 0.0)
            .collect()
    };
    let color = kind_color(kind);
    let series = p
        .epochs
        .iter()
        .map(|rows| {
            let epoch = rows[0].epoch;
            let label = match epoch {
                0 => "at initialisation".to_string(),
                e => format!("after epoch {e}"),
            };
            let mut s = Series::line(label, color.clone(), points(rows));
            s.dashed = epoch == 0;
            s.markers = epoch == 1;
            s
        })
        .collect();
    Chart {
        title: format!(
            "{} depth {depth}, {}: gradient w.r.t. {what}",
            kind.name(),
            which_run(p.run)
        ),
        x_label: "layer (1 = input layer)".into(),
        y_label: "gradient norm (log)".into(),
        log_y: true,
        log_x: false,
        y_range: None,
        series,
    }
}

/// The table for `summary.md`: per (kind, depth) and epoch, how much of the gradient reaches
/// the bottom of the net compared with the top, how many units are dead, and how the outputs
/// spread.
pub(super) fn gradients_md(profiles: &BTreeMap<(usize, Kind), LayerProfile>) -> String {
    if profiles.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n## Gradients by layer\n\n\
         On the run's fixed probe batch of training examples (`layers.csv`; per kind and depth the \
         run with the lowest seed, in a search the best trial that has the file; epoch 0 is the \
         net at initialisation). `|∇y|`: norm of \
         the gradient of the loss with respect to a layer's output, layer 1 (the input layer) \
         against the last hidden layer: how much of the signal from the loss reaches the bottom \
         of the net. `|∇W|`: with respect to a layer's weights, layer 2 (the first layer of the \
         kind, the same shape as the last) against the last. Dead: units whose activation is \
         zero for every probe example, averaged over layers. Output std: of the last hidden \
         layer's outputs.\n\n\
         | kind | depth | epoch | \\|∇y\\| layer 1 | \\|∇y\\| last | ratio | \\|∇W\\| layer 2 | \\|∇W\\| last | ratio | dead | output std | run |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let mut keys: Vec<&(usize, Kind)> = profiles.keys().collect();
    keys.sort_by_key(|(d, k)| (*k, *d));
    for key in keys {
        let p = &profiles[key];
        for rows in &p.epochs {
            let (Some(a), Some(b)) = (rows.first(), rows.last()) else {
                continue;
            };
            let second = rows.get(1).unwrap_or(a);
            let dead = rows.iter().map(|r| r.stats.dead).sum::<f64>() / rows.len() as f64;
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.2e} | {:.2e} | {:.2e} | {:.2e} | {:.2e} | {:.2e} | {:.1}% | {:.3} | {} |",
                key.1.name(),
                key.0,
                a.epoch,
                a.stats.grad_out,
                b.stats.grad_out,
                a.stats.grad_out / b.stats.grad_out,
                second.stats.grad_w,
                b.stats.grad_w,
                second.stats.grad_w / b.stats.grad_w,
                100.0 * dead,
                b.stats.out_std,
                p.run.spec.id
            );
        }
    }
    s
}
