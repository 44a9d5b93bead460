//! The dataset a config describes, loaded from the data directory.

use std::path::Path;

use anyhow::Result;
use highway_data::{DataError, Dataset, LoadOptions, Preprocess};
use highway_rng::{fnv1a_continue, FNV_OFFSET};

use super::config::{Config, LabelSet, PreprocessName};
use super::spec::RunSpec;

/// Loads the config's dataset from `dataset.dir`, else `data_dir` (`--data-dir`), else
/// `$HIGHWAY_DATA`, else `./data`; a missing dataset names the command that fetches it.
pub fn load_dataset(config: &Config, data_dir: Option<&Path>) -> Result<Dataset> {
    let d = &config.dataset;
    let name = d.name;
    let dir = highway_data::data_dir(d.dir.as_deref().or(data_dir));
    let opts = LoadOptions {
        preprocess: match d.preprocess {
            PreprocessName::None => Preprocess::None,
            PreprocessName::Scale => Preprocess::Scale,
            PreprocessName::Standardize => Preprocess::Standardize,
        },
        validation: d.validation,
        validation_seed: 0,
        limit: d.limit,
        cifar100_coarse: d.labels == LabelSet::Coarse,
        synthetic: d.synthetic.clone(),
        files: d.files.clone(),
    };
    highway_data::load(name, &dir, &opts).map_err(|e| match e {
        DataError::Missing { .. } => anyhow::anyhow!(
            "{e}\ndataset '{name}' is not in {}: fetch it with `highway data fetch {name} --data-dir {}` \
             (or point dataset.dir, --data-dir or HIGHWAY_DATA at a copy)",
            dir.display(),
            dir.display()
        ),
        other => other.into(),
    })
}

/// A fingerprint of the data a run trains and is evaluated on, after preprocessing: which
/// dataset, and every feature and label of both splits (FNV-1a, hex). A run records it, so that
/// a finished run is never mistaken for one on other data.
pub fn fingerprint(data: &Dataset) -> String {
    let mut h = fnv1a_continue(FNV_OFFSET, data.name.as_str().as_bytes());
    for split in [&data.train, &data.eval] {
        h = fnv1a_continue(h, &(split.dim as u64).to_le_bytes());
        h = split
            .features
            .iter()
            .fold(h, |h, f| fnv1a_continue(h, &f.to_le_bytes()));
        h = split
            .labels
            .iter()
            .fold(h, |h, l| fnv1a_continue(h, &l.to_le_bytes()));
    }
    format!("{h:016x}")
}

/// The `selected` runs of `plan` (a plan of `config`) by the dataset they train on, each with
/// a config that loads it: one part without a grid over `dataset` fields, else one per
/// dataset its points give, in plan order.
pub(crate) fn by_dataset(
    config: &Config,
    plan: &[RunSpec],
    selected: &[usize],
) -> Vec<(Config, Vec<usize>)> {
    if !config
        .grid
        .axes()
        .any(|(field, _)| field.starts_with("dataset."))
    {
        return vec![(config.clone(), selected.to_vec())];
    }
    let points = config
        .grid_points()
        .expect("validated: every grid point is a valid config");
    let mut parts: Vec<(Config, Vec<usize>)> = Vec::new();
    for &i in selected {
        let at = (points.iter())
            .find(|(p, _)| p.is_some() && *p == plan[i].point)
            .map_or(config, |(_, c)| c);
        match parts.iter_mut().find(|(c, _)| c.dataset == at.dataset) {
            Some((_, runs)) => runs.push(i),
            None => parts.push((at.clone(), vec![i])),
        }
    }
    parts
}
