//! Stopping a run cleanly on a signal. SIGINT (Ctrl-C), SIGTERM (`scancel`, a preemption, the
//! end of a Kubernetes grace period's first half), and SIGUSR1 or SIGUSR2 (the warning that
//! SLURM's `--signal` and submitit send before a time limit or a preemption) each set a flag
//! that the training loop reads after every step: the run stops there, writes its checkpoint
//! and is recorded as interrupted. A second Ctrl-C quits at once (every file is written
//! atomically, so that loses at most the current epoch); other repeated signals change nothing.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::flag;

/// A signal that stops a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
    User1,
    User2,
}

impl Signal {
    const ALL: [Signal; 4] = [
        Signal::Interrupt,
        Signal::Terminate,
        Signal::User1,
        Signal::User2,
    ];

    /// The signal's number.
    pub fn number(self) -> i32 {
        match self {
            Signal::Interrupt => SIGINT,
            Signal::Terminate => SIGTERM,
            Signal::User1 => SIGUSR1,
            Signal::User2 => SIGUSR2,
        }
    }

    /// SIGUSR1 and SIGUSR2: a scheduler's warning that the job's time is nearly up.
    pub fn is_warning(self) -> bool {
        matches!(self, Signal::User1 | Signal::User2)
    }

    /// The exit status of a process that stopped on this signal: 128 + its number, as a shell
    /// reports a process killed by it.
    pub fn exit_code(self) -> u8 {
        (128 + self.number()) as u8
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::User1 => "SIGUSR1",
            Signal::User2 => "SIGUSR2",
        })
    }
}

/// The stop request of this process: the first stop signal received, if any.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    /// The number of the first signal received; 0 for none.
    received: Arc<AtomicUsize>,
}

impl Stop {
    /// Installs the handlers of every stop signal.
    pub fn install() -> Result<Stop> {
        let stop = Stop::default();
        let interrupted = Arc::new(AtomicBool::new(false));
        // A second Ctrl-C exits at once (130, as a shell reports SIGINT).
        flag::register_conditional_shutdown(SIGINT, 130, interrupted.clone())
            .context("installing the SIGINT handler")?;
        flag::register(SIGINT, interrupted).context("installing the SIGINT handler")?;
        for signal in Signal::ALL {
            let n = signal.number();
            // `register_usize` stores on every delivery; the first one is kept by `requested`
            // reading the value, which is the same for repeats of one signal. Later signals of
            // another kind overwrite it, and the stop happens at the same step either way.
            flag::register_usize(n, stop.received.clone(), n as usize)
                .with_context(|| format!("installing the {signal} handler"))?;
        }
        Ok(stop)
    }

    /// A stop that is never requested (tests, library use without handlers).
    pub fn never() -> Stop {
        Stop::default()
    }

    /// The signal that asked the run to stop, if one has arrived.
    pub fn requested(&self) -> Option<Signal> {
        let n = self.received.load(Ordering::SeqCst) as i32;
        Signal::ALL.into_iter().find(|s| s.number() == n)
    }

    /// Asks the run to stop as `signal` would (tests).
    pub fn request(&self, signal: Signal) {
        self.received
            .store(signal.number() as usize, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_set_the_request_and_exit_codes_follow_the_shell() {
        let stop = Stop::install().unwrap();
        assert_eq!(stop.requested(), None);
        signal_hook::low_level::raise(SIGUSR1).unwrap();
        assert_eq!(stop.requested(), Some(Signal::User1));
        assert!(Signal::User1.is_warning() && !Signal::Terminate.is_warning());
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(format!("{}", Signal::User2), "SIGUSR2");
        let never = Stop::never();
        never.request(Signal::Terminate);
        assert_eq!(never.requested(), Some(Signal::Terminate));
    }
}
