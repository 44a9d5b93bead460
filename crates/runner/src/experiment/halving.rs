//! Successive halving, reproducible: which trials of a search cell may train how far, decided
//! from what their curves recorded and nothing else (not timing, not finishing order, not the
//! number of workers), so that the same config gives the same promoted trials on any machine.
//!
//! Rungs stand at `first_rung · eta^k` epochs below the training budget. At each rung, the
//! trials that reached it are ranked by their training loss at that epoch (trials that ended
//! before it, diverged, last; ties by trial number); the best `ceil(n / eta)` go on, the others
//! stop there. A rung is decided only once every trial that entered it has a loss there or has
//! ended; until then each of them may train up to the rung and waits.

use serde::{Deserialize, Serialize};

/// `search.halving`: successive halving within each (kind, depth) cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Halving {
    /// A rung keeps the best `ceil(n / eta)` of its `n` trials.
    pub eta: usize,
    /// Epochs of the first rung.
    pub first_rung: usize,
}

impl Halving {
    /// The rungs below `epochs`: `first_rung · eta^k < epochs`.
    pub fn rungs(&self, epochs: usize) -> Vec<usize> {
        let mut rungs = Vec::new();
        let mut r = self.first_rung.max(1);
        while r < epochs {
            rungs.push(r);
            match r.checked_mul(self.eta.max(2)) {
                Some(next) => r = next,
                None => break,
            }
        }
        rungs
    }

    /// What is wrong with the section, by field.
    pub(super) fn problems(&self) -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        if self.eta < 2 {
            out.push(("search.halving.eta".into(), "must be at least 2"));
        }
        if self.first_rung < 1 {
            out.push(("search.halving.first_rung".into(), "must be at least 1"));
        }
        out
    }
}

/// What a trial's records say, for the decisions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TrialRecord {
    /// The trial's number in its cell: the tie-break.
    pub trial: usize,
    /// Training loss by epoch (1-based), as far as recorded.
    pub losses: Vec<(usize, f64)>,
    /// The trial ended (diverged) after this many recorded epochs.
    pub ended: Option<usize>,
}

impl TrialRecord {
    fn loss_at(&self, epoch: usize) -> Option<f64> {
        self.losses
            .iter()
            .find(|(e, _)| *e == epoch)
            .map(|(_, l)| *l)
    }

    /// Whether the records say where the trial stands at `rung`: a loss there, or an end
    /// before it.
    fn settled_at(&self, rung: usize) -> bool {
        self.loss_at(rung).is_some() || self.ended.is_some_and(|e| e < rung)
    }
}

/// How far a trial may train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Through this epoch (the next undecided rung, or the whole budget).
    Through(usize),
    /// It stops at this rung: ranked out.
    StoppedAt(usize),
}

/// Each trial's verdict (in the order of `trials`: the trials of one cell) for a budget of
/// `epochs`.
pub(crate) fn verdicts(halving: &Halving, epochs: usize, trials: &[TrialRecord]) -> Vec<Verdict> {
    let mut verdict = vec![Verdict::Through(epochs); trials.len()];
    let mut alive: Vec<usize> = (0..trials.len()).collect();
    for rung in halving.rungs(epochs) {
        if alive.iter().any(|&i| !trials[i].settled_at(rung)) {
            for &i in &alive {
                verdict[i] = Verdict::Through(rung);
            }
            return verdict;
        }
        // Lowest loss first; trials without a finite loss there (ended) last; ties by trial
        // number.
        let loss = |i: usize| trials[i].loss_at(rung).filter(|l| l.is_finite());
        alive.sort_by(|&a, &b| {
            let order = match (loss(a), loss(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            order.then(trials[a].trial.cmp(&trials[b].trial))
        });
        let keep = alive.len().div_ceil(halving.eta.max(2));
        for &i in &alive[keep..] {
            verdict[i] = Verdict::StoppedAt(rung);
        }
        alive.truncate(keep);
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALVING: Halving = Halving {
        eta: 3,
        first_rung: 2,
    };

    /// A trial with a loss of `scale / epoch` at every epoch through `through`.
    fn trial(trial: usize, scale: f64, through: usize) -> TrialRecord {
        TrialRecord {
            trial,
            losses: (1..=through).map(|e| (e, scale / e as f64)).collect(),
            ended: None,
        }
    }

    #[test]
    fn rungs_lie_below_the_budget() {
        assert_eq!(HALVING.rungs(20), vec![2, 6, 18]);
        assert_eq!(HALVING.rungs(18), vec![2, 6]);
        assert_eq!(HALVING.rungs(2), Vec::<usize>::new());
        let big = Halving {
            eta: usize::MAX,
            first_rung: 5,
        };
        assert_eq!(big.rungs(20), vec![5]);
    }

    #[test]
    fn a_rung_waits_for_every_trial_then_keeps_the_best_third() {
        // Nine trials; trial 4 has not reached epoch 2 yet: everyone may train to 2.
        let mut trials: Vec<TrialRecord> = (0..9).map(|t| trial(t, 1.0 + t as f64, 2)).collect();
        trials[4] = trial(4, 5.0, 1);
        assert!(verdicts(&HALVING, 20, &trials)
            .iter()
            .all(|v| *v == Verdict::Through(2)));
        // All at 2: the best 3 (trials 0, 1, 2) go on to the next rung, 6.
        trials[4] = trial(4, 5.0, 2);
        let v = verdicts(&HALVING, 20, &trials);
        assert_eq!(&v[..3], &[Verdict::Through(6); 3]);
        assert!(v[3..].iter().all(|v| *v == Verdict::StoppedAt(2)));
        // Those three at 6: the best, trial 0, takes the whole budget past 18 when it gets
        // there; the other two stop at 6.
        for (t, record) in trials.iter_mut().enumerate().take(3) {
            *record = trial(t, 1.0 + t as f64, 6);
        }
        let v = verdicts(&HALVING, 20, &trials);
        assert_eq!(v[0], Verdict::Through(18));
        assert_eq!(&v[1..3], &[Verdict::StoppedAt(6); 2]);
        trials[0] = trial(0, 1.0, 18);
        assert_eq!(verdicts(&HALVING, 20, &trials)[0], Verdict::Through(20));
    }

    #[test]
    fn ended_trials_rank_last_and_ties_go_by_trial_number() {
        let mut trials = vec![trial(7, 1.0, 2), trial(3, 1.0, 2), trial(5, 0.5, 1)];
        trials[2].ended = Some(1); // diverged in epoch 2
        let v = verdicts(&HALVING, 20, &trials);
        // One of three goes on: the tie between 7 and 3 goes to trial 3.
        assert_eq!(
            v,
            vec![
                Verdict::StoppedAt(2),
                Verdict::Through(6),
                Verdict::StoppedAt(2)
            ]
        );
    }

    #[test]
    fn more_records_never_change_a_decision_already_made() {
        // Decisions at rung 2 are the same whether the promoted trials have gone on or not.
        let at_two: Vec<TrialRecord> = (0..6).map(|t| trial(t, 6.0 - t as f64, 2)).collect();
        let mut later = at_two.clone();
        for t in [4, 5] {
            later[t] = trial(t, 6.0 - t as f64, 5);
        }
        let (a, b) = (
            verdicts(&HALVING, 20, &at_two),
            verdicts(&HALVING, 20, &later),
        );
        assert_eq!(a, b);
        assert_eq!(a[5], Verdict::Through(6));
        assert_eq!(a[0], Verdict::StoppedAt(2));
    }
}
