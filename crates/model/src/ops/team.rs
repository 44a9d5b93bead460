//! A fork-join team of CPU threads whose workers spin between tasks.
//!
//! The Flex layer operations split each matmul and element-wise pass of a layer into one part
//! per thread. A part of a thin layer takes 3–10 µs, and handing it to a sleeping thread costs
//! more: a `rayon::join` from outside the pool measured about 20 µs here, and with Flex's own
//! threading a step ran slower on two threads than on one. The workers here busy-wait for the next task for a while (as
//! OpenMP runtimes do) and only then sleep, so while a training step runs a hand-off needs no
//! system call, and an idle process stops using the CPU within a millisecond.
//!
//! The team has as many threads as rayon's global pool (`--threads`, or `$RAYON_NUM_THREADS`),
//! the calling thread included. One task runs at a time: a call made while another is running
//! (from a second thread, or from inside a part) runs its parts on the calling thread.

use std::cell::UnsafeCell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
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
    panicked: AtomicBool,
    sleeping: Vec<AtomicBool>,
}

// SAFETY: `job` is written only by the thread holding `Team::busy`, before the `task` store that
// publishes it, and read by workers only after they see that store and before they decrement
// `pending`, which the writer waits for.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

struct Team {
    shared: &'static Shared,
    workers: Vec<Thread>,
    busy: Mutex<()>,
}

fn team() -> &'static Team {
    static TEAM: OnceLock<Team> = OnceLock::new();
    TEAM.get_or_init(|| {
        let size = rayon::current_num_threads().clamp(1, 255);
        let shared: &'static Shared = Box::leak(Box::new(Shared {
            task: AtomicU64::new(0),
            job: UnsafeCell::new(std::ptr::null::<fn(usize)>() as *const Job),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
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
    })
}

/// Threads that [`run`] spreads parts over, the calling thread included.
pub fn threads() -> usize {
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
            // SAFETY: see `Shared`; the task outlives this part because `run` waits for `pending`.
            let job = unsafe { &**shared.job.get() };
            if catch_unwind(AssertUnwindSafe(|| job(index))).is_err() {
                shared.panicked.store(true, Ordering::Release);
            }
            shared.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Runs `job(0)`, …, `job(parts − 1)`, spread over the team, and returns when all are done.
/// `parts` should not exceed [`threads`]; extra parts run one after another on the caller.
pub fn run(parts: usize, job: &(dyn Fn(usize) + Sync)) {
    let team = team();
    let guard = if parts > 1 && !team.workers.is_empty() {
        match team.busy.try_lock() {
            Ok(guard) => Some(guard),
            // A part panicked in an earlier call; the team itself is still sound.
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    } else {
        None
    };
    let Some(_guard) = guard else {
        (0..parts).for_each(job);
        return;
    };
    let shared = team.shared;
    let spread = parts.min(team.workers.len() + 1);
    // SAFETY: the lifetime is erased only for as long as this call waits below.
    unsafe {
        let job: *const (dyn Fn(usize) + Sync + '_) = job;
        *shared.job.get() =
            std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), *const Job>(job);
    }
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
    let mine = catch_unwind(AssertUnwindSafe(|| {
        job(0);
        (spread..parts).for_each(job);
    }));
    let mut spins = 0u32;
    while shared.pending.load(Ordering::Acquire) != 0 {
        spins = spins.wrapping_add(1);
        if spins.is_multiple_of(4096) {
            thread::yield_now(); // the worker may have lost its core to another process
        } else {
            std::hint::spin_loop();
        }
    }
    let worker_panicked = shared.panicked.swap(false, Ordering::AcqRel);
    if let Err(payload) = mine {
        resume_unwind(payload);
    }
    if worker_panicked {
        panic!("a highway team thread panicked");
    }
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
    use super::*;

    #[test]
    fn every_part_runs_once() {
        for parts in [1, 2, 3, 7] {
            for _ in 0..200 {
                let counts: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
                run(parts, &|i| {
                    counts[i].fetch_add(1, Ordering::Relaxed);
                });
                assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
            }
        }
    }

    #[test]
    fn nested_and_concurrent_calls_run_serially() {
        let total = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for _ in 0..100 {
                        run(2, &|_| {
                            run(2, &|_| {
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
    fn a_panicking_part_panics_the_caller() {
        let caught = catch_unwind(|| run(2, &|i| assert!(i != 1, "part 1 fails")));
        assert!(caught.is_err());
        let both = catch_unwind(|| run(2, &|i| panic!("part {i} fails")));
        assert!(both.is_err());
        // The team still works afterwards, and no earlier panic is reported again.
        let n = AtomicUsize::new(0);
        run(2, &|_| {
            n.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(n.load(Ordering::Relaxed), 2);
    }
}
