//! Runs of a plan that can be trained together as one stack of nets (`highway_model::Stack`):
//! runs that see the same data stream and build nets of one shape, and differ only in what
//! each trial of a stack may have of its own (learning rate and its decay, momentum,
//! Nesterov, weight decay, Adam's betas and ε, initial gate bias or residual scale,
//! activation), not in the optimiser. In a search these
//! are the trials of one (kind, depth) cell. Groups are cut from the plan's order,
//! `batch_trials` runs at most each, so that the same config gives the same groups on every
//! machine.

use serde::Serialize;

use super::spec::RunSpec;

/// One group: the plan indices of its runs, in plan order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub index: usize,
    pub runs: Vec<usize>,
}

/// What runs of one group must share: the run with every setting a trial may have of its own
/// set to a fixed value. Two runs with the same key train on the same batches in the same
/// order with nets of the same shape.
fn key(run: &RunSpec) -> String {
    let mut model = run.model.clone();
    model.activation = highway_model::Activation::Relu;
    (model.gate_bias, model.residual_alpha) = (0.0, 0.0);
    let mut training = run.training.clone();
    (training.lr, training.momentum, training.lr_decay) = (0.0, 0.0, 1.0);
    (training.weight_decay, training.nesterov) = (0.0, false);
    // Adam's settings may differ per trial; the optimiser may not (its state differs).
    (training.betas, training.eps) = (None, None);
    // Runs of grid points with other data see other batches.
    let data: Vec<(&str, &serde_json::Value)> = (run.point.iter())
        .flat_map(|p| p.values())
        .filter(|(field, _)| field.starts_with("dataset."))
        .collect();
    serde_json::to_string(&(run.kind, run.depth, run.seed, model, training, data))
        .expect("a run spec serialises")
}

/// Whether a run can be trained in a stack at all: a stack runs fused layers, so gradient
/// checkpointing (which recomputes composed layers) trains alone.
fn stackable(run: &RunSpec) -> bool {
    !run.training.gradient_checkpointing
}

/// The groups of `runs` (a plan, in order), `batch_trials` runs at most each: runs with one key,
/// in plan order, cut into consecutive groups; numbered by their first run.
pub fn groups(runs: &[RunSpec], batch_trials: usize) -> Vec<Group> {
    let mut by_key: Vec<(String, Vec<usize>)> = Vec::new();
    for run in runs {
        let k = if stackable(run) {
            key(run)
        } else {
            // A group of its own.
            format!("alone {}", run.index)
        };
        match by_key.iter_mut().find(|(key, _)| *key == k) {
            Some((_, members)) => members.push(run.index),
            None => by_key.push((k, vec![run.index])),
        }
    }
    let mut groups: Vec<Vec<usize>> = by_key
        .into_iter()
        .flat_map(|(_, members)| {
            members
                .chunks(batch_trials.max(1))
                .map(<[usize]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect();
    groups.sort_by_key(|g| g[0]);
    groups
        .into_iter()
        .enumerate()
        .map(|(index, runs)| Group { index, runs })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::config::apply_set;
    use crate::experiment::{plan, Config};
    use serde_json::json;

    fn config(sets: &[&str]) -> Config {
        let mut v = json!({
            "name": "t",
            "dataset": {"name": "synthetic"},
            "model": {"kinds": ["plain", "highway"], "depths": [2, 5]},
            "training": {"epochs": 2, "lr": 0.1, "seeds": [0]},
            "search": {"trials": 5, "seed": 1}
        });
        for s in sets {
            apply_set(&mut v, s).unwrap();
        }
        Config::from_value(v).unwrap()
    }

    #[test]
    fn a_search_cell_is_a_group_cut_by_batch_trials() {
        let runs = plan(&config(&[]));
        assert_eq!(runs.len(), 20);
        let cells = groups(&runs, 40);
        assert_eq!(cells.len(), 4);
        for (i, g) in cells.iter().enumerate() {
            assert_eq!(g.index, i);
            assert_eq!(g.runs, (5 * i..5 * i + 5).collect::<Vec<_>>());
            let first = &runs[g.runs[0]];
            assert!(g
                .runs
                .iter()
                .all(|&r| (runs[r].kind, runs[r].depth) == (first.kind, first.depth)));
        }
        let pairs = groups(&runs, 2);
        assert_eq!(pairs.len(), 12);
        assert_eq!(pairs[0].runs, vec![0, 1]);
        assert_eq!(pairs[2].runs, vec![4]);
        assert_eq!(groups(&runs, 1).len(), 20);
    }

    #[test]
    fn seeds_and_checkpointing_split_groups() {
        let runs = plan(&config(&["training.seeds=[0,1]"]));
        // Every seed of a trial follows it in the plan; a group holds one seed.
        for g in groups(&runs, 40) {
            let seed = runs[g.runs[0]].seed;
            assert!(g.runs.iter().all(|&r| runs[r].seed == seed));
            assert_eq!(g.runs.len(), 5);
        }
        let runs = plan(&config(&["training.gradient_checkpointing=true"]));
        assert_eq!(groups(&runs, 40).len(), 20);
    }

    /// A search that draws the optimiser stacks each cell's trials by optimiser.
    #[test]
    fn the_optimizer_splits_groups() {
        let runs = plan(&config(&[
            "search.trials=12",
            r#"search.optimizer=["sgd","adam","adamw"]"#,
        ]));
        let gs = groups(&runs, 40);
        assert!(gs.len() > 4 && gs.len() <= 12, "{}", gs.len());
        for g in &gs {
            let first = &runs[g.runs[0]].training;
            assert!(g
                .runs
                .iter()
                .all(|&r| runs[r].training.optimizer == first.optimizer));
        }
        // Adam's trials may differ in their betas (as in learning rate) and stay one group.
        let adam = plan(&config(&["training.optimizer=adam"]));
        assert_eq!(groups(&adam, 40).len(), 4);
    }
}
