//! How the runs of one cell are ranked: the paper's "best" is the finished run that reached the
//! lowest training loss. One rule for everything that picks a best run: the report's search
//! tables and figures, the trials `highway plan --rerun` picks, and the run of each cell that
//! keeps its model (`kept_models.rs`), so the run a table calls best is the one with a model.

use super::{CurveRow, State};

/// The lowest finite training loss of a curve; `None` for a curve with none.
pub(crate) fn best_train_loss(curve: &[CurveRow]) -> Option<f64> {
    curve
        .iter()
        .map(|r| r.train_loss)
        .filter(|v| v.is_finite())
        .reduce(f64::min)
}

/// The loss by which a run in `state` with `curve` ranks: its lowest training loss if it is
/// done; `None` (not ranked) for a diverged, stopped or unfinished run.
pub(crate) fn rank_loss(state: Option<State>, curve: &[CurveRow]) -> Option<f64> {
    (state == Some(State::Done))
        .then(|| best_train_loss(curve))
        .flatten()
}

/// `runs` best first by `loss` (a run's [`rank_loss`]), those without one left out. Ties keep
/// the order given (the plan's), so every process ranks a cell alike.
pub(crate) fn ranked<T>(
    runs: impl IntoIterator<Item = T>,
    loss: impl Fn(&T) -> Option<f64>,
) -> Vec<T> {
    let mut scored: Vec<(f64, T)> = runs
        .into_iter()
        .filter_map(|r| loss(&r).map(|l| (l, r)))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    scored.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::curve::test_curve as curve;

    #[test]
    fn done_runs_rank_by_the_lowest_loss_reached_ties_in_the_order_given() {
        let done = Some(State::Done);
        let runs = [
            ("a", done, curve(&[0.5, 0.3])),
            ("b", done, curve(&[0.2, f64::NAN])),
            ("c", Some(State::Diverged), curve(&[0.1])),
            ("d", done, curve(&[0.4, 0.2])),
            ("e", None, curve(&[0.05])),
            ("f", done, curve(&[f64::NAN])),
        ];
        let order: Vec<&str> = ranked(&runs, |r| rank_loss(r.1, &r.2))
            .into_iter()
            .map(|r| r.0)
            .collect();
        // b and d tie at 0.2: b comes first in the order given.
        assert_eq!(order, ["b", "d", "a"]);
        assert_eq!(best_train_loss(&curve(&[f64::NAN, 0.7, 0.9])), Some(0.7));
    }
}
