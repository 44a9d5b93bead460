//! Stopping a run cleanly: Ctrl-C sets a flag that the training loop reads after every step.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Ctrl-C sets the flag; the training loop stops at the next step and records the run as
/// interrupted (it is redone on resume). A second Ctrl-C exits at once.
pub fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let _ = ctrlc::set_handler(move || {
        if f.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nstopping after this step (Ctrl-C again to quit at once)…");
    });
    flag
}
