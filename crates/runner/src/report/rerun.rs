//! The best trials of a finished random search, picked to be trained again (with more seeds,
//! or for more epochs) by `highway plan --rerun`: per (kind, depth), ranked as the report
//! ranks them, so that the trials re-run are the ones the search's own tables call best.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use highway_model::Kind;

use super::results::{collect_cells, groups, RunResult};
use super::search::ranked;
use crate::experiment::RunSpec;
use crate::store::{SweepDir, SweepFile};

/// One cell's chosen trials, best first, and the finished runs that ranked them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BestTrials {
    pub(crate) trials: Vec<usize>,
    pub(crate) runs: Vec<RunSpec>,
}

/// Per (kind, depth), the trials chosen.
pub(crate) type BestByCell = BTreeMap<(Kind, usize), BestTrials>;

/// The sweep in `root` and, per (kind, depth), its `top` best trials.
pub(crate) fn best_trials_of(root: &Path, top: usize) -> Result<(SweepFile, BestByCell)> {
    let (sweep, runs) = collect_cells(&SweepDir::new(root.to_path_buf()))?;
    let best = best_trials(&runs, top);
    Ok((sweep, best))
}

/// Per (kind, depth), the `top` best trials and their done runs. A trial trained with several
/// seeds is chosen once, at its best run's place.
pub(super) fn best_trials(runs: &[RunResult], top: usize) -> BestByCell {
    let mut cells = BTreeMap::new();
    for (cell, rs) in groups(runs) {
        let ranked = ranked(&rs);
        let mut trials: Vec<usize> = Vec::new();
        for t in ranked.iter().filter_map(|r| r.spec.trial) {
            if trials.len() < top && !trials.contains(&t) {
                trials.push(t);
            }
        }
        if trials.is_empty() {
            continue;
        }
        let runs = ranked
            .iter()
            .filter(|r| r.spec.trial.is_some_and(|t| trials.contains(&t)))
            .map(|r| r.spec.clone())
            .collect();
        cells.insert(cell, BestTrials { trials, runs });
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::super::results::tests::{run, Ending};
    use super::*;

    #[test]
    fn the_best_by_lowest_loss_reached_done_runs_only() {
        let mut runs = vec![
            run(Kind::Highway, 3, 0, 0.1, -2.0, Ending::Done(0.3)),
            run(Kind::Highway, 3, 1, 0.1, -2.0, Ending::Diverged),
            run(Kind::Highway, 3, 2, 0.1, -2.0, Ending::Done(0.1)),
            run(Kind::Highway, 3, 3, 0.1, -2.0, Ending::Done(0.2)),
            run(Kind::Plain, 3, 0, 0.1, 0.0, Ending::Diverged),
        ];
        // Trial 0 reached 0.05 on the way and ended at 0.3: it ranks by the 0.05.
        let mut early = runs[0].curve[0].clone();
        early.train_loss = 0.05;
        runs[0].curve.insert(0, early);
        let best = best_trials(&runs, 2);
        let cell = &best[&(Kind::Highway, 3)];
        assert_eq!(cell.trials, vec![0, 2]);
        assert_eq!(cell.runs.len(), 2);
        assert!(
            !best.contains_key(&(Kind::Plain, 3)),
            "no done run, nothing chosen"
        );
    }
}
