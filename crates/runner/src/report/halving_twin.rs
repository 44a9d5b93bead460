//! A successive-halving search against the full-budget search of the same plan (its twin: the
//! same trials, seeds and drawn settings). Halving changes which epochs are trained, never a
//! recorded number, so every halving curve must be the beginning of its twin's curve in every
//! column but the seconds. Per (kind, depth): the best trial of each search, ranked as the
//! report ranks them, and where halving stopped the full search's best trials.
//! `highway analyze halving`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use anyhow::Result;

use super::results::{collect_cells, groups, RunResult};
use super::search::ranked;
use super::trainability::Outcomes;
use crate::sig_digits::sig;
use crate::store::{CurveRow, State, SweepDir};

/// The comparison: its text, and the runs whose curves differ.
pub(crate) struct TwinCheck {
    pub(crate) text: String,
    pub(crate) differ: Vec<String>,
}

/// `highway analyze halving DIR --against FULL_DIR`: the halving search in `halving` against
/// its twin in `full`, following the full search's `top` best trials per cell.
pub(crate) fn halving_against(halving: &Path, full: &Path, top: usize) -> Result<TwinCheck> {
    let (_, h) = collect_cells(&SweepDir::new(halving.to_path_buf()))?;
    let (_, f) = collect_cells(&SweepDir::new(full.to_path_buf()))?;
    Ok(check(&h, &f, top))
}

/// Compares `halving`'s runs with `full`'s; `top` full-budget trials per cell are followed.
pub(super) fn check(halving: &[RunResult], full: &[RunResult], top: usize) -> TwinCheck {
    let started = |runs: &[RunResult]| -> BTreeMap<String, usize> {
        let ids = runs.iter().enumerate().filter(|(_, r)| r.status.is_some());
        ids.map(|(i, r)| (r.spec.id.clone(), i)).collect()
    };
    let (h, f) = (started(halving), started(full));
    let (mut shared, mut partial, mut differ) = (0, 0, Vec::new());
    for (id, &i) in &h {
        let Some(&j) = f.get(id) else { continue };
        let (hc, fc) = (&halving[i].curve, &full[j].curve);
        shared += 1;
        // A full run still in training is compared over the epochs it has.
        let n = hc.len().min(fc.len());
        partial += usize::from(fc.len() < hc.len());
        if !hc[..n].iter().zip(&fc[..n]).all(|(a, b)| same_record(a, b)) {
            differ.push(id.clone());
        }
    }
    let mut text = format!(
        "{shared} runs in both folders; {} halving curves are the first epochs of their \
         full-budget curves ({partial} of them compared over fewer epochs: the full run is still \
         in training), {} differ\n",
        shared - differ.len(),
        differ.len()
    );
    for id in &differ {
        let _ = writeln!(text, "  differs: {id}");
    }
    text += &cells_md(halving, full, top);
    TwinCheck { text, differ }
}

/// Two epochs' records alike in every column but the seconds (a NaN equals a NaN: the same
/// text was written).
fn same_record(a: &CurveRow, b: &CurveRow) -> bool {
    let columns = |r: &CurveRow| {
        [
            r.epoch as f64,
            r.train_loss,
            r.train_acc,
            r.eval_loss,
            r.eval_acc,
            r.lr,
        ]
    };
    columns(a)
        .iter()
        .zip(columns(b))
        .all(|(x, y)| x.to_bits() == y.to_bits())
}

/// The table: per cell that halving ran, each search's best trial, how many trials the full
/// search finished, and what halving did with the full search's `top` best.
fn cells_md(halving: &[RunResult], full: &[RunResult], top: usize) -> String {
    let mut s = format!(
        "\n| kind | depth | halving: best trial (final loss) | full budget: trials finished | \
         best trial (final loss) | same | halving stopped the full top {top} at epoch |\n\
         |---|---:|---|---:|---|---|---|\n"
    );
    let by_id: BTreeMap<&str, &RunResult> =
        halving.iter().map(|r| (r.spec.id.as_str(), r)).collect();
    let (h, f) = (groups(halving), groups(full));
    for ((kind, depth), hs) in &h {
        if hs.iter().all(|r| r.status.is_none()) {
            continue;
        }
        let fs = f.get(&(*kind, *depth)).cloned().unwrap_or_default();
        let full_top: Vec<&RunResult> = ranked(&fs).into_iter().take(top).collect();
        let (hb, fb) = (ranked(hs).first().copied(), full_top.first().copied());
        let same = match (hb, fb) {
            (Some(a), Some(b)) if a.spec.trial == b.spec.trial => "yes",
            (Some(_), Some(_)) => "**no**",
            _ => "–",
        };
        let stops: Vec<String> = full_top
            .iter()
            .map(|r| format!("t{:03}: {}", trial(r), at(by_id.get(r.spec.id.as_str()))))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {depth} | {} | {} | {} | {same} | {} |",
            kind.name(),
            best(hb),
            Outcomes::of(&fs).finished,
            best(fb),
            stops.join(", ")
        );
    }
    s
}

fn trial(r: &RunResult) -> usize {
    r.spec.trial.unwrap_or_default()
}

/// A best trial and its final loss, `t058 (0.00377)`.
fn best(r: Option<&RunResult>) -> String {
    r.map_or("–".into(), |r| {
        let last = r.final_train_loss().unwrap_or(f64::NAN);
        format!("t{:03} ({})", trial(r), sig(last, 3))
    })
}

/// Where halving left a trial: the epoch it stopped it at, else its state; `–` when halving
/// has no such run.
fn at(halving: Option<&&RunResult>) -> String {
    match halving.and_then(|r| r.status.as_ref()) {
        None => "–".into(),
        Some(s) if s.state == State::Stopped => s.epochs.to_string(),
        Some(s) => s.state.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use highway_model::Kind;

    use super::super::results::tests::{run, Ending};
    use super::*;

    /// The best of each search by the report's ranking, the full top 2 followed into the
    /// halving folder, and a changed record found.
    #[test]
    fn best_trials_stops_and_differing_curves() {
        let full = [
            run(Kind::Plain, 4, 0, 0.05, 0.0, Ending::Done(0.02)),
            run(Kind::Plain, 4, 1, 0.05, 0.0, Ending::Done(0.01)),
            run(Kind::Plain, 4, 2, 0.05, 0.0, Ending::Diverged),
            run(Kind::Plain, 4, 3, 0.05, 0.0, Ending::Pending),
        ];
        let mut halving = [
            run(Kind::Plain, 4, 0, 0.05, 0.0, Ending::Stopped(1)),
            run(Kind::Plain, 4, 1, 0.05, 0.0, Ending::Done(0.01)),
            run(Kind::Plain, 4, 2, 0.05, 0.0, Ending::Diverged),
            run(Kind::Plain, 4, 3, 0.05, 0.0, Ending::Stopped(1)),
        ];
        // Trial 0 stopped after epoch 1 with a loss of 1.0; its full run had 0.02 there.
        let c = check(&halving, &full, 2);
        assert_eq!(c.differ, vec!["plain-d4-t000".to_string()], "{}", c.text);
        assert!(
            c.text
                .starts_with("3 runs in both folders; 2 halving curves are the first"),
            "{}",
            c.text
        );
        assert!(
            c.text.contains(
                "| plain | 4 | t001 (0.01) | 3 | t001 (0.01) | yes | t001: done, t000: 1 |"
            ),
            "{}",
            c.text
        );
        halving[0].curve[0].train_loss = 0.02;
        halving[0].curve[0].seconds = 99.0;
        assert!(
            check(&halving, &full, 2).differ.is_empty(),
            "the seconds differ freely"
        );
    }
}
