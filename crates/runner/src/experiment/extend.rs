//! A sweep folder belongs to one plan. A config run again into the folder of an earlier sweep
//! may extend it (more kinds, depths, seeds or trials, or fewer: the folder then keeps every
//! run of both) but not change it: any other setting that differs would mix runs of two
//! experiments in one summary, so it is refused, naming what differs. A halving search may
//! not gain trials: its rungs rank a cell's trials, and decisions already recorded would not
//! be those of a fresh search with more trials.

use anyhow::{bail, Result};
use serde_json::Value;

use super::config::Config;
use super::spec::RunSpec;

/// JSON paths of the lists a sweep may extend.
const LISTS: [&str; 3] = ["model.kinds", "model.depths", "training.seeds"];
/// JSON paths that do not change what a run computes (where the data and results are, how a
/// run is checkpointed, recorded or executed, the backend, the notes).
const IGNORED: [&str; 9] = [
    "notes",
    "execution",
    "output",
    "backend",
    "dataset.dir",
    "training.checkpoint_every",
    "training.save_model",
    "training.layer_stats",
    "search.trials",
];

/// The config of the sweep that holds both `old` and `new`: `new` with every list the union of
/// both (old entries first) and the larger number of trials; or the settings that differ.
pub(super) fn merge(old: &Config, new: &Config) -> Result<Config, Vec<String>> {
    let (a, b) = (comparable(old), comparable(new));
    let mut differences = Vec::new();
    diff("", &a, &b, &mut differences);
    if let (Some(o), Some(n)) = (&old.search, &new.search) {
        if o.halving.is_some() && n.trials > o.trials {
            differences.push(format!(
                "search.trials is {} there and {} here: successive halving ranks each rung among a cell's \
                 trials, so more trials would change rungs this folder may have decided \
                 already (and trials it stopped cannot train on)",
                o.trials, n.trials
            ));
        }
    }
    if !differences.is_empty() {
        return Err(differences);
    }
    let mut merged = new.clone();
    merged.model.kinds = union(&old.model.kinds, &new.model.kinds);
    merged.model.depths = union(&old.model.depths, &new.model.depths);
    merged.training.seeds = union(&old.training.seeds, &new.training.seeds);
    if let (Some(o), Some(m)) = (&old.search, &mut merged.search) {
        m.trials = m.trials.max(o.trials);
    }
    Ok(merged)
}

/// The config and plan of the sweep in a folder once `config` (planned as `plan`) runs into
/// it; `old` is what the folder holds already, `None` for a new one. `config` alone for a new
/// folder; the folder's own when `config` adds nothing to it, so that the stored plan is kept
/// as it is; both merged and planned again when `config` extends it; an error naming what
/// differs when it is another experiment.
pub(crate) fn sweep_plan(
    old: Option<(Config, Vec<RunSpec>)>,
    config: &Config,
    plan: &[RunSpec],
) -> Result<(Config, Vec<RunSpec>)> {
    let Some((old_config, old_plan)) = old else {
        return Ok((config.clone(), plan.to_vec()));
    };
    match merge(&old_config, config) {
        Ok(merged) if merged == old_config => Ok((old_config, old_plan)),
        Ok(merged) => {
            let plan = super::plan(&merged);
            Ok((merged, plan))
        }
        Err(differences) => bail!(
            "this folder holds a sweep of another plan: {}; use --out DIR or another name for \
             this one (or delete the folder)",
            differences.join("; ")
        ),
    }
}

/// `a` and then the entries of `b` that are not in `a`.
fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    out.extend(b.iter().filter(|x| !a.contains(x)).cloned());
    out
}

/// The config as JSON without the lists and the settings that do not matter here.
fn comparable(config: &Config) -> Value {
    let mut v = serde_json::to_value(config).unwrap_or(Value::Null);
    for path in LISTS.iter().chain(&IGNORED) {
        let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
        let node = parent
            .split('.')
            .filter(|p| !p.is_empty())
            .try_fold(&mut v, |n, p| n.get_mut(p));
        if let Some(Value::Object(map)) = node {
            map.remove(key);
        }
    }
    v
}

/// Appends `path: old … here new` for every leaf where `a` and `b` differ.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let null = Value::Null;
                diff(
                    &p,
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path} is {a} there and {b} here")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(depths: serde_json::Value, lr: f64) -> Config {
        Config::from_value(json!({
            "name": "t", "dataset": {"name": "synthetic"},
            "model": {"kinds": ["plain"], "depths": depths},
            "training": {"epochs": 2, "lr": lr, "seeds": [0]}
        }))
        .unwrap()
    }

    #[test]
    fn lists_extend_other_settings_conflict() {
        let merged = merge(&config(json!([2, 5]), 0.1), &config(json!([5, 10]), 0.1)).unwrap();
        assert_eq!(merged.model.depths, vec![2, 5, 10]);
        let why = merge(&config(json!([2]), 0.1), &config(json!([2]), 0.05)).unwrap_err();
        assert_eq!(why, vec!["training.lr is 0.1 there and 0.05 here"]);
    }

    /// A random search may gain trials; a halving search may not (its rungs rank a cell's
    /// trials), though it may gain depths.
    #[test]
    fn a_halving_search_gains_depths_but_not_trials() {
        let search = |depths: serde_json::Value, trials: usize, halving: bool| {
            let mut search = json!({"trials": trials, "lr": [0.001, 0.1]});
            if halving {
                search["halving"] = json!({"eta": 3, "first_rung": 1});
            }
            Config::from_value(json!({
                "name": "t", "dataset": {"name": "synthetic"},
                "model": {"kinds": ["plain"], "depths": depths},
                "training": {"epochs": 4, "lr": 0.1, "seeds": [0]},
                "search": search
            }))
            .unwrap()
        };
        let merged = merge(
            &search(json!([2]), 9, false),
            &search(json!([2]), 10, false),
        );
        assert_eq!(merged.unwrap().search.unwrap().trials, 10);
        let merged = merge(
            &search(json!([2]), 9, true),
            &search(json!([2, 5]), 9, true),
        );
        assert_eq!(merged.unwrap().model.depths, vec![2, 5]);
        let why = merge(&search(json!([2]), 9, true), &search(json!([2]), 10, true)).unwrap_err();
        assert_eq!(why.len(), 1);
        assert!(why[0].starts_with("search.trials is 9 there and 10 here: successive halving"));
    }
}
