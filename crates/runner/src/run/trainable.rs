//! What the training loop (`train.rs`) trains: a cohort of K ≥ 1 trials behind one interface.
//! One trial is one net with its optimiser (`net.rs`: any backend, gradient checkpointing, the
//! multi-threaded fused layers); several are one stack of nets (`stacked.rs`: one forward and
//! one backward pass for all of them); `cohort.rs` chooses. The loop
//! never asks which: epochs, batches, rungs, checkpoints, stops, divergence and records are the
//! loop's, and the numbers of each trial are those of the same run trained alone.

use anyhow::Result;
use burn::tensor::{Device, Int, Tensor};
use highway_model::{LayerStats, Mlp, ModelConfig, NamedTensor};

use super::optim::Rule;
use crate::store::Checkpoint;

/// A batch: features `[n, d]` and labels `[n]`.
pub(crate) type Batch = (Tensor<2>, Tensor<1, Int>);

/// Per trial (`[K]` each): a loss, detached, and a count of correct predictions.
pub(crate) type Scores = (Tensor<1>, Tensor<1, Int>);

/// K trials trained as one: one step of each on the same batch, each trial's net and
/// optimiser state on request, and trials leaving the cohort when they end early.
pub(crate) trait Trainable {
    /// The device the trials train on (with autodiff), where the training data goes.
    fn device(&self) -> &Device;

    /// Step number `step` (1 for the first) of every trial on the batch `(x, y)`, trial `k` at
    /// learning rate `lrs[k]`: each trial's loss on the batch before the step and its correct
    /// predictions.
    fn step(&mut self, batch: Batch, lrs: &[f64], step: usize) -> Scores;

    /// Each trial as a net of its own, on the training device.
    fn nets(&self) -> Result<Vec<Mlp>>;

    /// Whether a trial's evaluation and statistics run on one thread (`ops::on_one_thread`):
    /// a stack's trials are measured as the run trained alone on one thread measures them.
    fn measures_alone(&self) -> bool;

    /// Each trial's parameters and optimiser state, as its own checkpoint holds them.
    fn snapshots(&self) -> Vec<(Vec<NamedTensor>, Vec<NamedTensor>)>;

    /// Keeps the trials `keep` (indices into the cohort, in order); the others leave it.
    fn retain(&mut self, keep: &[usize]) -> Result<()>;
}

/// Where one trial starts: its net, its seed (a fresh net's weights), its optimiser's settings
/// (the learning rate is given per step) and the checkpoint it continues from, if any.
pub(crate) struct TrialStart<'a> {
    pub(crate) config: &'a ModelConfig,
    pub(crate) seed: u64,
    pub(crate) rule: Rule,
    pub(crate) checkpoint: Option<&'a Checkpoint>,
}

/// How a single net's layers run: fused operations, or composed ones (which gradient
/// checkpointing needs, as it recomputes composed layers only).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layers {
    pub(crate) fused: bool,
    pub(crate) gradient_checkpointing: bool,
}

/// Runs `f` on one thread when `alone` (see [`Trainable::measures_alone`]).
pub(crate) fn measured<R>(alone: bool, f: impl FnOnce() -> R) -> R {
    if alone {
        highway_model::ops::on_one_thread(f)
    } else {
        f()
    }
}

/// The per-layer statistics of `net` on the examples `x`, `y`.
pub(crate) fn layer_stats(
    alone: bool,
    net: &Mlp,
    x: &Tensor<2>,
    y: &Tensor<1, Int>,
    examples: usize,
) -> Vec<LayerStats> {
    let [n, _] = x.dims();
    let k = n.min(examples);
    measured(alone, || {
        net.layer_stats(x.clone().narrow(0, 0, k), y.clone().narrow(0, 0, k))
    })
}
