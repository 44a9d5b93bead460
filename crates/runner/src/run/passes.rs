//! The passes over a plan's groups: without successive halving one pass trains everything;
//! with it, a pass trains each trial up to its cell's next undecided rung and records the
//! trials ranked out at a rung as stopped, and passes go on while they decide or train
//! something.

use anyhow::Result;

use super::job::Job;
use super::outcome::Trained;
use super::rungs;
use super::signals::Signal;
use super::turn::{turn, TurnEnd};
use crate::experiment::{groups, Group, Halving, RunSpec, Verdict};
use crate::store::{Acquired, State, Through};

/// One pass over the groups of a plan: what it trains, and how.
pub(super) struct Pass<'a> {
    pub(super) job: Job<'a>,
    pub(super) runs: &'a [RunSpec],
    /// The plan indices this command trains (unfinished when it started).
    pub(super) wanted: Vec<usize>,
    /// Trials per stack.
    pub(super) k: usize,
    pub(super) halving: Option<Halving>,
}

impl Pass<'_> {
    /// Trains every wanted run that may train (up to its rung, with halving), group by group;
    /// records the trials ranked out at a rung as stopped. Whether it trained or decided
    /// anything.
    pub(super) fn run(&self, trained: &mut Trained) -> Result<bool> {
        let limits = rungs::limits(&self.job.dir, self.runs, self.halving);
        let mut progressed = false;
        for group in groups(self.runs, self.k) {
            if let Some(signal) = self.job.stop.requested() {
                trained.stop_between(signal, "between runs");
                return Ok(progressed);
            }
            let (members, decided) = self.members(&group, &limits, trained)?;
            progressed |= decided;
            // A cohort trains to one rung: its cell's (every member of a group shares it).
            let Some(&(_, until)) = members.first() else {
                continue;
            };
            let members: Vec<&RunSpec> = members
                .into_iter()
                .filter(|(_, limit)| *limit == until)
                .map(|(run, _)| run)
                .collect();
            let end = turn(&self.job, group.index, &members, until)?;
            progressed |= end.trained;
            if self.ends_command(end, trained) {
                return Ok(progressed);
            }
        }
        Ok(progressed)
    }

    /// The wanted, unfinished members of `group` that may train, each with the epoch it may
    /// train through (not those that failed in an earlier pass of this command); whether
    /// recording those ranked out at a rung decided anything.
    fn members(
        &self,
        group: &Group,
        limits: &[Verdict],
        trained: &mut Trained,
    ) -> Result<(Vec<(&RunSpec, usize)>, bool)> {
        let mut members = Vec::new();
        let mut decided = false;
        for &i in group.runs.iter().filter(|i| self.wanted.contains(i)) {
            let run = &self.runs[i];
            let run_dir = self.job.dir.run(&run.id);
            if run_dir.final_status().is_some() {
                continue;
            }
            let status = run_dir.status();
            match limits[i] {
                Verdict::StoppedAt(rung) => decided |= self.record_stopped(run, rung, trained)?,
                // Already at its rung, its records vouched for by its checkpoint: it waits for
                // the rest of its cell. (Records that its checkpoint does not vouch for are
                // refused, naming the file, when it trains.)
                Verdict::Through(limit)
                    if status.is_some_and(|s| s.state == State::Waiting)
                        && run_dir.trusted_curve().len() >= limit => {}
                // Failed in an earlier pass of this command: the next command retries it.
                Verdict::Through(_) if trained.failed.contains(&run.id) => {}
                Verdict::Through(limit) => members.push((run, limit)),
            }
        }
        Ok((members, decided))
    }

    /// Takes what a turn left into `trained`: its failures and its stop. Whether the command
    /// ends here (a stop signal).
    fn ends_command(&self, end: TurnEnd, trained: &mut Trained) -> bool {
        if end.stopped.is_empty() && !end.failed.is_empty() {
            // A stop whose checkpoint could not be written (a full disk) still stops.
            if let Some(signal) = self.job.stop.requested() {
                let what = format!(
                    "as {} failed (its status.json says why; nothing of its last steps was \
                     saved: it continues from its last checkpoint written, or from epoch 1)",
                    end.failed.join(", ")
                );
                trained.add_failed(end.failed);
                trained.stop_between(signal, &what);
                return true;
            }
        }
        trained.add_failed(end.failed);
        if end.stopped.is_empty() {
            return false;
        }
        let signal = self.job.stop.requested().unwrap_or(Signal::Interrupt);
        for (run, status) in end.stopped {
            trained.stop_in(run, status, signal);
        }
        true
    }

    /// Records `run` as stopped at the rung at epoch `rung` (under its lock; a run that another
    /// process holds is left to it). Whether it was recorded; a run that cannot be recorded
    /// fails, alone, and counts in `trained`.
    fn record_stopped(&self, run: &RunSpec, rung: usize, trained: &mut Trained) -> Result<bool> {
        let dir = &self.job.dir;
        let run_dir = dir.run(&run.id);
        let _lock = match run_dir.lock() {
            Ok(Acquired::Held(lock)) => lock,
            Ok(Acquired::Busy(_)) => return Ok(false),
            // Its turn to train records the failure.
            Err(_) => return Ok(false),
        };
        if run_dir.final_status().is_some() {
            return Ok(false);
        }
        let loss = rungs::loss_at(dir, run, rung)
            .map(|l| format!("training loss {l:.4e} there"))
            .unwrap_or_else(|| "no loss there".into());
        let message = format!(
            "stopped at the rung at epoch {rung} of successive halving ({loss}): ranked out \
             of its cell"
        );
        // From its records through the rung: its checkpoint, older or damaged, is not read.
        let through = Through::Epoch(rung, run);
        match run_dir.set_state(self.job.backend, State::Stopped, Some(message), through) {
            Ok(status) => {
                eprintln!("{}: {}", run.id, status.summary());
                Ok(true)
            }
            Err(e) => {
                // This trial only: its cell's decisions stand. Not progress: a pass would try
                // it again and again.
                eprintln!("{}: failed: {e:#}", run.id);
                run_dir.record_failure(self.job.backend, format!("{e:#}"))?;
                trained.add_failed(vec![run.id.clone()]);
                Ok(false)
            }
        }
    }
}
