//! The paper's analyses of a trained highway net: gates (Figures 2, 3) and lesions (Figure 4).
//! A run folder is opened with its trained net (`store::RunDir::load_model`; a run without one
//! is refused, naming the best run of its cell that has one) and the dataset its
//! sweep trained on, and the analyses are written to `RUN_DIR/analysis/`. Evaluation comes from
//! `run`, the figures from the crate's `svg` module.

mod gates;
mod lesion;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use burn::tensor::Device;
use highway_data::Dataset;
use highway_model::{Kind, Mlp, ModelConfig};

use crate::backend::BackendName;
use crate::experiment::load_dataset;
use crate::run::to_device;
use crate::store::{why_no_model, RunDir, SweepDir};

/// A trained highway net with the data it was trained on.
pub struct Opened {
    pub net: Mlp,
    pub data: Dataset,
    pub device: Device,
    /// Where the analyses go: `RUN_DIR/analysis/`.
    pub out: PathBuf,
}

/// Opens the run folder `run` (`<sweep>/runs/<id>`) on `backend`, loading its sweep's dataset
/// from `data_dir` (or the usual places).
pub fn open(run: &Path, data_dir: Option<&Path>, backend: BackendName) -> Result<Opened> {
    let device = backend.device()?;
    let run_dir = RunDir::new(run.to_path_buf());
    if !run_dir.has_model() {
        bail!("{}", why_no_model(&run_dir));
    }
    let (config, net): (ModelConfig, Mlp) = run_dir.load_model(&device)?;
    if config.kind != Kind::Highway || net.highway.is_empty() {
        bail!(
            "{}: a {} net of depth {} has no highway layers to analyse",
            run.display(),
            config.kind.name(),
            config.depth
        );
    }
    // The sweep's config says how the data was loaded.
    let sweep = SweepDir::of_run(run)?.load()?;
    let data = load_dataset(&sweep.config, data_dir)?;
    if (data.train.dim, data.classes) != (config.input_size, config.classes) {
        bail!(
            "{}: the model takes {} inputs and {} classes, but {} gives {} and {}",
            run.display(),
            config.input_size,
            config.classes,
            data.name,
            data.train.dim,
            data.classes
        );
    }
    Ok(Opened {
        net,
        data,
        device,
        out: run_dir.analysis_dir(),
    })
}

/// Figures 2 and 3 for training example `sample` and the two `classes` (default: 0 and 7, as
/// the paper's MNIST figure, or 0 and 1 for fewer classes); returns the files written.
pub fn gates(o: &Opened, sample: usize, classes: Option<&[usize]>) -> Result<Vec<PathBuf>> {
    let n = o.data.train.len();
    if sample >= n {
        bail!("--sample {sample}: the training set has {n} examples (0..{n})");
    }
    let classes = match classes {
        Some(&[a, b]) => [a, b],
        Some(_) => bail!("--classes takes two class numbers, e.g. --classes 0,7"),
        None if o.data.classes > 7 => [0, 7],
        None => [0, 1.min(o.data.classes - 1)],
    };
    // Checked before the pass over the training set, which takes a while.
    if let Some(c) = classes.iter().find(|&&c| c >= o.data.classes) {
        bail!(
            "--classes: class {c} does not exist (the dataset has {})",
            o.data.classes
        );
    }
    let (x, _) = to_device(&o.data.train, &o.device);
    eprintln!(
        "gate statistics of {} highway layers over {n} training examples…",
        o.net.highway.len()
    );
    let stats = gates::gate_stats(&o.net, &x, &o.data.train.labels, o.data.classes);
    let view = gates::sample_view(&o.net, x.narrow(0, sample, 1));
    let selection = gates::Selection {
        sample,
        sample_label: o.data.train.labels[sample],
        classes,
        class_names: &o.data.class_names,
    };
    gates::write(&o.out, &stats, &view, &selection)
}

/// Figure 4: the training-set loss with each highway layer shut in turn.
pub fn lesion(o: &Opened) -> Result<Vec<PathBuf>> {
    let (x, y) = to_device(&o.data.train, &o.device);
    eprintln!(
        "lesioning {} highway layers, each evaluated on {} training examples…",
        o.net.highway.len(),
        o.data.train.len()
    );
    let lesions = lesion::lesion_all(&o.net, &x, &y);
    lesion::write(&o.out, &lesions, "training")
}
