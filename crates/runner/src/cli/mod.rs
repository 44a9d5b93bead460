//! The command line: clap types and one function per command. `main.rs` parses, calls
//! [`run`] and turns the result into an exit code. After `sweep` and `run` train, the report is
//! written here, the top room, which alone sees both `run` and `report`.

mod analyze;
mod args;
mod bench;
mod data;
mod out;
mod plan;
mod rerun;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, Parser, Subcommand};

use crate::backend::BackendName;
use crate::store::SweepDir;
use crate::{report, run as runs};
use args::RunArgs;
use out::outln;

#[derive(Parser)]
#[command(name = "highway", version, about = "Depth sweeps of plain and highway networks, from JSON configs to paper-style figures.", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Keep denormal floats (IEEE gradual underflow) instead of flushing them to zero. Slower
    /// on deep nets; see docs/design.md, "Denormal flushing". Also `HIGHWAY_KEEP_DENORMALS=1`.
    #[arg(long, global = true, env = "HIGHWAY_KEEP_DENORMALS", value_parser = clap::builder::BoolishValueParser::new())]
    pub keep_denormals: bool,
}

impl Cli {
    /// Whether the command may start a GPU backend (which needs `XDG_RUNTIME_DIR`, see
    /// [`crate::headless_gpu_env`]): `backends`, and a command that trains, benchmarks or
    /// analyses on wgpu, CUDA or cpu. `plan`, `report` and `data` never do.
    pub fn may_use_gpu(&self) -> bool {
        match &self.command {
            Command::Sweep(args) | Command::Run { args, .. } => {
                args.backend().is_some_and(|b| b.is_gpu())
            }
            Command::Bench(args) => args.backend().is_gpu(),
            Command::Analyze { command } => command.backend().is_some_and(|b| b.is_gpu()),
            Command::Backends => true,
            Command::Plan { .. }
            | Command::Report { .. }
            | Command::Status { .. }
            | Command::Completions { .. }
            | Command::Data { .. } => false,
        }
    }
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
        #[arg(long, conflicts_with = "group")]
        index: Option<usize>,
        /// Train group G of the plan (`highway plan --groups`) as one stack of trials instead:
        /// one cluster task per search cell. `--group task` takes G from the task index.
        #[arg(long)]
        group: Option<String>,
    },
    /// Print the resolved config and the ordered run list; run nothing. With --rerun, print
    /// the config that trains a finished search's best trials again instead.
    #[command(override_usage = "highway plan [OPTIONS] <CONFIG>\n       \
        highway plan --rerun <SWEEP_DIR> [--top N] [--seeds S,..] [--adopt] [--epochs E] \
        [--depths D,..] [--name NAME]")]
    Plan {
        #[command(flatten)]
        args: Option<RunArgs>,
        /// Print the plan as JSON, for scripts and cluster launchers.
        #[arg(long)]
        json: bool,
        /// List the groups of trials trained as one stack (`execution.batch_trials`), for
        /// `highway run --group G`.
        #[arg(long)]
        groups: bool,
        #[command(flatten)]
        rerun: rerun::RerunArgs,
    },
    /// Write summary.csv, summary.md and figures/*.svg for a sweep folder.
    Report {
        dir: PathBuf,
        /// First write again the TensorBoard event file of every finished run that has none,
        /// or one whose HParams record lacks a hyperparameter (runs of older builds), from
        /// its curve, layer statistics and status.
        #[arg(long)]
        rebuild_events: bool,
    },
    /// Where a sweep folder stands: runs done, diverged, stopped, failed, interrupted, running
    /// (with their epoch), waiting at a rung and pending; core-hours spent and an estimate of
    /// what is left. Reads the folder only; safe beside the processes that train it.
    Status {
        dir: PathBuf,
        /// Print it as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The paper's analyses of a trained highway net (gates: Figures 2, 3; lesions: Figure 4),
    /// and of a finished sweep (search, mechanism, halving, time).
    Analyze {
        #[command(subcommand)]
        command: analyze::AnalyzeCommand,
    },
    /// Download or check datasets.
    Data {
        #[command(subcommand)]
        command: data::DataCommand,
    },
    /// List the compiled backends and whether each can start on this machine.
    Backends,
    /// Training-step throughput of one net on random data.
    Bench(bench::BenchArgs),
    /// Print the shell's completion script for highway, e.g.
    /// `highway completions bash > ~/.local/share/bash-completion/completions/highway`.
    Completions {
        /// bash, zsh, fish (or elvish, powershell).
        shell: clap_complete::Shell,
    },
}

/// The environment variables that stand for flags (`HIGHWAY_NO_REQUEUE`,
/// `HIGHWAY_KEEP_DENORMALS`), removed when set to the empty string, before the command line is
/// parsed: sbatch templates often write `VAR=` to mean "not set", which would otherwise be an
/// invalid value that fails every command.
pub fn empty_flag_variables_are_unset() {
    for var in ["HIGHWAY_NO_REQUEUE", "HIGHWAY_KEEP_DENORMALS"] {
        if std::env::var_os(var).is_some_and(|v| v.is_empty()) {
            std::env::remove_var(var);
        }
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    // The process's CPU threads, before anything starts rayon's pool: `bench --threads`, else
    // `$RAYON_NUM_THREADS`, else the CPUs this process may use (a SLURM job's, say). Without
    // `--threads`, a pool that is already running (a second command in one process) is kept.
    let threads = match &cli.command {
        Command::Bench(args) => args.threads()?,
        _ => None,
    };
    match threads {
        Some(n) => {
            highway_model::ops::set_threads(Some(n))
                .context("--threads: the thread pool is already running")?;
        }
        None => {
            let _ = highway_model::ops::set_threads(None);
        }
    }
    match cli.command {
        Command::Sweep(args) => report_after(runs::sweep(&args.sweep_options()?)),
        Command::Run { args, index, group } => {
            let opts = args.sweep_options()?;
            if let Some(group) = group {
                let group = match group.as_str() {
                    "task" => args::cluster_index(args::Asked::Group)?,
                    g => g.parse().map_err(|_| {
                        anyhow::anyhow!("--group {g}: expected a group number or 'task'")
                    })?,
                };
                return report_after(runs::run_group(&opts, group));
            }
            let index = match index {
                Some(i) => i,
                None => args::cluster_index(args::Asked::Run)?,
            };
            report_after(runs::run_one(&opts, index))
        }
        Command::Plan {
            args,
            json,
            groups,
            rerun,
        } => {
            rerun.check_alone()?;
            match (args, rerun.rerun.clone()) {
                (_, Some(dir)) => rerun::print_rerun(rerun, &dir),
                (Some(args), None) => plan::print_plan(args, json, groups),
                (None, None) => bail!("highway plan: give a config, or --rerun SWEEP_DIR"),
            }
        }
        Command::Report {
            dir,
            rebuild_events,
        } => {
            if rebuild_events {
                let n = SweepDir::new(dir.clone()).rebuild_events()?;
                eprintln!("{n} event files written again from the runs' records");
            }
            out::paths(report::write(&dir)?)
        }
        Command::Status { dir, json } => print_status(&dir, json),
        Command::Analyze { command } => analyze::run(command),
        Command::Data { command } => data::run(command),
        Command::Backends => {
            for b in BackendName::ALL {
                outln!("{:<8} {}", b.as_str(), b.describe());
            }
            Ok(())
        }
        Command::Bench(args) => bench::run(args),
        Command::Completions { shell } => {
            // Written whole, through `out`: a reader that closes the pipe ends it quietly.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "highway", &mut script);
            let script = String::from_utf8(script).context("the completion script")?;
            out::line(script.trim_end_matches('\n'));
            Ok(())
        }
    }
}

/// Writes the report of the sweep that `trained` trained into, then ends as training did: a
/// stop (after which a report that cannot be written, or that waits for another process's, is
/// let go), failed runs, or success.
fn report_after(trained: Result<runs::Trained>) -> Result<()> {
    let trained = trained?;
    // A stop signal ends a wait for another process's report.
    let report = report::write_unless(&trained.dir.root, &|| trained.stop_requested());
    if !trained.stop_requested() {
        let written = report?.unwrap_or_default();
        eprintln!("results: {}", trained.dir.root.display());
        for path in written {
            eprintln!("  {}", path.display());
        }
        match report::progress(&trained.dir) {
            Ok(p) => eprintln!("status: {}", p.line()),
            Err(e) => eprintln!("warning: no status line: {e:#}"),
        }
    }
    trained.outcome()
}

/// `highway status DIR`: the sweep's line and one line per run in training, or all as JSON.
fn print_status(dir: &std::path::Path, json: bool) -> Result<()> {
    let progress = report::progress(&SweepDir::new(dir.to_path_buf()))?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&progress)?);
        return Ok(());
    }
    outln!("{}", progress.line());
    let here = crate::sys::host();
    for r in &progress.running {
        let host = match r.host.as_str() {
            h if h == here || h.is_empty() => String::new(),
            h => format!("  on {h}"),
        };
        outln!(
            "  running  {:<36} epoch {}/{}{host}",
            r.id,
            r.epoch,
            r.epochs
        );
    }
    Ok(())
}
