//! What a sweep cost: the core time of its finished runs (the sum of their wall times, each
//! kept epoch counted once; a stack's time is shared among its trials), the median and longest
//! run per (kind, depth), and the wall time during which at least one run was training (the
//! union of the runs' spans, `[started_at, started_at + wall_seconds]`; a resumed run's
//! `started_at` is its last start, so its span is approximate). `highway analyze time`.

use std::fmt::Write;
use std::path::Path;

use anyhow::{Context, Result};

use super::results::{collect, groups, RunResult};
use super::utc::utc_minute;
use crate::store::SweepDir;

/// Spans further apart than this (seconds) are separate stretches of training.
const GAP: f64 = 900.0;

/// `highway analyze time DIR`: the cost of the sweep in `root`; an error when no run has
/// finished.
pub(crate) fn sweep_time(root: &Path) -> Result<String> {
    let (_, runs) = collect(&SweepDir::new(root.to_path_buf()))?;
    sweep_time_md(&runs).with_context(|| format!("{}: no finished runs", root.display()))
}

/// The cost of `runs`' finished runs in Markdown; `None` when none has finished.
pub(super) fn sweep_time_md(runs: &[RunResult]) -> Option<String> {
    let finished = |r: &&RunResult| r.state().is_some_and(|s| s.is_final());
    let mut spans: Vec<(f64, f64)> = runs
        .iter()
        .filter(finished)
        .filter_map(|r| r.status.as_ref())
        .map(|s| (s.started_at, s.started_at + s.wall_seconds))
        .collect();
    if spans.is_empty() {
        return None;
    }
    let core: f64 = spans.iter().map(|(start, end)| end - start).sum();
    let mut s = format!(
        "{} finished runs, {:.1} core-hours\n\n| kind | depth | runs | median run (s) | longest \
         run (s) |\n|---|---:|---:|---:|---:|\n",
        spans.len(),
        core / 3600.0
    );
    for ((kind, depth), rs) in groups(runs) {
        let mut walls: Vec<f64> = rs
            .iter()
            .copied()
            .filter(finished)
            .filter_map(|r| r.status.as_ref().map(|s| s.wall_seconds))
            .collect();
        if walls.is_empty() {
            continue;
        }
        walls.sort_by(f64::total_cmp);
        let _ = writeln!(
            s,
            "| {} | {depth} | {} | {:.0} | {:.0} |",
            kind.name(),
            walls.len(),
            median(&walls),
            walls[walls.len() - 1]
        );
    }
    spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    s += "\nTraining (at least one run):\n";
    let stretches = stretches(&spans);
    for (start, end) in &stretches {
        let _ = writeln!(
            s,
            "  {} to {} UTC: {:.0} min",
            utc_minute(*start),
            utc_minute(*end),
            (end - start) / 60.0
        );
    }
    let busy: f64 = stretches.iter().map(|(start, end)| end - start).sum();
    let _ = writeln!(s, "  in all {:.2} h", busy / 3600.0);
    Some(s)
}

/// The median of sorted, non-empty `v`: the mean of the middle two for an even count.
fn median(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Sorted spans merged where they overlap or lie at most [`GAP`] apart.
fn stretches(spans: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for &(start, end) in spans {
        match out.last_mut() {
            Some(last) if start <= last.1 + GAP => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use highway_model::Kind;

    use super::super::results::tests::{run, Ending};
    use super::*;

    #[test]
    fn spans_merge_across_short_gaps_only() {
        let spans = [
            (0.0, 100.0),
            (50.0, 80.0),
            (1000.0, 1100.0),
            (2001.0, 2002.0),
        ];
        assert_eq!(stretches(&spans), vec![(0.0, 1100.0), (2001.0, 2002.0)]);
    }

    /// Finished runs count, stopped ones included (they took their time); pending ones not.
    #[test]
    fn core_time_medians_and_stretches() {
        let mut runs = vec![
            run(Kind::Plain, 2, 0, 0.1, 0.0, Ending::Done(0.1)),
            run(Kind::Plain, 2, 1, 0.1, 0.0, Ending::Diverged),
            run(Kind::Plain, 2, 2, 0.1, 0.0, Ending::Stopped(1)),
            run(Kind::Plain, 2, 3, 0.1, 0.0, Ending::Pending),
        ];
        for (r, (start, wall)) in
            runs.iter_mut()
                .zip([(0.0, 1800.0), (600.0, 60.0), (7200.0, 1800.0)])
        {
            let s = r.status.as_mut().unwrap();
            (s.started_at, s.wall_seconds) = (start, wall);
        }
        let md = sweep_time_md(&runs).unwrap();
        assert!(md.starts_with("3 finished runs, 1.0 core-hours\n"), "{md}");
        assert!(md.contains("| plain | 2 | 3 | 1800 | 1800 |"), "{md}");
        assert!(
            md.contains("  1970-01-01 00:00 to 1970-01-01 00:30 UTC: 30 min\n"),
            "{md}"
        );
        assert!(
            md.contains("  1970-01-01 02:00 to 1970-01-01 02:30 UTC: 30 min\n"),
            "{md}"
        );
        assert!(md.ends_with("  in all 1.00 h\n"), "{md}");
        assert!(sweep_time_md(&runs[3..]).is_none());
    }
}
