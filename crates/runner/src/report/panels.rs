//! The paper's Figure 1 for TensorBoard: per (kind, depth), the training-loss curves the
//! report's own figures draw, as scalars of the sweep's own event file (TensorBoard's run `.`),
//! with a custom scalars layout that puts them on charts. A search of 800–1200 runs opens in
//! TensorBoard with the runs past 500 unselected; the one run `.` shows the figure whole.
//!
//! A search has, per cell, the best run's curve and the mean of the top 10 (`search_cell`, as
//! `search-best.svg` and `search-top10.svg` draw them: finished runs ranked by the lowest loss
//! each reached, diverged and unfinished ones left out, and under successive halving no top-10
//! mean for a cell with fewer than 10 trained to the end). A sweep that is not a search has the
//! best run's curve, ranked alike, and the mean over its runs that `loss-depth-D.svg` draws. A
//! grid sweep has each point's panels, as each point has its own report. Written on every
//! report, so an unfinished sweep shows the runs finished so far.

use std::collections::BTreeSet;

use highway_model::Kind;

use super::figures::loss_by_epoch;
use super::results::{groups, RunResult};
use super::search::{loss_curve, ranked, search_cell, TOP};
use crate::experiment::GridPoint;
use crate::store::{LayoutCategory, LayoutChart, PanelCurve, Panels};

/// What every panel's tag starts with.
const FIGURE: &str = "figure1";
const BEST: &str = "best";
/// The mean curve of a sweep that is not a search (every run); a search's is `top10_mean`.
const MEAN: &str = "mean";

/// The panels of `runs`: a sweep's, or the grid point `point`'s (its tag in every tag, its
/// label in the titles). `halving`: the search had successive halving.
pub(super) fn panels(runs: &[RunResult], halving: bool, point: Option<&GridPoint>) -> Panels {
    let search = runs.iter().any(|r| r.spec.trial.is_some());
    let (mean, mean_title) = match search {
        true => (format!("top{TOP}_mean"), format!("mean of the top {TOP}")),
        false => (MEAN.to_string(), "mean over the runs".to_string()),
    };
    let prefix = match point {
        Some(p) => format!("{FIGURE}/{}/", p.tag()),
        None => format!("{FIGURE}/"),
    };
    let mut curves = Vec::new();
    let mut depths = BTreeSet::new();
    for ((kind, depth), rs) in groups(runs) {
        let (best, average) = cell_curves(&rs, search, halving);
        for (stat, points) in [(BEST, best), (mean.as_str(), average)] {
            if !points.is_empty() {
                depths.insert(depth);
                curves.push(PanelCurve {
                    tag: tag(&prefix, depth, kind, stat),
                    points: points.iter().map(|&(e, v)| (e as usize, v)).collect(),
                });
            }
        }
    }
    if curves.is_empty() {
        return Panels::default();
    }
    let at = point
        .map(|p| format!(" at {}", p.label()))
        .unwrap_or_default();
    let layout = layout(&regex_escape(&prefix), &depths, (&mean, &mean_title), &at);
    Panels { curves, layout }
}

/// A curve: (epoch, training loss) points.
type Curve = Vec<(f64, f64)>;

/// A cell's best curve and mean curve; empty where it has none.
fn cell_curves(rs: &[&RunResult], search: bool, halving: bool) -> (Curve, Curve) {
    if search {
        let Some(cell) = search_cell(rs, halving) else {
            return Default::default();
        };
        let top = cell.top.unwrap_or_default();
        let top = top.iter().map(|p| (p.0, p.1)).collect();
        return (loss_curve(cell.best), top);
    }
    let best = ranked(rs)
        .first()
        .map(|r| loss_curve(r))
        .unwrap_or_default();
    let mean = loss_by_epoch(rs).iter().map(|p| (p.0, p.1)).collect();
    (best, mean)
}

/// `figure1/[<point>/]depth_<D>/<kind>/<stat>`.
fn tag(prefix: &str, depth: usize, kind: Kind, stat: &str) -> String {
    format!("{prefix}depth_{depth}/{}/{stat}", kind.name())
}

/// Two categories: "Figure 1", the paper's two panels (every kind and depth's best curve on
/// one chart, and their mean curves on another), and "Figure 1 by depth", one chart per depth
/// with every kind's best and mean curves. `prefix` is a regular expression already; `mean`
/// is the mean curves' last tag component and their name in titles.
fn layout(
    prefix: &str,
    depths: &BTreeSet<usize>,
    (mean, mean_title): (&str, &str),
    at: &str,
) -> Vec<LayoutCategory> {
    let chart = |title: String, regex: String| LayoutChart {
        title,
        tags: vec![regex],
    };
    let panels = vec![
        chart(
            "best run: training loss by epoch, per kind and depth".into(),
            format!(r"^{prefix}depth_\d+/[^/]+/{BEST}$"),
        ),
        chart(
            format!("{mean_title}: training loss by epoch, per kind and depth"),
            format!(r"^{prefix}depth_\d+/[^/]+/{mean}$"),
        ),
    ];
    let by_depth = depths
        .iter()
        .map(|d| {
            chart(
                format!("depth {d}: best run and {mean_title}, per kind"),
                format!(r"^{prefix}depth_{d}/[^/]+/({BEST}|{mean})$"),
            )
        })
        .collect();
    vec![
        LayoutCategory {
            title: format!("Figure 1{at}"),
            charts: panels,
        },
        LayoutCategory {
            title: format!("Figure 1 by depth{at}"),
            charts: by_depth,
        },
    ]
}

/// `text` as a regular expression that matches it literally (a grid point's tag may hold `.`
/// and `+`).
fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = r"\.+*?()|[]{}^$".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use highway_model::Kind;

    use super::*;
    use crate::report::results::tests::{run, Ending};
    use crate::store::CurveRow;

    /// A done run whose training loss by epoch is `losses`.
    fn trial(kind: Kind, trial: usize, losses: &[f64]) -> RunResult {
        let mut r = run(kind, 10, trial, 0.01, -2.0, Ending::Done(1.0));
        let row = r.curve[0].clone();
        r.curve = (losses.iter().enumerate())
            .map(|(i, &train_loss)| CurveRow {
                epoch: i + 1,
                train_loss,
                ..row.clone()
            })
            .collect();
        r
    }

    fn curve<'a>(panels: &'a Panels, tag: &str) -> &'a [(usize, f64)] {
        let found = panels.curves.iter().find(|c| c.tag == tag);
        &found.unwrap_or_else(|| panic!("no {tag}")).points
    }

    /// Twelve highway trials, one diverged and one pending: the best is the trial that reached
    /// the lowest loss (trial 3, though trial 0 ends lower), the top-10 mean averages the ten
    /// best of the eleven finished, leaving out the worst (trial 11), and a plain cell with
    /// no finished run has no curve.
    #[test]
    fn best_and_top10_mean_by_hand() {
        let mut runs = vec![
            trial(Kind::Highway, 0, &[2.0, 0.5]),
            trial(Kind::Highway, 3, &[0.4, 0.6]),
        ];
        // Trials 1, 2, 4…10: 1.0 then 0.9; trial 11: 9.0 then 8.0, the worst.
        for t in [1, 2, 4, 5, 6, 7, 8, 9, 10] {
            runs.push(trial(Kind::Highway, t, &[1.0, 0.9]));
        }
        runs.push(trial(Kind::Highway, 11, &[9.0, 8.0]));
        runs.push(run(Kind::Highway, 10, 12, 9.0, -2.0, Ending::Diverged));
        runs.push(run(Kind::Plain, 10, 0, 0.01, 0.0, Ending::Pending));
        let p = panels(&runs, false, None);
        assert_eq!(
            curve(&p, "figure1/depth_10/highway/best"),
            [(1, 0.4), (2, 0.6)]
        );
        // (2.0 + 0.4 + 8 × 1.0) / 10 and (0.5 + 0.6 + 8 × 0.9) / 10.
        let top = curve(&p, "figure1/depth_10/highway/top10_mean");
        assert_eq!(top.len(), 2);
        assert!((top[0].1 - 1.04).abs() < 1e-12 && (top[1].1 - 0.83).abs() < 1e-12);
        assert_eq!(p.curves.len(), 2, "the pending plain cell has none");
        // Under successive halving a cell with 10 finished keeps its top-10 mean; one with
        // fewer loses it and keeps its best.
        assert_eq!(panels(&runs, true, None).curves.len(), 2);
        let few = panels(&runs[..5], true, None);
        assert_eq!(few.curves.len(), 1);
        assert_eq!(few.curves[0].tag, "figure1/depth_10/highway/best");
    }

    /// Not a search: the best run and the mean over every run with a loss at the epoch (as
    /// `loss-depth-D.svg` draws it); each depth has a chart, and its regular expression
    /// matches its cell's tags and no other depth's.
    #[test]
    fn a_sweep_over_seeds_has_the_mean_and_a_chart_per_depth() {
        let mut runs = vec![
            trial(Kind::Plain, 0, &[1.0, 0.2]),
            trial(Kind::Plain, 1, &[3.0, 0.4]),
        ];
        for r in &mut runs {
            r.spec.trial = None;
        }
        let p = panels(&runs, false, None);
        assert_eq!(
            curve(&p, "figure1/depth_10/plain/best"),
            [(1, 1.0), (2, 0.2)]
        );
        let mean = curve(&p, "figure1/depth_10/plain/mean");
        assert!((mean[0].1 - 2.0).abs() < 1e-12 && (mean[1].1 - 0.3).abs() < 1e-12);
        let titles: Vec<&str> = p.layout.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["Figure 1", "Figure 1 by depth"]);
        let by_depth = &p.layout[1].charts;
        assert_eq!(by_depth.len(), 1);
        assert_eq!(by_depth[0].tags, [r"^figure1/depth_10/[^/]+/(best|mean)$"]);
        assert_eq!(regex_escape("figure1/lr=0.1+x/"), r"figure1/lr=0\.1\+x/");
    }
}
