//! The loss figures: every (kind, depth) on one chart as in the paper's Figure 1, one panel per
//! depth with plain against highway, and final loss and accuracy against depth.

use std::collections::BTreeMap;

use highway_model::Kind;

use super::results::{groups, mean_std, RunResult};
use crate::svg::plot::{shades, Chart, Series};

/// Runs of one (kind, depth).
pub(super) type Groups<'a> = BTreeMap<(Kind, usize), Vec<&'a RunResult>>;

fn kind_hue(kind: Kind) -> f64 {
    match kind {
        Kind::Plain => 8.0,      // reds
        Kind::Highway => 215.0,  // blues
        Kind::Residual => 130.0, // greens
    }
}

/// The colour of a kind in charts that show one line per kind.
pub(super) fn kind_color(kind: Kind) -> String {
    shades(kind_hue(kind), 1)[0].clone()
}

/// Per epoch: (epoch, mean, min, max) of the training loss over the group's runs.
pub(super) fn loss_by_epoch(rs: &[&RunResult]) -> Vec<(f64, f64, f64, f64)> {
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
            Some(((e + 1) as f64, m, lo, hi))
        })
        .collect()
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

/// One hue per kind, darker for deeper nets: the look of the paper's Figure 1.
pub(super) fn depth_color(kind: Kind, depth: usize, depths: &[usize]) -> String {
    let i = depths.iter().position(|&d| d == depth).unwrap_or(0);
    shades(kind_hue(kind), depths.len())[i].clone()
}

/// The mean training loss of `rs` per epoch, with the min–max band.
fn band_series(label: String, color: String, rs: &[&RunResult]) -> Series {
    let stats = loss_by_epoch(rs);
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
                "Final training loss vs depth: mean of done runs, band min–max over {over}"
            ),
            x_label: "depth (hidden layers)".into(),
            y_label: "final training cross-entropy (log)".into(),
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
                "Final evaluation accuracy vs depth: mean of done runs, band min–max over {over}"
            ),
            x_label: "depth (hidden layers)".into(),
            y_label: "accuracy".into(),
            log_y: false,
            log_x: false,
            y_range: None,
            series: by_depth(&g, &|r| r.final_eval_acc()),
        },
    ));
    out
}

/// Figure 1's look: every (kind, depth), colours per kind, darker for deeper.
fn loss_all_depths(g: &Groups, over: &str) -> Chart {
    let (kinds, depths) = axes(g);
    let mut all = Vec::new();
    for &kind in &kinds {
        for &depth in &depths {
            if let Some(rs) = g.get(&(kind, depth)) {
                let color = depth_color(kind, depth, &depths);
                let mut s = band_series(format!("{} {depth}", kind.name()), color, rs);
                s.band.clear();
                s.markers = true;
                all.push(s);
            }
        }
    }
    loss_chart(format!("Training loss, mean over {over}"), all)
}

/// One depth: plain against highway, with the min–max band over the runs.
fn loss_at_depth(g: &Groups, kinds: &[Kind], depth: usize, over: &str) -> Chart {
    let series = kinds
        .iter()
        .filter_map(|&kind| {
            let rs = g.get(&(kind, depth))?;
            let label = format!("{} (n={})", kind.name(), rs.len());
            Some(band_series(label, kind_color(kind), rs))
        })
        .collect();
    loss_chart(
        format!("Depth {depth}: training loss, mean and min–max over {over}"),
        series,
    )
}

/// Per kind, the mean of `value` over done runs at each depth, with the min–max band.
fn by_depth(g: &Groups, value: &dyn Fn(&RunResult) -> Option<f64>) -> Vec<Series> {
    let (kinds, depths) = axes(g);
    kinds
        .iter()
        .map(|&kind| {
            let mut points = Vec::new();
            let mut band = Vec::new();
            for &depth in &depths {
                let v: Vec<f64> = g
                    .get(&(kind, depth))
                    .into_iter()
                    .flatten()
                    .filter(|r| r.is_done())
                    .filter_map(|r| value(r))
                    .filter(|x| x.is_finite())
                    .collect();
                if let Some((m, _)) = mean_std(&v) {
                    points.push((depth as f64, m));
                    band.push((
                        depth as f64,
                        v.iter().cloned().fold(f64::INFINITY, f64::min),
                        v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                    ));
                }
            }
            let mut s = Series::line(kind.name(), kind_color(kind), points);
            s.band = band;
            s.markers = true;
            s
        })
        .collect()
}
