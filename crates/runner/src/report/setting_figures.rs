//! Which figures of how a search's random settings fare a report draws: none for a re-run of
//! chosen trials.

use super::results::{Counted, RunResult};
use super::{sensitivity, trainability};
use crate::store::SweepFile;

/// The figures of how random settings fare, by file name without `.svg`: the share that
/// trained against depth (`trainability`) and the final loss against the learning rate by
/// activation and, for highway nets, by `b_T` (`sensitivity-lr`, `sensitivity-gate-bias`).
/// None for a re-run of chosen trials with several seeds ([`Counted::Runs`]): its few trials
/// were picked for their loss, so they tell neither the share of random settings that train
/// nor a working range.
pub(super) fn setting_figures(
    sweep: &SweepFile,
    runs: &[RunResult],
    halving: bool,
) -> Vec<(&'static str, String)> {
    if Counted::of(runs) == Counted::Runs {
        return Vec::new();
    }
    let classes = sensitivity::classes(sweep);
    let mut out = vec![
        (
            "trainability",
            trainability::trainability_chart(runs, halving).to_svg(),
        ),
        ("sensitivity-lr", sensitivity::by_activation(runs, classes)),
    ];
    if let Some(svg) = sensitivity::by_gate_bias(runs, classes) {
        out.push(("sensitivity-gate-bias", svg));
    }
    out
}

#[cfg(test)]
mod tests {
    use highway_model::Kind;

    use super::*;
    use crate::report::results::tests::{mnist_sweep, rerun_of_two_trials, run, Ending};

    /// A search gets its trainability and sensitivity figures, with the chance line of ten
    /// classes; a re-run of chosen trials with several seeds gets none.
    #[test]
    fn setting_figures_only_for_a_search() {
        let search = vec![
            run(Kind::Highway, 10, 0, 0.01, -2.0, Ending::Done(0.01)),
            run(Kind::Highway, 10, 1, 0.05, -8.0, Ending::Diverged),
        ];
        let figures = setting_figures(&mnist_sweep(), &search, false);
        let names: Vec<&str> = figures.iter().map(|f| f.0).collect();
        assert_eq!(
            names,
            ["trainability", "sensitivity-lr", "sensitivity-gate-bias"]
        );
        assert!(figures[1].1.contains("chance (ln 10)"));
        let rerun = rerun_of_two_trials();
        assert!(setting_figures(&mnist_sweep(), &rerun, false).is_empty());
    }
}
