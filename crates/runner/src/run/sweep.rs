//! Running a plan: every run of a sweep in order (`highway sweep`), or one of them (`highway run
//! --index I`, one per cluster task). Finished runs are skipped and unfinished ones continue
//! from their checkpoint, so a sweep resumes where it stopped; a run that fails or diverges is
//! recorded and the sweep goes on; a stop signal ends the sweep with the resume command.
//! Writing the report afterwards is the caller's (the command line's) part.

use std::path::PathBuf;

use anyhow::{bail, Result};
use highway_data::Dataset;

use super::job::Job;
use super::outcome::Trained;
use super::passes::Pass;
use super::signals::Stop;
use crate::backend::BackendName;
use crate::experiment::{
    by_dataset, check_memory, fingerprint, groups, load_dataset, machine_memory, plan, sweep_plan,
    Config, RunSpec, SaveModel,
};
use crate::store::{State, SweepDir};

/// Where a sweep goes and how it runs, after the command line has had its say.
pub struct SweepOptions {
    pub config: Config,
    pub config_path: PathBuf,
    pub backend: BackendName,
    pub data_dir: Option<PathBuf>,
    /// `--set` arguments, repeated in the resume hint.
    pub sets: Vec<String>,
    /// `--grid` arguments, repeated in the resume hint.
    pub grids: Vec<String>,
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
        for g in &self.grids {
            cmd += &format!(" --grid {}", quote(g));
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
    for (_, config) in opts.config.grid_points()? {
        check_memory(&config, machine_memory(), opts.batch_trials())?;
    }
    Ok(plan(&opts.config))
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
    let trained = Trained {
        dir,
        selected: selected.len(),
        failed: Vec::new(),
        stopped: None,
        requeue: opts.requeue,
        stop: stop.clone(),
        hint: opts.resume_hint(task),
    };
    let undo = trained.dir.clone();
    let result = train_prepared(opts, runs, selected, task, trained, prepared.held);
    if result.is_err() {
        undo.undo_start(&prepared);
    }
    result
}

/// Trains `selected` runs of the plan for `task` in the sweep folder `trained.dir`, prepared
/// when `prepared` (else a stop came first, and nothing is trained).
fn train_prepared(
    opts: &SweepOptions,
    runs: &[RunSpec],
    selected: &[usize],
    task: Task,
    mut trained: Trained,
    prepared: bool,
) -> Result<Trained> {
    let stop = trained.stop.clone();
    // A sweep folder given up on (a stop while another process held it) trains nothing.
    let todo = match prepared {
        true => unfinished(&trained.dir, runs, selected),
        false => Vec::new(),
    };
    // A grid over dataset fields trains on several datasets: one after the other.
    let parts = match prepared {
        true => by_dataset(&opts.config, runs, selected),
        false => Vec::new(),
    };
    for (config, part) in parts {
        let part_todo: Vec<&RunSpec> = (todo.iter().copied())
            .filter(|r| part.contains(&r.index))
            .collect();
        let data = load_data(opts, &config, &trained.dir, runs, &part, &part_todo)?;
        if let Some(signal) = stop.requested() {
            trained.stop_between(signal, "before training began: nothing was trained");
            return Ok(trained);
        }
        let Some((data, fingerprint)) = data else {
            continue;
        };
        let pass = Pass {
            job: Job {
                dir: trained.dir.clone(),
                data: &data,
                fingerprint: &fingerprint,
                backend: opts.backend,
                stop: &stop,
                planned: runs.len(),
            },
            runs,
            wanted: part_todo.iter().map(|r| r.index).collect(),
            k: match task {
                Task::Index(_) => 1,
                Task::Sweep | Task::Group(_) => opts.batch_trials(),
            },
            halving: opts.config.search.as_ref().and_then(|s| s.halving),
        };
        // Without halving, one pass trains everything. With it, passes go on while they
        // decide or train something.
        while pass.run(&mut trained)? && trained.stopped.is_none() && pass.halving.is_some() {}
        if trained.stopped.is_some() {
            return Ok(trained);
        }
        if pass.halving.is_some() {
            say_waiting(&trained.dir, runs, &pass.wanted);
        }
    }
    if let Some(signal) = stop.requested().filter(|_| !prepared) {
        trained.stop_between(signal, "before training began: nothing was trained");
    }
    Ok(trained)
}

/// Says how many of the `wanted` runs wait at a rung when a halving command ends.
fn say_waiting(dir: &SweepDir, runs: &[RunSpec], wanted: &[usize]) {
    let waiting = wanted
        .iter()
        .filter(|&&i| {
            let status = dir.run(&runs[i].id).status();
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

/// The data the plan trains on and its fingerprint, after checking that no finished run among
/// `selected` was made on other data; `None` when there is nothing to train. With nothing to
/// train, data that cannot be loaded only skips the fingerprint check.
fn load_data(
    opts: &SweepOptions,
    config: &Config,
    dir: &SweepDir,
    runs: &[RunSpec],
    selected: &[usize],
    todo: &[&RunSpec],
) -> Result<Option<(Dataset, String)>> {
    let data = match load_dataset(config, opts.data_dir.as_deref()) {
        Ok(data) => data,
        Err(_) if todo.is_empty() => return Ok(None),
        Err(e) => return Err(e),
    };
    let fingerprint = fingerprint(&data);
    same_data(dir, runs, selected, &fingerprint, &data.sources)?;
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

/// Refuses to go on when a finished run among `selected` recorded another data fingerprint
/// than `fingerprint` (the data now loaded): its result would be kept as if made on this data.
/// Runs made before fingerprints were recorded are taken as they are. Where the runs recorded
/// their files (`sources`, the files dataset), the files that changed are named.
fn same_data(
    dir: &SweepDir,
    runs: &[RunSpec],
    selected: &[usize],
    fingerprint: &str,
    sources: &[highway_data::SourceFile],
) -> Result<()> {
    let mut other = Vec::new();
    let mut changed: Vec<String> = Vec::new();
    for run in selected.iter().map(|&i| &runs[i]) {
        let run_dir = dir.run(&run.id);
        if run_dir.final_status().is_none() {
            continue;
        }
        let Some(recorded) = run_dir.spec().ok().flatten() else {
            continue;
        };
        if let Some(then) = recorded
            .data
            .fingerprint
            .as_ref()
            .filter(|r| *r != fingerprint)
        {
            other.push(format!("{} ({then})", run_dir.spec_path().display()));
            for file in recorded.data.changed_files(sources) {
                if !changed.contains(&file) {
                    changed.push(file);
                }
            }
        }
    }
    if other.is_empty() {
        return Ok(());
    }
    let changed = match changed.is_empty() {
        true => String::new(),
        false => format!(" Changed since: {}.", changed.join(", ")),
    };
    bail!(
        "{} finished run(s) were trained on other data than is loaded now (fingerprint {fingerprint}): \
         {}.{changed} The data files changed, or --data-dir points at other files: use --out DIR \
         for a sweep on this data, or delete those runs to train them again",
        other.len(),
        other.join(", ")
    )
}

/// The `selected` runs that have no final result yet; the others are counted in one line.
fn unfinished<'a>(dir: &SweepDir, runs: &'a [RunSpec], selected: &[usize]) -> Vec<&'a RunSpec> {
    let mut finished: Vec<(State, usize)> = Vec::new();
    let left = selected
        .iter()
        .map(|&i| &runs[i])
        .filter(|r| {
            let run_dir = dir.run(&r.id);
            let Some(s) = run_dir.final_status() else {
                return true;
            };
            match finished.iter_mut().find(|(state, _)| *state == s.state) {
                Some((_, n)) => *n += 1,
                None => finished.push((s.state, 1)),
            }
            // Asking for every model after the fact does not retrain a finished run. Under
            // "best" (the default) nothing is asked of a finished run: one trained before it,
            // or outranked, has none.
            let every = r.training.save_model == SaveModel::All;
            if every && s.state == State::Done && !run_dir.has_model() {
                let model = run_dir.model_path();
                eprintln!(
                    "{}: it has no {} (trained without save_model): delete {} to train it \
                     again with the model kept",
                    r.id,
                    model.file_name().unwrap_or_default().to_string_lossy(),
                    run_dir.path().display()
                );
            }
            false
        })
        .collect();
    let skipped: usize = finished.iter().map(|(_, n)| n).sum();
    if skipped > 0 {
        let each: Vec<String> = (finished.iter())
            .map(|(state, n)| format!("{n} {state}"))
            .collect();
        eprintln!(
            "{skipped} of {} {} already finished, skipped ({})",
            selected.len(),
            if selected.len() == 1 { "run" } else { "runs" },
            each.join(", ")
        );
    }
    left
}
