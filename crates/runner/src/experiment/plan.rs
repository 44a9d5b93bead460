//! A config expanded into its ordered list of runs: for each point of its grid (or the config
//! alone), kinds × depths × (search trials) × seeds.
//!
//! Each run gets a stable id (`run_id.rs`): a readable prefix and a short hash of the settings
//! that change its result, so the same run keeps the same folder across restarts and machines,
//! and a changed setting gets a new one.

use std::collections::{BTreeSet, HashMap};

use anyhow::{bail, Result};
use highway_model::{Kind, ModelConfig};

use super::config::{Config, ModelSection, TrainingConfig};
use super::grid::GridPoint;
use super::run_id::{run_id, settings_hash};
use super::spec::{RunSpec, RunTraining};

/// The ordered runs of a config. With a grid, a run that two points give alike (a plain net at
/// two values of highway's gate bias) is planned once, at the first of them.
pub fn plan(config: &Config) -> Vec<RunSpec> {
    by_point(config).0
}

/// A grid point (`None` without a grid) and the plan indices of its runs.
pub(crate) type PointRuns = (Option<GridPoint>, Vec<usize>);

/// The plan, and each grid point's runs in it.
pub(crate) fn by_point(config: &Config) -> (Vec<RunSpec>, Vec<PointRuns>) {
    let points = config
        .grid_points()
        .expect("validated: every grid point is a valid config");
    plan_points(&points)
}

fn plan_points(points: &[(Option<GridPoint>, Config)]) -> (Vec<RunSpec>, Vec<PointRuns>) {
    let mut plan: Vec<RunSpec> = Vec::new();
    let mut seen: HashMap<(Option<usize>, String), usize> = HashMap::new();
    let mut members = Vec::new();
    for (point, config) in points {
        let mut these = Vec::new();
        for run in plan_one(config, point.as_ref()) {
            let key = (run.trial, settings_hash(&run.id).to_string());
            let index = *seen.entry(key).or_insert_with(|| {
                plan.push(RunSpec {
                    index: plan.len(),
                    ..run
                });
                plan.len() - 1
            });
            these.push(index);
        }
        members.push((point.clone(), these));
    }
    (plan, members)
}

/// The checks of a config's grid that need its plan: the plan is not too large, and each
/// field's second value gives other runs than its first (at the first point), or the field is
/// a setting no run has, one the search draws anyway, or one that only says how a run is
/// recorded.
pub(crate) fn check_grid(config: &Config) -> Result<()> {
    if config.grid.is_empty() {
        return Ok(());
    }
    let points = config.grid_points()?;
    let total = points
        .iter()
        .try_fold(0usize, |n, (_, c)| n.checked_add(plan(c).len()));
    if total.is_none_or(|n| n > Config::MAX_RUNS) {
        bail!(
            "grid: the plan would have more than {} runs; split it into several sweeps",
            Config::MAX_RUNS
        );
    }
    every_field_changes_the_runs(config, &points)
}

fn every_field_changes_the_runs(
    config: &Config,
    points: &[(Option<GridPoint>, Config)],
) -> Result<()> {
    let (_, members) = plan_points(points);
    let runs_at = |p: &GridPoint| -> BTreeSet<usize> {
        (members.iter())
            .find(|(q, _)| q.as_ref() == Some(p))
            .map(|(_, m)| m.iter().copied().collect())
            .unwrap_or_default()
    };
    let Some(first) = members.first().and_then(|(p, _)| p.clone()) else {
        return Ok(());
    };
    for (field, values) in config.grid.axes() {
        let Some(second) = values.get(1) else {
            continue;
        };
        let other = first.with(field, second.clone());
        if runs_at(&first) == runs_at(&other) {
            bail!(
                "grid.{field}: {} and {} give the same runs: no run of this plan computes                  anything else with it (a setting its kinds do not have, one the search                  draws, or one that only says how a run is recorded)",
                values[0],
                second
            );
        }
    }
    Ok(())
}

/// The runs of `config` (one grid point's, or a config without a grid): kinds × depths ×
/// (search trials) × seeds.
fn plan_one(config: &Config, point: Option<&GridPoint>) -> Vec<RunSpec> {
    let trials = |kind, depth| -> Vec<Option<usize>> {
        match &config.search {
            Some(search) => search
                .trials_of(kind, depth)
                .into_iter()
                .map(Some)
                .collect(),
            None => vec![None],
        }
    };
    let m = &config.model;
    let cells = m.kinds.iter().flat_map(|&kind| {
        m.depths.iter().flat_map(move |&depth| {
            trials(kind, depth).into_iter().flat_map(move |trial| {
                config
                    .training
                    .seeds
                    .iter()
                    .map(move |&seed| (kind, depth, trial, seed))
            })
        })
    });
    let tag = point.map(GridPoint::tag);
    cells
        .enumerate()
        .map(|(index, (kind, depth, trial, seed))| {
            let mut model = model(m, kind, depth);
            let mut training = training(&config.training, kind);
            if let (Some(search), Some(trial)) = (&config.search, trial) {
                let drawn = search.draw(kind, depth, trial);
                model.activation = drawn.activation;
                model.gate_bias = drawn.gate_bias;
                training.lr = drawn.lr;
                training.momentum = drawn.momentum;
                training.lr_decay = drawn.lr_decay;
                // Drawn, or the config's; Adam's runs have no momentum.
                let t = &config.training;
                let optimizer = drawn.optimizer.unwrap_or(t.optimizer);
                training.set_optimizer(optimizer, t.betas, t.eps);
            }
            if kind != Kind::Highway {
                model.gate_bias = 0.0;
            }
            let id = run_id(
                &model,
                &training,
                seed,
                trial,
                tag.as_deref(),
                &config.dataset,
            );
            RunSpec {
                index,
                id,
                kind,
                depth,
                seed,
                trial,
                point: point.cloned(),
                model,
                training,
            }
        })
        .collect()
}

/// The net of `kind` and `depth` that `m` describes (input size and classes are the dataset's,
/// filled in when it is loaded).
fn model(m: &ModelSection, kind: Kind, depth: usize) -> ModelConfig {
    ModelConfig {
        kind,
        depth,
        width: m.width.get(kind),
        input_size: 0,
        classes: 0,
        activation: m.activation.get(kind),
        gate_bias: m
            .gate_bias
            .get(depth)
            .expect("validated: every depth has a bias"),
        residual_alpha: if kind == Kind::Residual {
            m.residual_alpha
        } else {
            0.0
        },
        init: m.init,
    }
}

/// The training settings of `t` resolved for `kind`.
fn training(t: &TrainingConfig, kind: Kind) -> RunTraining {
    let mut training = RunTraining {
        epochs: t.epochs,
        batch_size: t.batch_size,
        lr: t.lr.get(kind),
        momentum: t.momentum.get(kind),
        nesterov: t.nesterov,
        weight_decay: t.weight_decay,
        optimizer: Default::default(),
        betas: None,
        eps: None,
        lr_decay: t.lr_decay.get(kind),
        decay_every: t.decay_every,
        divergence_factor: t.divergence_factor,
        gradient_checkpointing: t.gradient_checkpointing,
        checkpoint_every: t.checkpoint_every,
        save_model: t.save_model,
        layer_stats: t.layer_stats,
    };
    training.set_optimizer(t.optimizer, t.betas, t.eps);
    training
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::config::apply_set;
    use crate::experiment::config::DecayEvery;
    use serde_json::json;

    fn config(sets: &[&str]) -> Config {
        let mut v = json!({
            "name": "t",
            "dataset": {"name": "synthetic"},
            "model": {"kinds": ["plain", "highway"], "depths": [2, 5]},
            "training": {"epochs": 2, "lr": {"plain": 0.1, "highway": 0.3}, "seeds": [0, 1]}
        });
        for s in sets {
            apply_set(&mut v, s).unwrap();
        }
        Config::from_value(v).unwrap()
    }

    #[test]
    fn order_ids_and_per_kind_settings() {
        let runs = plan(&config(&[]));
        assert_eq!(runs.len(), 8);
        let keys: Vec<_> = runs.iter().map(|r| (r.kind, r.depth, r.seed)).collect();
        assert_eq!(keys[0], (Kind::Plain, 2, 0));
        assert_eq!(keys[1], (Kind::Plain, 2, 1));
        assert_eq!(keys[2], (Kind::Plain, 5, 0));
        assert_eq!(keys[7], (Kind::Highway, 5, 1));
        assert!(runs.iter().enumerate().all(|(i, r)| r.index == i));
        assert_eq!((runs[0].training.lr, runs[7].training.lr), (0.1, 0.3));
        assert_eq!((runs[0].model.width, runs[7].model.width), (71, 50));
        assert!(runs[7].id.starts_with("highway-d5-s1-"));
        let ids: std::collections::HashSet<_> = runs.iter().map(|r| &r.id).collect();
        assert_eq!(ids.len(), 8);
        // Stable across calls, changed by any setting.
        assert_eq!(plan(&config(&[]))[3].id, runs[3].id);
        assert_ne!(plan(&config(&["training.epochs=3"]))[3].id, runs[3].id);
        // Keeping the model does not change the run: the same folder, resumable.
        let saving = plan(&config(&["training.save_model=true"]));
        assert_eq!(
            saving[3].training.save_model,
            crate::experiment::SaveModel::All
        );
        assert_eq!(saving[3].id, runs[3].id);
    }

    #[test]
    fn search_trials_are_planned_and_extending_keeps_earlier_runs() {
        let small = plan(&config(&[r#"search={"trials": 2, "seed": 1}"#]));
        assert_eq!(small.len(), 2 * 2 * 2 * 2);
        assert!(
            small[2].id.starts_with("plain-d2-t001-s0-"),
            "{}",
            small[2].id
        );
        let t = &small[2];
        assert_eq!(t.trial, Some(1));
        assert!(
            (1e-3..=1e-1).contains(&t.training.lr)
                && (-10.0..=-1.0).contains(&small[12].model.gate_bias)
        );
        assert_eq!(t.model.gate_bias, 0.0, "plain nets have no gate");
        let big = plan(&config(&[r#"search={"trials": 5, "seed": 1}"#]));
        let ids: std::collections::HashSet<_> = big.iter().map(|r| &r.id).collect();
        assert!(
            small.iter().all(|r| ids.contains(&r.id)),
            "the first trials keep their runs"
        );
    }

    /// Chosen trials run again with other seeds: the same settings as in the search, other
    /// seeds, nothing else planned.
    #[test]
    fn rerun_plans_the_chosen_trials_with_their_drawn_settings() {
        let search = plan(&config(&[r#"search={"trials": 5, "seed": 1}"#]));
        let rerun = plan(&config(&[
            r#"search={"trials": 5, "seed": 1, "rerun": [{"kind": "highway", "depth": 5, "trials": [3, 1]}]}"#,
            "training.seeds=[1, 2]",
        ]));
        let got: Vec<_> = rerun
            .iter()
            .map(|r| (r.kind, r.depth, r.trial, r.seed))
            .collect();
        let h = Kind::Highway;
        assert_eq!(
            got,
            [
                (h, 5, Some(3), 1),
                (h, 5, Some(3), 2),
                (h, 5, Some(1), 1),
                (h, 5, Some(1), 2)
            ]
        );
        for r in &rerun {
            let original = search
                .iter()
                .find(|s| (s.kind, s.depth, s.trial) == (r.kind, r.depth, r.trial))
                .unwrap();
            assert_eq!(
                (&r.model, &r.training),
                (&original.model, &original.training)
            );
        }
        let bad = serde_json::from_value::<serde_json::Value>(serde_json::json!(
            [{"kind": "highway", "depth": 7, "trials": [1]}]
        ))
        .unwrap();
        let mut v = serde_json::to_value(config(&[r#"search={"trials": 5}"#])).unwrap();
        v["search"]["rerun"] = bad;
        let e = Config::from_value(v).unwrap_err().to_string();
        assert!(e.starts_with("search.rerun[0]: highway depth 7"), "{e}");
        let mut v = serde_json::to_value(config(&[r#"search={"trials": 5}"#])).unwrap();
        v["search"]["rerun"] = serde_json::json!([{"kind": "plain", "depth": 2, "trials": [5]}]);
        let e = Config::from_value(v).unwrap_err().to_string();
        assert!(e.starts_with("search.rerun[0].trials: each trial"), "{e}");
    }

    /// Each grid point is planned as its config; ids name the point; a run two points give
    /// alike (a plain net at two gate biases) is planned once and belongs to both; adding a
    /// value keeps every id; a field that changes no run is refused.
    #[test]
    fn a_grid_plans_each_point_and_shares_runs_points_give_alike() {
        let grid = |g: &str| config(&[&format!("grid={g}")]);
        let c = grid(r#"{"training.epochs": [2, 3], "model.gate_bias": [-1, -3]}"#);
        let (runs, points) = by_point(&c);
        // 4 points × 8 runs; plain runs do not depend on the gate bias: 2 × 4 of them shared.
        assert_eq!(points.len(), 4);
        assert!(points.iter().all(|(_, m)| m.len() == 8));
        assert_eq!(runs.len(), 4 * 8 - 2 * 4);
        assert!(runs.iter().enumerate().all(|(i, r)| r.index == i));
        let first = &runs[0];
        assert_eq!(
            first.id[..first.id.len() - 8],
            *"plain-d2-gate_bias=-1-epochs=2-s0-"
        );
        assert_eq!(first.training.epochs, 2);
        let (p1, m1) = &points[1];
        assert_eq!(
            p1.as_ref().unwrap().label(),
            "model.gate_bias=-1, training.epochs=3"
        );
        let (p2, m2) = &points[2];
        assert_eq!(
            p2.as_ref().unwrap().label(),
            "model.gate_bias=-3, training.epochs=2"
        );
        // The plain runs of point 2 are point 0's; its highway runs its own, with b_T -3.
        assert_eq!(m2[..4], points[0].1[..4]);
        assert!(m2[4..].iter().all(|&i| runs[i].model.gate_bias == -3.0));
        assert!(m1.iter().all(|&i| runs[i].training.epochs == 3));
        // Adding a value keeps every run and its id.
        let more = plan(&grid(
            r#"{"training.epochs": [2, 3, 4], "model.gate_bias": [-1, -3]}"#,
        ));
        let ids: std::collections::HashSet<_> = more.iter().map(|r| &r.id).collect();
        assert!(runs.iter().all(|r| ids.contains(&r.id)));
        assert_eq!(more.len(), 6 * 8 - 3 * 4);
        // A config without a grid plans as before.
        assert!(plan(&config(&[])).iter().all(|r| r.point.is_none()));
        // Fields that change no run.
        let e = |g: &str| {
            let mut v = serde_json::to_value(config(&[])).unwrap();
            v["grid"] = serde_json::from_str(g).unwrap();
            let checked = Config::from_value(v).and_then(|c| check_grid(&c));
            format!("{:#}", checked.unwrap_err())
        };
        let why = e(r#"{"training.checkpoint_every": [1, 2]}"#);
        assert!(
            why.starts_with("grid.training.checkpoint_every: 1 and 2 give the same runs"),
            "{why}"
        );
        let why =
            e(r#"{"training.lr": [0.1, 0.2]}"#.replace("}", r#", "model.kinds": 1}"#).as_str());
        assert!(why.contains("grid.model.kinds"), "{why}");
        // Each point is validated as a config, its error naming the point.
        let why = e(r#"{"training.lr": [0.1, -1]}"#);
        assert!(why.contains("grid point training.lr=-1"), "{why}");
        assert!(
            why.contains("training.lr: must be a positive number"),
            "{why}"
        );
    }

    /// A search at each grid point draws the same trials; a drawn field in the grid is refused.
    #[test]
    fn a_grid_times_a_search() {
        let c = config(&[
            r#"search={"trials": 3, "seed": 1}"#,
            r#"grid={"model.width": [{"plain": 8, "highway": 8}, {"plain": 9, "highway": 9}]}"#,
        ]);
        let (runs, points) = by_point(&c);
        assert_eq!(runs.len(), 2 * 2 * 2 * 3 * 2);
        let (a, b) = (&points[0].1, &points[1].1);
        for (&i, &j) in a.iter().zip(b) {
            assert_eq!(runs[i].training.lr, runs[j].training.lr);
            assert_eq!((runs[i].model.width, runs[j].model.width), (8, 9));
        }
        let mut v = serde_json::to_value(&c).unwrap();
        v["grid"] = serde_json::json!({"training.lr": [0.1, 0.2]});
        let checked = Config::from_value(v).and_then(|c| check_grid(&c));
        let e = format!("{:#}", checked.unwrap_err());
        assert!(
            e.starts_with("grid.training.lr: 0.1 and 0.2 give the same runs"),
            "{e}"
        );
    }

    #[test]
    fn lr_decays_per_epoch_or_per_step() {
        let mut t = plan(&config(&["training.lr_decay=0.5"]))[0]
            .training
            .clone();
        assert_eq!(t.lr_at(2, 100), 0.1 * 0.25);
        t.decay_every = DecayEvery::Step;
        assert!((t.lr_at(2, 3) - 0.1 * 0.125).abs() < 1e-12);
    }
}
