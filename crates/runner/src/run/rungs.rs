//! How far each run of a halving search may train, read from what the sweep folder recorded:
//! the curves and states of every trial of its cell (`experiment::verdicts` decides). Runs of
//! a plan without halving may train their whole budget.

use crate::experiment::{verdicts, GridPoint, Halving, RunSpec, TrialRecord, Verdict};
use crate::store::{State, SweepDir};

/// Each run's verdict, by plan index.
pub(super) fn limits(dir: &SweepDir, runs: &[RunSpec], halving: Option<Halving>) -> Vec<Verdict> {
    let mut out: Vec<Verdict> = runs
        .iter()
        .map(|r| Verdict::Through(r.training.epochs))
        .collect();
    let Some(halving) = halving else {
        return out;
    };
    // The cells: runs of one grid point, kind, depth and seed, each a trial of the search.
    type Cell<'a> = (Option<&'a GridPoint>, highway_model::Kind, usize, u64);
    let mut cells: Vec<(Cell, Vec<usize>)> = Vec::new();
    for r in runs.iter().filter(|r| r.trial.is_some()) {
        let key = (r.point.as_ref(), r.kind, r.depth, r.seed);
        match cells.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(r.index),
            None => cells.push((key, vec![r.index])),
        }
    }
    for (_, members) in cells {
        let records: Vec<TrialRecord> = members.iter().map(|&i| record(dir, &runs[i])).collect();
        let epochs = runs[members[0]].training.epochs;
        for (&i, v) in members.iter().zip(verdicts(&halving, epochs, &records)) {
            out[i] = v;
        }
    }
    out
}

/// What the folder says of `run` for the decisions: its curve, and where it ended if it
/// diverged. A failed run is retried by the next sweep, so it counts as not there yet.
fn record(dir: &SweepDir, run: &RunSpec) -> TrialRecord {
    let run_dir = dir.run(&run.id);
    let losses: Vec<(usize, f64)> = run_dir
        .trusted_curve()
        .into_iter()
        .map(|row| (row.epoch, row.train_loss))
        .collect();
    let ended = run_dir
        .final_status()
        .filter(|s| s.state == State::Diverged)
        .map(|s| s.epochs);
    TrialRecord {
        trial: run.trial.unwrap_or(run.index),
        losses,
        ended,
    }
}

/// The training loss `run` recorded at `epoch`, for the message of a trial stopped there.
pub(super) fn loss_at(dir: &SweepDir, run: &RunSpec, epoch: usize) -> Option<f64> {
    dir.run(&run.id)
        .curve()
        .into_iter()
        .find(|r| r.epoch == epoch)
        .map(|r| r.train_loss)
}
