//! `highway`: parse the command line, run the command, turn the result into an exit code.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use highway_runner::{
    empty_flag_variables_are_unset, flush_denormals, headless_gpu_env, run_command, Cli,
    Interrupted,
};

/// mimalloc instead of glibc's allocator: a training step frees and allocates thousands of
/// same-sized buffers, which glibc spends a measurable share of a deep net's step on
/// (docs/performance.md, "What made the difference").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    empty_flag_variables_are_unset();
    let cli = Cli::parse();
    if !cli.keep_denormals {
        flush_denormals();
    }
    if cli.may_use_gpu() {
        headless_gpu_env();
    }
    // Very deep nets build long autodiff graphs; give the work a roomy stack.
    let worker = std::thread::Builder::new()
        .stack_size(1 << 29)
        .spawn(move || run_command(cli));
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
        Err(e) if e.downcast_ref::<Interrupted>().is_some() => {
            let stop = e.downcast_ref::<Interrupted>().expect("checked");
            eprintln!("{stop}");
            ExitCode::from(stop.signal.exit_code())
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
