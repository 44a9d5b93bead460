//! Running a plan: every run of a sweep in order (`highway sweep`), or one of them (`highway run
//! --index I`, one per cluster task). Finished runs are skipped and unfinished ones continue
//! from their checkpoint, so a sweep resumes where it stopped; a run that fails or diverges is
//! recorded and the sweep goes on; a stop signal ends the sweep with the resume command.
//! Writing the report afterwards is the caller's (the command line's) part.

use std::path::PathBuf;

use anyhow::{bail, Result};
use highway_data::Dataset;

use super::group::train_group;
use super::requeue;
use super::rungs;
use super::signals::{Signal, Stop};
use super::train;
use crate::backend::BackendName;
use crate::experiment::{
    check_memory, fingerprint, groups, load_dataset, machine_memory, plan, sweep_plan, Config,
    Group, Halving, RunSpec, Verdict,
};
use crate::store::{Acquired, RunDir, RunLock, RunRecorder, Spec, State, Status, SweepDir};

/// Where a sweep goes and how it runs, after the command line has had its say.
pub struct SweepOptions {
    pub config: Config,
    pub config_path: PathBuf,
    pub backend: BackendName,
    pub data_dir: Option<PathBuf>,
    /// `--set` arguments, repeated in the resume hint.
    pub sets: Vec<String>,
    /// Under SLURM, requeue the job after a warning signal (`--no-requeue` turns it off).
    pub requeue: bool,
    pub out: Option<PathBuf>,
}

impl SweepOptions {
    pub fn sweep_dir(&self) -> SweepDir {
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| self.config.output.clone());
        SweepDir::new(out.join(&self.config.name))
    }

    /// Trials per stack: the config's `execution.batch_trials`, else the backend's default.
    pub fn batch_trials(&self) -> usize {
        self.config.execution.batch_trials(self.backend)
    }

    /// The command that picks up where this one stopped: the same sweep, or the same run or
    /// group of the plan, with the same overrides, folders and backend.
    fn resume_hint(&self, task: Task) -> String {
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let config = quote(&self.config_path.display().to_string());
        let mut cmd = match task {
            Task::Index(i) => format!("highway run {config} --index {i}"),
            Task::Group(g) => format!("highway run {config} --group {g}"),
            Task::Sweep => format!("highway sweep {config}"),
        };
        for s in &self.sets {
            cmd += &format!(" --set {}", quote(s));
        }
        if let Some(out) = &self.out {
            cmd += &format!(" --out {}", quote(&out.display().to_string()));
        }
        if let Some(dir) = &self.data_dir {
            cmd += &format!(" --data-dir {}", quote(&dir.display().to_string()));
        }
        cmd + &format!(" --backend {}", self.backend)
    }
}

/// What training a plan (or one task's share of it) came to.
pub struct Trained {
    /// The sweep folder, for the report.
    pub dir: SweepDir,
    /// How many runs were asked for, and the ids of those that failed.
    selected: usize,
    failed: Vec<String>,
    /// The stop signal that ended training early, and what it left.
    stopped: Option<Interrupted>,
    /// Whether to requeue the SLURM job after a warning signal.
    requeue: bool,
    /// The process's stop request, which may also come after training.
    stop: Stop,
    /// The command that picks up where this one stopped.
    hint: String,
}

impl Trained {
    /// Whether a stop signal has arrived: during training, or since.
    pub fn stop_requested(&self) -> bool {
        self.stop.requested().is_some()
    }

    /// Ends training before it began or between runs, stopped by `signal`; `what` says what
    /// was left undone or unsaved.
    fn stop_between(&mut self, signal: Signal, what: &str) {
        let hint = &self.hint;
        let message =
            format!("stopped by {signal} {what}; finished runs are kept; resume with\n  {hint}");
        self.stopped = Some(Interrupted { signal, message });
    }

    /// What the command ends with once the report is written: the stop (the SLURM job
    /// requeued first, on a warning signal during training where asked), the failed runs, or
    /// success. A process that received a stop signal exits with its code, even when the
    /// signal came after training.
    pub fn outcome(mut self) -> Result<()> {
        if self.stopped.is_none() {
            if let Some(signal) = self.stop.requested() {
                self.stop_between(signal, "after training ended (the report may be stale)");
                self.requeue = false;
            }
        }
        if let Some(mut stop) = self.stopped {
            if stop.signal.is_warning() && self.requeue {
                if let Some(job) = requeue::slurm_job() {
                    stop.message += &match requeue::requeue(&job, &self.stop) {
                        Ok(()) => {
                            format!("\nrequeued SLURM job {job}: it continues from the checkpoint")
                        }
                        Err(e) => format!("\ncould not requeue SLURM job {job}: {e:#}"),
                    };
                }
            }
            return Err(stop.into());
        }
        if !self.failed.is_empty() {
            bail!(
                "{} of {} runs failed ({}); their status.json says why; the other runs are \
                 kept, and running the same command again retries the failed ones",
                self.failed.len(),
                self.selected,
                self.failed.join(", ")
            );
        }
        Ok(())
    }
}

/// What one command trains: the whole plan, one run of it, or one group of it.
#[derive(Clone, Copy)]
enum Task {
    Sweep,
    Index(usize),
    Group(usize),
}

/// Trains every unfinished run of the plan.
pub fn sweep(opts: &SweepOptions) -> Result<Trained> {
    let runs = planned(opts)?;
    let all: Vec<usize> = runs.iter().map(|r| r.index).collect();
    run_selected(opts, &runs, &all, Task::Sweep)
}

/// Trains the group at `index` of the plan's groups (`highway plan --groups`), its trials as
/// one stack: one cluster task per search cell.
pub fn run_group(opts: &SweepOptions, index: usize) -> Result<Trained> {
    let runs = planned(opts)?;
    let all = groups(&runs, opts.batch_trials());
    let Some(group) = all.get(index) else {
        bail!(
            "--group {index} is out of range: the plan has {} groups of at most {} trials \
             (0..{}; `highway plan --groups` lists them)",
            all.len(),
            opts.batch_trials(),
            all.len()
        );
    };
    run_selected(opts, &runs, &group.runs, Task::Group(index))
}

/// Trains the run at `index` of the plan (one cluster task).
pub fn run_one(opts: &SweepOptions, index: usize) -> Result<Trained> {
    let runs = planned(opts)?;
    if index >= runs.len() {
        bail!(
            "--index {index} is out of range: the plan has {} runs (0..{})",
            runs.len(),
            runs.len()
        );
    }
    run_selected(opts, &runs, &[index], Task::Index(index))
}

/// The plan, once the config's nets and data are known to fit this machine's memory.
fn planned(opts: &SweepOptions) -> Result<Vec<RunSpec>> {
    check_memory(&opts.config, machine_memory(), opts.batch_trials())?;
    Ok(plan(&opts.config))
}

/// How one run's turn ended.
enum Turn {
    /// Trained: to a final state, or to its rung.
    Over,
    /// Skipped: another process has it, or has finished it.
    Skipped,
    Failed,
    /// A stop signal interrupted it: its status, checkpoint written.
    Stopped(Status),
}

/// Trains `selected` runs of the plan for `task`: one at a time, or the trials of each group
/// as one stack when the config asks for stacks of more than one.
fn run_selected(
    opts: &SweepOptions,
    runs: &[RunSpec],
    selected: &[usize],
    task: Task,
) -> Result<Trained> {
    // First of all: a signal during start-up is a clean stop too.
    let stop = Stop::install()?;
    let give_up = || stop.requested().is_some();
    let dir = opts.sweep_dir();
    let prepared = dir.prepare(|old| sweep_plan(old, &opts.config, runs), &give_up)?;
    let mut trained = Trained {
        dir,
        selected: selected.len(),
        failed: Vec::new(),
        stopped: None,
        requeue: opts.requeue,
        stop: stop.clone(),
        hint: opts.resume_hint(task),
    };
    // A sweep folder given up on (a stop while another process held it) trains nothing.
    let todo = match prepared {
        true => unfinished(&trained.dir, runs, selected),
        false => Vec::new(),
    };
    let data = match prepared {
        true => load_data(opts, &trained.dir, runs, selected, &todo)?,
        false => None,
    };
    if let Some(signal) = stop.requested() {
        trained.stop_between(signal, "before training began: nothing was trained");
        return Ok(trained);
    }
    let Some((data, fingerprint)) = data else {
        return Ok(trained);
    };
    let pass = Pass {
        opts,
        runs,
        wanted: todo.iter().map(|r| r.index).collect(),
        k: match task {
            Task::Index(_) => 1,
            Task::Sweep | Task::Group(_) => opts.batch_trials(),
        },
        halving: opts.config.search.as_ref().and_then(|s| s.halving),
        data: (&data, fingerprint.as_str()),
        stop: &stop,
    };
    // Without halving, one pass trains everything. With it, a pass trains each trial up to its
    // cell's next undecided rung; passes go on while they decide or train something.
    while pass.run(&mut trained)? && trained.stopped.is_none() && pass.halving.is_some() {}
    if pass.halving.is_some() && trained.stopped.is_none() {
        let waiting = pass
            .wanted
            .iter()
            .filter(|&&i| {
                let status = trained.dir.run(&runs[i].id).status();
                status.is_some_and(|s| s.state == State::Waiting)
            })
            .count();
        if waiting > 0 {
            eprintln!(
                "{waiting} trial(s) wait at a rung of successive halving for trials of their cell \
                 that other processes are training, or that have failed; the same command goes \
                 on from there"
            );
        }
    }
    Ok(trained)
}

/// One pass over the groups of a plan: what it trains, and how.
struct Pass<'a> {
    opts: &'a SweepOptions,
    runs: &'a [RunSpec],
    /// The plan indices this command trains (unfinished when it started).
    wanted: Vec<usize>,
    /// Trials per stack.
    k: usize,
    halving: Option<Halving>,
    data: (&'a Dataset, &'a str),
    stop: &'a Stop,
}

impl Pass<'_> {
    /// Trains every wanted run that may train (up to its rung, with halving), group by group;
    /// records the trials ranked out at a rung as stopped. Whether it trained or decided
    /// anything.
    fn run(&self, trained: &mut Trained) -> Result<bool> {
        let runs = self.runs;
        let limits = rungs::limits(&trained.dir, runs, self.halving);
        let mut progressed = false;
        for group in groups(runs, self.k) {
            if let Some(signal) = self.stop.requested() {
                trained.stop_between(signal, "between runs");
                return Ok(progressed);
            }
            let mut members: Vec<(&RunSpec, usize)> = Vec::new();
            for &i in group.runs.iter().filter(|i| self.wanted.contains(i)) {
                let run = &runs[i];
                let status = trained.dir.run(&run.id).status();
                if status.as_ref().is_some_and(|s| s.state.is_final()) {
                    continue;
                }
                match limits[i] {
                    Verdict::StoppedAt(rung) => {
                        progressed |= self.record_stopped(&trained.dir, run, rung)?;
                    }
                    // Already at its rung: it waits for the rest of its cell.
                    Verdict::Through(limit)
                        if status
                            .is_some_and(|s| s.state == State::Waiting && s.epochs >= limit) => {}
                    Verdict::Through(limit) => members.push((run, limit)),
                }
            }
            // A stack trains to one rung: its cell's (every member of a group shares it).
            let Some(&(_, until)) = members.first() else {
                continue;
            };
            let members: Vec<&RunSpec> = members
                .into_iter()
                .filter(|(_, limit)| *limit == until)
                .map(|(run, _)| run)
                .collect();
            let turn = match members[..] {
                // A group of one trains as a single run (a sweep without a search is all such).
                [run] => {
                    let turn = train_turn(
                        self.opts,
                        &trained.dir,
                        runs.len(),
                        run,
                        self.data,
                        self.stop,
                        until,
                    )?;
                    match turn {
                        Turn::Skipped => GroupTurn::default(),
                        Turn::Over => GroupTurn {
                            trained: true,
                            ..GroupTurn::default()
                        },
                        Turn::Failed => GroupTurn {
                            failed: vec![run.id.clone()],
                            ..GroupTurn::default()
                        },
                        Turn::Stopped(status) => GroupTurn {
                            stopped: vec![(run, status)],
                            ..GroupTurn::default()
                        },
                    }
                }
                _ => group_turn(
                    self.opts,
                    &trained.dir,
                    &group,
                    &members,
                    self.data,
                    self.stop,
                    until,
                )?,
            };
            progressed |= turn.trained;
            if turn.stopped.is_empty() && !turn.failed.is_empty() {
                // A stop whose checkpoint could not be written (a full disk) still stops.
                if let Some(signal) = self.stop.requested() {
                    let what = format!(
                        "as {} failed (its status.json says why; nothing of its last steps \
                         was saved: it continues from its last checkpoint written, or from \
                         epoch 1)",
                        turn.failed.join(", ")
                    );
                    trained.failed.extend(turn.failed);
                    trained.stop_between(signal, &what);
                    return Ok(progressed);
                }
            }
            trained.failed.extend(turn.failed);
            if !turn.stopped.is_empty() {
                let signal = self.stop.requested().unwrap_or(Signal::Interrupt);
                for (run, status) in turn.stopped {
                    let stop = stopped(&trained.dir, run, status, signal, trained.hint.clone());
                    trained.stopped = Some(stop);
                }
                return Ok(progressed);
            }
        }
        Ok(progressed)
    }

    /// Records `run` as stopped at the rung at epoch `rung` (under its lock; a run that another
    /// process holds is left to it). Whether it was recorded.
    fn record_stopped(&self, dir: &SweepDir, run: &RunSpec, rung: usize) -> Result<bool> {
        let run_dir = dir.run(&run.id);
        let _lock = match run_dir.lock() {
            Ok(Acquired::Held(lock)) => lock,
            Ok(Acquired::Busy(_)) => return Ok(false),
            // Its turn to train records the failure.
            Err(_) => return Ok(false),
        };
        if run_dir.status().is_some_and(|s| s.state.is_final()) {
            return Ok(false);
        }
        let loss = rungs::loss_at(dir, run, rung)
            .map(|l| format!("training loss {l:.4e} there"))
            .unwrap_or_else(|| "no loss there".into());
        let message = format!(
            "stopped at the rung at epoch {rung} of successive halving ({loss}): ranked out \
             of its cell"
        );
        let (data, fingerprint) = self.data;
        let spec = Spec::new(run, data, fingerprint);
        let (recorder, _) = RunRecorder::start(run_dir, spec, self.opts.backend)?;
        let status = recorder.finish(State::Stopped, Some(message), None)?;
        eprintln!("{}: {}", run.id, status.summary());
        Ok(true)
    }
}

/// How a group's turn ended: whether it trained, the trials that failed, and those a stop
/// signal interrupted.
#[derive(Default)]
struct GroupTurn<'a> {
    trained: bool,
    failed: Vec<String>,
    stopped: Vec<(&'a RunSpec, Status)>,
}

/// One group's turn: its `members` (its unfinished runs) trained as one stack under their
/// locks; a member that another process holds or has finished meanwhile is left out. A trial
/// that fails is recorded in its status, and the others go on.
fn group_turn<'a>(
    opts: &SweepOptions,
    dir: &SweepDir,
    group: &Group,
    members: &[&'a RunSpec],
    (data, fingerprint): (&Dataset, &str),
    stop: &Stop,
    until: usize,
) -> Result<GroupTurn<'a>> {
    let mut locks: Vec<RunLock> = Vec::new();
    let mut mine: Vec<&RunSpec> = Vec::new();
    let mut turn = GroupTurn::default();
    for run in members {
        let run_dir = dir.run(&run.id);
        match run_dir.lock() {
            Ok(Acquired::Held(lock)) => locks.push(lock),
            Ok(Acquired::Busy(who)) => {
                eprintln!("{}: being trained by {who}, skipped", run.id);
                continue;
            }
            Err(e) => {
                record_failure(&run_dir, &run.id, opts.backend, e)?;
                turn.failed.push(run.id.clone());
                continue;
            }
        }
        if let Some(s) = run_dir.status().filter(|s| s.state.is_final()) {
            eprintln!("{}: already {}, skipped", run.id, s.state);
            locks.pop();
            continue;
        }
        mine.push(run);
    }
    if mine.is_empty() {
        return Ok(turn);
    }
    let first = mine[0];
    eprintln!(
        "[group {}] {} trials of {} depth {} as one stack ({} epochs, batch {})",
        group.index,
        mine.len(),
        first.kind.name(),
        first.depth,
        first.training.epochs,
        first.training.batch_size
    );
    let backend = opts.backend;
    let dirs = mine.iter().map(|r| dir.run(&r.id)).collect();
    turn.trained = true;
    let results = guarded(|| train_group(&mine, dirs, data, fingerprint, backend, stop, until))
        .unwrap_or_else(|e| {
            let message = format!("{e:#}");
            mine.iter()
                .map(|r| (r.id.clone(), Err(anyhow::anyhow!("{message}"))))
                .collect()
        });
    for (id, result) in results {
        let Some(run) = mine.iter().copied().find(|r| r.id == id) else {
            continue;
        };
        match result {
            Ok(status) if status.state == State::Interrupted => turn.stopped.push((run, status)),
            Ok(_) => {}
            Err(e) => {
                record_failure(&dir.run(&id), &id, backend, e)?;
                turn.failed.push(id);
            }
        }
    }
    drop(locks);
    Ok(turn)
}

/// The data the plan trains on and its fingerprint, after checking that no finished run among
/// `selected` was made on other data; `None` when there is nothing to train. With nothing to
/// train, data that cannot be loaded only skips the fingerprint check.
fn load_data(
    opts: &SweepOptions,
    dir: &SweepDir,
    runs: &[RunSpec],
    selected: &[usize],
    todo: &[&RunSpec],
) -> Result<Option<(Dataset, String)>> {
    let data = match load_dataset(&opts.config, opts.data_dir.as_deref()) {
        Ok(data) => data,
        Err(_) if todo.is_empty() => return Ok(None),
        Err(e) => return Err(e),
    };
    let fingerprint = fingerprint(&data);
    same_data(dir, runs, selected, &fingerprint)?;
    if todo.is_empty() {
        return Ok(None);
    }
    eprintln!(
        "{}: {} train / {} {} examples, {} features, {} classes; backend {}",
        data.name,
        data.train.len(),
        data.eval.len(),
        data.eval_kind,
        data.train.dim,
        data.classes,
        opts.backend
    );
    Ok(Some((data, fingerprint)))
}

/// One run's turn: trained under its lock, unless another process holds the lock or has
/// finished the run since the plan was read. A failure is recorded in the run's status.
fn train_turn(
    opts: &SweepOptions,
    dir: &SweepDir,
    planned: usize,
    run: &RunSpec,
    (data, fingerprint): (&Dataset, &str),
    stop: &Stop,
    until: usize,
) -> Result<Turn> {
    let place = format!("[{}/{planned}] {}", run.index + 1, run.id);
    let run_dir = dir.run(&run.id);
    // Held until this run is trained: every other process skips it meanwhile.
    let _lock = match run_dir.lock() {
        Ok(Acquired::Held(lock)) => lock,
        Ok(Acquired::Busy(who)) => {
            eprintln!("{place}: being trained by {who}, skipped");
            return Ok(Turn::Skipped);
        }
        // A lock that cannot be taken (a folder or a link at its path) fails this run only.
        Err(e) => {
            record_failure(&run_dir, &run.id, opts.backend, e)?;
            return Ok(Turn::Failed);
        }
    };
    if let Some(s) = run_dir.status().filter(|s| s.state.is_final()) {
        eprintln!("{place}: already {}, skipped", s.state);
        return Ok(Turn::Skipped);
    }
    let t = &run.training;
    eprintln!(
        "{place} (lr {}, batch {}, {} epochs)",
        t.lr, t.batch_size, t.epochs
    );
    let backend = opts.backend;
    let dir = run_dir.clone();
    match guarded(|| train::train_run(run, data, fingerprint, backend, dir, stop, until)) {
        Ok(status) if status.state == State::Interrupted => Ok(Turn::Stopped(status)),
        Ok(_) => Ok(Turn::Over),
        Err(e) => {
            record_failure(&run_dir, &run.id, backend, e)?;
            Ok(Turn::Failed)
        }
    }
}

/// Says that run `id` failed with `e`, and records it in the run's status.
fn record_failure(
    run_dir: &RunDir,
    id: &str,
    backend: BackendName,
    e: anyhow::Error,
) -> Result<()> {
    eprintln!("{id}: failed: {e:#}");
    run_dir.record_failure(backend, format!("{e:#}"))
}

/// A sweep stopped by a signal. The process exits with 128 + the signal's number, as a shell
/// reports a process killed by it, so that a scheduler or a script can tell a stop from a
/// failure.
#[derive(Debug)]
pub struct Interrupted {
    pub signal: Signal,
    pub message: String,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Interrupted {}

/// Records the resume command `hint` in the stopped run's status; the stop to end with.
fn stopped(
    dir: &SweepDir,
    run: &RunSpec,
    mut status: Status,
    signal: Signal,
    hint: String,
) -> Interrupted {
    let what = status.message.take().unwrap_or_default();
    status.message = Some(format!("{what}; resume with: {hint}"));
    if let Err(e) = dir.run(&run.id).write_status(&status) {
        eprintln!("warning: {e:#}");
    }
    let message =
        format!("stopped by {signal}: {what}; finished runs are kept; resume with\n  {hint}");
    Interrupted { signal, message }
}

/// Refuses to go on when a finished run among `selected` recorded another data fingerprint
/// than `fingerprint` (the data now loaded): its result would be kept as if made on this data.
/// Runs made before fingerprints were recorded are taken as they are.
fn same_data(
    dir: &SweepDir,
    runs: &[RunSpec],
    selected: &[usize],
    fingerprint: &str,
) -> Result<()> {
    let mut other = Vec::new();
    for run in selected.iter().map(|&i| &runs[i]) {
        let run_dir = dir.run(&run.id);
        if !run_dir.status().is_some_and(|s| s.state.is_final()) {
            continue;
        }
        let recorded = run_dir
            .spec()
            .ok()
            .flatten()
            .and_then(|s| s.data.fingerprint);
        if let Some(recorded) = recorded.filter(|r| r != fingerprint) {
            other.push(format!("{} ({recorded})", run_dir.spec_path().display()));
        }
    }
    if other.is_empty() {
        return Ok(());
    }
    bail!(
        "{} finished run(s) were trained on other data than is loaded now (fingerprint {fingerprint}): \
         {}. The data files changed, or --data-dir points at other files: use --out DIR for a \
         sweep on this data, or delete those runs to train them again",
        other.len(),
        other.join(", ")
    )
}

/// The `selected` runs that have no final result yet; the others are listed as skipped.
fn unfinished<'a>(dir: &SweepDir, runs: &'a [RunSpec], selected: &[usize]) -> Vec<&'a RunSpec> {
    selected
        .iter()
        .map(|&i| &runs[i])
        .filter(|r| {
            let run_dir = dir.run(&r.id);
            let Some(s) = run_dir.status().filter(|s| s.state.is_final()) else {
                return true;
            };
            let (n, total) = (r.index + 1, runs.len());
            eprintln!("[{n}/{total}] {}: already {}, skipped", r.id, s.state);
            // Asking for models after the fact does not retrain a finished run.
            if r.training.save_model && s.state == State::Done && !run_dir.has_model() {
                let model = run_dir.model_path();
                eprintln!(
                    "  it has no {} (trained without save_model): delete {} to train it \
                     again with the model kept",
                    model.file_name().unwrap_or_default().to_string_lossy(),
                    run_dir.path().display()
                );
            }
            false
        })
        .collect()
}

/// Runs `train`, turning a panic (a GPU that fails mid-run, an assertion in a backend) into an
/// error, so that it fails this run and not the sweep.
fn guarded<T>(train: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(train)).unwrap_or_else(|panic| {
        let msg = crate::sys::panic_message(panic.as_ref());
        Err(anyhow::anyhow!("the backend panicked: {msg}"))
    })
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor};

    use super::*;

    /// A real panic inside a backend operation (Flex multiplying mismatched shapes) fails the
    /// run with the panic's message, recorded in its status, and the caller carries on.
    #[test]
    fn a_backend_panic_fails_the_run_not_the_sweep() {
        let root = tempfile::tempdir().unwrap();
        let dir = SweepDir::new(root.path().to_path_buf());
        let result = guarded(|| {
            let device = Device::flex();
            let a = Tensor::<2>::ones([2, 3], &device);
            let b = Tensor::<2>::ones([4, 5], &device);
            Ok(a.matmul(b).into_data())
        });
        let error = result.unwrap_err();
        assert!(
            format!("{error}").starts_with("the backend panicked: "),
            "{error}"
        );
        let run = dir.run("plain-d2-s0-00000000");
        run.record_failure(BackendName::Flex, format!("{error:#}"))
            .unwrap();
        let status = run.status().unwrap();
        assert_eq!(status.state, State::Failed);
        assert!(status.message.unwrap().contains("panicked"));
    }
}
