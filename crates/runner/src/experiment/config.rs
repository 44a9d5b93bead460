//! The sweep config: a strict JSON schema. Unknown fields, wrong types and impossible values are
//! errors that name their JSON path; `--set a.b=value` overrides any field before validation.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use highway_data::DatasetName;
use highway_model::{Activation, Kind, WeightInit};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(super) use super::gate_bias::GateBias;
use super::grid::{apply_grid_arg, Grid, GridPoint};
use super::json_path::{parse_value, set_at};
pub(crate) use super::optimizer::Optimizer;
pub(super) use super::per_kind::PerKind;
use super::plain_words::plain_words;
use super::save_model::SaveModel;
use super::search::SearchConfig;
use crate::backend::BackendName;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The version of the config format the file was written for: absent means this
    /// harness's ([`CONFIG_VERSION`]); a newer one is refused (`Config::from_value`). Not
    /// written when absent, so that a config without it plans the same `sweep.json`, byte for
    /// byte, as before the field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    pub name: String,
    /// Free text: the choices the paper leaves open, and why these were made.
    #[serde(default)]
    pub notes: String,
    pub dataset: DatasetConfig,
    pub model: ModelSection,
    pub training: TrainingConfig,
    /// The paper's random hyperparameter search; without it, one run per (kind, depth, seed).
    #[serde(default)]
    pub search: Option<SearchConfig>,
    /// Fields to vary: each point of the grid (one value per field) is planned as a config of
    /// its own, and the sweep holds every point's runs (`grid.rs`).
    #[serde(default, skip_serializing_if = "Grid::is_empty")]
    pub grid: Grid,
    #[serde(default)]
    pub backend: BackendName,
    /// How the runs are executed (never what they compute).
    #[serde(default, skip_serializing_if = "Execution::is_default")]
    pub execution: Execution,
    /// Where sweep folders go; the sweep writes `<output>/<name>/`.
    #[serde(default = "default_output")]
    pub output: PathBuf,
}

/// How a sweep's runs are executed: choices that never change a recorded number.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Execution {
    /// Trials of one search cell (runs that differ only in learning rate, momentum, decay,
    /// initial gate bias and activation) trained together as one stack of K nets; 1 trains one
    /// run at a time. Unset: the backend's default ([`BackendName::batch_trials`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_trials: Option<usize>,
}

impl Execution {
    /// The most trials one stack may hold.
    pub const MAX_BATCH_TRIALS: usize = 1024;

    fn is_default(&self) -> bool {
        *self == Execution::default()
    }

    /// Trials per stack on `backend`.
    pub fn batch_trials(&self, backend: BackendName) -> usize {
        self.batch_trials.unwrap_or_else(|| backend.batch_trials())
    }
}

/// The newest version of the config format that this harness reads: a config's optional
/// top-level `"version"`. Raised when a config's meaning changes in a way an older harness
/// would misread.
pub(crate) const CONFIG_VERSION: u32 = 1;

fn default_output() -> PathBuf {
    PathBuf::from("results")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetConfig {
    /// mnist, fashion-mnist, cifar10, cifar100, synthetic or files.
    pub name: DatasetName,
    /// The data directory; else `--data-dir`, `$HIGHWAY_DATA`, `./data`.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    #[serde(default)]
    pub preprocess: PreprocessName,
    /// Fraction of the training set held out for evaluation instead of the test set.
    #[serde(default)]
    pub validation: Option<f64>,
    /// Keep only the first N training (and evaluation) examples.
    #[serde(default)]
    pub limit: Option<usize>,
    /// CIFAR-100 labels: fine (100 classes) or coarse (20).
    #[serde(default)]
    pub labels: LabelSet,
    #[serde(default)]
    pub synthetic: highway_data::SyntheticSpec,
    /// The user's files (`name` "files"): the train and test splits and their arrays' names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<highway_data::FilesSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PreprocessName {
    None,
    #[default]
    Scale,
    Standardize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelSet {
    #[default]
    Fine,
    Coarse,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    pub kinds: Vec<Kind>,
    pub depths: Vec<usize>,
    /// The paper: 71 for plain nets, 50 for highway nets (≈5,000 parameters per layer each).
    #[serde(default = "default_width")]
    pub width: PerKind<usize>,
    #[serde(default = "default_activation")]
    pub activation: PerKind<Activation>,
    /// The constant the transform-gate bias `b_T` starts at (highway nets): one number, or one
    /// per depth (`{"10": -2, "900": -8}`), since deeper nets need more negative biases.
    #[serde(default = "default_gate_bias")]
    pub gate_bias: GateBias,
    /// The constant each residual layer's scale `α` starts at (residual nets): 0 (the default,
    /// ReZero) makes a fresh layer the identity, 1 is the plain identity shortcut.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub residual_alpha: f32,
    #[serde(default)]
    pub init: WeightInit,
}

fn default_width() -> PerKind<usize> {
    PerKind::Each([(Kind::Plain, 71), (Kind::Highway, 50), (Kind::Residual, 71)].into())
}
fn default_activation() -> PerKind<Activation> {
    PerKind::All(Activation::Relu)
}
/// Whether a setting that is left out of the files where it is 0 is 0.
pub(super) fn is_zero(v: &f32) -> bool {
    *v == 0.0
}

fn default_gate_bias() -> GateBias {
    GateBias::All(-2.0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecayEvery {
    #[default]
    Epoch,
    Step,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    pub epochs: usize,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Initial SGD learning rate.
    pub lr: PerKind<f64>,
    /// Classical momentum (dampening 0, as in the paper and PyTorch).
    #[serde(default = "default_momentum")]
    pub momentum: PerKind<f64>,
    #[serde(default)]
    pub nesterov: bool,
    /// SGD's and Adam's an L2 term added to the gradient; AdamW's decoupled (the parameter
    /// shrinks by `lr · weight_decay` each step).
    #[serde(default)]
    pub weight_decay: f64,
    /// The optimiser: `sgd` (the default), `adam` or `adamw`. Adam ignores `momentum` (β₁
    /// plays its part) and refuses `nesterov`.
    #[serde(default, skip_serializing_if = "Optimizer::is_sgd")]
    pub optimizer: Optimizer,
    /// Adam's and AdamW's decay rates of the first and second moments, β₁ and β₂.
    #[serde(default = "default_betas", skip_serializing_if = "is_default_betas")]
    pub betas: [f64; 2],
    /// Adam's and AdamW's ε, added to the root of the second moment.
    #[serde(default = "default_eps", skip_serializing_if = "is_default_eps")]
    pub eps: f64,
    /// Exponential decay: `lr = lr0 · lr_decay^t`, t counted in epochs or steps.
    #[serde(default = "default_decay")]
    pub lr_decay: PerKind<f64>,
    #[serde(default)]
    pub decay_every: DecayEvery,
    pub seeds: Vec<u64>,
    /// A run whose loss exceeds this multiple of its first loss has diverged.
    #[serde(default = "default_divergence")]
    pub divergence_factor: f64,
    /// Recompute activations in the backward pass instead of storing them (saves memory).
    #[serde(default)]
    pub gradient_checkpointing: bool,
    /// Write a checkpoint every this many epochs (and when a stop signal arrives), from which a
    /// restarted run continues exactly; 0 turns checkpoints off. Not part of a run's id.
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: usize,
    /// Which finished runs write their trained net to `model.safetensors` in their folder
    /// (for `highway analyze` and Python): every run, none, or the best of each cell (the
    /// default, not written), so a large search keeps its winners' models and no others.
    #[serde(default, skip_serializing_if = "SaveModel::is_best")]
    pub save_model: SaveModel,
    /// Record per-layer gradient, activation and gate statistics after every epoch
    /// (`layers.csv` and the event file). Not part of a run's id.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub layer_stats: bool,
}

pub(crate) fn yes() -> bool {
    true
}
pub(crate) fn is_true(b: &bool) -> bool {
    *b
}

fn default_batch() -> usize {
    128
}
fn default_momentum() -> PerKind<f64> {
    PerKind::All(0.9)
}
pub(crate) const DEFAULT_BETAS: [f64; 2] = [0.9, 0.999];
pub(crate) const DEFAULT_EPS: f64 = 1e-8;
fn default_betas() -> [f64; 2] {
    DEFAULT_BETAS
}
fn is_default_betas(b: &[f64; 2]) -> bool {
    *b == DEFAULT_BETAS
}
fn default_eps() -> f64 {
    DEFAULT_EPS
}
fn is_default_eps(e: &f64) -> bool {
    *e == DEFAULT_EPS
}
fn default_decay() -> PerKind<f64> {
    PerKind::All(1.0)
}
fn default_checkpoint_every() -> usize {
    1
}
fn default_divergence() -> f64 {
    10.0
}

impl Config {
    /// Reads, overrides (`--set`, then `--grid`) and validates a config file.
    pub fn load(path: &Path, sets: &[String], grids: &[String]) -> Result<Config> {
        // A config of more than a few megabytes is a mistake, and a FIFO would block.
        let bytes = highway_data::regular::read_regular(path, 16 << 20)
            .context("cannot read the config")?;
        let text = String::from_utf8(bytes)
            .with_context(|| format!("{}: a config is UTF-8 text", path.display()))?;
        let mut value: Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not valid JSON", path.display()))?;
        for set in sets {
            apply_set(&mut value, set).with_context(|| format!("--set {set}"))?;
        }
        for grid in grids {
            apply_grid_arg(&mut value, grid).with_context(|| format!("--grid {grid}"))?;
        }
        Self::from_value(value).map_err(|e| match blamed_set(&e, sets) {
            Some(set) => e.context(format!("--set {set}")),
            None => e.context(format!("{}: invalid config", path.display())),
        })
    }

    /// Deserializes and validates; errors name the JSON path.
    pub fn from_value(value: Value) -> Result<Config> {
        // Before the fields: a newer config may hold fields this harness does not know, and
        // its version is the error to give.
        check_version(&value)?;
        let config: Config = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            anyhow::anyhow!(
                "{}: {}",
                if path == "." {
                    "(top level)".into()
                } else {
                    path
                },
                plain_words(&e.into_inner().to_string())
            )
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        check(!self.name.trim().is_empty(), "name", "must not be empty")?;
        check(
            self.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                && !self.name.starts_with('.'),
            "name",
            "use letters, digits, '-', '_' and '.' only, not starting with '.' (it names one \
             folder inside the output folder)",
        )?;
        self.model.validate()?;
        self.training.validate()?;
        self.every_kind_has_its_settings()?;
        if let Some((path, why)) = self.search.iter().flat_map(|s| s.problems()).next() {
            bail!("{path}: {why}");
        }
        for (i, r) in self.search.iter().flat_map(|s| &s.rerun).enumerate() {
            if !self.model.kinds.contains(&r.kind) || !self.model.depths.contains(&r.depth) {
                bail!(
                    "search.rerun[{i}]: {} depth {} is not among model.kinds × model.depths",
                    r.kind.name(),
                    r.depth
                );
            }
        }
        let draws_adam = self.search.iter().flat_map(|s| &s.optimizer);
        check(
            !(self.training.nesterov && draws_adam.clone().any(|o| !o.is_sgd())),
            "training.nesterov",
            "is SGD's, and search.optimizer draws Adam or AdamW, which have no Nesterov variant \
             here",
        )?;
        self.dataset.validate()?;
        if let Some(h) = self.search.as_ref().and_then(|s| s.halving) {
            check(
                h.first_rung < self.training.epochs,
                "search.halving.first_rung",
                &format!(
                    "must be below training.epochs ({}): with no rung before the budget, \
                     halving would stop nothing",
                    self.training.epochs
                ),
            )?;
            check(
                self.training.checkpoint_every >= 1,
                "search.halving",
                "needs checkpoints (training.checkpoint_every at least 1): a trial continues \
                 past a rung from the checkpoint it wrote there",
            )?;
        }
        if let Some(k) = self.execution.batch_trials {
            check(
                (1..=Execution::MAX_BATCH_TRIALS).contains(&k),
                "execution.batch_trials",
                &format!("must be between 1 and {}", Execution::MAX_BATCH_TRIALS),
            )?;
        }
        self.check_plan_size()?;
        self.check_grid()
    }

    /// The config at each point of its grid, in order; the config itself, at no point, when it
    /// has no grid.
    pub fn grid_points(&self) -> Result<Vec<(Option<GridPoint>, Config)>> {
        if self.grid.is_empty() {
            return Ok(vec![(None, self.clone())]);
        }
        let mut base = serde_json::to_value(self)?;
        if let Value::Object(map) = &mut base {
            map.remove("grid");
        }
        self.grid
            .points()
            .into_iter()
            .map(|point| {
                let config = Config::from_value(point.apply(&base))
                    .with_context(|| format!("grid point {}", point.label()))?;
                Ok((Some(point), config))
            })
            .collect()
    }

    /// A grid's fields are settings of a run and each of its points a valid config (the plan's
    /// size and what each field changes are checked by [`super::check_grid`]).
    fn check_grid(&self) -> Result<()> {
        if self.grid.is_empty() {
            return Ok(());
        }
        self.grid.problems()?;
        self.grid_points().map(|_| ())
    }

    /// The most runs one plan may have (a plan is held in memory, and written to
    /// `sweep.json`).
    pub const MAX_RUNS: usize = 1_000_000;

    /// Refuses a plan of more than [`Config::MAX_RUNS`] runs before it is made.
    fn check_plan_size(&self) -> Result<()> {
        let m = &self.model;
        let trials = self.search.as_ref().map_or(1, |s| s.trials);
        let runs = [
            m.kinds.len(),
            m.depths.len(),
            self.training.seeds.len(),
            trials,
        ]
        .into_iter()
        .try_fold(1usize, |a, b| a.checked_mul(b))
        .filter(|&n| n <= Self::MAX_RUNS);
        if runs.is_none() {
            let field = if trials > 1 {
                "search.trials"
            } else {
                "model.depths × training.seeds"
            };
            bail!(
                "{field}: the plan would have more than {} runs; split it into several sweeps",
                Self::MAX_RUNS
            );
        }
        Ok(())
    }
}

impl Config {
    /// Every setting given per kind has a value for each kind the config trains.
    fn every_kind_has_its_settings(&self) -> Result<()> {
        let (m, t) = (&self.model, &self.training);
        let missing = |field: &str, has: &dyn Fn(Kind) -> bool| -> Result<()> {
            match m.kinds.iter().find(|&&k| !has(k)) {
                Some(kind) => bail!(
                    "{field}: no value for {} (give one value for every kind, or one for each \
                     kind in model.kinds)",
                    kind.name()
                ),
                None => Ok(()),
            }
        };
        missing("model.width", &|k| m.width.try_get(k).is_some())?;
        missing("model.activation", &|k| m.activation.try_get(k).is_some())?;
        missing("training.lr", &|k| t.lr.try_get(k).is_some())?;
        missing("training.momentum", &|k| t.momentum.try_get(k).is_some())?;
        missing("training.lr_decay", &|k| t.lr_decay.try_get(k).is_some())
    }
}

impl ModelSection {
    fn validate(&self) -> Result<()> {
        check(!self.kinds.is_empty(), "model.kinds", "must not be empty")?;
        check(!self.depths.is_empty(), "model.depths", "must not be empty")?;
        no_repeats(&self.kinds, "model.kinds")?;
        no_repeats(&self.depths, "model.depths")?;
        for (i, &depth) in self.depths.iter().enumerate() {
            check(
                depth >= 1,
                &format!("model.depths[{i}]"),
                "depth must be at least 1 (the plain input layer)",
            )?;
        }
        check(
            self.width.values().iter().all(|&w| w >= 1),
            "model.width",
            "must be at least 1",
        )?;
        check(
            self.residual_alpha.is_finite(),
            "model.residual_alpha",
            "must be a finite number",
        )?;
        for &depth in &self.depths {
            match self.gate_bias.get(depth) {
                Some(b) => check(b.is_finite(), "model.gate_bias", "must be a finite number")?,
                None => bail!(
                    "model.gate_bias: no entry for depth {depth} (give one number, or one per depth)"
                ),
            }
        }
        Ok(())
    }
}

impl TrainingConfig {
    fn validate(&self) -> Result<()> {
        check(self.epochs >= 1, "training.epochs", "must be at least 1")?;
        check(
            self.batch_size >= 1,
            "training.batch_size",
            "must be at least 1",
        )?;
        check(
            self.lr.values().iter().all(|&v| v > 0.0 && v.is_finite()),
            "training.lr",
            "must be a positive number",
        )?;
        check(
            self.momentum
                .values()
                .iter()
                .all(|&v| (0.0..1.0).contains(&v)),
            "training.momentum",
            "must be in [0, 1)",
        )?;
        check(
            self.weight_decay >= 0.0,
            "training.weight_decay",
            "must not be negative",
        )?;
        check(
            self.betas.iter().all(|b| (0.0..1.0).contains(b)),
            "training.betas",
            "must be two numbers in [0, 1), [β₁, β₂]",
        )?;
        check(
            self.eps > 0.0 && self.eps.is_finite(),
            "training.eps",
            "must be a positive number",
        )?;
        check(
            !self.nesterov || self.optimizer.is_sgd(),
            "training.nesterov",
            "is SGD's; Adam and AdamW have no Nesterov variant here",
        )?;
        check(
            self.lr_decay.values().iter().all(|&v| v > 0.0 && v <= 1.0),
            "training.lr_decay",
            "must be in (0, 1] (1 = no decay)",
        )?;
        check(
            !self.seeds.is_empty(),
            "training.seeds",
            "must not be empty",
        )?;
        no_repeats(&self.seeds, "training.seeds")?;
        check(
            self.divergence_factor > 1.0,
            "training.divergence_factor",
            "must be above 1",
        )
    }
}

impl DatasetConfig {
    fn validate(&self) -> Result<()> {
        if let Some(v) = self.validation {
            check(
                v > 0.0 && v < 1.0,
                "dataset.validation",
                "must be a fraction in (0, 1)",
            )?;
        }
        if let Some(l) = self.limit {
            check(l >= 1, "dataset.limit", "must be at least 1")?;
        }
        match (self.name, &self.files) {
            (DatasetName::Files, None) => bail!(
                "dataset.files: the files dataset needs its files, e.g. {{\"train\": \"train.npz\", \
                 \"test\": \"test.npz\"}} (see docs/data.md, \"Your own data\")"
            ),
            (DatasetName::Files, Some(files)) => {
                if let Some(c) = files.classes {
                    check(
                        (2..=highway_data::files::MAX_CLASSES).contains(&c),
                        "dataset.files.classes",
                        "must be between 2 and 1000000",
                    )?;
                }
                for (field, name) in [("features", &files.features), ("labels", &files.labels)] {
                    check(
                        !name.is_empty(),
                        &format!("dataset.files.{field}"),
                        "must not be empty",
                    )?;
                }
            }
            (name, Some(_)) => bail!(
                "dataset.files: only the files dataset reads files (dataset.name is \"{name}\")"
            ),
            (_, None) => {}
        }
        let s = &self.synthetic;
        check(
            s.train >= 1 && s.test >= 1 && s.dim >= 1 && s.classes >= 2 && s.clusters >= 1,
            "dataset.synthetic",
            "needs train, test, dim ≥ 1, classes ≥ 2, clusters ≥ 1",
        )?;
        check(
            s.classes <= MAX_CLASSES,
            "dataset.synthetic.classes",
            "must be at most 1000000 (one output unit per class)",
        )
    }
}

/// A list whose entries must differ: a repeated depth, kind or seed would train the same runs
/// again and average them as if they were independent.
fn no_repeats<T: PartialEq + std::fmt::Debug>(values: &[T], path: &str) -> Result<()> {
    for (i, v) in values.iter().enumerate() {
        if let Some(j) = values[..i].iter().position(|w| w == v) {
            bail!("{path}[{i}]: {v:?} repeats {path}[{j}]; list each value once");
        }
    }
    Ok(())
}

/// The most classes a synthetic dataset may have.
const MAX_CLASSES: usize = 1_000_000;

/// Refuses a config whose `"version"` is newer than [`CONFIG_VERSION`], or 0; a version that
/// is not a whole number is left to the field's deserialisation, which names it.
fn check_version(value: &Value) -> Result<()> {
    let Some(version) = value.get("version").and_then(Value::as_u64) else {
        return Ok(());
    };
    check(
        version >= 1,
        "version",
        "versions of the config format start at 1",
    )?;
    check(
        version <= u64::from(CONFIG_VERSION),
        "version",
        &format!(
            "{version} is newer than this harness knows: highway {} reads configs of version \
             {CONFIG_VERSION} at most (use a newer highway, or a config written for this one)",
            env!("CARGO_PKG_VERSION")
        ),
    )
}

fn check(ok: bool, path: &str, why: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        bail!("{path}: {why}")
    }
}

/// The `--set` that gave the field an error of [`Config::from_value`] names (its message opens
/// with the field's path): the last one that set the field or an object around it.
fn blamed_set<'a>(error: &anyhow::Error, sets: &'a [String]) -> Option<&'a String> {
    let message = error.to_string();
    sets.iter().rev().find(|set| {
        let key = set.split_once('=').map_or(set.as_str(), |(key, _)| key);
        message
            .strip_prefix(key)
            .is_some_and(|rest| rest.starts_with([':', '.', '[']))
    })
}

/// Applies `a.b.c=value`: the value is read by [`parse_value`].
pub(crate) fn apply_set(root: &mut Value, set: &str) -> Result<()> {
    let (key, raw) = set
        .split_once('=')
        .context("expected key=value, e.g. training.lr=0.05")?;
    set_at(root, key, parse_value(raw)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "name": "t",
            "dataset": {"name": "synthetic"},
            "model": {"kinds": ["plain", "highway"], "depths": [2, 5]},
            "training": {"epochs": 2, "lr": 0.1, "seeds": [0]}
        })
    }

    fn err(v: Value) -> String {
        format!("{:#}", Config::from_value(v).unwrap_err())
    }

    /// A config may say the version of its format: the current one is the config without it,
    /// which writes no `version`; a newer one is refused, naming the field and the
    /// harness's version, before any field it may hold that this harness does not know.
    #[test]
    fn a_config_of_a_newer_version_is_refused() {
        let plain = Config::from_value(base()).unwrap();
        assert_eq!(plain.version, None);
        let text = serde_json::to_string(&plain).unwrap();
        assert!(!text.contains("version"), "{text}");
        let mut v = base();
        v["version"] = json!(CONFIG_VERSION);
        let versioned = Config::from_value(v).unwrap();
        assert_eq!(versioned.version, Some(CONFIG_VERSION));
        // The rest is the same config (the run ids: tests/config_errors.rs).
        assert_eq!(
            Config {
                version: None,
                ..versioned
            },
            plain
        );
        let mut v = base();
        v["version"] = json!(CONFIG_VERSION + 1);
        v["a_field_of_the_future"] = json!(true);
        let e = err(v);
        assert!(
            e.contains("version: 2 is newer than this harness knows")
                && e.contains(&format!("highway {}", env!("CARGO_PKG_VERSION"))),
            "{e}"
        );
        let mut v = base();
        v["version"] = json!(0);
        assert!(err(v).contains("version: versions of the config format start at 1"));
        let mut v = base();
        v["version"] = json!("1");
        let e = err(v);
        assert!(
            e.contains("version: got the text \"1\", expected a whole number"),
            "{e}"
        );
    }

    #[test]
    fn defaults_are_the_papers() {
        let c = Config::from_value(base()).unwrap();
        assert_eq!(c.model.width.get(Kind::Plain), 71);
        assert_eq!(c.model.width.get(Kind::Highway), 50);
        assert_eq!(c.model.gate_bias.get(100), Some(-2.0));
        assert_eq!(c.training.momentum.get(Kind::Plain), 0.9);
        assert_eq!(c.backend, BackendName::Flex);
    }

    /// The error of `base()` with `key` set to `value`, which must mention `want`.
    fn assert_error(key: &str, value: Value, want: &str) {
        let mut v = base();
        apply_set(&mut v, &format!("{key}={value}")).unwrap();
        let e = err(v);
        assert!(e.contains(want), "{key}={value}: {e}");
    }

    /// A first rung at or past the budget would leave halving nothing to stop, and a summary
    /// without rungs: refused by name.
    #[test]
    fn a_first_rung_past_the_budget_is_refused() {
        let mut v = base();
        let search = json!({"trials": 3, "halving": {"eta": 3, "first_rung": 2}});
        apply_set(&mut v, &format!("search={search}")).unwrap();
        let e = err(v.clone());
        assert!(
            e.contains("search.halving.first_rung: must be below training.epochs (2)"),
            "{e}"
        );
        apply_set(&mut v, "training.epochs=3").unwrap();
        assert!(Config::from_value(v).is_ok());
    }

    #[test]
    fn errors_name_the_json_path() {
        assert_error("model.depthz", json!([1]), "model.depthz");
        assert_error("model.depthz", json!([1]), "unknown field");
        assert_error("training.lr", json!("fast"), "training.lr");
        assert_error("model.depths", json!([10, 0]), "model.depths[1]");
        assert_error(
            "training.lr",
            json!(-0.1),
            "training.lr: must be a positive",
        );
        assert_error(
            "training.seeds",
            json!([]),
            "training.seeds: must not be empty",
        );
        assert_error("training.epochs", json!(1.5), "training.epochs");
    }

    #[test]
    fn dataset_names_come_from_the_data_crate() {
        assert_error(
            "dataset.name",
            json!("imagenet"),
            "dataset.name: unknown dataset 'imagenet' (known: mnist, fashion-mnist, cifar10, cifar100, synthetic, files)",
        );
        let mut v = base();
        apply_set(&mut v, "dataset.name=fashion-mnist").unwrap();
        let c = Config::from_value(v).unwrap();
        assert_eq!(c.dataset.name, DatasetName::FashionMnist);
        assert_eq!(
            serde_json::to_value(&c).unwrap()["dataset"]["name"],
            json!("fashion-mnist")
        );
    }

    /// The files dataset needs its files, and only it reads them; a split is one path or a
    /// pair of `.npy` paths; unknown fields are refused by path.
    #[test]
    fn the_files_section_is_checked() {
        assert_error(
            "dataset.name",
            json!("files"),
            "dataset.files: the files dataset needs its files",
        );
        assert_error(
            "dataset.files",
            json!({"train": "a.npz", "test": "b.npz"}),
            "dataset.files: only the files dataset reads files (dataset.name is \"synthetic\")",
        );
        let mut v = base();
        apply_set(&mut v, "dataset.name=files").unwrap();
        let files = json!({"train": {"features": "x.npy", "labels": "y.npy"}, "test": "t.csv",
                           "labels": "label", "classes": 10});
        apply_set(&mut v, &format!("dataset.files={files}")).unwrap();
        let c = Config::from_value(v.clone()).unwrap();
        let f = c.dataset.files.as_ref().unwrap();
        assert_eq!(
            (f.features.as_str(), f.labels.as_str(), f.classes),
            ("x", "label", Some(10))
        );
        assert_eq!(
            serde_json::to_value(&c).unwrap()["dataset"]["files"],
            files_back(&files)
        );
        apply_set(&mut v, "dataset.files.classes=1").unwrap();
        assert!(err(v.clone()).contains("dataset.files.classes: must be between 2 and 1000000"));
        apply_set(&mut v, "dataset.files.clases=3").unwrap();
        assert!(err(v).contains("dataset.files"));
    }

    /// `files` as the config prints it back: with the default features name filled in.
    fn files_back(files: &Value) -> Value {
        let mut back = files.clone();
        back["features"] = json!("x");
        back
    }

    #[test]
    fn set_overrides_any_field_and_per_kind_values() {
        let mut v = base();
        apply_set(&mut v, "training.lr={\"plain\":0.01,\"highway\":0.05}").unwrap();
        apply_set(&mut v, "backend=ndarray").unwrap();
        apply_set(&mut v, "model.depths=[3]").unwrap();
        let c = Config::from_value(v).unwrap();
        assert_eq!(
            (
                c.training.lr.get(Kind::Plain),
                c.training.lr.get(Kind::Highway)
            ),
            (0.01, 0.05)
        );
        assert_eq!(c.backend, BackendName::Ndarray);
        assert_eq!(c.model.depths, vec![3]);
        // A number a float cannot hold is refused (the caller names the `--set`), not kept as
        // a string.
        let e = apply_set(&mut base(), "training.lr=1e400").unwrap_err();
        assert_eq!(e.to_string(), "1e400 is out of range for a number");
        let mut v = base();
        apply_set(&mut v, "training.lr=-1e400").unwrap_err();
        for text in ["1e400x", "inf"] {
            apply_set(&mut v, &format!("backend={text}")).unwrap();
            assert_eq!(v["backend"], text);
        }
    }

    #[test]
    fn gate_bias_per_depth() {
        let mut v = base();
        apply_set(&mut v, r#"model.gate_bias={"2": -1, "5": -3}"#).unwrap();
        let c = Config::from_value(v.clone()).unwrap();
        assert_eq!(
            (c.model.gate_bias.get(2), c.model.gate_bias.get(5)),
            (Some(-1.0), Some(-3.0))
        );
        apply_set(&mut v, "model.depths=[2, 9]").unwrap();
        assert!(err(v).contains("model.gate_bias: no entry for depth 9"));
    }
}
