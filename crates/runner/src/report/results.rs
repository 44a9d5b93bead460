//! A sweep's runs as the report sees them: the plan, and what each run has written so far.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use highway_model::Kind;

use crate::experiment::RunSpec;
use crate::store::{CurveRow, State, Status, SweepDir, SweepFile};

/// One run of the plan and what it has written so far.
#[derive(Clone)]
pub(super) struct RunResult {
    pub spec: RunSpec,
    pub status: Option<Status>,
    pub curve: Vec<CurveRow>,
}

impl RunResult {
    /// The run's state; `None` while it is pending (never started).
    pub(super) fn state(&self) -> Option<State> {
        self.status.as_ref().map(|s| s.state)
    }

    /// Whether the run finished training normally.
    pub(super) fn is_done(&self) -> bool {
        self.state() == Some(State::Done)
    }

    /// The state's name, or `pending`.
    pub(super) fn state_name(&self) -> &'static str {
        self.state().map_or("pending", State::as_str)
    }

    pub(super) fn final_train_loss(&self) -> Option<f64> {
        self.curve.last().map(|r| r.train_loss)
    }

    pub(super) fn best_train_loss(&self) -> Option<f64> {
        crate::store::best_train_loss(&self.curve)
    }

    pub(super) fn final_eval_acc(&self) -> Option<f64> {
        self.curve.last().map(|r| r.eval_acc)
    }
}

/// Reads the plan and every run's files.
pub(super) fn collect(dir: &SweepDir) -> Result<(SweepFile, Vec<RunResult>)> {
    let sweep = dir.load()?;
    let runs = sweep
        .plan
        .iter()
        .map(|spec| {
            let run = dir.run(&spec.id);
            RunResult {
                spec: spec.clone(),
                status: run.status(),
                curve: run.curve(),
            }
        })
        .collect();
    Ok((sweep, runs))
}

/// Reads a sweep for an analysis that compares the runs of each (kind, depth) across the
/// whole sweep: refused for a grid sweep, whose points each have cells of their own.
pub(super) fn collect_cells(dir: &SweepDir) -> Result<(SweepFile, Vec<RunResult>)> {
    let (sweep, runs) = collect(dir)?;
    if !sweep.config.grid.is_empty() {
        anyhow::bail!(
            "{}: a grid sweep; this analysis compares the runs of each (kind, depth) over the \
             whole sweep and would mix the grid's points (each point's report is in \
             points/<point>/summary.md)",
            dir.root.display()
        );
    }
    Ok((sweep, runs))
}

/// Runs grouped by (kind, depth), in plan order of kinds and increasing depth.
pub(super) fn groups(runs: &[RunResult]) -> BTreeMap<(Kind, usize), Vec<&RunResult>> {
    let mut g: BTreeMap<(Kind, usize), Vec<&RunResult>> = BTreeMap::new();
    for r in runs {
        g.entry((r.spec.kind, r.spec.depth)).or_default().push(r);
    }
    g
}

/// What the search tables and figures count. A search trains every trial once, so they count
/// trials; a re-run of chosen trials with several seeds (`search.rerun`) trains a trial once per
/// seed, and they count runs, each trial with each seed on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Counted {
    Trials,
    Runs,
}

impl Counted {
    pub(super) fn of(runs: &[RunResult]) -> Counted {
        let mut seen = BTreeSet::new();
        let repeated = runs
            .iter()
            .filter_map(|r| r.spec.trial.map(|t| (r.spec.kind, r.spec.depth, t)))
            .any(|trial| !seen.insert(trial));
        if repeated {
            Counted::Runs
        } else {
            Counted::Trials
        }
    }

    pub(super) fn one(self) -> &'static str {
        match self {
            Counted::Trials => "trial",
            Counted::Runs => "run",
        }
    }

    pub(super) fn many(self) -> &'static str {
        match self {
            Counted::Trials => "trials",
            Counted::Runs => "runs",
        }
    }

    /// How a run is named in a table: its trial, and its seed when trials have several.
    pub(super) fn name(self, r: &RunResult) -> String {
        let trial = r.spec.trial.map(|t| t.to_string()).unwrap_or_default();
        match self {
            Counted::Trials => trial,
            Counted::Runs => format!("{trial} (seed {})", r.spec.seed),
        }
    }
}

/// The middle value (the mean of the two middle ones for an even count); `None` for none.
pub(super) fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// Mean and standard deviation; `None` for no values.
pub(super) fn mean_std(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
    Some((m, var.sqrt()))
}

/// Runs made in memory for the report's unit tests: a plan's spec with the setting a test
/// names, and the status and curve of how it ended.
#[cfg(test)]
pub(super) mod tests {
    use highway_model::Kind;
    use serde_json::json;

    /// A re-run of chosen trials: highway-10 trials 0 and 1, each done with seeds 0, 1 and 2.
    pub(crate) fn rerun_of_two_trials() -> Vec<RunResult> {
        let mut rerun = Vec::new();
        for trial in [0, 1] {
            for seed in [0, 1, 2] {
                let mut r = run(Kind::Highway, 10, trial, 0.01, -2.0, Ending::Done(0.01));
                r.spec.seed = seed;
                rerun.push(r);
            }
        }
        rerun
    }

    /// A sweep of one highway depth on MNIST (ten classes), with no plan.
    pub(crate) fn mnist_sweep() -> crate::store::SweepFile {
        let config = Config::from_value(json!({
            "name": "t",
            "dataset": {"name": "mnist"},
            "model": {"kinds": ["highway"], "depths": [10]},
            "training": {"epochs": 1, "lr": 0.1, "seeds": [0]}
        }))
        .unwrap();
        crate::store::SweepFile {
            config,
            plan: Vec::new(),
            harness_version: String::new(),
        }
    }

    use super::RunResult;
    use crate::backend::BackendName;
    use crate::experiment::{plan, Config};
    use crate::store::{CurveRow, State, Status};

    /// How a test run ended.
    #[derive(Clone, Copy)]
    pub(in crate::report) enum Ending {
        /// Trained to the end with this final loss (its only epoch's).
        Done(f64),
        Diverged,
        /// Stopped by successive halving after this many epochs.
        Stopped(usize),
        Pending,
    }

    /// A run of trial `trial` of a (kind, depth) with this learning rate and `b_T`, ReLU.
    pub(in crate::report) fn run(
        kind: Kind,
        depth: usize,
        trial: usize,
        lr: f64,
        gate_bias: f32,
        ending: Ending,
    ) -> RunResult {
        let config = Config::from_value(json!({
            "name": "t",
            "dataset": {"name": "synthetic"},
            "model": {"kinds": [kind], "depths": [depth]},
            "training": {"epochs": 1, "lr": 0.1, "seeds": [0]}
        }))
        .unwrap();
        let mut spec = plan(&config).remove(0);
        spec.trial = Some(trial);
        spec.id = format!("{}-d{depth}-t{trial:03}", kind.name());
        spec.training.lr = lr;
        spec.model.gate_bias = gate_bias;
        let row = |epoch: usize, train_loss: f64| CurveRow {
            epoch,
            train_loss,
            train_acc: 0.0,
            eval_loss: 0.0,
            eval_acc: 0.0,
            lr,
            seconds: 1.0,
        };
        let (state, curve) = match ending {
            Ending::Done(loss) => (Some(State::Done), vec![row(1, loss)]),
            Ending::Diverged => (Some(State::Diverged), Vec::new()),
            Ending::Stopped(epochs) => (
                Some(State::Stopped),
                (1..=epochs).map(|e| row(e, 1.0)).collect(),
            ),
            Ending::Pending => (None, Vec::new()),
        };
        let status = state.map(|state| Status {
            state,
            epochs: curve.len(),
            ..Status::starting(BackendName::Flex)
        });
        RunResult {
            spec,
            status,
            curve,
        }
    }
}
