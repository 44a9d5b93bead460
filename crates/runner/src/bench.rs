//! `highway bench`: training-step throughput of one net on random data.
//!
//! The same nets as `scripts/bench_torch.py` (input → plain input layer → depth − 1 plain or
//! highway layers → 10 logits, SGD with momentum 0.9), so the two can be run side by side.

use std::time::Instant;

use anyhow::Result;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use highway_model::loss::cross_entropy;
use highway_model::{Activation, Kind, ModelConfig, WeightInit};
use highway_rng::SplitMix64;
use serde::Serialize;

use crate::backend::BackendName;
use crate::run::{Sgd, PROBE_EXAMPLES};
use crate::sys;

#[derive(Debug, Clone)]
pub(crate) struct BenchSpec {
    pub kind: Kind,
    pub depth: usize,
    pub width: usize,
    pub input: usize,
    pub classes: usize,
    pub batch: usize,
    pub steps: usize,
    pub warmup: usize,
    pub backend: BackendName,
    pub gradient_checkpointing: bool,
    /// Layers composed from tensor operations instead of the fused operations (for comparison;
    /// checkpointing implies it).
    pub composed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct BenchResult {
    pub kind: &'static str,
    pub depth: usize,
    pub width: usize,
    pub input: usize,
    pub batch: usize,
    pub steps: usize,
    pub backend: String,
    pub gradient_checkpointing: bool,
    /// Whether the layers were fused operations.
    pub fused: bool,
    /// CPU threads available to the backend.
    pub threads: usize,
    /// From the median step time.
    pub steps_per_s: f64,
    pub ms_per_step: f64,
    pub mean_ms_per_step: f64,
    pub peak_rss_mib: f64,
    pub final_loss: f64,
    /// One measurement of the per-layer statistics a run takes after each epoch (on
    /// `PROBE_EXAMPLES` examples), median of 5.
    pub layer_stats_ms: f64,
    /// Peak resident memory after the statistics were taken (`peak_rss_mib` is before).
    pub layer_stats_peak_rss_mib: f64,
    /// That, as a share of an epoch of 60,000 examples (MNIST) at this batch size.
    pub layer_stats_epoch_percent: f64,
}

/// Examples in the epoch the statistics' cost is compared with (MNIST's training set).
const EPOCH_EXAMPLES: usize = 60_000;

/// Trains `warmup + steps` steps; each step ends with the loss read back, so that its time
/// includes all of its work on every backend.
pub(crate) fn run(spec: &BenchSpec) -> Result<BenchResult> {
    let device = spec.backend.device()?;
    let mut device = device.autodiff();
    if spec.gradient_checkpointing {
        device = device.gradient_checkpointing();
    }
    let config = ModelConfig {
        kind: spec.kind,
        depth: spec.depth,
        width: spec.width,
        input_size: spec.input,
        classes: spec.classes,
        activation: Activation::Relu,
        gate_bias: -2.0,
        init: WeightInit::Normalized,
    };
    let mut model = config
        .init(0, &device)
        .with_fused(!(spec.gradient_checkpointing || spec.composed));
    let mut rng = SplitMix64::new(1);
    let (x, y) = random_batch(spec, spec.batch, &mut rng, &device);
    let mut optim = Sgd::new(0.9, false, 0.0);
    let mut times = Vec::new();
    let mut last = f64::NAN;
    for i in 0..spec.warmup + spec.steps {
        let t = Instant::now();
        let loss = cross_entropy(model.forward(x.clone()), y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(0.01, model, grads);
        last = loss.into_scalar::<f32>() as f64;
        if i >= spec.warmup {
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    let median_ms = median(times);
    let peak_rss_mib = sys::peak_rss_mib();
    let (px, py) = random_batch(spec, PROBE_EXAMPLES, &mut rng, &device);
    let stats_ms = median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                model.layer_stats(px.clone(), py.clone());
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    );
    let epoch_ms = median_ms * EPOCH_EXAMPLES.div_ceil(spec.batch) as f64;
    Ok(BenchResult {
        kind: spec.kind.name(),
        depth: spec.depth,
        width: spec.width,
        input: spec.input,
        batch: spec.batch,
        steps: spec.steps,
        backend: spec.backend.to_string(),
        gradient_checkpointing: spec.gradient_checkpointing,
        fused: model.fused,
        threads: rayon::current_num_threads(),
        steps_per_s: 1e3 / median_ms,
        ms_per_step: median_ms,
        mean_ms_per_step: mean,
        peak_rss_mib,
        layer_stats_peak_rss_mib: sys::peak_rss_mib(),
        final_loss: last,
        layer_stats_ms: stats_ms,
        layer_stats_epoch_percent: 100.0 * stats_ms / epoch_ms,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// `n` random examples of `spec`'s input size, and random labels.
fn random_batch(
    spec: &BenchSpec,
    n: usize,
    rng: &mut SplitMix64,
    device: &Device,
) -> (Tensor<2>, Tensor<1, Int>) {
    let x = (0..n * spec.input).map(|_| rng.normal() as f32).collect();
    let y = (0..n).map(|_| rng.below(spec.classes) as i64).collect();
    (
        Tensor::from_data(TensorData::new(x, [n, spec.input]), device),
        Tensor::from_data(TensorData::new(y, [n]), device),
    )
}
