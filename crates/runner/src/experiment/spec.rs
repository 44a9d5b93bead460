//! One run of a plan, with every setting resolved: what training needs, and nothing else.

use highway_model::{Kind, ModelConfig};
use serde::{Deserialize, Serialize};

use super::config::DecayEvery;
use super::grid::GridPoint;
use super::optimizer::Optimizer;
use super::save_model::SaveModel;

/// Everything needed to train one run, and nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub index: usize,
    pub id: String,
    pub kind: Kind,
    pub depth: usize,
    pub seed: u64,
    /// The random-search trial this run belongs to, when the config has a `search` section.
    #[serde(default)]
    pub trial: Option<usize>,
    /// The grid point this run was planned at, when the config has a `grid`: the first point
    /// that gives it (a run two points give alike is planned once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<GridPoint>,
    /// The network, except `input_size` and `classes`, which the dataset fixes at run time.
    pub model: ModelConfig,
    pub training: RunTraining,
}

/// The training settings of one run, each resolved for its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunTraining {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub momentum: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
    /// SGD (the default, then absent), Adam or AdamW; for Adam and AdamW `momentum` is 0 and
    /// `nesterov` false.
    #[serde(default, skip_serializing_if = "Optimizer::is_sgd")]
    pub optimizer: Optimizer,
    /// Adam's and AdamW's β₁ and β₂; absent for SGD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub betas: Option<[f64; 2]>,
    /// Adam's and AdamW's ε; absent for SGD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eps: Option<f64>,
    pub lr_decay: f64,
    pub decay_every: DecayEvery,
    pub divergence_factor: f64,
    pub gradient_checkpointing: bool,
    /// A checkpoint every this many epochs; 0: none. Not part of the run's id: it does not
    /// change what the run computes.
    #[serde(default = "one")]
    pub checkpoint_every: usize,
    /// Whether the run keeps its trained net (`model.safetensors`): always, never, or when it
    /// is the best of its cell (the default, not written, so the specs of runs made before it
    /// existed read as it). Not part of the run's id: saving the model does not change the run.
    #[serde(default, skip_serializing_if = "SaveModel::is_best")]
    pub save_model: SaveModel,
    /// Record per-layer statistics after every epoch. Not part of the run's id: they are
    /// measured on the side and change nothing the run computes.
    #[serde(
        default = "super::config::yes",
        skip_serializing_if = "super::config::is_true"
    )]
    pub layer_stats: bool,
}

impl RunTraining {
    /// Sets the optimiser to `optimizer`, with the settings of `t` it uses: Adam and AdamW
    /// have no momentum (β₁ has its part) and take `t`'s betas and ε.
    pub fn set_optimizer(&mut self, optimizer: Optimizer, betas: [f64; 2], eps: f64) {
        self.optimizer = optimizer;
        if optimizer.is_sgd() {
            (self.betas, self.eps) = (None, None);
        } else {
            (self.momentum, self.nesterov) = (0.0, false);
            (self.betas, self.eps) = (Some(betas), Some(eps));
        }
    }

    /// The learning rate after `epoch` epochs and `step` steps.
    pub fn lr_at(&self, epoch: usize, step: usize) -> f64 {
        let t = match self.decay_every {
            DecayEvery::Epoch => epoch,
            DecayEvery::Step => step,
        };
        self.lr * self.lr_decay.powi(t as i32)
    }
}

fn one() -> usize {
    1
}
