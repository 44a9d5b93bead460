//! The loss figures: every (kind, depth) on one chart as in the paper's Figure 1, one panel per
//! depth with plain against highway, and final loss and accuracy against depth.

use std::collections::BTreeMap;

use highway_model::Kind;

use super::results::{groups, mean_std, median, RunResult};
use crate::svg::plot::{shades, Chart, Marker, Series};

/// Runs of one (kind, depth).
pub(super) type Groups<'a> = BTreeMap<(Kind, usize), Vec<&'a RunResult>>;

fn kind_hue(kind: Kind) -> f64 {
    match kind {
        Kind::Plain => 8.0,      // reds
        Kind::Highway => 215.0,  // blues
        Kind::Residual => 130.0, // greens
    }
}

/// How far the hue of a kind turns from its shallowest depth to its deepest (from the light
/// end to the dark): orange to crimson, cyan to indigo, yellow-green to teal, each kind's range
/// clear of the others'.
fn kind_hue_spread(kind: Kind) -> f64 {
    match kind {
        Kind::Plain => 64.0,
        Kind::Highway => -70.0,
        Kind::Residual => -50.0,
    }
}

/// The colour of a kind in charts that show one line per kind.
pub(super) fn kind_color(kind: Kind) -> String {
    shades(kind_hue(kind), 0.0, 1)[0].clone()
}

/// Per epoch: (epoch, mean, min, max, n) of the training loss over the group's runs that
/// have a finite loss at that epoch (`n` of them: runs that diverged, or stopped, drop out).
pub(super) fn loss_by_epoch(rs: &[&RunResult]) -> Vec<(f64, f64, f64, f64, usize)> {
    let epochs = rs.iter().map(|r| r.curve.len()).max().unwrap_or(0);
    (0..epochs)
        .filter_map(|e| {
            let v: Vec<f64> = rs
                .iter()
                .filter_map(|r| r.curve.get(e))
                .map(|c| c.train_loss)
                .filter(|x| x.is_finite())
                .collect();
            let (m, _) = mean_std(&v)?;
            let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            Some(((e + 1) as f64, m, lo, hi, v.len()))
        })
        .collect()
}

/// How many runs a legend's line averages: "n=100" where every point averages all `total`,
/// else "n=84–100 of 100" (the fewest and the most any point averages, of the group's runs).
pub(super) fn n_label(counts: &[usize], total: usize) -> String {
    let lo = counts.iter().copied().min().unwrap_or(0);
    let hi = counts.iter().copied().max().unwrap_or(0);
    match (lo == hi, hi == total) {
        (true, true) => format!("n={total}"),
        (true, false) => format!("n={lo} of {total}"),
        (false, _) => format!("n={lo}–{hi} of {total}"),
    }
}

/// The distinct kinds and depths of a sweep, in order.
pub(super) fn axes(g: &Groups) -> (Vec<Kind>, Vec<usize>) {
    let mut kinds: Vec<Kind> = g.keys().map(|k| k.0).collect();
    let mut depths: Vec<usize> = g.keys().map(|k| k.1).collect();
    kinds.sort();
    kinds.dedup();
    depths.sort();
    depths.dedup();
    (kinds, depths)
}

/// One hue per kind, lighter for shallower and darker for deeper nets, the hue turning on the
/// way: the look of the paper's Figure 1.
pub(super) fn depth_color(kind: Kind, depth: usize, depths: &[usize]) -> String {
    let i = depths.iter().position(|&d| d == depth).unwrap_or(0);
    shades(kind_hue(kind), kind_hue_spread(kind), depths.len())[i].clone()
}

/// A marker shape per depth, the same for every kind: a second cue beside the colour.
pub(super) fn depth_marker(depth: usize, depths: &[usize]) -> Marker {
    Marker::nth(depths.iter().position(|&d| d == depth).unwrap_or(0))
}

/// The mean training loss of `rs` per epoch, with the min–max band; the label gets how many
/// runs the points average ([`n_label`]).
fn band_series(label: String, color: String, rs: &[&RunResult]) -> Series {
    let stats = loss_by_epoch(rs);
    let counts: Vec<usize> = stats.iter().map(|p| p.4).collect();
    let label = format!("{label} ({})", n_label(&counts, rs.len()));
    let mut s = Series::line(label, color, stats.iter().map(|p| (p.0, p.1)).collect());
    s.band = stats.iter().map(|p| (p.0, p.2, p.3)).collect();
    s
}

/// A training-loss-by-epoch chart on a log axis.
pub(super) fn loss_chart(title: String, series: Vec<Series>) -> Chart {
    Chart {
        title,
        x_label: "epoch".into(),
        y_label: "training cross-entropy (log)".into(),
        log_y: true,
        log_x: false,
        y_range: None,
        series,
    }
}

/// The figures every sweep's report has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Figure {
    /// Figure 1's look: the mean loss curve of every (kind, depth).
    LossAllDepths,
    /// One depth: plain against highway, with the spread over seeds.
    LossAtDepth(usize),
    FinalLossVsDepth,
    AccuracyVsDepth,
}

impl Figure {
    /// The file's name without `.svg`.
    pub(super) fn stem(self) -> String {
        match self {
            Figure::LossAllDepths => "loss-all-depths".into(),
            Figure::LossAtDepth(depth) => format!("loss-depth-{depth}"),
            Figure::FinalLossVsDepth => "final-loss-vs-depth".into(),
            Figure::AccuracyVsDepth => "accuracy-vs-depth".into(),
        }
    }
}

/// What the runs of one (kind, depth) differ in, as titles say it: their seeds, their search
/// trials, or both.
pub(super) fn spread(runs: &[RunResult]) -> &'static str {
    let mut seeds: Vec<u64> = runs.iter().map(|r| r.spec.seed).collect();
    seeds.sort();
    seeds.dedup();
    match (runs.iter().any(|r| r.spec.trial.is_some()), seeds.len() > 1) {
        (true, true) => "trials and seeds",
        (true, false) => "trials",
        (false, _) => "seeds",
    }
}

/// Every figure with its chart, the per-depth panels shallowest first.
pub(super) fn figures(runs: &[RunResult]) -> Vec<(Figure, Chart)> {
    let g = groups(runs);
    let (kinds, depths) = axes(&g);
    let over = spread(runs);
    let mut out = vec![(Figure::LossAllDepths, loss_all_depths(&g, over))];
    for &depth in &depths {
        let chart = loss_at_depth(&g, &kinds, depth, over);
        out.push((Figure::LossAtDepth(depth), chart));
    }
    out.push((
        Figure::FinalLossVsDepth,
        Chart {
            title: format!(
                "Final training loss vs depth: median of done runs, band min–max over {over}"
            ),
            x_label: "depth (hidden layers)".into(),
            y_label: "final training cross-entropy (log), median".into(),
            log_y: true,
            log_x: false,
            y_range: None,
            series: by_depth(&g, &|r| r.final_train_loss()),
        },
    ));
    out.push((
        Figure::AccuracyVsDepth,
        Chart {
            title: format!(
                "Final evaluation accuracy vs depth: median of done runs, band min–max over {over}"
            ),
            x_label: "depth (hidden layers)".into(),
            y_label: "accuracy, median".into(),
            log_y: false,
            log_x: false,
            y_range: None,
            series: by_depth(&g, &|r| r.final_eval_acc()),
        },
    ));
    out
}

/// Figure 1's look: every (kind, depth), colours per kind, lighter to darker with depth, and a
/// marker shape per depth.
fn loss_all_depths(g: &Groups, over: &str) -> Chart {
    let (kinds, depths) = axes(g);
    let mut all = Vec::new();
    for &kind in &kinds {
        for &depth in &depths {
            if let Some(rs) = g.get(&(kind, depth)).filter(|rs| started(rs)) {
                let color = depth_color(kind, depth, &depths);
                let mut s = band_series(format!("{} {depth}", kind.name()), color, rs);
                s.band.clear();
                s.markers = true;
                s.marker = depth_marker(depth, &depths);
                all.push(s);
            }
        }
    }
    loss_chart(format!("Training loss, mean over {over}"), all)
}

/// Whether any of `rs` has a loss to draw: groups with none (not started yet) get no line and
/// no legend entry.
fn started(rs: &[&RunResult]) -> bool {
    rs.iter()
        .any(|r| r.curve.iter().any(|c| c.train_loss.is_finite()))
}

/// One depth: plain against highway, with the min–max band over the runs.
fn loss_at_depth(g: &Groups, kinds: &[Kind], depth: usize, over: &str) -> Chart {
    let series = kinds
        .iter()
        .filter_map(|&kind| {
            let rs = g.get(&(kind, depth)).filter(|rs| started(rs))?;
            Some(band_series(kind.name().into(), kind_color(kind), rs))
        })
        .collect();
    loss_chart(
        format!("Depth {depth}: training loss, mean and min–max over {over}"),
        series,
    )
}

/// Per kind, the median of `value` over done runs at each depth, with the min–max band: the
/// median, not the mean, as a few runs far off (stuck near chance) would pull a mean up by
/// far more than the typical run's loss on a log axis. The label gets how many done runs each
/// point holds, of the group's runs ([`n_label`]).
fn by_depth(g: &Groups, value: &dyn Fn(&RunResult) -> Option<f64>) -> Vec<Series> {
    let (kinds, depths) = axes(g);
    kinds
        .iter()
        .map(|&kind| {
            let mut points = Vec::new();
            let mut band = Vec::new();
            let mut counts = Vec::new();
            let mut total = 0;
            for &depth in &depths {
                let rs = g.get(&(kind, depth)).map_or(&[][..], |v| v.as_slice());
                total = total.max(rs.len());
                let v: Vec<f64> = rs
                    .iter()
                    .filter(|r| r.is_done())
                    .filter_map(|r| value(r))
                    .filter(|x| x.is_finite())
                    .collect();
                if let Some(m) = median(&v) {
                    points.push((depth as f64, m));
                    counts.push(v.len());
                    band.push((
                        depth as f64,
                        v.iter().cloned().fold(f64::INFINITY, f64::min),
                        v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                    ));
                }
            }
            let label = format!("{} ({})", kind.name(), n_label(&counts, total));
            let mut s = Series::line(label, kind_color(kind), points);
            s.band = band;
            s.markers = true;
            s
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use highway_model::Kind;

    use super::*;
    use crate::report::results::tests::{run, Ending};

    #[test]
    fn n_label_says_how_many_of_how_many() {
        assert_eq!(n_label(&[100, 100], 100), "n=100");
        assert_eq!(n_label(&[84, 84], 100), "n=84 of 100");
        assert_eq!(n_label(&[84, 100, 95], 100), "n=84–100 of 100");
    }

    /// On the log axis of final loss against depth the point is the median of the done runs,
    /// which one run stuck near chance does not lift, and the title says so; the legends count
    /// the runs each point holds, of the group's.
    #[test]
    fn vs_depth_is_the_median_and_legends_count_the_runs_averaged() {
        let runs = vec![
            run(Kind::Plain, 10, 0, 0.01, 0.0, Ending::Done(0.01)),
            run(Kind::Plain, 10, 1, 0.01, 0.0, Ending::Done(0.02)),
            run(Kind::Plain, 10, 2, 0.01, 0.0, Ending::Done(2.3)),
            run(Kind::Plain, 10, 3, 0.01, 0.0, Ending::Diverged),
        ];
        let charts = figures(&runs);
        let chart = |figure| &charts.iter().find(|(f, _)| *f == figure).unwrap().1;
        let vs_depth = chart(Figure::FinalLossVsDepth);
        assert!(vs_depth.log_y && vs_depth.title.contains("median"));
        assert_eq!(vs_depth.series[0].points, vec![(10.0, 0.02)]);
        assert_eq!(vs_depth.series[0].label, "plain (n=3 of 4)");
        assert!(chart(Figure::AccuracyVsDepth).title.contains("median"));
        assert_eq!(
            chart(Figure::LossAtDepth(10)).series[0].label,
            "plain (n=3 of 4)"
        );
    }

    /// Within a kind, every depth has its own colour and marker.
    #[test]
    fn depths_of_a_kind_differ_in_colour_and_marker() {
        let depths = [10, 20, 50, 100];
        for kind in Kind::ALL {
            let mut colors: Vec<String> = depths
                .iter()
                .map(|&d| depth_color(kind, d, &depths))
                .collect();
            colors.dedup();
            assert_eq!(colors.len(), depths.len());
        }
        let mut markers: Vec<Marker> = depths.iter().map(|&d| depth_marker(d, &depths)).collect();
        markers.dedup();
        assert_eq!(markers.len(), depths.len());
    }
}
