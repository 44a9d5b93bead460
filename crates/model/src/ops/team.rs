//! A fork-join team of CPU threads whose workers spin between tasks.
//!
//! The Flex layer operations split each matmul and element-wise pass of a layer into one part
//! per thread. A part of a thin layer takes microseconds, and waking a sleeping thread (as a
//! `rayon::join` from outside its pool does) costs more than that. The workers here busy-wait
//! for the next task for a while (as OpenMP runtimes do) and only then sleep, so while a
//! training step runs a hand-off needs no system call, and an idle process stops using the CPU
//! within a millisecond.
//!
//! The team has as many threads as rayon's global pool (`--threads`, or `$RAYON_NUM_THREADS`),
//! the calling thread included. One task runs at a time: a call made while another is running
//! (from a second thread, or from inside a part) runs its parts on the calling thread.

use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, TryLockError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How long an idle worker spins before it sleeps: longer than the gaps between the layer
/// operations of a step, short enough that a finished process does not keep a core busy.
const SPIN: Duration = Duration::from_micros(500);

type Job = dyn Fn(usize) + Sync;

struct Shared {
    /// The task's number times 256 plus its number of parts, in one word so that a worker never
    /// pairs one task's number with another's parts. A worker runs its part when it changes.
    task: AtomicU64,
    /// The running task. Written before `task` is published and valid until `pending` is 0.
    job: UnsafeCell<*const Job>,
    /// Parts handed to workers that have not finished yet.
    pending: AtomicUsize,
    /// The message of the first part that panicked on a worker in the running task.
    panic: Mutex<Option<String>>,
    sleeping: Vec<AtomicBool>,
}

// SAFETY: the only field that is not `Sync` by itself is `job`. It is written only by the thread
// holding `Team::busy`, before the `task` store that publishes it, and read by workers only
// after they see that store and before they decrement `pending`; the writer's `Task` guard
// waits for `pending` to reach 0 before the job may go away (see `Task`).
unsafe impl Sync for Shared {}

struct Team {
    shared: &'static Shared,
    workers: Vec<Thread>,
    busy: Mutex<()>,
}

/// The process's team: as many threads as rayon's global pool, started on first use. Its workers
/// inherit the floating-point mode (denormal flushing) of the thread that first uses it.
fn team() -> &'static Team {
    static TEAM: OnceLock<Team> = OnceLock::new();
    TEAM.get_or_init(|| Team::new(rayon::current_num_threads()))
}

impl Team {
    /// A team of `size` threads (at most 255), the caller included; its workers live as long
    /// as the process.
    fn new(size: usize) -> Team {
        let size = size.clamp(1, 255);
        let shared: &'static Shared = Box::leak(Box::new(Shared {
            task: AtomicU64::new(0),
            job: UnsafeCell::new(std::ptr::null::<fn(usize)>() as *const Job),
            pending: AtomicUsize::new(0),
            panic: Mutex::new(None),
            sleeping: (0..size).map(|_| AtomicBool::new(false)).collect(),
        }));
        let workers = (1..size)
            .map_while(|i| {
                thread::Builder::new()
                    .name(format!("highway-team-{i}"))
                    .spawn(move || work(shared, i))
                    .ok()
                    .map(|h| h.thread().clone())
            })
            .collect();
        Team {
            shared,
            workers,
            busy: Mutex::new(()),
        }
    }
}

thread_local! {
    /// Set inside [`alone`]: this thread's operations run as in a one-thread process.
    static ALONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with every operation it starts on this thread split into one part, run here: the
/// blocks, and so the numbers, of a process whose team has one thread.
pub fn alone<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            ALONE.with(|a| a.set(self.0));
        }
    }
    let _restore = Restore(ALONE.with(|a| a.replace(true)));
    f()
}

/// Threads that [`run`] spreads parts over, the calling thread included (1 inside [`alone`]).
pub fn threads() -> usize {
    if ALONE.with(|a| a.get()) {
        return 1;
    }
    team().workers.len() + 1
}

fn work(shared: &'static Shared, index: usize) {
    let mut seen = 0u64;
    loop {
        let mut idle_since = Instant::now();
        let mut spins = 0u32;
        loop {
            let task = shared.task.load(Ordering::Acquire);
            if task != seen {
                seen = task;
                break;
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(1024) && idle_since.elapsed() > SPIN {
                shared.sleeping[index].store(true, Ordering::SeqCst);
                if shared.task.load(Ordering::SeqCst) == seen {
                    thread::park();
                }
                shared.sleeping[index].store(false, Ordering::SeqCst);
                idle_since = Instant::now();
            } else {
                std::hint::spin_loop();
            }
        }
        if index < (seen & 0xff) as usize {
            // SAFETY: the `task` store seen above published `job` (see `Shared`), and the job
            // stays alive until `pending` reaches 0, which the publishing `Task` waits for.
            let job = unsafe { &**shared.job.get() };
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| job(index))) {
                let mut slot = shared.panic.lock().unwrap_or_else(|e| e.into_inner());
                slot.get_or_insert_with(|| panic_message(payload.as_ref()));
            }
            shared.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// A task handed to the workers. Dropping it waits until every worker has finished its part, so
/// the borrowed job outlives every use of it however the caller leaves `run` (its own part
/// returning or panicking).
struct Task {
    shared: &'static Shared,
}

impl Task {
    /// Publishes `job` in `spread` parts, the caller's part 0 included, and wakes the workers.
    fn start(team: &Team, job: &(dyn Fn(usize) + Sync), spread: usize) -> Task {
        let shared = team.shared;
        let job: *const (dyn Fn(usize) + Sync + '_) = job;
        // SAFETY: the pointer's lifetime is erased to store it in `Shared`; the `Task` returned
        // borrows nothing, but its `Drop` (which always runs before `run` returns or unwinds)
        // waits until no worker can read the pointer any more.
        let job =
            unsafe { std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), *const Job>(job) };
        // SAFETY: only the holder of `Team::busy` writes `job`, and no worker reads it before
        // the `task` store below.
        unsafe { *shared.job.get() = job };
        *shared.panic.lock().unwrap_or_else(|e| e.into_inner()) = None;
        shared.pending.store(spread - 1, Ordering::Release);
        let number = (shared.task.load(Ordering::Relaxed) >> 8).wrapping_add(1);
        shared
            .task
            .store(number << 8 | spread as u64, Ordering::SeqCst);
        for (i, worker) in team.workers.iter().enumerate().take(spread - 1) {
            if shared.sleeping[i + 1].swap(false, Ordering::SeqCst) {
                worker.unpark();
            }
        }
        Task { shared }
    }

    /// Waits for the workers' parts; the message of the first one that panicked, if any.
    fn finish(self) -> Option<String> {
        self.wait();
        let mut slot = self.shared.panic.lock().unwrap_or_else(|e| e.into_inner());
        slot.take()
    }

    fn wait(&self) {
        let mut spins = 0u32;
        while self.shared.pending.load(Ordering::Acquire) != 0 {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(4096) {
                thread::yield_now(); // the worker may have lost its core to another process
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.wait();
    }
}

/// Runs `job(0)`, …, `job(parts − 1)`, spread over the team, and returns when all are done.
/// `parts` should not exceed [`threads`]; extra parts run one after another on the caller.
/// A part that panics panics the caller, with the part's message, once every part has ended.
pub fn run(parts: usize, job: &(dyn Fn(usize) + Sync)) {
    team().run(parts, job);
}

impl Team {
    fn run(&self, parts: usize, job: &(dyn Fn(usize) + Sync)) {
        let alone = ALONE.with(|a| a.get());
        let busy = if parts > 1 && !self.workers.is_empty() && !alone {
            match self.busy.try_lock() {
                Ok(guard) => Some(guard),
                // A part panicked in an earlier call; the team itself is still sound.
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            }
        } else {
            None
        };
        let Some(_busy) = busy else {
            (0..parts).for_each(job);
            return;
        };
        let spread = parts.min(self.workers.len() + 1);
        let task = Task::start(self, job, spread);
        // If the caller's part panics, unwinding drops `task`, which waits for the workers.
        job(0);
        (spread..parts).for_each(job);
        if let Some(message) = task.finish() {
            panic!("a highway team thread panicked: {message}");
        }
    }
}

/// The text a panic carried.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Runs `job` on each item, spread over the team: the items are usually disjoint `&mut` parts of
/// the outputs.
pub fn each<T: Send>(items: Vec<T>, job: &(dyn Fn(T) + Sync)) {
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    run(slots.len(), &|p| {
        let item = slots[p].lock().ok().and_then(|mut s| s.take());
        if let Some(item) = item {
            job(item);
        }
    });
}

/// Splits `0..len` into at most [`threads`] ranges of at least `min` items each (all of it in
/// one range when it is shorter than `2 · min`).
pub fn ranges(len: usize, min: usize) -> Vec<std::ops::Range<usize>> {
    let parts = (len / min.max(1)).clamp(1, threads());
    let size = len.div_ceil(parts);
    (0..parts)
        .map(|p| p * size..((p + 1) * size).min(len))
        .filter(|r| !r.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::thread::ThreadId;

    use super::*;

    /// A team of three threads whatever the machine, so that the workers are exercised on a
    /// one-core machine too; one per test, so that tests running at once do not share it.
    fn three() -> Team {
        Team::new(3)
    }

    #[test]
    fn every_part_runs_once_and_the_workers_take_theirs() {
        let team = &three();
        assert_eq!(team.workers.len(), 2);
        for parts in [1, 2, 3, 7] {
            for _ in 0..200 {
                let counts: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
                let threads = Mutex::new(HashSet::<ThreadId>::new());
                team.run(parts, &|i| {
                    counts[i].fetch_add(1, Ordering::Relaxed);
                    threads.lock().unwrap().insert(thread::current().id());
                });
                assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
                // Part i < 3 runs on thread i: one thread per part, up to the team's size.
                assert_eq!(threads.into_inner().unwrap().len(), parts.min(3));
            }
        }
    }

    #[test]
    fn nested_and_concurrent_calls_run_on_their_caller() {
        let team = &three();
        let total = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for _ in 0..100 {
                        team.run(2, &|_| {
                            let outer = thread::current().id();
                            // The team is busy with the outer call: the inner parts run here.
                            team.run(2, &|_| {
                                assert_eq!(thread::current().id(), outer);
                                total.fetch_add(1, Ordering::Relaxed);
                            })
                        });
                    }
                });
            }
        });
        assert_eq!(total.load(Ordering::Relaxed), 3 * 100 * 4);
    }

    #[test]
    fn alone_runs_everything_on_the_caller_in_one_range() {
        let team = &three();
        let caller = thread::current().id();
        alone(|| {
            assert_eq!(threads(), 1);
            assert_eq!(ranges(3072, 64), vec![0..3072]);
            team.run(3, &|_| assert_eq!(thread::current().id(), caller));
        });
        assert_eq!(threads(), super::team().workers.len() + 1);
    }

    #[test]
    fn ranges_cover_everything_once() {
        for (len, min) in [(128, 16), (3072, 64), (5, 16), (0, 16), (71, 8)] {
            let r = ranges(len, min);
            assert_eq!(r.first().map_or(0, |r| r.start), 0);
            assert_eq!(r.last().map_or(0, |r| r.end), len);
            assert!(r.windows(2).all(|w| w[0].end == w[1].start));
            assert!(r.len() <= threads());
        }
    }

    #[test]
    fn a_panicking_part_panics_the_caller_with_its_message() {
        let team = &three();
        let message = |caught: std::thread::Result<()>| panic_message(caught.unwrap_err().as_ref());
        // A worker's part: its message comes back to the caller.
        let worker = catch_unwind(AssertUnwindSafe(|| {
            team.run(3, &|i| assert!(i != 2, "part 2 fails"))
        }));
        assert_eq!(
            message(worker),
            "a highway team thread panicked: part 2 fails"
        );
        // The caller's part, and every part: the caller's own panic, after the workers ended.
        let own = catch_unwind(AssertUnwindSafe(|| {
            team.run(3, &|i| assert!(i != 0, "part 0 fails"))
        }));
        assert_eq!(message(own), "part 0 fails");
        let all = catch_unwind(AssertUnwindSafe(|| {
            team.run(3, &|i| panic!("part {i} fails"))
        }));
        assert_eq!(message(all), "part 0 fails");
        // The team still works afterwards, and no earlier panic is reported again.
        let n = AtomicUsize::new(0);
        team.run(3, &|_| {
            n.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(n.load(Ordering::Relaxed), 3);
    }
}
