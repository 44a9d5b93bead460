//! Stopping a run cleanly on a signal. SIGINT (Ctrl-C), SIGTERM (`scancel`, a preemption, the
//! end of a Kubernetes grace period's first half), and SIGUSR1 or SIGUSR2 (the warning that
//! SLURM's `--signal` and submitit send before a time limit or a preemption) each set a flag
//! that the training loop reads after every step, and that every wait outside it reads too
//! (locks, `scontrol`): the run stops there, writes its checkpoint and is recorded as
//! interrupted, and the process exits with 128 + the signal's number.
//!
//! The handlers are installed before anything else a training command does, so a signal
//! during start-up is a clean stop too. Signals of one kind that arrive within [`WINDOW`] of
//! each other count as one: a wrapper such as `timeout` sends one SIGINT to the child and one
//! to its process group, which the child sees as two. A second Ctrl-C after that quits at once:
//! every run in training is recorded as interrupted first (it continues from its last
//! checkpoint), so no run is left `running`. Other repeated signals change nothing, except
//! that they cut short a wait for `scontrol`.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::iterator::Signals;

/// Signals of one kind closer together than this are one delivery.
pub(super) const WINDOW: Duration = Duration::from_millis(500);

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

/// The stop request of this process: the first stop signal received, if any, and how many
/// separate stop signals have arrived.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    state: Arc<Received>,
}

#[derive(Debug, Default)]
struct Received {
    /// The number of the first signal received; 0 for none.
    first: AtomicUsize,
    /// Stop signals received, repeats within [`WINDOW`] counted once.
    count: AtomicUsize,
}

impl Stop {
    /// Installs the handlers of every stop signal: a thread that receives them.
    pub fn install() -> Result<Stop> {
        let stop = Stop::default();
        let numbers = Signal::ALL.map(Signal::number);
        let mut signals = Signals::new(numbers).context("installing the stop signal handlers")?;
        let state = stop.state.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                let mut deliveries = Deliveries::default();
                for n in signals.forever() {
                    let Some(signal) = Signal::ALL.into_iter().find(|s| s.number() == n) else {
                        continue;
                    };
                    if !deliveries.is_new(signal, Instant::now()) {
                        continue;
                    }
                    let _ = state.first.compare_exchange(
                        0,
                        n as usize,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    );
                    state.count.fetch_add(1, Ordering::SeqCst);
                    if signal == Signal::Interrupt && deliveries.interrupts > 1 {
                        quit_now();
                    }
                }
            })
            .context("starting the signal thread")?;
        Ok(stop)
    }

    /// A stop that is never requested (tests, library use without handlers).
    pub fn never() -> Stop {
        Stop::default()
    }

    /// The signal that asked the run to stop, if one has arrived.
    pub fn requested(&self) -> Option<Signal> {
        let n = self.state.first.load(Ordering::SeqCst) as i32;
        Signal::ALL.into_iter().find(|s| s.number() == n)
    }

    /// How many separate stop signals have arrived: a wait compares it with the count when it
    /// began, to end on a signal that arrives while it waits.
    pub fn count(&self) -> usize {
        self.state.count.load(Ordering::SeqCst)
    }

    /// Asks the run to stop as `signal` would (tests).
    pub fn request(&self, signal: Signal) {
        let n = signal.number() as usize;
        let _ = self
            .state
            .first
            .compare_exchange(0, n, Ordering::SeqCst, Ordering::SeqCst);
        self.state.count.fetch_add(1, Ordering::SeqCst);
    }
}

/// Which signals are new deliveries: not a repeat of the last one of their kind within
/// [`WINDOW`].
#[derive(Debug, Default)]
struct Deliveries {
    /// When each kind last arrived, by its index in [`Signal::ALL`].
    last: [Option<Instant>; 4],
    /// Separate SIGINTs so far.
    interrupts: usize,
}

impl Deliveries {
    fn is_new(&mut self, signal: Signal, now: Instant) -> bool {
        let i = Signal::ALL.iter().position(|&s| s == signal).unwrap_or(0);
        let repeat = self.last[i].is_some_and(|t| now.duration_since(t) < WINDOW);
        self.last[i] = Some(now);
        if !repeat && signal == Signal::Interrupt {
            self.interrupts += 1;
        }
        !repeat
    }
}

/// A second Ctrl-C: records every run in training as interrupted and exits with 130, as a
/// shell reports SIGINT.
fn quit_now() -> ! {
    eprintln!("second Ctrl-C: quitting now");
    crate::store::abandon_running(
        "quit by a second Ctrl-C: the steps since its last checkpoint are lost; it continues \
         from that checkpoint (or from epoch 1) when the same command runs again",
    );
    std::process::exit(130)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_set_the_request_and_exit_codes_follow_the_shell() {
        let stop = Stop::install().unwrap();
        assert_eq!(stop.requested(), None);
        signal_hook::low_level::raise(SIGUSR1).unwrap();
        let t = Instant::now();
        while stop.count() == 0 && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(stop.requested(), Some(Signal::User1));
        assert!(Signal::User1.is_warning() && !Signal::Terminate.is_warning());
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(format!("{}", Signal::User2), "SIGUSR2");
        let never = Stop::never();
        never.request(Signal::Terminate);
        never.request(Signal::Interrupt);
        assert_eq!(never.requested(), Some(Signal::Terminate));
        assert_eq!(never.count(), 2);
    }

    #[test]
    fn repeats_within_the_window_are_one_delivery() {
        let mut d = Deliveries::default();
        let t = Instant::now();
        assert!(d.is_new(Signal::Interrupt, t));
        assert!(!d.is_new(Signal::Interrupt, t + WINDOW / 2));
        assert!(d.is_new(Signal::Terminate, t + WINDOW / 2));
        assert_eq!(d.interrupts, 1);
        assert!(d.is_new(Signal::Interrupt, t + WINDOW * 2));
        assert_eq!(d.interrupts, 2);
    }
}
