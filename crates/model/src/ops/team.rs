//! A fork-join team of CPU threads that share out each task's parts.
//!
//! The Flex layer operations split each matmul and element-wise pass of a layer into one part
//! per thread. A part of a thin layer takes microseconds, and waking a sleeping thread (as a
//! `rayon::join` from outside its pool does) costs more than that. The workers here spin for
//! the next task for a short while (as OpenMP runtimes do) and only then sleep, so while a
//! training step runs a hand-off needs no system call, and an idle process stops using the CPU
//! soon after.
//!
//! The machine may be shared: a worker can lose its core to another process at any moment. So
//! no thread waits for another to start a part. The parts of a task are claimed, each by one
//! thread: thread `i` first claims part `i` (so that on a quiet machine each thread keeps its
//! block of rows from one operation to the next, as its cache does) and then any part still
//! unclaimed; the caller does the same, so a task whose workers are descheduled or asleep is run
//! by the caller alone, as fast as one thread. The caller waits only for parts that a worker has
//! begun. And the team spins only while that costs nobody a core: a spinning thread that finds
//! it was descheduled sleeps at once, and while the workers see that they wait for a CPU more
//! than a tenth of the time (the machine has more runnable threads than cores), every thread of
//! the team sleeps as soon as it has nothing to do, and a task wakes the workers it needs
//! ([`Pace`]). Spinning there would take CPU time from the other processes and, as the
//! scheduler shares a core out between threads or groups of processes, from the team's own
//! caller. Which thread
//! runs a part depends on timing; what the part computes does not: the parts of a task are a
//! function of the team's size only.
//!
//! The team has as many threads as rayon's global pool (see [`set_threads`]), the calling thread
//! included. One task runs at a time: a call made while another is running (from a second
//! thread, or from inside a part) runs its parts on the calling thread.

use std::any::Any;
use std::cell::UnsafeCell;
use std::num::NonZeroUsize;
use std::ops::Deref;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, TryLockError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How long an idle worker spins before it sleeps: longer than the gaps between the layer
/// operations of a step, short enough that a finished process does not keep a core busy.
const SPIN: Duration = Duration::from_micros(500);

/// How long the caller spins for the workers' parts before it sleeps until the last one ends.
const WAIT_SPIN: Duration = Duration::from_micros(100);

/// A spinning thread looks at the clock every this many turns of its loop (well under a
/// microsecond's worth of turns).
const CLOCK_EVERY: u32 = 64;

/// A gap this long between two looks at the clock means the spinning thread was descheduled:
/// another thread wants its core, and spinning on would take the core from it.
const DESCHEDULED: Duration = Duration::from_micros(50);

/// How often a worker reads how long it waited for a CPU (see [`Pace`]).
const CHECK: Duration = Duration::from_millis(1);

/// The share of the time a worker may wait for a CPU before the team stops spinning.
const CROWDED_SHARE: f64 = 0.1;

/// How long the team stops spinning once the machine was found crowded.
const CROWDED_FOR: Duration = Duration::from_millis(50);

/// Bits of the task word that hold the number of parts to claim; the task's number is above.
const PART_BITS: u32 = 16;

type Job = dyn Fn(usize) + Sync;

/// A value alone on its cache line (two, for the adjacent-line prefetcher), so that threads
/// writing one of these do not slow down threads reading another.
#[repr(align(128))]
struct Line<T>(T);

impl<T> Deref for Line<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

struct Shared {
    /// The running task's number (counting from 1) times 2^16 plus its number of parts to claim,
    /// in one word so that a worker never pairs one task's number with another's parts. A
    /// worker takes part when it changes.
    task: Line<AtomicU64>,
    /// For each part, the number of the last task in which it was claimed: a thread claims part
    /// `p` of task `n` when its `fetch_max(n)` on `claimed[p]` returns less than `n`.
    claimed: Vec<Line<AtomicU64>>,
    /// The running task. Written before `task` is published; valid until `pending` is 0.
    job: UnsafeCell<*const Job>,
    /// Parts of the running task not finished yet, claimed or not.
    pending: Line<AtomicUsize>,
    /// The lowest-numbered part that panicked in the running task, and its payload.
    panic: Mutex<Option<(usize, Box<dyn Any + Send>)>>,
    /// Whether thread `i` sleeps: worker `i` waiting for a task, or (0) the caller waiting for
    /// the workers' parts. Whoever sets one back to false wakes the thread.
    sleeping: Vec<Line<AtomicBool>>,
    /// The caller sleeping in [`Task::wait`], for the worker that finishes the last part.
    caller: Mutex<Option<Thread>>,
    /// Whether a worker found the machine crowded (see [`Pace`]): then the caller does not spin.
    crowded: AtomicBool,
}

// SAFETY: the only field that is not `Sync` by itself is `job`. It is written only by the thread
// holding `Team::busy`, before the `task` store that publishes it, and read by a worker only
// after it saw that store and claimed a part of that task, and before it counts the part off
// `pending`; the writer's `Task` guard waits for `pending` to reach 0 before the job may go away
// or be replaced (see `Task`).
unsafe impl Sync for Shared {}

struct Team {
    shared: &'static Shared,
    workers: Vec<Thread>,
    busy: Mutex<()>,
}

/// Sets the process's CPU threads (rayon's global pool, whose size the team takes): `n`, or
/// by default `$RAYON_NUM_THREADS`, else the CPUs this process may use ([`usable_cpus`]). Fails
/// once the pool exists: after an earlier call, or once rayon or the team has been used.
pub fn set_threads(n: Option<usize>) -> Result<usize, rayon::ThreadPoolBuildError> {
    let n = n.unwrap_or_else(|| default_threads(&|name| std::env::var(name).ok()));
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()?;
    Ok(n)
}

/// The default thread count: `$RAYON_NUM_THREADS` when it is a positive number, else
/// [`usable_cpus`]; `var` reads the environment.
fn default_threads(var: &dyn Fn(&str) -> Option<String>) -> usize {
    positive(var("RAYON_NUM_THREADS")).unwrap_or_else(|| {
        let affinity = thread::available_parallelism().map_or(1, NonZeroUsize::get);
        usable_cpus(affinity, var)
    })
}

/// The CPUs this process may use: `available` (what [`thread::available_parallelism`] says: on
/// Linux the CPUs of the process's affinity mask, which a cpuset cgroup narrows, capped by a
/// cgroup CPU quota), and no more than a SLURM job was given, `$SLURM_CPUS_PER_TASK`, else
/// `$SLURM_CPUS_ON_NODE` (a cluster that does not bind a job's tasks to its CPUs leaves the
/// affinity mask at the whole node).
fn usable_cpus(available: usize, var: &dyn Fn(&str) -> Option<String>) -> usize {
    let slurm =
        positive(var("SLURM_CPUS_PER_TASK")).or_else(|| positive(var("SLURM_CPUS_ON_NODE")));
    slurm.map_or(available, |s| s.min(available)).max(1)
}

/// A positive whole number, spaces around it allowed; `None` for anything else.
fn positive(value: Option<String>) -> Option<usize> {
    value?.trim().parse().ok().filter(|&n| n > 0)
}

/// The process's team: as many threads as rayon's global pool (set here to the default of
/// [`set_threads`] unless it was set before), started on first use. Its workers inherit the
/// floating-point mode (denormal flushing) of the thread that first uses it; since a part may
/// run on any thread of the team, callers should share that mode (the `highway` binary sets it
/// first thing, for every thread).
fn team() -> &'static Team {
    static TEAM: OnceLock<Team> = OnceLock::new();
    TEAM.get_or_init(|| {
        // An error means that the pool was set before: the team takes its size.
        let _ = set_threads(None);
        Team::new(rayon::current_num_threads())
    })
}

impl Team {
    /// A team of `size` threads (at most 255), the caller included; its workers live as long
    /// as the process.
    fn new(size: usize) -> Team {
        let size = size.clamp(1, 255);
        let shared: &'static Shared = Box::leak(Box::new(Shared {
            task: Line(AtomicU64::new(0)),
            claimed: (0..size).map(|_| Line(AtomicU64::new(0))).collect(),
            job: UnsafeCell::new(std::ptr::null::<fn(usize)>() as *const Job),
            pending: Line(AtomicUsize::new(0)),
            panic: Mutex::new(None),
            sleeping: (0..size).map(|_| Line(AtomicBool::new(false))).collect(),
            caller: Mutex::new(None),
            crowded: AtomicBool::new(false),
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

/// A spin that gives up: `spinning` is true until `limit` has passed, or at once when the
/// thread was descheduled between two looks at the clock.
struct Spin {
    start: Instant,
    last: Instant,
    turns: u32,
    limit: Duration,
}

impl Spin {
    fn new(limit: Duration) -> Spin {
        let now = Instant::now();
        Spin {
            start: now,
            last: now,
            turns: 0,
            limit,
        }
    }

    /// One turn of a spin loop: false once the thread should stop spinning and sleep.
    fn spinning(&mut self) -> bool {
        self.turns = self.turns.wrapping_add(1);
        if !self.turns.is_multiple_of(CLOCK_EVERY) {
            std::hint::spin_loop();
            return true;
        }
        let now = Instant::now();
        let descheduled = now - self.last > DESCHEDULED;
        self.last = now;
        !descheduled && now - self.start < self.limit
    }
}

fn work(shared: &'static Shared, index: usize) {
    let mut seen = 0u64;
    let mut pace = Pace::new();
    loop {
        let limit = if pace.crowded(shared) {
            Duration::ZERO
        } else {
            SPIN
        };
        let mut spin = Spin::new(limit);
        loop {
            let task = shared.task.load(Ordering::Acquire);
            if task != seen {
                seen = task;
                if index < parts(task) {
                    break;
                }
            }
            if !spin.spinning() {
                shared.sleeping[index].store(true, Ordering::SeqCst);
                if shared.task.load(Ordering::SeqCst) == seen {
                    thread::park();
                }
                shared.sleeping[index].store(false, Ordering::SeqCst);
                spin = Spin::new(limit);
            }
        }
        while let Some(part) = claim(shared, seen, index) {
            // SAFETY: the `task` load above saw the store that published `job` (see `Shared`),
            // and the claimed part keeps the job alive and in place until it is counted off.
            let job = unsafe { &**shared.job.get() };
            run_part(shared, job, part);
            done(shared);
        }
    }
}

/// How a worker decides whether spinning pays: it reads how long it waited for a CPU while it
/// could run (Linux's schedstat) every millisecond or so; while that is more than a tenth of
/// the time, the machine has more runnable threads than CPUs, and the team's threads sleep as
/// soon as they wait, for a while, then try spinning again. Where the system does not say (no
/// `/proc/thread-self/schedstat`), the team always spins.
struct Pace {
    /// When the wait was last read, and what it was (nanoseconds).
    read: Option<(Instant, u64)>,
    /// Until when the team does not spin.
    crowded_until: Option<Instant>,
}

impl Pace {
    fn new() -> Pace {
        Pace {
            read: None,
            crowded_until: None,
        }
    }

    /// Whether the machine is crowded; reads the wait when it is time (in the team's `crowded`).
    fn crowded(&mut self, shared: &Shared) -> bool {
        let now = Instant::now();
        if let Some(until) = self.crowded_until {
            if now < until {
                return true;
            }
            // Time to try spinning again: measure afresh.
            self.crowded_until = None;
            self.read = None;
            shared.crowded.store(false, Ordering::Relaxed);
        }
        match self.read {
            Some((at, _)) if now - at < CHECK => {}
            _ => {
                let waited = thread_run_delay();
                if let (Some((at, before)), Some(after)) = (self.read, waited) {
                    let share = after.saturating_sub(before) as f64 / (now - at).as_nanos() as f64;
                    if share > CROWDED_SHARE {
                        self.crowded_until = Some(now + CROWDED_FOR);
                        shared.crowded.store(true, Ordering::Relaxed);
                        return true;
                    }
                }
                self.read = waited.map(|w| (now, w));
            }
        }
        false
    }
}

/// Nanoseconds the calling thread has waited for a CPU while runnable, if the system says.
fn thread_run_delay() -> Option<u64> {
    run_delay(&std::fs::read_to_string("/proc/thread-self/schedstat").ok()?)
}

/// The run-queue wait of a `schedstat` line: "<on-CPU ns> <waiting ns> <time slices>".
fn run_delay(schedstat: &str) -> Option<u64> {
    schedstat.split_whitespace().nth(1)?.parse().ok()
}

/// The parts to claim of the task in word `task`.
fn parts(task: u64) -> usize {
    (task & ((1 << PART_BITS) - 1)) as usize
}

/// Claims a part of the task in word `task`: part `first` if it is still free, else the next
/// free one after it (in turn, wrapping around); `None` once every part is claimed.
fn claim(shared: &Shared, task: u64, first: usize) -> Option<usize> {
    let (number, parts) = (task >> PART_BITS, parts(task));
    (0..parts).map(|k| (first + k) % parts).find(|&p| {
        let slot = &shared.claimed[p];
        // Once task `number` has ended, every one of its parts holds `number` or more, so a
        // thread that saw this task late claims nothing.
        slot.load(Ordering::Relaxed) < number && slot.fetch_max(number, Ordering::Relaxed) < number
    })
}

/// Runs part `part`; a panic is kept for the caller if no lower-numbered part panicked.
fn run_part(shared: &Shared, job: &(dyn Fn(usize) + Sync + '_), part: usize) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| job(part))) {
        let mut slot = shared.panic.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_none_or(|(p, _)| part < *p) {
            *slot = Some((part, payload));
        }
    }
}

/// Counts a finished part off; the last one wakes the caller if it sleeps.
fn done(shared: &Shared) {
    if shared.pending.fetch_sub(1, Ordering::SeqCst) == 1
        && shared.sleeping[0].swap(false, Ordering::SeqCst)
    {
        if let Some(caller) = shared
            .caller
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            caller.unpark();
        }
    }
}

/// A task handed to the workers. Dropping it waits until every part has finished, so the
/// borrowed job outlives every use of it however the caller leaves `run`.
struct Task {
    shared: &'static Shared,
    word: u64,
}

impl Task {
    /// Publishes `job` in `parts` parts (at most the team's size) and wakes the workers needed.
    fn start(team: &Team, job: &(dyn Fn(usize) + Sync), parts: usize) -> Task {
        let shared = team.shared;
        let job: *const (dyn Fn(usize) + Sync + '_) = job;
        // SAFETY: the pointer's lifetime is erased to store it in `Shared`; the `Task` returned
        // borrows nothing, but its `Drop` (which always runs before `run` returns or unwinds)
        // waits until no worker can read the pointer any more.
        let job =
            unsafe { std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), *const Job>(job) };
        // SAFETY: only the holder of `Team::busy` writes `job`, after the last task's parts all
        // ended (its `Task` was dropped), and no worker reads it before the `task` store below.
        unsafe { *shared.job.get() = job };
        *shared.panic.lock().unwrap_or_else(|e| e.into_inner()) = None;
        shared.pending.store(parts, Ordering::Relaxed);
        let number = (shared.task.load(Ordering::Relaxed) >> PART_BITS) + 1;
        let word = number << PART_BITS | parts as u64;
        shared.task.store(word, Ordering::SeqCst);
        for (i, worker) in team.workers.iter().enumerate().take(parts - 1) {
            if shared.sleeping[i + 1].swap(false, Ordering::SeqCst) {
                worker.unpark();
            }
        }
        Task { shared, word }
    }

    /// Waits for every part: spins a little, then sleeps until the last part's thread wakes it.
    fn wait(&self) {
        let shared = self.shared;
        let limit = if shared.crowded.load(Ordering::Relaxed) {
            Duration::ZERO
        } else {
            WAIT_SPIN
        };
        let mut spin = Spin::new(limit);
        while shared.pending.load(Ordering::Acquire) != 0 {
            if spin.spinning() {
                continue;
            }
            *shared.caller.lock().unwrap_or_else(|e| e.into_inner()) = Some(thread::current());
            shared.sleeping[0].store(true, Ordering::SeqCst);
            if shared.pending.load(Ordering::SeqCst) != 0 {
                thread::park();
            }
            shared.sleeping[0].store(false, Ordering::SeqCst);
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
/// If parts panic, the caller panics, once every part has ended, with the payload of the
/// lowest-numbered one (as if it had run on the caller).
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
        let shared = self.shared;
        let spread = parts.min(self.workers.len() + 1);
        let task = Task::start(self, job, spread);
        while let Some(part) = claim(shared, task.word, 0) {
            run_part(shared, job, part);
            done(shared);
        }
        (spread..parts).for_each(|part| run_part(shared, job, part));
        drop(task);
        let panic = shared
            .panic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((_, payload)) = panic {
            resume_unwind(payload);
        }
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
    use std::collections::HashSet;
    use std::thread::ThreadId;

    use super::*;

    /// The text a panic carried.
    fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".into())
    }

    /// A team of three threads whatever the machine, so that the workers are exercised on a
    /// one-core machine too; one per test, so that tests running at once do not share it.
    fn three() -> Team {
        Team::new(3)
    }

    #[test]
    fn every_part_runs_once() {
        let team = &three();
        assert_eq!(team.workers.len(), 2);
        for parts in [1, 2, 3, 7] {
            for _ in 0..2000 {
                let counts: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
                team.run(parts, &|i| {
                    counts[i].fetch_add(1, Ordering::Relaxed);
                });
                assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
            }
        }
    }

    #[test]
    fn the_workers_take_parts() {
        let team = &three();
        for _ in 0..100 {
            // Each part waits until all three run at once: on three threads, the caller's and
            // both workers'.
            let running = AtomicUsize::new(0);
            let threads = Mutex::new(HashSet::<ThreadId>::new());
            team.run(3, &|_| {
                threads.lock().unwrap().insert(thread::current().id());
                running.fetch_add(1, Ordering::SeqCst);
                while running.load(Ordering::SeqCst) < 3 {
                    thread::yield_now();
                }
            });
            let threads = threads.into_inner().unwrap();
            assert_eq!(threads.len(), 3);
            assert!(threads.contains(&thread::current().id()));
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
    fn the_default_follows_the_cpus_the_process_may_use() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        // Outside SLURM: what the affinity mask and the cgroup quota allow.
        assert_eq!(usable_cpus(64, &env(&[])), 64);
        // A SLURM job: its CPUs per task, else its CPUs on the node, never more than allowed.
        assert_eq!(usable_cpus(64, &env(&[("SLURM_CPUS_PER_TASK", "4")])), 4);
        assert_eq!(
            usable_cpus(
                64,
                &env(&[("SLURM_CPUS_PER_TASK", " 4\n"), ("SLURM_CPUS_ON_NODE", "8")])
            ),
            4
        );
        assert_eq!(usable_cpus(64, &env(&[("SLURM_CPUS_ON_NODE", "8")])), 8);
        assert_eq!(usable_cpus(2, &env(&[("SLURM_CPUS_PER_TASK", "4")])), 2);
        // What is not a positive number is not read.
        for bad in ["", "0", "-4", "4x", "2(x3)"] {
            let vars: &'static [(&str, &str)] = Box::leak(Box::new([("SLURM_CPUS_PER_TASK", bad)]));
            assert_eq!(usable_cpus(64, &env(vars)), 64, "{bad:?}");
        }
        // $RAYON_NUM_THREADS comes first.
        let rayon = env(&[("RAYON_NUM_THREADS", "3"), ("SLURM_CPUS_PER_TASK", "4")]);
        assert_eq!(default_threads(&rayon), 3);
        let zero = env(&[("RAYON_NUM_THREADS", "0"), ("SLURM_CPUS_PER_TASK", "1")]);
        assert_eq!(default_threads(&zero), 1);
    }

    #[test]
    fn the_run_queue_wait_is_read_from_schedstat() {
        assert_eq!(run_delay("1234 5678 9\n"), Some(5678));
        assert_eq!(run_delay("0 0 0"), Some(0));
        assert_eq!(run_delay("1234"), None);
        assert_eq!(run_delay(""), None);
        assert_eq!(run_delay("1234 x 9"), None);
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
        // Whichever thread ran the part, its panic comes back to the caller.
        for failing in 0..3 {
            let one = catch_unwind(AssertUnwindSafe(|| {
                team.run(3, &|i| assert!(i != failing, "part {i} fails"))
            }));
            assert_eq!(message(one), format!("part {failing} fails"));
        }
        // Of several, the lowest-numbered part's, after every part ended.
        let ended = AtomicUsize::new(0);
        let all = catch_unwind(AssertUnwindSafe(|| {
            team.run(3, &|i| {
                ended.fetch_add(1, Ordering::SeqCst);
                panic!("part {i} fails")
            })
        }));
        assert_eq!(message(all), "part 0 fails");
        assert_eq!(ended.load(Ordering::SeqCst), 3);
        // The team still works afterwards, and no earlier panic is reported again.
        let n = AtomicUsize::new(0);
        team.run(3, &|_| {
            n.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(n.load(Ordering::Relaxed), 3);
    }
}
