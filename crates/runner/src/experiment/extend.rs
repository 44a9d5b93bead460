//! A sweep folder belongs to one plan. A config run again into the folder of an earlier sweep
//! may extend it (more kinds, depths, seeds or trials, or fewer: the folder then keeps every
//! run of both) but not change it: any other setting that differs would mix runs of two
//! experiments in one summary, so it is refused, naming what differs. A grid may gain values
//! on its fields (not fields: every id would change). A halving search may
//! not gain trials: its rungs rank a cell's trials, and decisions already recorded would not
//! be those of a fresh search with more trials.

use anyhow::{bail, Result};
use highway_model::Kind;
use serde_json::Value;

use super::config::Config;
use super::spec::RunSpec;

/// JSON paths of the lists a sweep may extend.
const LISTS: [&str; 3] = ["model.kinds", "model.depths", "training.seeds"];
/// JSON paths of the settings that may be given per kind: only the kinds both sweeps train are
/// compared, so that a sweep may gain a kind with its own values.
const PER_KIND: [&str; 5] = [
    "model.width",
    "model.activation",
    "training.lr",
    "training.momentum",
    "training.lr_decay",
];
/// JSON paths that do not change what a run computes (where the data and results are, how a
/// run is checkpointed, recorded or executed, the backend, the notes, the version of the config
/// format).
const IGNORED: [&str; 10] = [
    "version",
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
    let both: Vec<Kind> = (old.model.kinds.iter())
        .filter(|k| new.model.kinds.contains(k))
        .copied()
        .collect();
    let (a, b) = (comparable(old, &both), comparable(new, &both));
    let grid = old.grid.union(&new.grid);
    let mut differences = grid.clone().err().unwrap_or_default();
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
    merged.grid = grid.expect("no differences");
    merged.model.kinds = union(&old.model.kinds, &new.model.kinds);
    merged.model.depths = union(&old.model.depths, &new.model.depths);
    merged.training.seeds = union(&old.training.seeds, &new.training.seeds);
    let (m, o, kinds) = (&mut merged.model, &old.model, &old.model.kinds);
    m.width.fill_from(&o.width, kinds);
    m.activation.fill_from(&o.activation, kinds);
    let (t, o) = (&mut merged.training, &old.training);
    t.lr.fill_from(&o.lr, kinds);
    t.momentum.fill_from(&o.momentum, kinds);
    t.lr_decay.fill_from(&o.lr_decay, kinds);
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

/// The config as JSON without the lists, the settings that do not matter here, and the
/// per-kind values and settings of kinds outside `kinds`.
fn comparable(config: &Config, kinds: &[Kind]) -> Value {
    let mut v = serde_json::to_value(config).unwrap_or(Value::Null);
    let mut ignored: Vec<&str> = LISTS.iter().chain(&IGNORED).copied().collect();
    // A grid's values are compared as a grid; the fields it sets, not at all.
    ignored.push("grid");
    ignored.extend(config.grid.axes().map(|(field, _)| field));
    if !kinds.contains(&Kind::Residual) {
        ignored.push("model.residual_alpha");
    }
    for path in ignored {
        if let Some((Value::Object(map), key)) = node(&mut v, path) {
            map.remove(key);
        }
    }
    for path in PER_KIND {
        if let Some((Value::Object(map), key)) = node(&mut v, path) {
            if let Some(Value::Object(each)) = map.get_mut(key) {
                each.retain(|k, _| kinds.iter().any(|kind| kind.name() == k));
            }
        }
    }
    v
}

/// The object holding the setting at the JSON `path`, and the setting's key in it.
fn node<'a, 'p>(v: &'a mut Value, path: &'p str) -> Option<(&'a mut Value, &'p str)> {
    let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
    let node = parent
        .split('.')
        .filter(|p| !p.is_empty())
        .try_fold(v, |n, p| n.get_mut(p))?;
    Some((node, key))
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

    /// A config that says its format's version extends a sweep whose config said none.
    #[test]
    fn the_version_of_the_format_makes_no_difference() {
        let mut versioned = config(json!([5]), 0.1);
        versioned.version = Some(crate::experiment::config::CONFIG_VERSION);
        let merged = merge(&config(json!([2]), 0.1), &versioned).unwrap();
        assert_eq!(merged.model.depths, vec![2, 5]);
    }

    /// A sweep gains a kind with a width of its own; the kinds it had keep theirs, and a
    /// width that differs for a kind both train is refused.
    #[test]
    fn a_sweep_gains_a_kind_with_its_own_settings() {
        let sweep = |kinds: serde_json::Value, width: serde_json::Value| {
            Config::from_value(json!({
                "name": "t", "dataset": {"name": "synthetic"},
                "model": {"kinds": kinds, "depths": [2], "width": width, "residual_alpha": 1.0},
                "training": {"epochs": 2, "lr": 0.1, "seeds": [0]}
            }))
            .unwrap()
        };
        let old = sweep(
            json!(["plain", "highway"]),
            json!({"plain": 7, "highway": 5}),
        );
        let new = sweep(json!(["residual"]), json!({"residual": 7}));
        let merged = merge(&old, &new).unwrap();
        assert_eq!(merged.model.kinds, Kind::ALL);
        let widths = Kind::ALL.map(|k| merged.model.width.get(k));
        assert_eq!(widths, [7, 5, 7]);
        let other = sweep(
            json!(["highway", "residual"]),
            json!({"highway": 6, "residual": 7}),
        );
        let why = merge(&old, &other).unwrap_err();
        assert_eq!(why, vec!["model.width.highway is 5 there and 6 here"]);
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
