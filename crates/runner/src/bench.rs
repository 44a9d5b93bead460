//! `highway bench`: training-step throughput of one net on random data.
//!
//! The same nets as `scripts/bench_torch.py` (input → plain input layer → depth − 1 plain or
//! highway layers → 10 logits, SGD with momentum 0.9), so the two can be run side by side.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::tensor::{Device, Int, Tensor, TensorData};
use highway_model::{Activation, Kind, ModelConfig, WeightInit};
use highway_rng::SplitMix64;
use serde::Serialize;

use crate::backend::BackendName;
use crate::experiment::{Optimizer, DEFAULT_BETAS, DEFAULT_EPS};
use crate::run::{cohort, layer_stats, Layers, Rule, TrialStart, PROBE_EXAMPLES};
use crate::sys;

mod median;
mod roofline;

use median::median;
use roofline::{Products, Roofline};

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
    /// Nets trained together as one stack (1: one net, the plain training step).
    pub trials: usize,
    /// Busy threads (plain spinning loops) run beside the measurement.
    pub busy: usize,
    /// SGD with momentum 0.9 (as `scripts/bench_torch.py`), or Adam or AdamW with their
    /// default settings.
    pub optimizer: Optimizer,
    /// Time the step's matrix products alone too (Flex, one net, fused layers).
    pub roofline: bool,
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
    /// Busy threads of the benchmark's own that spun while it measured (`--busy`).
    pub busy: usize,
    /// From the median step time.
    pub steps_per_s: f64,
    pub ms_per_step: f64,
    pub mean_ms_per_step: f64,
    pub peak_rss_mib: f64,
    pub final_loss: f64,
    /// One measurement of the per-layer statistics a run takes after each epoch (on
    /// `PROBE_EXAMPLES` examples, of the first trial), median of 5.
    pub layer_stats_ms: f64,
    /// Peak resident memory after the statistics were taken (`peak_rss_mib` is before).
    pub layer_stats_peak_rss_mib: f64,
    /// That, as a share of an epoch of 60,000 examples (MNIST) at this batch size.
    pub layer_stats_epoch_percent: f64,
    /// Nets trained together as one stack; a step is one step of every one of them.
    pub trials: usize,
    /// `sgd`, `adam` or `adamw`.
    pub optimizer: &'static str,
    /// Training steps of single trials per second: `trials × steps_per_s`.
    pub trial_steps_per_s: f64,
    pub peak_rss_mib_per_trial: f64,
    /// Seconds from the start to the end of the first step: on a GPU backend, mostly shader
    /// compilation and autotuning, paid once per process (per group of trials).
    pub first_step_s: f64,
    /// Minor page faults per timed step (`None` where the system does not say): fresh memory
    /// that the kernel had to zero, a cost outside the arithmetic.
    pub page_faults_per_step: Option<f64>,
    /// The vector instructions of the element-wise passes and matmul kernels here (`avx512`,
    /// `avx2` or `baseline`).
    pub simd: &'static str,
    /// The CPU's model name (`/proc/cpuinfo`), which the times are of.
    pub cpu: String,
    /// With `--roofline`: the step against its matrix products alone.
    #[serde(flatten)]
    pub roofline: Option<Roofline>,
}

/// Examples in the epoch the statistics' cost is compared with (MNIST's training set).
const EPOCH_EXAMPLES: usize = 60_000;

/// Trains `warmup + steps` steps of the training loop's own step (`run::Trainable`: one net,
/// or a stack of `spec.trials`); each step ends with the losses read back, so that its time
/// includes all of its work on every backend.
pub(crate) fn run(spec: &BenchSpec) -> Result<BenchResult> {
    let _busy = Busy::start(spec.busy)?;
    let started = Instant::now();
    let inner = spec.backend.device()?;
    let config = config(spec);
    let (starts, lrs) = trials(spec, &config);
    let layers = Layers {
        fused: !(spec.gradient_checkpointing || spec.composed),
        gradient_checkpointing: spec.gradient_checkpointing,
    };
    let mut model = cohort(&starts, layers, &inner)?;
    let mut rng = SplitMix64::new(1);
    let (x, y) = random_batch(spec, spec.batch, &mut rng, model.device());
    let mut step = 0;
    // Between the steps, not inside their clock: the load of the moment falls on both alike.
    let mut products = spec.roofline.then(|| Products::new(&config, spec.batch));
    let step_fn = || {
        step += 1;
        let (losses, _) = model.step((x.clone(), y.clone()), &lrs, step);
        let losses = losses.into_data().convert::<f32>();
        losses.try_to_vec::<f32>().map_or(f64::NAN, |v| v[0] as f64)
    };
    let timed = timed(spec, started, step_fn, |timed| {
        if let Some(p) = products.as_mut() {
            p.run(timed);
        }
    });
    let peak_rss_mib = sys::peak_rss_mib();
    let (px, py) = random_batch(spec, PROBE_EXAMPLES, &mut rng, model.device());
    let net = model.nets()?.swap_remove(0);
    let alone = model.measures_alone();
    let stats_ms = median(
        (0..5)
            .map(|_| time_ms(|| layer_stats(alone, &net, &px, &py, PROBE_EXAMPLES)))
            .collect(),
    );
    let median_ms = timed.median_ms;
    let epoch_ms = median_ms * EPOCH_EXAMPLES.div_ceil(spec.batch) as f64;
    let trials = starts.len();
    Ok(BenchResult {
        kind: spec.kind.name(),
        depth: spec.depth,
        width: spec.width,
        input: spec.input,
        batch: spec.batch,
        steps: spec.steps,
        backend: spec.backend.to_string(),
        gradient_checkpointing: spec.gradient_checkpointing,
        fused: layers.fused,
        threads: rayon::current_num_threads(),
        busy: spec.busy,
        steps_per_s: 1e3 / median_ms,
        ms_per_step: median_ms,
        mean_ms_per_step: timed.mean_ms,
        peak_rss_mib,
        layer_stats_peak_rss_mib: sys::peak_rss_mib(),
        final_loss: timed.last,
        layer_stats_ms: stats_ms,
        layer_stats_epoch_percent: 100.0 * stats_ms / epoch_ms,
        trials,
        optimizer: spec.optimizer.name(),
        trial_steps_per_s: trials as f64 * 1e3 / median_ms,
        peak_rss_mib_per_trial: peak_rss_mib / trials as f64,
        first_step_s: timed.first_step_s,
        page_faults_per_step: timed.faults.map(|f| f as f64 / spec.steps.max(1) as f64),
        simd: highway_model::ops::simd_level(),
        cpu: sys::cpu_model(),
        roofline: products.map(|p| p.result(median_ms)),
    })
}

/// The trials a bench trains, and each one's learning rate: trial k has seed k, learning
/// rate 0.01 · 0.9^k (Adam: 0.001 · 0.9^k), momentum 0.9.
fn trials<'a>(spec: &BenchSpec, config: &'a ModelConfig) -> (Vec<TrialStart<'a>>, Vec<f64>) {
    let rule = Rule::new(
        spec.optimizer,
        0.9,
        false,
        0.0,
        (DEFAULT_BETAS, DEFAULT_EPS),
    );
    let starts: Vec<TrialStart> = (0..spec.trials.max(1))
        .map(|k| TrialStart {
            config,
            seed: k as u64,
            rule,
            checkpoint: None,
        })
        .collect();
    let lr0 = if spec.optimizer.is_sgd() { 0.01 } else { 0.001 };
    let lrs = (0..starts.len())
        .map(|k| lr0 * 0.9f64.powi(k as i32))
        .collect();
    (starts, lrs)
}

/// The milliseconds `f` takes.
fn time_ms<T>(f: impl FnOnce() -> T) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1e3
}

/// Threads that keep a core busy each, as another process's work would, until dropped.
struct Busy {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Busy {
    /// Starts `n` threads that count in a loop.
    fn start(n: usize) -> Result<Busy> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut busy = Busy {
            stop: stop.clone(),
            threads: Vec::new(),
        };
        for i in 0..n {
            let stop = stop.clone();
            let thread = std::thread::Builder::new()
                .name(format!("highway-busy-{i}"))
                .spawn(move || {
                    let mut count = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        count = std::hint::black_box(count.wrapping_add(1));
                    }
                })
                .context("--busy: could not start a thread")?;
            busy.threads.push(thread);
        }
        Ok(busy)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The net of `spec` (ReLU, gate bias −2).
fn config(spec: &BenchSpec) -> ModelConfig {
    ModelConfig {
        kind: spec.kind,
        depth: spec.depth,
        width: spec.width,
        input_size: spec.input,
        classes: spec.classes,
        activation: Activation::Relu,
        gate_bias: -2.0,
        residual_alpha: 0.0,
        init: WeightInit::Normalized,
    }
}

/// What timing the steps gave: median and mean milliseconds of the timed steps, the last
/// step's loss, and the seconds from `started` to the end of the first step.
struct Timed {
    median_ms: f64,
    mean_ms: f64,
    last: f64,
    first_step_s: f64,
    /// Minor page faults during the timed steps.
    faults: Option<u64>,
}

/// Runs `spec.warmup` untimed and `spec.steps` timed steps; `step` returns its loss, read back.
/// `after(timed)` runs after each step, outside its time.
fn timed(
    spec: &BenchSpec,
    started: Instant,
    mut step: impl FnMut() -> f64,
    mut after: impl FnMut(bool),
) -> Timed {
    let mut times = Vec::new();
    let (mut last, mut first_step_s) = (f64::NAN, f64::NAN);
    let mut faults = Some(0);
    for i in 0..spec.warmup + spec.steps {
        let timed_step = i >= spec.warmup;
        let before = timed_step.then(sys::minor_faults).flatten();
        let t = Instant::now();
        last = step();
        if i == 0 {
            first_step_s = started.elapsed().as_secs_f64();
        }
        if timed_step {
            times.push(t.elapsed().as_secs_f64() * 1e3);
            let taken = sys::minor_faults()
                .zip(before)
                .map(|(a, b)| a.saturating_sub(b));
            faults = faults.zip(taken).map(|(sum, n)| sum + n);
        }
        after(timed_step);
    }
    Timed {
        faults,
        mean_ms: times.iter().sum::<f64>() / times.len().max(1) as f64,
        median_ms: median(times),
        last,
        first_step_s,
    }
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
