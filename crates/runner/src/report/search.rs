//! The paper's random search: per (kind, depth), the best trial and the mean of the top 10, as
//! a table with the winners' hyperparameters and as the paper's two panels.

use std::fmt::Write;

use highway_model::Kind;

use super::figures::{axes, depth_color, depth_marker, loss_by_epoch, loss_chart, n_label};
use super::results::{groups, mean_std, Counted, RunResult};
use crate::store::{self, State};
use crate::svg::plot::{Chart, Series};

/// A group's finished runs, best first: ranked by the lowest training loss each reached (the
/// paper's "best"; `store::ranked`, the rule that also picks the run whose model is kept).
/// Diverged and unfinished runs are left out.
pub(super) fn ranked<'a>(rs: &[&'a RunResult]) -> Vec<&'a RunResult> {
    store::ranked(rs.iter().copied(), |r| {
        store::rank_loss(r.state(), &r.curve)
    })
}

/// How many of the best runs the right-hand panel averages, as in the paper.
pub(super) const TOP: usize = 10;

/// One (kind, depth) cell of the paper's two panels, from its runs as [`ranked`] orders them.
pub(super) struct SearchCell<'a> {
    /// The run that reached the lowest training loss.
    pub(super) best: &'a RunResult,
    /// Per epoch: (epoch, mean training loss, runs averaged) over the best [`TOP`] (fewer
    /// where a run has no finite loss at that epoch); `None` under successive halving when
    /// fewer than [`TOP`] were trained to the end.
    pub(super) top: Option<Vec<(f64, f64, usize)>>,
}

/// The panels of the cell of `rs`; `None` while none of its runs has finished. The report's
/// search figures and the sweep's TensorBoard panels both draw these.
pub(super) fn search_cell<'a>(rs: &[&'a RunResult], halving: bool) -> Option<SearchCell<'a>> {
    let ranked = ranked(rs);
    let best = *ranked.first()?;
    let top = (!halving || ranked.len() >= TOP).then(|| {
        let chosen: Vec<&RunResult> = ranked.into_iter().take(TOP).collect();
        loss_by_epoch(&chosen)
            .iter()
            .map(|p| (p.0, p.1, p.4))
            .collect()
    });
    Some(SearchCell { best, top })
}

/// A run's training loss by epoch, as its `curve.csv` has it.
pub(super) fn loss_curve(r: &RunResult) -> Vec<(f64, f64)> {
    r.curve
        .iter()
        .map(|c| (c.epoch as f64, c.train_loss))
        .collect()
}

pub(super) fn search_md(runs: &[RunResult]) -> String {
    let counted = Counted::of(runs);
    let (one, many) = (counted.one(), counted.many());
    let mut s = format!(
        "\n## Random search\n\nPer (kind, depth): the {one} that reached the lowest training \
         loss, its hyperparameters, and the mean final loss of the best {TOP} {many} (diverged \
         and unfinished {many} are not ranked).{}\n\n| kind | depth | {many} done | diverged | \
         best {one} | best loss | lr | momentum | lr decay | activation | b_T | mean final loss, \
         top {TOP} |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n",
        if counted == Counted::Runs {
            format!(
                " Trials were trained with several seeds: each trial with each seed is a run of \
                 its own, so the best is a trial with one seed and the top {TOP} can hold one \
                 trial more than once (\"Seeds\" below has them seed by seed)."
            )
        } else {
            String::new()
        }
    );
    for ((kind, depth), rs) in groups(runs) {
        let ranked = ranked(&rs);
        let diverged = rs
            .iter()
            .filter(|r| r.state() == Some(State::Diverged))
            .count();
        let top: Vec<f64> = ranked
            .iter()
            .take(TOP)
            .filter_map(|r| r.final_train_loss())
            .collect();
        let Some(best) = ranked.first() else {
            let _ = writeln!(
                s,
                "| {} | {depth} | 0 | {diverged} | – | – | | | | | | |",
                kind.name()
            );
            continue;
        };
        let (m, t) = (&best.spec.model, &best.spec.training);
        let _ = writeln!(
            s,
            "| {} | {depth} | {} | {diverged} | {} | {:.3e} | {:.3e} | {:.3} | {:.3} | {} | {} | {} |",
            kind.name(),
            ranked.len(),
            counted.name(best),
            best.best_train_loss().unwrap_or(f64::NAN),
            t.lr,
            t.momentum,
            t.lr_decay,
            m.activation.name(),
            if kind == Kind::Highway { format!("{:.2}", m.gate_bias) } else { "–".into() },
            mean_std(&top).map(|(m, _)| format!("{m:.3e} (n={})", top.len())).unwrap_or("–".into()),
        );
    }
    s
}

/// The paper's two panels: the best trial's curve, and the mean curve of the top 10 trials,
/// per (kind, depth). Under successive halving (`halving`) the top-10 mean is drawn only
/// for cells with at least 10 trials trained to the end, and the title says so. Where trials
/// were trained with several seeds, the titles count the runs as trials × seeds (the best is
/// one trial with one seed, and the top 10 can hold a trial more than once).
pub(super) fn search_charts(runs: &[RunResult], halving: bool) -> (Chart, Chart) {
    let g = groups(runs);
    let (_, depths) = axes(&g);
    let (mut best, mut top) = (Vec::new(), Vec::new());
    for ((kind, depth), rs) in &g {
        let color = depth_color(*kind, *depth, &depths);
        let marker = depth_marker(*depth, &depths);
        // A cell with no finished run yet gets no line and no legend entry.
        let Some(cell) = search_cell(rs, halving) else {
            continue;
        };
        let label = format!("{} {depth}", kind.name());
        let mut line = Series::line(label.clone(), color.clone(), loss_curve(cell.best));
        line.markers = true;
        line.marker = marker;
        best.push(line);
        let Some(stats) = cell.top else {
            continue;
        };
        let counts: Vec<usize> = stats.iter().map(|p| p.2).collect();
        // The count only where a point averages fewer than the title's top 10.
        let label = if counts.iter().all(|&n| n == TOP) {
            label
        } else {
            let most = counts.iter().copied().max().unwrap_or(0);
            format!("{label} ({})", n_label(&counts, most))
        };
        let mut line = Series::line(label, color, stats.iter().map(|p| (p.0, p.1)).collect());
        line.markers = true;
        line.marker = marker;
        top.push(line);
    }
    let budget = budget(runs);
    let top_title = if halving {
        format!(
            "Mean of the top {TOP} trained to the end (successive halving: cells with fewer \
             are left out)"
        )
    } else {
        format!("Mean of the top {TOP} of {budget}")
    };
    (
        loss_chart(format!("Best of {budget} (lowest loss reached)"), best),
        loss_chart(top_title, top),
    )
}

/// The search's size for titles: finished trials (or runs) per (kind, depth) (a range when
/// cells differ, as in a search still running) and the epoch budget; where trials were
/// trained with several seeds, the runs as trials × seeds.
fn budget(runs: &[RunResult]) -> String {
    let finished = |rs: &Vec<&RunResult>| {
        rs.iter()
            .filter(|r| r.state().is_some_and(|s| s.is_final()))
            .count()
    };
    let g = groups(runs);
    let span = |cells: Vec<usize>| match (cells.iter().min(), cells.iter().max()) {
        (Some(lo), Some(hi)) if lo != hi => format!("{lo}–{hi}"),
        (_, Some(hi)) => hi.to_string(),
        _ => "0".into(),
    };
    let trials = span(g.values().map(finished).collect());
    let mut epochs: Vec<usize> = runs.iter().map(|r| r.spec.training.epochs).collect();
    epochs.sort();
    epochs.dedup();
    let epochs: Vec<String> = epochs.iter().map(|e| e.to_string()).collect();
    let counted = Counted::of(runs);
    let many = counted.many();
    let split = if counted == Counted::Runs {
        let distinct = |rs: &Vec<&RunResult>, key: &dyn Fn(&RunResult) -> Option<u64>| {
            let mut v: Vec<u64> = rs.iter().filter_map(|r| key(r)).collect();
            v.sort();
            v.dedup();
            v.len()
        };
        let k = span(
            g.values()
                .map(|rs| distinct(rs, &|r| r.spec.trial.map(|t| t as u64)))
                .collect(),
        );
        let s = span(
            g.values()
                .map(|rs| distinct(rs, &|r| Some(r.spec.seed)))
                .collect(),
        );
        format!(" ({k} trials × {s} seeds)")
    } else {
        String::new()
    };
    format!("{trials} {many}{split}, {} epochs", epochs.join("/"))
}

#[cfg(test)]
mod tests {
    use highway_model::Kind;

    use super::*;
    use crate::report::results::tests::{rerun_of_two_trials, run, Ending};

    /// A re-run of chosen trials with several seeds: its titles say the runs are trials ×
    /// seeds.
    #[test]
    fn titles_split_runs_into_seeds() {
        let search = vec![
            run(Kind::Highway, 10, 0, 0.01, -2.0, Ending::Done(0.01)),
            run(Kind::Highway, 10, 1, 0.05, -8.0, Ending::Diverged),
        ];
        let (best, _) = search_charts(&search, false);
        assert_eq!(
            best.title,
            "Best of 2 trials, 1 epochs (lowest loss reached)"
        );

        let rerun = rerun_of_two_trials();
        let (best, top) = search_charts(&rerun, false);
        assert_eq!(
            best.title,
            "Best of 6 runs (2 trials × 3 seeds), 1 epochs (lowest loss reached)"
        );
        assert_eq!(
            top.title,
            "Mean of the top 10 of 6 runs (2 trials × 3 seeds), 1 epochs"
        );
        // Fewer than ten runs: the legend says how many the top-10 mean holds.
        assert_eq!(top.series[0].label, "highway 10 (n=6)");
    }
}
