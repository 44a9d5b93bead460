//! What a run and a sweep write for TensorBoard: per epoch the curve's scalars and a summary of
//! the per-layer statistics, and the HParams plugin's experiment (per sweep) and sessions (per
//! run), so that `tensorboard --logdir <sweep>` compares the runs of a sweep and the trials of a
//! random search.
//!
//! Tags are the same in every sweep, so `--logdir results` compares sweeps too. The layer
//! statistics of a 900-layer net are shown as histograms over layers and as the first, middle
//! and last layer's values, not as one tag per layer; `layers.csv` has every layer.

use std::path::Path;

use anyhow::Result;
use highway_model::{Activation, Kind, LayerStats};

use super::layers::LayerRow;
use super::tfevents::hparams::{self, HParamInfo, HValue, MetricInfo, SessionStatus};
use super::tfevents::{file, Event, EventFile, Value, What};
use super::{CurveRow, State};
use crate::experiment::RunSpec;
use crate::sys;

/// Metrics of the HParams view: the last value of each tag in a run.
pub(super) const FINAL_TRAIN_LOSS: &str = "train/loss";
pub(super) const BEST_TRAIN_LOSS: &str = "train/best_loss";
pub(super) const EVAL_ACCURACY: &str = "eval/accuracy";

/// A run's event file.
pub(super) struct RunEvents {
    file: EventFile,
    best_loss: f64,
}

impl RunEvents {
    /// Opens the event file of the run in `dir`, keeping the events of the epochs before
    /// `keep_before` (a resumed run: its checkpoint's epoch) or none (0: a fresh start). The
    /// HParams session start is recorded on a fresh start, and on a resume whose file has none
    /// (a run begun by a build that wrote none, or by one that wrote no event file), so that
    /// every run is in TensorBoard's HParams view. `best_loss` is the lowest training loss of
    /// the epochs kept.
    pub(super) fn open(
        dir: &Path,
        spec: &RunSpec,
        keep_before: usize,
        best_loss: f64,
    ) -> Result<Self> {
        let now = sys::now();
        let started = keep_before > 0 && has_session_start(dir)?;
        let mut file = EventFile::open(dir, keep_before as i64, &sys::host(), now)?;
        if !started {
            let start = hparams::session_start(&run_hparams(spec), now);
            file.write(&event(0, vec![start]))?;
        }
        Ok(Self { file, best_loss })
    }

    /// Records one epoch: the curve's values and, when measured, the layers' statistics.
    pub(super) fn epoch(&mut self, row: &CurveRow, layers: Option<&[LayerStats]>) -> Result<()> {
        self.best_loss = self.best_loss.min(row.train_loss);
        let mut values = vec![
            Value::scalar(FINAL_TRAIN_LOSS, row.train_loss),
            Value::scalar(BEST_TRAIN_LOSS, self.best_loss),
            Value::scalar("train/accuracy", row.train_acc),
            Value::scalar("eval/loss", row.eval_loss),
            Value::scalar(EVAL_ACCURACY, row.eval_acc),
            Value::scalar("lr", row.lr),
            Value::scalar("seconds_per_epoch", row.seconds),
        ];
        if let Some(layers) = layers {
            values.extend(layer_values(layers));
        }
        self.file.write(&event(row.epoch as i64, values))
    }

    /// Records the layers' statistics alone (epoch 0: at initialisation).
    pub(super) fn layers(&mut self, epoch: usize, layers: &[LayerStats]) -> Result<()> {
        self.file.write(&event(epoch as i64, layer_values(layers)))
    }

    /// Records the end of the run's HParams session (for a final state only: an interrupted
    /// run's session goes on when it resumes).
    pub(super) fn end(&mut self, state: State, last_epoch: usize) -> Result<()> {
        let status = match state {
            State::Done => SessionStatus::Success,
            State::Diverged | State::Failed => SessionStatus::Failure,
            State::Stopped => SessionStatus::Unknown,
            State::Running | State::Interrupted | State::Waiting => return Ok(()),
        };
        let end = hparams::session_end(status, sys::now());
        self.file.write(&event(last_epoch as i64, vec![end]))
    }
}

/// Every event of the run folder `run`'s event file, in order; `None` when it has none.
pub fn read_run_events(run: &Path) -> Result<Option<Vec<Event>>> {
    match file::existing(run)? {
        Some(path) => file::read(&path).map(Some),
        None => Ok(None),
    }
}

/// Whether the event file in `dir` must be written again from the run's records for the
/// HParams view: there is none, or its session start is missing or lacks a hyperparameter
/// that [`run_hparams`] gives today (a plain net's `gate_bias`, written since 2026-12).
pub(super) fn outdated(dir: &Path, spec: &RunSpec) -> Result<bool> {
    let Some(start) = session_start(dir)? else {
        return Ok(true);
    };
    // Each hyperparameter is a map entry whose key is field 1: tag byte, length, the name.
    let has = |name: &str| {
        let mut key = vec![0x0a, name.len() as u8];
        key.extend_from_slice(name.as_bytes());
        start.windows(key.len()).any(|w| w == key.as_slice())
    };
    Ok(!run_hparams(spec).iter().all(|(name, _)| has(name)))
}

/// Writes the event file of the finished run in `dir` again from its records: the session
/// start with today's hyperparameters, each epoch's curve row and layer statistics as a run
/// writes them (wall times aside, and accuracies to `curve.csv`'s 6 decimals), and the
/// session end for `state`. The new file is made
/// beside the old one and renamed into place.
pub(super) fn rebuild(
    dir: &Path,
    spec: &RunSpec,
    curve: &[CurveRow],
    layers: &[LayerRow],
    state: State,
) -> Result<()> {
    let work = dir.join(".events-rebuild");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;
    let stats = |epoch: usize| -> Vec<LayerStats> {
        layers
            .iter()
            .filter(|r| r.epoch == epoch)
            .map(|r| r.stats.clone())
            .collect()
    };
    let mut events = RunEvents::open(&work, spec, 0, f64::INFINITY)?;
    let initial = stats(0);
    if !initial.is_empty() {
        events.layers(0, &initial)?;
    }
    for row in curve {
        let s = stats(row.epoch);
        events.epoch(row, (!s.is_empty()).then_some(s.as_slice()))?;
    }
    events.end(state, curve.last().map_or(0, |r| r.epoch))?;
    drop(events);
    let new = file::existing(&work)?.expect("just written");
    let old = file::existing(dir)?;
    let target = old
        .clone()
        .unwrap_or_else(|| dir.join(new.file_name().expect("a file")));
    std::fs::rename(&new, &target)?;
    std::fs::remove_dir_all(&work)?;
    Ok(())
}

/// Whether the event file in `dir` records an HParams session start.
fn has_session_start(dir: &Path) -> Result<bool> {
    Ok(session_start(dir)?.is_some())
}

/// The content of the HParams session start in `dir`'s event file; `None` when there is no
/// file or no session start in it.
fn session_start(dir: &Path) -> Result<Option<Vec<u8>>> {
    let events = read_run_events(dir)?.unwrap_or_default();
    Ok(events.into_iter().find_map(|e| match e.what {
        What::Summary(values) => values.into_iter().find_map(|v| match v {
            Value::Plugin { tag, content, .. } if tag == hparams::SESSION_START_TAG => {
                Some(content)
            }
            _ => None,
        }),
        What::FileVersion => None,
    }))
}

fn event(step: i64, values: Vec<Value>) -> Event {
    Event {
        wall_time: sys::now(),
        step,
        what: What::Summary(values),
    }
}

/// The first, middle and last layer's values (among the layers that have the value: gates are
/// the highway layers'), and histograms over the layers.
fn layer_values(layers: &[LayerStats]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut pick = |name: &str, get: &dyn Fn(&LayerStats) -> Option<f64>| {
        let values: Vec<f64> = layers.iter().filter_map(get).collect();
        if let (Some(first), Some(last)) = (values.first(), values.last()) {
            let middle = values[(values.len() - 1) / 2];
            for (at, v) in [("first", first), ("middle", &middle), ("last", last)] {
                out.push(Value::scalar(format!("layers/{name}/{at}"), *v));
            }
        }
    };
    pick("grad_w", &|s| Some(s.grad_w));
    pick("grad_out", &|s| Some(s.grad_out));
    pick("out_std", &|s| Some(s.out_std));
    pick("gate", &|s| s.gate);
    let n = layers.len().max(1);
    let mean_dead = layers.iter().map(|s| s.dead).sum::<f64>() / n as f64;
    out.push(Value::scalar("layers/dead_fraction", mean_dead));
    let log10 = |v: f64| if v > 0.0 { v.log10() } else { f64::NAN };
    let hist = |tag: &str, values: Vec<f64>| Value::Histogram {
        tag: tag.to_string(),
        values,
    };
    out.push(hist(
        "layers/log10_grad_w",
        layers.iter().map(|s| log10(s.grad_w)).collect(),
    ));
    out.push(hist(
        "layers/log10_grad_out",
        layers.iter().map(|s| log10(s.grad_out)).collect(),
    ));
    let gates: Vec<f64> = layers.iter().filter_map(|s| s.gate).collect();
    if !gates.is_empty() {
        out.push(hist("layers/gate", gates));
    }
    out
}

/// The hyperparameters of a run, as the HParams view shows them.
pub(super) fn run_hparams(spec: &RunSpec) -> Vec<(String, HValue)> {
    let t = &spec.training;
    let mut h = vec![
        ("kind", HValue::Text(spec.kind.name().into())),
        ("depth", HValue::Number(spec.depth as f64)),
        ("width", HValue::Number(spec.model.width as f64)),
        (
            "activation",
            HValue::Text(spec.model.activation.name().into()),
        ),
        ("lr", HValue::Number(t.lr)),
        ("momentum", HValue::Number(t.momentum)),
        ("lr_decay", HValue::Number(t.lr_decay)),
        ("batch_size", HValue::Number(t.batch_size as f64)),
        ("seed", HValue::Number(spec.seed as f64)),
    ];
    // Plain nets have no gate: 0, as in `summary.csv`. Every run has every hyperparameter the
    // experiment declares, or TensorBoard leaves it out of the parallel-coordinates view.
    h.push(("gate_bias", HValue::Number(spec.model.gate_bias as f64)));
    if let Some(trial) = spec.trial {
        h.push(("trial", HValue::Number(trial as f64)));
    }
    // Adam's and AdamW's runs only, so that the event files of SGD's keep their bytes.
    if !t.optimizer.is_sgd() {
        h.push(("optimizer", HValue::Text(t.optimizer.name().into())));
        if let Some([beta1, beta2]) = t.betas {
            h.push(("beta1", HValue::Number(beta1)));
            h.push(("beta2", HValue::Number(beta2)));
        }
        if let Some(eps) = t.eps {
            h.push(("eps", HValue::Number(eps)));
        }
    }
    let mut h: Vec<(String, HValue)> = h.into_iter().map(|(n, v)| (n.to_string(), v)).collect();
    h.extend(grid_hparams(spec));
    h
}

/// The grid fields of a run's point that the fixed hyperparameters do not show already, by
/// their paths (`training.weight_decay`).
fn grid_hparams(spec: &RunSpec) -> Vec<(String, HValue)> {
    const SHOWN: [&str; 7] = [
        "model.width",
        "model.activation",
        "model.gate_bias",
        "training.lr",
        "training.momentum",
        "training.lr_decay",
        "training.batch_size",
    ];
    let Some(point) = &spec.point else {
        return Vec::new();
    };
    point
        .values()
        .filter(|(field, _)| !SHOWN.contains(field))
        .map(|(field, v)| {
            let value = match v {
                serde_json::Value::Number(n) => HValue::Number(n.as_f64().unwrap_or(f64::NAN)),
                serde_json::Value::String(s) => HValue::Text(s.clone()),
                other => HValue::Text(other.to_string()),
            };
            (field.to_string(), value)
        })
        .collect()
}

/// The grid fields among the runs' hyperparameters: a number, or one of the texts the runs have.
fn grid_infos(plan: &[RunSpec], differs: &dyn Fn(&str) -> bool) -> Vec<HParamInfo> {
    let mut fields: Vec<(String, Vec<HValue>)> = Vec::new();
    for (name, value) in plan.iter().flat_map(grid_hparams) {
        match fields.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => fields.push((name, vec![value])),
        }
    }
    fields
        .into_iter()
        .map(|(name, values)| {
            let texts: Vec<String> = values
                .iter()
                .filter_map(|v| match v {
                    HValue::Text(t) => Some(t.clone()),
                    HValue::Number(_) => None,
                })
                .fold(Vec::new(), |mut all, t| {
                    if !all.contains(&t) {
                        all.push(t);
                    }
                    all
                });
            HParamInfo {
                differs: differs(&name),
                name,
                description: "a field of the sweep's grid",
                choices: (!texts.is_empty()).then_some(texts),
            }
        })
        .collect()
}

/// The metrics of the HParams view, as each run's session end reports them.
const METRICS: [MetricInfo; 3] = [
    MetricInfo {
        tag: FINAL_TRAIN_LOSS,
        display_name: "final training loss",
        training: true,
    },
    MetricInfo {
        tag: BEST_TRAIN_LOSS,
        display_name: "best training loss",
        training: true,
    },
    MetricInfo {
        tag: EVAL_ACCURACY,
        display_name: "evaluation accuracy",
        training: false,
    },
];

/// The HParams experiment of the sweep of `plan`, for the sweep's own event file
/// (`sweep_events.rs`). The hyperparameters that vary across the plan are marked as differing,
/// and listed first: TensorBoard shows those columns by default.
pub(super) fn experiment(name: &str, description: &str, plan: &[RunSpec]) -> Value {
    let runs: Vec<_> = plan.iter().map(run_hparams).collect();
    let differs = |name: &str| {
        let mut seen: Vec<Option<&HValue>> = Vec::new();
        for run in &runs {
            let value = run.iter().find(|(n, _)| *n == name).map(|(_, v)| v);
            if !seen.contains(&value) {
                seen.push(value);
            }
        }
        seen.len() > 1
    };
    let number = |name: &str, description| HParamInfo {
        name: name.to_string(),
        description,
        choices: None,
        differs: differs(name),
    };
    let choice = |name: &str, description, values: Vec<&str>| HParamInfo {
        name: name.to_string(),
        description,
        choices: Some(values.iter().map(|v| v.to_string()).collect()),
        differs: differs(name),
    };
    let kinds = Kind::ALL.map(Kind::name).to_vec();
    let activations = Activation::ALL.map(Activation::name).to_vec();
    let mut infos = vec![
        choice("kind", "plain, highway or residual hidden layers", kinds),
        number("depth", "hidden layers (1 plain input layer + depth - 1)"),
        number("width", "units per hidden layer"),
        choice("activation", "nonlinearity of H", activations),
        number("lr", "initial SGD learning rate"),
        number("momentum", "SGD momentum"),
        number("lr_decay", "learning-rate decay factor"),
        number("batch_size", "examples per step"),
        number("seed", "initialisation and shuffling seed"),
        number(
            "gate_bias",
            "initial transform-gate bias b_T (highway nets)",
        ),
        number("trial", "random-search trial"),
    ];
    if plan.iter().any(|r| !r.training.optimizer.is_sgd()) {
        infos.extend([
            choice("optimizer", "adam or adamw", vec!["adam", "adamw"]),
            number("beta1", "Adam's first-moment decay rate"),
            number("beta2", "Adam's second-moment decay rate"),
            number("eps", "Adam's epsilon"),
        ]);
    }
    infos.extend(grid_infos(plan, &differs));
    infos.sort_by_key(|h| !h.differs);
    hparams::experiment(name, description, &infos, &METRICS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{plan, Config};

    fn search_plan() -> Vec<RunSpec> {
        let config = Config::from_value(serde_json::json!({
            "name": "t", "dataset": {"name": "synthetic"},
            "model": {"kinds": ["plain", "highway"], "depths": [2]},
            "training": {"epochs": 3, "lr": 0.1, "seeds": [0]},
            "search": {"trials": 2, "seed": 1}
        }))
        .unwrap();
        plan(&config)
    }

    /// The experiment of `plan` as bytes, read as text.
    fn experiment_text(plan: &[RunSpec]) -> String {
        let bytes = event(0, vec![experiment("t", "", plan)]).encode();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn session_starts(dir: &Path) -> usize {
        read_run_events(dir)
            .unwrap()
            .unwrap()
            .iter()
            .filter_map(|e| match &e.what {
                What::Summary(values) => Some(values),
                What::FileVersion => None,
            })
            .flatten()
            .filter(|v| v.tag() == hparams::SESSION_START_TAG)
            .count()
    }

    /// A run resumed from an event file without a session start (begun by a build that wrote
    /// none) gets one; a resumed run that has one keeps just that one.
    #[test]
    fn a_resumed_run_without_a_session_start_gets_one() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let spec = &search_plan()[0];
        let mut old = EventFile::open(dir, 0, "host", 1.0).unwrap();
        old.write(&event(1, vec![Value::scalar(FINAL_TRAIN_LOSS, 2.0)]))
            .unwrap();
        drop(old);
        assert_eq!(session_starts(dir), 0);
        RunEvents::open(dir, spec, 2, 2.0).unwrap();
        assert_eq!(session_starts(dir), 1);
        RunEvents::open(dir, spec, 2, 2.0).unwrap();
        assert_eq!(session_starts(dir), 1);
    }

    /// Plain runs carry `gate_bias` too (0, as `summary.csv` has it), and the experiment marks
    /// the hyperparameters that vary across the plan as differing, listed first.
    #[test]
    fn every_run_has_every_hparam_and_varying_ones_come_first() {
        let plan = search_plan();
        for spec in &plan {
            let names: Vec<_> = run_hparams(spec).into_iter().map(|(n, _)| n).collect();
            assert!(
                names.iter().any(|n| n == "gate_bias"),
                "{}: {names:?}",
                spec.id
            );
        }
        let plain = run_hparams(&plan[0]);
        assert!(plain.contains(&("gate_bias".to_string(), HValue::Number(0.0))));
        let text = experiment_text(&plan);
        // Each name as written (field 1: tag byte 0x0a, length, bytes): kind, activation, lr,
        // momentum, lr_decay, gate_bias and trial vary in this plan, depth and seed do not.
        let order: Vec<usize> = ["lr_decay", "trial", "depth", "seed"]
            .iter()
            .map(|n| {
                text.find(&format!("\n{}{n}", char::from(n.len() as u8)))
                    .unwrap()
            })
            .collect();
        assert!(
            order[0] < order[2] && order[1] < order[2] && order[1] < order[3],
            "{order:?}"
        );
    }

    /// A grid's fields are hyperparameters of their own where no fixed one shows them.
    #[test]
    fn grid_fields_are_hyperparameters() {
        let config = Config::from_value(serde_json::json!({
            "name": "t", "dataset": {"name": "synthetic"},
            "model": {"kinds": ["highway"], "depths": [2]},
            "training": {"epochs": 3, "lr": 0.1, "seeds": [0]},
            "grid": {"training.weight_decay": [0, 0.001], "model.init": ["normalized", "lecun-normal"],
                     "training.lr": [0.1, 0.2]}
        }))
        .unwrap();
        let plan = plan(&config);
        let h = run_hparams(&plan[plan.len() - 1]);
        let get = |n: &str| h.iter().find(|(name, _)| name == n).map(|(_, v)| v.clone());
        assert_eq!(get("training.weight_decay"), Some(HValue::Number(0.001)));
        assert_eq!(get("model.init"), Some(HValue::Text("lecun-normal".into())));
        assert_eq!(get("training.lr"), None, "shown as lr");
        assert_eq!(get("lr"), Some(HValue::Number(0.2)));
        let text = experiment_text(&plan);
        assert!(text.contains("training.weight_decay") && text.contains("model.init"));
    }
}
