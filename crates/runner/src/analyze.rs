//! `highway analyze gates|lesion RUN_DIR`: open a trained run (its `model.safetensors`, and the
//! dataset its sweep trained on) and write the paper's analyses to `RUN_DIR/analysis/`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::tensor::{Device, Int, Tensor};
use clap::Subcommand;
use highway_data::Dataset;
use highway_model::{Kind, Mlp, ModelConfig};

use crate::backend::BackendName;
use crate::store::SweepDir;
use crate::{gates, lesion, model_file, sweep, train};

#[derive(Subcommand)]
pub enum AnalyzeCommand {
    /// The paper's Figures 2 and 3: trained gate biases, mean gate outputs over the training
    /// set, one sample's gates and block outputs, and per-class gate activity.
    Gates {
        #[command(flatten)]
        run: RunArgs,
        /// The training example shown in the one-sample panels.
        #[arg(long, default_value_t = 0)]
        sample: usize,
        /// The two classes of the per-class view (default: 0 and 7, as the paper's MNIST
        /// figure, or 0 and 1 for fewer classes).
        #[arg(long, value_delimiter = ',')]
        classes: Option<Vec<usize>>,
    },
    /// The paper's Figure 4: the training-set loss with each highway layer shut in turn.
    Lesion {
        #[command(flatten)]
        run: RunArgs,
    },
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// A run folder, `<sweep>/runs/<id>`, trained with `training.save_model = true`.
    run_dir: PathBuf,
    /// Data directory (default: $HIGHWAY_DATA, else ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long, default_value = "flex")]
    backend: BackendName,
}

/// A trained highway net with the data it was trained on.
struct Opened {
    net: Mlp,
    data: Dataset,
    device: Device,
    out: PathBuf,
}

fn open(args: &RunArgs) -> Result<Opened> {
    let run = &args.run_dir;
    let device = args.backend.device()?;
    let (config, net): (ModelConfig, Mlp) = model_file::load(&run.join(model_file::FILE), &device)?;
    if config.kind != Kind::Highway || net.highway.is_empty() {
        bail!(
            "{}: a {} net of depth {} has no highway layers to analyse",
            run.display(),
            config.kind.name(),
            config.depth
        );
    }
    // The run folder sits in `<sweep>/runs/`; the sweep's config says how the data was loaded.
    let sweep_root = run
        .parent()
        .and_then(Path::parent)
        .filter(|p| p.join("sweep.json").is_file())
        .with_context(|| {
            format!(
                "{}: not inside a sweep folder (expected <sweep>/runs/<id> next to <sweep>/sweep.json)",
                run.display()
            )
        })?;
    let sweep = SweepDir::new(sweep_root.to_path_buf()).load()?;
    let data = sweep::load_dataset(&sweep.config, args.data_dir.as_deref())?;
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
        out: run.join("analysis"),
    })
}

pub fn run(command: AnalyzeCommand) -> Result<Vec<PathBuf>> {
    match command {
        AnalyzeCommand::Gates {
            run,
            sample,
            classes,
        } => {
            let o = open(&run)?;
            let n = o.data.train.len();
            if sample >= n {
                bail!("--sample {sample}: the training set has {n} examples (0..{n})");
            }
            let classes = match classes.as_deref() {
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
            let (x, _) = train::to_device(&o.data.train, &o.device);
            eprintln!(
                "gate statistics of {} highway layers over {n} training examples…",
                o.net.highway.len()
            );
            let stats = gates::gate_stats(&o.net, &x, &o.data.train.labels, o.data.classes);
            let view = gates::sample_view(&o.net, x.narrow(0, sample, 1));
            gates::write(
                &o.out,
                &stats,
                &view,
                &gates::Selection {
                    sample,
                    sample_label: o.data.train.labels[sample],
                    classes,
                    class_names: &o.data.class_names,
                },
            )
        }
        AnalyzeCommand::Lesion { run } => {
            let o = open(&run)?;
            let (x, y): (Tensor<2>, Tensor<1, Int>) = train::to_device(&o.data.train, &o.device);
            eprintln!(
                "lesioning {} highway layers, each evaluated on {} training examples…",
                o.net.highway.len(),
                o.data.train.len()
            );
            let lesions = lesion::lesion_all(&o.net, &x, &y);
            lesion::write(&o.out, &lesions, "training")
        }
    }
}
