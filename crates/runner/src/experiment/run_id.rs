//! A run's id: `highway-d50-s0-1a2b3c4d`, its kind, depth, trial and seed to read, and a hash of
//! every setting that changes what the run computes.
//!
//! The hash covers an explicit, versioned list of settings ([`IdentityV1`]), not the config as
//! it happens to be serialized: paths (`dataset.dir`, the output folder), `save_model` and the
//! backend are left out, so `--data-dir /scratch/...` on a cluster finds the runs made on a
//! laptop, and a new config field changes no id until it is added here on purpose (as a new
//! version, which renames every run, and says so in docs/results-format.md, "Run ids").
//!
//! Version 1 hashes exactly the bytes that ids were made of before this list existed (the
//! model, the training settings, the seed and the dataset section, with `dataset.dir` set to
//! null), so the ids of every committed sweep stay valid; `tests::ids_are_pinned` checks it.

use highway_data::{DatasetName, SyntheticSpec};
use highway_model::{Activation, Kind, ModelConfig, WeightInit};
use serde::Serialize;

use super::config::{DatasetConfig, DecayEvery, LabelSet, Optimizer, PreprocessName};
use super::spec::RunTraining;

/// The settings of version 1, serialized as the JSON array `[model, training, seed, dataset]`,
/// fields in this order.
#[derive(Serialize)]
struct IdentityV1<'a>(ModelV1, TrainingV1, u64, DatasetV1<'a>);

#[derive(Serialize)]
struct ModelV1 {
    kind: Kind,
    depth: usize,
    width: usize,
    /// Fixed by the dataset at run time; 0 in the plan.
    input_size: usize,
    classes: usize,
    activation: Activation,
    gate_bias: f32,
    /// Residual nets only: absent where it is 0, as it is for every other net, so the ids made
    /// before residual nets existed keep their bytes.
    #[serde(skip_serializing_if = "super::config::is_zero")]
    residual_alpha: f32,
    init: WeightInit,
}

#[derive(Serialize)]
struct TrainingV1 {
    epochs: usize,
    batch_size: usize,
    lr: f64,
    momentum: f64,
    nesterov: bool,
    weight_decay: f64,
    lr_decay: f64,
    decay_every: DecayEvery,
    divergence_factor: f64,
    /// Composed instead of fused layers: the same formulas, rounded differently.
    gradient_checkpointing: bool,
    /// Adam or AdamW and their settings; absent for SGD, so that the ids made before Adam
    /// existed keep their bytes.
    #[serde(skip_serializing_if = "Optimizer::is_sgd")]
    optimizer: Optimizer,
    #[serde(skip_serializing_if = "Option::is_none")]
    betas: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eps: Option<f64>,
}

#[derive(Serialize)]
struct DatasetV1<'a> {
    name: DatasetName,
    /// Always null: where the files are does not change the run.
    dir: Option<()>,
    preprocess: PreprocessName,
    validation: Option<f64>,
    limit: Option<usize>,
    labels: LabelSet,
    synthetic: &'a SyntheticSpec,
    /// The files dataset's arrays and classes; absent (so no other dataset's id changes)
    /// otherwise. Its paths are left out as `dir` is: the files' fingerprint, recorded in
    /// each run, tells whether a run was made on them.
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<FilesV1<'a>>,
}

#[derive(Serialize)]
struct FilesV1<'a> {
    features: &'a str,
    labels: &'a str,
    classes: Option<usize>,
}

/// The id of the run of net `m` trained with `t` from `seed` (search trial `trial`, grid point
/// `point` as [`super::grid::GridPoint::tag`] writes it), on the data `dataset` describes.
pub(super) fn run_id(
    m: &ModelConfig,
    t: &RunTraining,
    seed: u64,
    trial: Option<usize>,
    point: Option<&str>,
    dataset: &DatasetConfig,
) -> String {
    let identity = IdentityV1(
        ModelV1 {
            kind: m.kind,
            depth: m.depth,
            width: m.width,
            input_size: m.input_size,
            classes: m.classes,
            activation: m.activation,
            gate_bias: m.gate_bias,
            residual_alpha: m.residual_alpha,
            init: m.init,
        },
        TrainingV1 {
            epochs: t.epochs,
            batch_size: t.batch_size,
            lr: t.lr,
            momentum: t.momentum,
            nesterov: t.nesterov,
            weight_decay: t.weight_decay,
            lr_decay: t.lr_decay,
            decay_every: t.decay_every,
            divergence_factor: t.divergence_factor,
            gradient_checkpointing: t.gradient_checkpointing,
            optimizer: t.optimizer,
            betas: t.betas,
            eps: t.eps,
        },
        seed,
        DatasetV1 {
            name: dataset.name,
            dir: None,
            preprocess: dataset.preprocess,
            validation: dataset.validation,
            limit: dataset.limit,
            labels: dataset.labels,
            synthetic: &dataset.synthetic,
            files: dataset.files.as_ref().map(|f| FilesV1 {
                features: &f.features,
                labels: &f.labels,
                classes: f.classes,
            }),
        },
    );
    let bytes = serde_json::to_vec(&identity).expect("plain data serializes");
    let trial = trial.map(|t| format!("-t{t:03}")).unwrap_or_default();
    let point = point.map(|p| format!("-{p}")).unwrap_or_default();
    format!(
        "{}-d{}{trial}{point}-s{seed}-{:08x}",
        m.kind.name(),
        m.depth,
        highway_rng::fnv1a(&bytes) as u32
    )
}

/// The hash of the settings at the end of a run id: runs with the same hash compute the same.
pub(super) fn settings_hash(id: &str) -> &str {
    id.rsplit('-').next().unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::experiment::config::apply_set;
    use crate::experiment::{plan, Config, RunSpec};

    /// A committed sweep's config and plan, from its `sweep.json`.
    #[derive(serde::Deserialize)]
    struct Committed {
        config: Config,
        plan: Vec<RunSpec>,
    }

    fn committed(name: &str) -> Committed {
        let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../results")
            .join(name)
            .join("sweep.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The ids recorded in committed sweeps are the ids the plan gives today.
    #[test]
    fn ids_are_pinned() {
        for name in ["fig1-mnist", "fig1-mnist-search-reduced", "analysis-mnist"] {
            let sweep = committed(name);
            let recorded: Vec<&str> = sweep.plan.iter().map(|r| r.id.as_str()).collect();
            let planned: Vec<String> = plan(&sweep.config).into_iter().map(|r| r.id).collect();
            assert_eq!(planned, recorded, "{name}");
        }
        // And one written out, so that a change shows up even if the files were regenerated.
        let sweep = committed("fig1-mnist");
        let runs = plan(&sweep.config);
        assert_eq!(runs[0].id, "plain-d10-s0-d8dbc98f");
        assert_eq!(runs[23].id, "highway-d100-s2-7bfe49e6");
    }

    #[test]
    fn paths_saving_and_backend_do_not_change_ids() {
        let base = committed("fig1-mnist").config;
        let ids = |c: &Config| plan(c).into_iter().map(|r| r.id).collect::<Vec<_>>();
        let mut v = serde_json::to_value(&base).unwrap();
        for set in [
            "dataset.dir=/scratch/someone/data",
            "output=/elsewhere",
            "training.save_model=true",
            "backend=ndarray",
        ] {
            apply_set(&mut v, set).unwrap();
        }
        let moved = Config::from_value(v.clone()).unwrap();
        assert_eq!(ids(&moved), ids(&base));
        apply_set(&mut v, "training.epochs=13").unwrap();
        let changed = Config::from_value(v).unwrap();
        assert!(ids(&changed).iter().zip(ids(&base)).all(|(a, b)| *a != b));
    }

    /// Adam's runs get ids of their own, which its settings change and SGD's momentum does not
    /// (Adam has none).
    #[test]
    fn the_optimizer_and_its_settings_change_ids() {
        let base = committed("fig1-mnist").config;
        let ids = |sets: &[&str]| {
            let mut v = serde_json::to_value(&base).unwrap();
            for set in sets {
                apply_set(&mut v, set).unwrap();
            }
            let c = Config::from_value(v).unwrap();
            plan(&c).into_iter().map(|r| r.id).collect::<Vec<_>>()
        };
        let sgd = ids(&[]);
        assert_eq!(ids(&["training.optimizer=sgd"]), sgd);
        let adam = ids(&["training.optimizer=adam"]);
        let distinct = |a: &[String], b: &[String]| a.iter().zip(b).all(|(a, b)| a != b);
        assert!(distinct(&adam, &sgd));
        assert!(distinct(&ids(&["training.optimizer=adamw"]), &adam));
        assert!(distinct(
            &ids(&["training.optimizer=adam", "training.betas=[0.8,0.999]"]),
            &adam
        ));
        assert!(distinct(
            &ids(&["training.optimizer=adam", "training.eps=1e-6"]),
            &adam
        ));
        assert_eq!(
            ids(&["training.optimizer=adam", "training.momentum=0.5"]),
            adam
        );
    }
}
