//! Where a sweep stands: how many of its planned runs are done, diverged, stopped, failed,
//! interrupted, running (and at which epoch), waiting at a rung or not started; the core-hours
//! spent (the sum of the runs' wall times, as `highway analyze time` counts them), and an
//! estimate of what is left. `highway status`, and the last line of `sweep` and `run`.
//!
//! The estimate: each unfinished run's epochs left, times the mean wall time per epoch of the
//! finished runs (done, diverged or stopped) of its shape, (kind, depth, width); a run whose
//! shape has no finished run yet has no estimate, and the line says how many have none. Runs
//! that successive halving stops at a rung end sooner: for them it is an upper bound.

use std::collections::BTreeMap;

use anyhow::Result;
use highway_model::Kind;
use serde::Serialize;

use crate::experiment::RunSpec;
use crate::store::{CurveRow, State, Status, SweepDir};

/// The counts of a sweep's runs by where they stand, and its time.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub(crate) struct Progress {
    /// The runs of the plan.
    pub planned: usize,
    pub done: usize,
    pub diverged: usize,
    pub stopped: usize,
    pub failed: usize,
    /// Stopped part-way (a signal, or a process killed that left its status `running`): a
    /// restarted sweep continues them.
    pub interrupted: usize,
    /// At a rung of successive halving until the rest of their cell gets there.
    pub waiting: usize,
    /// Not started.
    pub pending: usize,
    /// The runs a process trains now, in plan order.
    pub running: Vec<Running>,
    /// The wall time of every run that has a status, in hours.
    pub core_hours: f64,
    /// What the unfinished runs that have an estimate will take, in hours; `None` when none
    /// has one (or every run is finished: then `Some(0.0)`).
    pub left_core_hours: Option<f64>,
    /// Unfinished runs without an estimate: no finished run of their shape yet.
    pub without_estimate: usize,
}

/// A run in training.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Running {
    pub id: String,
    /// The last epoch it finished (0 before its first).
    pub epoch: usize,
    /// The epochs it trains.
    pub epochs: usize,
    /// The machine its status names.
    pub host: String,
}

/// One run as the count sees it.
struct Seen<'a> {
    spec: &'a RunSpec,
    status: Option<Status>,
    /// The last epoch of its curve.
    epoch: usize,
    running: bool,
}

/// Where the sweep in `dir` stands, from its plan and the files of its runs.
pub(crate) fn progress(dir: &SweepDir) -> Result<Progress> {
    let sweep = dir.load()?;
    let seen: Vec<Seen> = sweep
        .plan
        .iter()
        .map(|spec| {
            let run = dir.run(&spec.id);
            let status = run.status();
            let running = run.path().is_dir() && run.in_training(status.as_ref());
            Seen {
                spec,
                epoch: last_epoch(&run.curve(), status.as_ref()),
                status,
                running,
            }
        })
        .collect();
    Ok(count(&seen))
}

/// The last epoch a run finished: its curve's last row, else what its status says.
fn last_epoch(curve: &[CurveRow], status: Option<&Status>) -> usize {
    curve
        .last()
        .map(|r| r.epoch)
        .or(status.map(|s| s.epochs))
        .unwrap_or(0)
}

fn count(seen: &[Seen]) -> Progress {
    let mut p = Progress {
        planned: seen.len(),
        ..Progress::default()
    };
    // Per shape: the wall seconds and the epochs of its finished runs.
    let mut per_shape: BTreeMap<(Kind, usize, usize), (f64, usize)> = BTreeMap::new();
    let shape = |s: &RunSpec| (s.kind, s.depth, s.model.width);
    let mut core_seconds = 0.0;
    for r in seen {
        let state = r.status.as_ref().map(|s| s.state);
        if let Some(status) = &r.status {
            core_seconds += status.wall_seconds;
            if status.state.is_final() && status.epochs > 0 {
                let entry = per_shape.entry(shape(r.spec)).or_default();
                entry.0 += status.wall_seconds;
                entry.1 += status.epochs;
            }
        }
        if r.running && !state.is_some_and(State::is_final) {
            p.running.push(Running {
                id: r.spec.id.clone(),
                epoch: r.epoch,
                epochs: r.spec.training.epochs,
                host: r
                    .status
                    .as_ref()
                    .map(|s| s.host.clone())
                    .unwrap_or_default(),
            });
            continue;
        }
        *match state {
            None => &mut p.pending,
            Some(State::Done) => &mut p.done,
            Some(State::Diverged) => &mut p.diverged,
            Some(State::Stopped) => &mut p.stopped,
            Some(State::Failed) => &mut p.failed,
            // A `running` status that no process holds: its process died.
            Some(State::Interrupted | State::Running) => &mut p.interrupted,
            Some(State::Waiting) => &mut p.waiting,
        } += 1;
    }
    p.core_hours = core_seconds / 3600.0;
    let mut left = 0.0;
    let mut estimated = 0;
    for r in seen {
        if r.status.as_ref().is_some_and(|s| s.state.is_final()) {
            continue;
        }
        match per_shape.get(&shape(r.spec)) {
            Some(&(wall, epochs)) => {
                let epochs_left = r.spec.training.epochs.saturating_sub(r.epoch);
                left += wall / epochs as f64 * epochs_left as f64;
                estimated += 1;
            }
            None => p.without_estimate += 1,
        }
    }
    let unfinished = estimated + p.without_estimate;
    p.left_core_hours = (estimated > 0 || unfinished == 0).then_some(left / 3600.0);
    p
}

impl Progress {
    /// One line: `8 runs: 2 done, 1 diverged, 2 running, 3 pending; 0.41 core-hours spent,
    /// about 0.90 core-hours left`, with how many runs have no estimate. Only the states some run is in are named,
    /// `done` always.
    pub(crate) fn line(&self) -> String {
        let counts = [
            ("done", self.done),
            ("diverged", self.diverged),
            ("stopped", self.stopped),
            ("failed", self.failed),
            ("interrupted", self.interrupted),
            ("running", self.running.len()),
            ("waiting", self.waiting),
            ("pending", self.pending),
        ];
        let named: Vec<String> = counts
            .iter()
            .filter(|&&(name, n)| n > 0 || name == "done")
            .map(|(name, n)| format!("{n} {name}"))
            .collect();
        let left = match (self.left_core_hours, self.without_estimate) {
            (Some(h), 0) => format!("about {} left", core_time(h)),
            (Some(h), n) => format!(
                "about {} left for the runs with an estimate (no estimate for {n} {}: no \
                 finished run of their kind, depth and width)",
                core_time(h),
                runs(n)
            ),
            (None, _) => "no estimate of what is left (no finished run of the unfinished \
                          runs' kind, depth and width)"
                .into(),
        };
        format!(
            "{} {}: {}; {} spent, {left}",
            self.planned,
            runs(self.planned),
            named.join(", "),
            core_time(self.core_hours)
        )
    }
}

/// `hours` of core time: `2.40 core-hours`, or below six minutes `3.5 core-minutes`.
fn core_time(hours: f64) -> String {
    if hours >= 0.1 {
        format!("{hours:.2} core-hours")
    } else {
        format!("{:.1} core-minutes", hours * 60.0)
    }
}

fn runs(n: usize) -> &'static str {
    if n == 1 {
        "run"
    } else {
        "runs"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendName;
    use crate::experiment::{plan, Config};
    use serde_json::json;

    fn plan_of(depths: &[usize], epochs: usize) -> Vec<RunSpec> {
        let config = Config::from_value(json!({
            "name": "t",
            "dataset": {"name": "synthetic"},
            "model": {"kinds": ["plain"], "depths": depths},
            "training": {"epochs": epochs, "lr": 0.1, "seeds": [0, 1, 2]}
        }))
        .unwrap();
        plan(&config)
    }

    fn status(state: State, epochs: usize, wall_seconds: f64) -> Option<Status> {
        Some(Status {
            state,
            epochs,
            wall_seconds,
            ..Status::starting(BackendName::Flex)
        })
    }

    #[test]
    fn counts_core_hours_and_an_estimate_per_shape() {
        // Depth 2: seeds 0 done, 1 running at epoch 4, 2 pending; depth 3: one diverged at
        // epoch 5, one failed, one waiting.
        let specs = plan_of(&[2, 3], 10);
        let at = |d: usize, seed: u64| {
            specs
                .iter()
                .find(|s| s.depth == d && s.seed == seed)
                .unwrap()
        };
        let seen = |spec, status: Option<Status>, epoch, running| Seen {
            spec,
            status,
            epoch,
            running,
        };
        let all = vec![
            seen(at(2, 0), status(State::Done, 10, 3600.0), 10, false),
            seen(at(2, 1), status(State::Running, 4, 1440.0), 4, true),
            seen(at(2, 2), None, 0, false),
            seen(at(3, 0), status(State::Diverged, 5, 3600.0), 5, false),
            seen(at(3, 1), status(State::Failed, 2, 0.0), 2, false),
            seen(at(3, 2), status(State::Waiting, 8, 0.0), 8, false),
        ];
        let p = count(&all);
        assert_eq!(
            (p.done, p.diverged, p.failed, p.waiting, p.pending),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(p.running.len(), 1);
        assert_eq!((p.running[0].epoch, p.running[0].epochs), (4, 10));
        assert!((p.core_hours - 2.4).abs() < 1e-9);
        // Depth 2: 360 s an epoch, 6 + 10 epochs left; depth 3: 720 s an epoch, 8 + 2 left.
        let left = (16.0 * 360.0 + 10.0 * 720.0) / 3600.0;
        assert!((p.left_core_hours.unwrap() - left).abs() < 1e-9, "{p:?}");
        assert_eq!(p.without_estimate, 0);
        assert_eq!(
            p.line(),
            "6 runs: 1 done, 1 diverged, 1 failed, 1 running, 1 waiting, 1 pending; 2.40 \
             core-hours spent, about 3.60 core-hours left"
        );
        // A `running` status that no process holds is interrupted; without a finished run of
        // a shape, its runs have no estimate.
        let dead = vec![
            seen(at(2, 1), status(State::Running, 4, 10.0), 4, false),
            seen(at(2, 2), None, 0, false),
        ];
        let p = count(&dead);
        assert_eq!((p.interrupted, p.pending, p.running.len()), (1, 1, 0));
        assert_eq!((p.left_core_hours, p.without_estimate), (None, 2));
        assert!(
            p.line().contains("no estimate of what is left"),
            "{}",
            p.line()
        );
        assert_eq!(core_time(0.05), "3.0 core-minutes");
    }
}
