//! A config expanded into its ordered list of runs: kinds × depths × (search trials) × seeds.
//!
//! Each run gets a stable id (`run_id.rs`): a readable prefix and a short hash of the settings
//! that change its result, so the same run keeps the same folder across restarts and machines,
//! and a changed setting gets a new one.

use highway_model::{Kind, ModelConfig};

use super::config::{Config, ModelSection, TrainingConfig};
use super::run_id::run_id;
use super::spec::{RunSpec, RunTraining};

/// The ordered runs of a config: kinds × depths × (search trials) × seeds.
pub fn plan(config: &Config) -> Vec<RunSpec> {
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
            }
            if kind != Kind::Highway {
                model.gate_bias = 0.0;
            }
            RunSpec {
                index,
                id: run_id(&model, &training, seed, trial, &config.dataset),
                kind,
                depth,
                seed,
                trial,
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
    RunTraining {
        epochs: t.epochs,
        batch_size: t.batch_size,
        lr: t.lr.get(kind),
        momentum: t.momentum.get(kind),
        nesterov: t.nesterov,
        weight_decay: t.weight_decay,
        lr_decay: t.lr_decay.get(kind),
        decay_every: t.decay_every,
        divergence_factor: t.divergence_factor,
        gradient_checkpointing: t.gradient_checkpointing,
        checkpoint_every: t.checkpoint_every,
        save_model: t.save_model,
        layer_stats: t.layer_stats,
    }
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
        assert!(saving[3].training.save_model);
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
