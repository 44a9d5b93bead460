//! `highway bench`: its flags, checked, and the line or JSON object it prints.

use super::out::outln;
use anyhow::{ensure, Result};
use highway_model::Kind;

use crate::backend::BackendName;
use crate::bench::{self, BenchSpec};
use crate::experiment::{machine_memory, net_bytes, size, Execution, Optimizer};

/// The most timed or untimed steps a benchmark takes.
const MAX_STEPS: usize = 10_000_000;

/// The most threads `--threads` accepts (the thread team's limit).
const MAX_THREADS: usize = 255;

/// The most busy threads `--busy` starts.
const MAX_BUSY: usize = 1024;

#[derive(clap::Args)]
pub(super) struct BenchArgs {
    /// highway or plain.
    #[arg(long, default_value = "highway")]
    kind: Kind,
    /// Hidden layers, the plain input layer included.
    #[arg(long, default_value_t = 10)]
    depth: usize,
    /// Default: 50 for highway, 71 for plain (the paper's widths) and residual (as plain).
    #[arg(long)]
    width: Option<usize>,
    #[arg(long, default_value_t = 3072)]
    input: usize,
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    #[arg(long, default_value = "flex")]
    backend: BackendName,
    /// Recompute activations in the backward pass instead of storing them.
    #[arg(long)]
    checkpointing: bool,
    /// Compose the layers from tensor operations instead of the fused operations.
    #[arg(long)]
    composed: bool,
    /// Trials trained together as one stack (`execution.batch_trials`): K nets of this shape,
    /// each with its own learning rate, one forward and backward pass for all.
    #[arg(long, default_value_t = 1)]
    trials: usize,
    /// CPU threads (default: $RAYON_NUM_THREADS, else one per CPU this process may use).
    #[arg(long)]
    threads: Option<usize>,
    /// Busy threads of its own (plain spinning loops) running while it measures: how the
    /// numbers hold up beside a neighbour that keeps N cores busy.
    #[arg(long, default_value_t = 0)]
    busy: usize,
    /// The optimiser: sgd (momentum 0.9), adam or adamw (β = 0.9, 0.999, ε = 1e-8).
    #[arg(long, default_value = "sgd", value_parser = parse_optimizer)]
    optimizer: Optimizer,
    /// Also time the step's matrix products alone, between the steps (Flex, fused layers, one
    /// net): their time, their share of the step, and the GFLOP/s of each.
    #[arg(long)]
    roofline: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn parse_optimizer(s: &str) -> Result<Optimizer, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("'{s}': expected sgd, adam or adamw"))
}

impl BenchArgs {
    /// The backend benchmarked.
    pub(super) fn backend(&self) -> BackendName {
        self.backend
    }

    /// The process's thread count `--threads` asks for, if it is a possible one.
    pub(super) fn threads(&self) -> Result<Option<usize>> {
        if let Some(n) = self.threads {
            ensure!(
                (1..=MAX_THREADS).contains(&n),
                "--threads {n}: must be between 1 and {MAX_THREADS}"
            );
        }
        Ok(self.threads)
    }
}

impl BenchArgs {
    /// The benchmark these flags describe; an impossible value is an error naming its flag.
    fn spec(&self) -> Result<BenchSpec> {
        for (flag, value) in [
            ("--depth", self.depth),
            ("--width", self.width.unwrap_or(1)),
            ("--input", self.input),
            ("--batch", self.batch),
            ("--steps", self.steps),
            ("--trials", self.trials),
        ] {
            ensure!(value >= 1, "{flag} {value}: must be at least 1");
        }
        ensure!(
            self.busy <= MAX_BUSY,
            "--busy {}: must be at most {MAX_BUSY}",
            self.busy
        );
        ensure!(
            self.trials <= Execution::MAX_BATCH_TRIALS,
            "--trials {}: must be at most {}",
            self.trials,
            Execution::MAX_BATCH_TRIALS
        );
        ensure!(
            self.trials == 1 || !(self.checkpointing || self.composed),
            "--trials {}: a stack runs fused layers, without --checkpointing or --composed",
            self.trials
        );
        self.check_roofline()?;
        for (flag, value) in [("--steps", self.steps), ("--warmup", self.warmup)] {
            ensure!(
                value <= MAX_STEPS,
                "{flag} {value}: must be at most {MAX_STEPS}"
            );
        }
        let width = self.width.unwrap_or(match self.kind {
            Kind::Highway => 50,
            Kind::Plain | Kind::Residual => 71,
        });
        let (need, memory) = (
            self.trials as f64 * net_bytes(self.kind, self.depth, width, self.input, self.batch),
            machine_memory(),
        );
        ensure!(
            need <= memory,
            "--depth {} --width {width} --input {} --batch {}: the net needs about {}, more than \
             this machine's {}",
            self.depth,
            self.input,
            self.batch,
            size(need),
            size(memory)
        );
        Ok(BenchSpec {
            kind: self.kind,
            depth: self.depth,
            width,
            input: self.input,
            classes: 10,
            batch: self.batch,
            steps: self.steps,
            warmup: self.warmup,
            backend: self.backend,
            gradient_checkpointing: self.checkpointing,
            composed: self.composed,
            trials: self.trials,
            busy: self.busy,
            optimizer: self.optimizer,
            roofline: self.roofline,
        })
    }

    /// `--roofline` times the products of the Flex operations of one net: other backends,
    /// composed layers and stacks of trials run other products.
    fn check_roofline(&self) -> Result<()> {
        if !self.roofline {
            return Ok(());
        }
        ensure!(
            self.backend == BackendName::Flex,
            "--roofline: times the Flex operations' matmuls; --backend {} runs others",
            self.backend
        );
        ensure!(
            !(self.checkpointing || self.composed),
            "--roofline: times the fused layers' matmuls, without --checkpointing or --composed"
        );
        ensure!(
            self.trials == 1,
            "--roofline: times the matmuls of one net; --trials {} is not supported with it yet",
            self.trials
        );
        Ok(())
    }
}

/// Runs the benchmark and prints its result.
pub(super) fn run(args: BenchArgs) -> Result<()> {
    let spec = args.spec()?;
    let r = bench::run(&spec)?;
    if args.json {
        outln!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    let beside = match r.busy {
        0 => String::new(),
        n => format!(" beside {n} busy threads"),
    };
    let beside = match r.optimizer {
        "sgd" => beside,
        name => format!(" with {name}{beside}"),
    };
    let faults = r
        .page_faults_per_step
        .map_or(String::new(), |f| format!(", {f:.1} page faults per step"));
    if r.trials > 1 {
        outln!(
            "{} trials of {} depth {} width {} input {} batch {} as one stack on {}, {} threads{beside}: {:.2} trial-steps/s ({:.2} ms per stack step median, {:.2} mean), peak RSS {:.0} MiB ({:.1} MiB per trial){faults}",
            r.trials, r.kind, r.depth, r.width, r.input, r.batch, r.backend, r.threads,
            r.trial_steps_per_s, r.ms_per_step, r.mean_ms_per_step, r.peak_rss_mib,
            r.peak_rss_mib_per_trial
        );
        return Ok(());
    }
    let layers = match (r.gradient_checkpointing, r.fused) {
        (true, _) => " with checkpointing (composed layers)",
        (false, false) => " with composed layers",
        (false, true) => "",
    };
    outln!(
        "{} depth {} width {} input {} batch {} on {}, {} threads{layers}{beside}: {:.2} steps/s ({:.2} ms/step median, {:.2} mean), peak RSS {:.0} MiB{faults}; per-layer statistics {:.1} ms ({:.2}% of a 60,000-example epoch, peak RSS then {:.0} MiB)",
        r.kind, r.depth, r.width, r.input, r.batch, r.backend, r.threads,
        r.steps_per_s, r.ms_per_step, r.mean_ms_per_step, r.peak_rss_mib,
        r.layer_stats_ms, r.layer_stats_epoch_percent, r.layer_stats_peak_rss_mib
    );
    if let Some(f) = &r.roofline {
        outln!(
            "matmuls alone {:.2} ms of {:.2} ms per step: matmul_share {:.2} ({:.1} GFLOP/s step, {:.1} GFLOP/s matmuls, {:.3} GFLOP per step; {}, {})",
            f.matmul_ms, r.ms_per_step, f.matmul_share, f.gflops, f.matmul_gflops,
            f.gflop_per_step, r.cpu, r.simd
        );
    }
    Ok(())
}
