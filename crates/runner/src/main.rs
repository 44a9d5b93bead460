//! `highway`: depth sweeps of plain and highway MLPs (Srivastava, Greff & Schmidhuber 2015).

mod analyze;
mod backend;
mod bench;
mod config;
mod data_cmd;
mod gates;
mod heatmap;
mod lesion;
mod model_file;
mod plan;
mod plot;
mod progress;
mod report;
mod search;
mod sgd;
mod store;
mod sweep;
mod sys;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use highway_model::Kind;

use crate::backend::BackendName;

/// mimalloc instead of glibc's allocator. A training step frees and allocates thousands of
/// same-sized buffers; glibc spent about a tenth of a depth-900 step coalescing and splitting
/// chunks (`malloc_consolidate`, `unlink_chunk`) and, above 128 KiB, unmapping and re-faulting
/// the input layer's buffers. With mimalloc, side by side (steps/s): highway depth 100
/// 99 → 115, depth 900 8.5 → 11.2; plain depth 900 13.3 → 16.5. Peak memory of the 900-layer
/// highway net rises from 156 to 238 MiB (PyTorch: about 940).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use crate::config::Config;
use crate::sweep::SweepOptions;

#[derive(Parser)]
#[command(name = "highway", version, about = "Depth sweeps of plain and highway networks, from JSON configs to paper-style figures.", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What every command that trains from a config accepts.
#[derive(clap::Args)]
struct RunArgs {
    /// The sweep config (JSON).
    config: PathBuf,
    /// Compute backend: flex, ndarray, wgpu (cuda, cpu with cargo features). Overrides the config.
    #[arg(long)]
    backend: Option<BackendName>,
    /// Override a config field, e.g. --set training.lr=0.05 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Parent folder of the sweep folder (default: the config's `output`, else ./results).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Data directory (default: $HIGHWAY_DATA, else ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Train every run of a config (kinds × depths × seeds); finished runs are skipped.
    Sweep(RunArgs),
    /// Train one run of the plan: one task of a cluster job array.
    Run {
        #[command(flatten)]
        args: RunArgs,
        /// Index in the plan (default: $SLURM_ARRAY_TASK_ID, else $JOB_COMPLETION_INDEX).
        #[arg(long)]
        index: Option<usize>,
    },
    /// Print the resolved config and the ordered run list; run nothing.
    Plan {
        #[command(flatten)]
        args: RunArgs,
        /// Print the plan as JSON, for scripts and cluster launchers.
        #[arg(long)]
        json: bool,
    },
    /// Write summary.csv, summary.md and figures/*.svg for a sweep folder.
    Report { dir: PathBuf },
    /// The paper's analyses of a trained highway net: gates (Figures 2, 3) and lesions (Figure 4).
    Analyze {
        #[command(subcommand)]
        command: analyze::AnalyzeCommand,
    },
    /// Download or check datasets.
    Data {
        #[command(subcommand)]
        command: data_cmd::DataCommand,
    },
    /// List the compiled backends and whether each can start on this machine.
    Backends,
    /// Training-step throughput of one net on random data.
    Bench {
        #[arg(long, default_value = "highway")]
        kind: String,
        #[arg(long, default_value_t = 10)]
        depth: usize,
        /// Default: 50 for highway, 71 for plain (the paper's widths).
        #[arg(long)]
        width: Option<usize>,
        #[arg(long, default_value_t = 3072)]
        input: usize,
        #[arg(long, default_value_t = 128)]
        batch: usize,
        #[arg(long, default_value_t = 20)]
        steps: usize,
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
        /// CPU threads (default: one per core, or $RAYON_NUM_THREADS).
        #[arg(long)]
        threads: Option<usize>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

fn sweep_options(args: RunArgs) -> Result<SweepOptions> {
    let config = Config::load(&args.config, &args.sets)?;
    Ok(SweepOptions {
        backend: args.backend.unwrap_or(config.backend),
        config,
        config_path: args.config,
        data_dir: args.data_dir,
        sets: args.sets,
        out: args.out,
    })
}

fn cluster_index() -> Result<usize> {
    for var in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"] {
        if let Ok(v) = std::env::var(var) {
            return v
                .trim()
                .parse()
                .with_context(|| format!("${var}='{v}' is not a run index"));
        }
    }
    bail!("no --index given and neither $SLURM_ARRAY_TASK_ID nor $JOB_COMPLETION_INDEX is set")
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Sweep(args) => sweep::sweep(&sweep_options(args)?),
        Command::Run { args, index } => {
            let index = match index {
                Some(i) => i,
                None => cluster_index()?,
            };
            sweep::run_one(&sweep_options(args)?, index)
        }
        Command::Plan { args, json } => {
            let config = sweep_options(args)?.config;
            let runs = plan::plan(&config);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "config": config, "runs": runs })
                    )?
                );
            } else {
                println!("{}", serde_json::to_string_pretty(&config)?);
                println!("\n{} runs:", runs.len());
                for r in &runs {
                    println!(
                        "{:>4}  {:<36} {:<7} depth {:>4}  width {:>3}  seed {:>3}{}  lr {:.4}  {} epochs",
                        r.index,
                        r.id,
                        r.kind.name(),
                        r.depth,
                        r.model.width,
                        r.seed,
                        r.trial.map(|t| format!("  trial {t:>3}")).unwrap_or_default(),
                        r.training.lr,
                        r.training.epochs
                    );
                }
            }
            Ok(())
        }
        Command::Report { dir } => {
            for path in report::write(&dir)? {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Analyze { command } => {
            for path in analyze::run(command)? {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Data { command } => data_cmd::run(command),
        Command::Backends => {
            for b in BackendName::ALL {
                let line = if !b.compiled() {
                    format!("not compiled (rebuild with --features {b})")
                } else {
                    match b.probe() {
                        Ok(device) => format!("ok: {device}"),
                        Err(e) => format!("cannot start: {e}"),
                    }
                };
                println!("{:<8} {line}", b.as_str());
            }
            Ok(())
        }
        Command::Bench {
            kind,
            depth,
            width,
            input,
            batch,
            steps,
            warmup,
            backend,
            checkpointing,
            composed,
            threads,
            json,
        } => {
            if let Some(n) = threads {
                anyhow::ensure!(n >= 1, "--threads must be at least 1");
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build_global()
                    .context("--threads: the thread pool is already running")?;
            }
            let kind = match kind.as_str() {
                "highway" => Kind::Highway,
                "plain" => Kind::Plain,
                other => bail!("--kind {other}: expected highway or plain"),
            };
            anyhow::ensure!(
                depth >= 1 && batch >= 1 && steps >= 1 && input >= 1,
                "--depth, --batch, --steps and --input must be at least 1"
            );
            let width = width.unwrap_or(if kind == Kind::Highway { 50 } else { 71 });
            let spec = bench::BenchSpec {
                kind,
                depth,
                width,
                input,
                classes: 10,
                batch,
                steps,
                warmup,
                backend,
                gradient_checkpointing: checkpointing,
                composed,
            };
            let r = bench::run(&spec)?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!(
                    "{} depth {} width {} input {} batch {} on {}, {} threads{}: {:.2} steps/s ({:.2} ms/step median, {:.2} mean), peak RSS {:.0} MiB",
                    r.kind, r.depth, r.width, r.input, r.batch, r.backend, r.threads,
                    match (r.gradient_checkpointing, r.fused) {
                        (true, _) => " with checkpointing (composed layers)",
                        (false, false) => " with composed layers",
                        (false, true) => "",
                    },
                    r.steps_per_s, r.ms_per_step, r.mean_ms_per_step, r.peak_rss_mib
                );
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    sys::flush_denormals();
    // Very deep nets build long autodiff graphs; give the work a roomy stack.
    let worker = std::thread::Builder::new()
        .stack_size(1 << 29)
        .spawn(move || run(cli));
    let result = match worker {
        Ok(handle) => handle.join().unwrap_or_else(|_| {
            Err(anyhow::anyhow!(
                "internal error (panic); see the message above"
            ))
        }),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
