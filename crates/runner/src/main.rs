//! `highway`: parse the command line, run the command, turn the result into an exit code.

#![deny(unsafe_code)]

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

/// mimalloc's `mi_option_purge_delay` (its `mimalloc.h`, v2 and v3).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps the memory that the process frees instead of giving it back to the system, unless
/// `$MIMALLOC_PURGE_DELAY` says otherwise. A training step allocates and frees its activations
/// and gradients, megabytes of them; given back between steps, they come back as fresh pages
/// that the kernel zeroes on first touch, some 40 page faults per step of a 100-layer highway
/// net (`highway bench` reports them). Kept, the process holds its peak footprint, which each
/// step reaches anyway.
#[allow(unsafe_code)]
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: `mi_option_set` stores a value in mimalloc's option table and may be called
        // at any time, from any thread; -1 is the documented "never purge" value of this option.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
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
