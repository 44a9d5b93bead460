//! Which finished runs keep their trained net under `training.save_model = "best"` (the
//! default): the best done run of each cell (`experiment::cells`: a (kind, depth) at a grid
//! point, across a search's trials and seeds), ranked by the report's own rule
//! (`ranking.rs`), so the run that the report's tables call best is the one with a model, and
//! `highway analyze gates` on it needs no second training.
//!
//! A run that finishes decides under the sweep's `.models.lock`: it writes its model when it
//! is the best done run of one of its cells so far, writes its `done` status, and removes the
//! model of every done run of its cells that is no longer the best of any of its own cells.
//! The decision, the status and the removals happen under the one lock, so each finishing run
//! sees every run that finished before it, and the last run of a cell to finish sees all of
//! them: the end state is the same whatever order the processes of a SLURM array (or the trials
//! of a stack) finish in. The best of a cell is also the best of every part of it that holds
//! it, so it kept its model when it finished.
//!
//! Only model files are removed, never a curve or a status, and only those of runs whose own
//! `spec.json` says `"best"`: a model kept under `save_model = true` stays. Where the lock
//! cannot be taken or `sweep.json` not read, a finishing run keeps its model (nothing is lost;
//! the next run of its cell to finish removes it if it is not the best), as does a process
//! killed between its status and its removals: one model too many until the next run of its
//! cell finishes.

use std::collections::{BTreeSet, HashMap};

use anyhow::{Context, Result};

use super::ranking::{rank_loss, ranked};
use super::{CurveRow, RunDir, State, Status, SweepDir};
use crate::experiment::{cells, Config, SaveModel};

/// What one run's finish decides: whether it keeps its model, and the done runs of its cells
/// whose models go (itself, if it is not the best and holds a model from an earlier training).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Decision {
    pub keep: bool,
    pub remove: Vec<String>,
}

/// A run as the ranking sees it: its state and its curve.
type Seen = (Option<State>, Vec<CurveRow>);

/// What the run `id` of the sweep of `config` decides as it finishes done, each run of the
/// sweep as `read` sees it (the finishing one already done). A run outside the plan is a cell
/// of its own: it keeps its model.
pub(super) fn decide(config: &Config, id: &str, read: impl Fn(&str) -> Seen) -> Decision {
    let (plan, cells) = cells(config);
    let Some(me) = plan.iter().position(|r| r.id == id) else {
        return Decision {
            keep: true,
            remove: Vec::new(),
        };
    };
    // The runs of the finishing run's cells, and every cell any of them is in (a grid's run
    // keeps its model when it is the best at any of its points).
    let siblings: BTreeSet<usize> = (cells.iter().filter(|c| c.contains(&me)))
        .flatten()
        .copied()
        .collect();
    let theirs: Vec<&Vec<usize>> = (cells.iter())
        .filter(|c| c.iter().any(|i| siblings.contains(i)))
        .collect();
    let mut seen: HashMap<usize, (Option<State>, Option<f64>)> = HashMap::new();
    for &i in theirs.iter().copied().flatten() {
        seen.entry(i).or_insert_with(|| {
            let (state, curve) = read(&plan[i].id);
            (state, rank_loss(state, &curve))
        });
    }
    let best: BTreeSet<usize> = (theirs.iter())
        .filter_map(|c| ranked(c.iter().copied(), |i| seen[i].1).first().copied())
        .collect();
    let remove = (siblings.iter())
        .filter(|i| !best.contains(i) && seen[*i].0 == Some(State::Done))
        .map(|&i| plan[i].id.clone())
        .collect();
    Decision {
        keep: best.contains(&me),
        remove,
    }
}

/// Ends the run in `run` (id `id`), done under `save_model = "best"`: `finish(keep)` writes its
/// model when `keep` says so and then its final status, all under the sweep's models lock, and
/// the models of the runs it outranks are removed before the lock is let go. Trouble with the
/// lock or the sweep's files is said, and the run keeps its model, as it does when `give_up`
/// ends the wait for the lock (a stop request).
pub(super) fn finish_best(
    run: &RunDir,
    id: &str,
    give_up: &dyn Fn() -> bool,
    finish: impl FnOnce(bool) -> Result<Status>,
) -> Result<Status> {
    // A run folder outside a sweep is a cell of its own.
    let Ok(sweep) = SweepDir::of_run(run.path()) else {
        return finish(true);
    };
    let held = (sweep.models_lock(give_up))
        .and_then(|lock| lock.context("a stop was requested while it waited for the lock"))
        .and_then(|lock| Ok((lock, sweep.load()?)));
    let (_lock, file) = match held {
        Ok(held) => held,
        Err(e) => {
            let e = e.context(format!("{id}: cannot rank the runs of its cell"));
            super::warn(&e, "it keeps its model");
            return finish(true);
        }
    };
    let decision = decide(&file.config, id, |other| match other == id {
        true => (Some(State::Done), run.curve()),
        false => {
            let dir = sweep.run(other);
            (dir.status().map(|s| s.state), dir.curve())
        }
    });
    let status = finish(decision.keep)?;
    for other in &decision.remove {
        remove_model(&sweep.run(other));
    }
    Ok(status)
}

/// Removes the model of the done run in `dir` if its own spec says it keeps one only as the
/// best of its cell; a model it kept under `save_model = true` stays. A failure is said.
fn remove_model(dir: &RunDir) {
    let recorded = dir.spec().ok().flatten();
    if recorded.is_none_or(|s| s.run.training.save_model != SaveModel::Best) {
        return;
    }
    let path = dir.model_path();
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            let e = anyhow::Error::new(e).context(format!("{}: cannot remove", path.display()));
            super::warn(&e, "the model stays");
        }
        _ => {}
    }
}

/// Why the run in `run` has no model, and where its cell's best model is: the message of
/// `highway analyze`, which needs one, on a run without.
pub(crate) fn why_no_model(run: &RunDir) -> String {
    let name = run.model_path().display().to_string();
    let spec = run.spec().ok().flatten();
    let state = run.status().map(|s| s.state);
    let why = match spec.map(|s| s.run.training.save_model) {
        _ if state != Some(State::Done) => format!(
            "the run is {} (a run keeps its model when it finishes)",
            state.map_or("not started", State::as_str)
        ),
        Some(SaveModel::Off) => "it was trained with training.save_model = false".into(),
        Some(SaveModel::All) => "it was trained with training.save_model = true, but the \
                                 file is gone"
            .into(),
        _ => "only the best run of each cell keeps its model (training.save_model = \"best\", \
              the default), and this one is not its cell's best or was trained before models \
              were kept"
            .into(),
    };
    let best = best_with_model(run).map_or(String::new(), |(dir, first)| {
        let which = match first {
            true => "The best run of its cell has one",
            false => "The best run of its cell that has one",
        };
        format!(
            " {which}: {} (`highway analyze` takes that folder).",
            dir.path().display()
        )
    });
    format!(
        "{name}: no model here: {why}.{best} To analyse this run itself, train it again with \
         its model kept: delete its folder (or use --out DIR) and run the sweep with --set \
         training.save_model=true"
    )
}

/// The best-ranked run of `run`'s cells that has a model, and whether it is the best of them
/// all; `None` outside a sweep or where no run of its cells has one.
fn best_with_model(run: &RunDir) -> Option<(RunDir, bool)> {
    let sweep = SweepDir::of_run(run.path()).ok()?;
    let file = sweep.load().ok()?;
    let (plan, cells) = cells(&file.config);
    let id = run.path().file_name()?.to_str()?;
    let me = plan.iter().position(|r| r.id == id)?;
    let mut once = BTreeSet::new();
    let members: Vec<usize> = (cells.iter().filter(|c| c.contains(&me)))
        .flatten()
        .copied()
        .filter(|&i| once.insert(i))
        .collect();
    let loss = |i: &usize| {
        let dir = sweep.run(&plan[*i].id);
        rank_loss(dir.status().map(|s| s.state), &dir.curve())
    };
    let order = ranked(members, loss);
    let with = order
        .iter()
        .position(|&i| sweep.run(&plan[i].id).has_model())?;
    Some((sweep.run(&plan[order[with]].id), with == 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendName;
    use crate::experiment::{load_dataset, plan};
    use crate::store::curve::curve_csv;
    use crate::store::curve::test_curve as curve;
    use crate::store::run_dir::CURVE;
    use crate::store::{files, Spec};
    use serde_json::json;

    /// A search of one highway cell with `trials` trials, one seed.
    fn search(trials: usize) -> Config {
        Config::from_value(json!({
            "name": "keep",
            "dataset": {"name": "synthetic", "synthetic": {"train": 8, "test": 4, "dim": 3,
                "classes": 2, "clusters": 1, "noise": 0.5, "seed": 1}},
            "model": {"kinds": ["highway"], "depths": [3], "width": 4},
            "training": {"epochs": 1, "lr": 0.1, "seeds": [0]},
            "search": {"trials": trials, "seed": 1}
        }))
        .unwrap()
    }

    /// Finishes the runs `order` (plan indices, each done with its loss in `losses`) one after
    /// another, as `decide` has it: the runs left with a model.
    fn finish_in_order(config: &Config, losses: &[f64], order: &[usize]) -> BTreeSet<String> {
        let ids: Vec<String> = plan(config).into_iter().map(|r| r.id).collect();
        let mut done: HashMap<String, f64> = HashMap::new();
        let mut models = BTreeSet::new();
        for &i in order {
            done.insert(ids[i].clone(), losses[i]);
            let d = decide(config, &ids[i], |id| match done.get(id) {
                Some(&l) => (Some(State::Done), curve(&[l])),
                None => (None, Vec::new()),
            });
            if d.keep {
                models.insert(ids[i].clone());
            }
            for id in d.remove {
                models.remove(&id);
            }
        }
        models
    }

    /// Every order of finishing leaves the model of the best run alone; of two that tie, the
    /// one first in the plan (the report's best).
    #[test]
    fn the_best_keeps_its_model_whatever_order_runs_finish_in() {
        let config = search(3);
        let ids: Vec<String> = plan(&config).into_iter().map(|r| r.id).collect();
        let orders = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        for losses in [[0.3, 0.1, 0.2], [0.2, 0.1, 0.1]] {
            for order in orders {
                let kept = finish_in_order(&config, &losses, &order);
                assert_eq!(
                    kept,
                    BTreeSet::from([ids[1].clone()]),
                    "{losses:?} {order:?}"
                );
            }
        }
        // A run that finishes worse than the best keeps nothing and removes nothing else.
        let d = decide(&config, &ids[2], |id| match id == ids[1] {
            true => (Some(State::Done), curve(&[0.1])),
            false if id == ids[2] => (Some(State::Done), curve(&[0.5])),
            // A diverged run and a running one: not ranked, models not theirs to remove.
            false => (Some(State::Diverged), curve(&[0.01])),
        });
        assert_eq!(
            d,
            Decision {
                keep: false,
                remove: vec![ids[2].clone()]
            }
        );
    }

    /// Writes the spec and curve of run `id` of the sweep in `sweep`, its loss `loss` and its
    /// spec saying `save`.
    fn done_run(sweep: &SweepDir, config: &Config, id: &str, loss: f64, save: SaveModel) {
        let mut run = plan(config).into_iter().find(|r| r.id == id).unwrap();
        run.training.save_model = save;
        let data = load_dataset(config, None).unwrap();
        let dir = sweep.run(id);
        std::fs::create_dir_all(dir.path()).unwrap();
        let spec = Spec::new(&run, &data, "f");
        files::write_json(&dir.spec_path(), &spec).unwrap();
        files::write_atomic(&dir.file(CURVE), curve_csv(&curve(&[loss])).as_bytes()).unwrap();
    }

    /// Writes the done status of the run in `dir`.
    fn mark_done(dir: &RunDir) -> Result<Status> {
        let status = Status {
            state: State::Done,
            ..Status::starting(BackendName::Flex)
        };
        dir.write_status(&status)?;
        Ok(status)
    }

    /// Finishes run `id` (written by `done_run`) through `finish_best`, with a stand-in model.
    fn finish(sweep: &SweepDir, id: &str) {
        let dir = sweep.run(id);
        finish_best(&dir, id, &|| false, |keep| {
            if keep {
                std::fs::write(dir.model_path(), b"model").unwrap();
            }
            mark_done(&dir)
        })
        .unwrap();
    }

    /// On disk, two runs finishing out of order: the later, worse one keeps nothing and the
    /// best keeps its model; a model kept under `save_model = true` is never removed; and
    /// `highway analyze`'s message on a run without a model names the best run's folder.
    #[test]
    fn finishing_runs_keep_the_best_model_on_disk() {
        let tmp = tempfile::tempdir().unwrap();
        let config = search(3);
        let ids: Vec<String> = plan(&config).into_iter().map(|r| r.id).collect();
        let sweep = SweepDir::new(tmp.path().join("keep"));
        let stored = (config.clone(), plan(&config));
        assert!(sweep.prepare(|_| Ok(stored), &|| false).unwrap().held);
        let has = |i: usize| sweep.run(&ids[i]).has_model();
        done_run(&sweep, &config, &ids[0], 0.4, SaveModel::All);
        done_run(&sweep, &config, &ids[1], 0.1, SaveModel::Best);
        done_run(&sweep, &config, &ids[2], 0.2, SaveModel::Best);
        std::fs::write(sweep.run(&ids[0]).model_path(), b"kept").unwrap();
        mark_done(&sweep.run(&ids[0])).unwrap();
        finish(&sweep, &ids[2]);
        assert!(
            has(0) && !has(1) && has(2),
            "the best so far keeps its model"
        );
        finish(&sweep, &ids[1]);
        assert!(
            has(0) && has(1) && !has(2),
            "the best; save_model = true's model stays"
        );
        let said = why_no_model(&sweep.run(&ids[2]));
        let best = sweep.run(&ids[1]);
        assert!(said.contains(&best.path().display().to_string()), "{said}");
        assert!(said.contains("The best run of its cell has one"), "{said}");
        assert!(said.contains("not its cell's best"), "{said}");
    }
}
