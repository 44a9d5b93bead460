//! One turn of training, for one run or a group of them: each member locked (a member that
//! another process holds, or has finished meanwhile, is left out), the locked ones trained as
//! one cohort (`train.rs`), and each ending recorded: a failure in the run's status, a stop
//! handed back to the sweep.

use anyhow::Result;

use super::job::Job;
use super::train::{train, TrialResults};
use crate::experiment::RunSpec;
use crate::sig_digits::sig;
use crate::store::{Acquired, RunDir, RunLock, State, Status};
use crate::words::count;

/// How a turn ended: whether it trained (some member reached an end other than a failure),
/// the members that failed, and those a stop signal interrupted.
#[derive(Default)]
pub(super) struct TurnEnd<'a> {
    pub(super) trained: bool,
    pub(super) failed: Vec<String>,
    pub(super) stopped: Vec<(&'a RunSpec, Status)>,
}

/// Trains `members` (unfinished runs of group `group`) through epoch `until`, under their
/// locks.
pub(super) fn turn<'a>(
    job: &Job,
    group: usize,
    members: &[&'a RunSpec],
    until: usize,
) -> Result<TurnEnd<'a>> {
    let mut end = TurnEnd::default();
    let (locks, mine) = lock(job, members, &mut end)?;
    if mine.is_empty() {
        return Ok(end);
    }
    say_turn(job, group, &mine);
    let results = guarded(|| train(&mine, job, until)).unwrap_or_else(|e| {
        let message = format!("{e:#}");
        let failed = |r: &&RunSpec| (r.id.clone(), Err(anyhow::anyhow!("{message}")));
        mine.iter().map(failed).collect::<TrialResults>()
    });
    for (id, result) in results {
        let Some(run) = mine.iter().copied().find(|r| r.id == id) else {
            continue;
        };
        match result {
            Ok(status) if status.state == State::Interrupted => end.stopped.push((run, status)),
            Ok(_) => end.trained = true,
            Err(e) => {
                record_failure(job, &job.dir.run(&id), e)?;
                end.failed.push(id);
            }
        }
    }
    drop(locks);
    Ok(end)
}

/// Locks each of `members` that no other process holds and that has no final state; the
/// locks and the runs they hold. A lock that cannot be taken (a folder or a link at its path)
/// fails that run only.
fn lock<'a>(
    job: &Job,
    members: &[&'a RunSpec],
    end: &mut TurnEnd,
) -> Result<(Vec<RunLock>, Vec<&'a RunSpec>)> {
    let mut locks = Vec::new();
    let mut mine = Vec::new();
    for &run in members {
        let place = format!("[{}/{}] {}", run.index + 1, job.planned, run.id);
        let run_dir = job.dir.run(&run.id);
        match run_dir.lock() {
            Ok(Acquired::Held(lock)) => locks.push(lock),
            Ok(Acquired::Busy(who)) => {
                eprintln!("{place}: being trained by {who}, skipped");
                continue;
            }
            Err(e) => {
                record_failure(job, &run_dir, e)?;
                end.failed.push(run.id.clone());
                continue;
            }
        }
        if let Some(s) = run_dir.final_status() {
            eprintln!("{place}: already {}, skipped", s.state);
            locks.pop();
            continue;
        }
        mine.push(run);
    }
    Ok((locks, mine))
}

/// The line that opens a turn: the run and its settings, or the group trained as one stack.
fn say_turn(job: &Job, group: usize, mine: &[&RunSpec]) {
    let first = mine[0];
    let t = &first.training;
    match mine {
        [run] => eprintln!(
            "[{}/{}] {} (lr {}, batch {}, {})",
            run.index + 1,
            job.planned,
            run.id,
            sig(t.lr, 4),
            t.batch_size,
            count(t.epochs, "epoch")
        ),
        _ => eprintln!(
            "[group {group}] {} trials of {} depth {} as one stack ({}, batch {})",
            mine.len(),
            first.kind.name(),
            first.depth,
            count(t.epochs, "epoch"),
            t.batch_size
        ),
    }
}

/// Says that the run of `run_dir` failed with `e`, and records it in the run's status.
fn record_failure(job: &Job, run_dir: &RunDir, e: anyhow::Error) -> Result<()> {
    let id = run_dir
        .path()
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    eprintln!("{id}: failed: {e:#}");
    run_dir.record_failure(job.backend, format!("{e:#}"))
}

/// Runs `train`, turning a panic (a GPU that fails mid-run, an assertion in a backend) into an
/// error, so that it fails this turn's runs and not the sweep.
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
    use crate::backend::BackendName;
    use crate::store::SweepDir;

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
