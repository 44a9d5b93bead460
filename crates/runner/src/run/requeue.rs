//! Requeueing a SLURM job that was warned of its end (`#SBATCH --signal=B:USR1@…`), as
//! Lightning's `SLURMEnvironment(auto_requeue=True)` does: after the checkpoint is written,
//! `scontrol requeue` puts the job (or the one task of a job array) back in the queue, and when
//! it starts again `highway run` continues from the checkpoint.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::signals::Stop;

/// The job to requeue: `<array job>_<task>` for a task of a job array, else the job id; `None`
/// outside SLURM.
pub(super) fn slurm_job() -> Option<String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
        (Some(array), Some(task)) => Some(format!("{array}_{task}")),
        _ => var("SLURM_JOB_ID"),
    }
}

/// How long `scontrol` may take to answer: it waits on `slurmctld`, which a busy cluster can
/// keep busy for tens of seconds.
pub(super) const SCONTROL_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `scontrol requeue JOB`, giving up after [`SCONTROL_TIMEOUT`] or on a stop signal that
/// arrives while it waits (the scheduler's SIGTERM after its warning).
pub(super) fn requeue(job: &str, stop: &Stop) -> Result<()> {
    let mut child = Command::new("scontrol")
        .args(["requeue", job])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run scontrol")?;
    let signals = stop.count();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for scontrol")? {
            break status;
        }
        let why = if stop.count() > signals {
            "a later stop signal arrived"
        } else if start.elapsed() >= SCONTROL_TIMEOUT {
            "no answer within the time allowed"
        } else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        let _ = child.kill();
        let _ = child.wait();
        bail!(
            "scontrol requeue {job}: given up after {:.0} s: {why}",
            start.elapsed().as_secs_f64()
        );
    };
    if !status.success() {
        let mut err = String::new();
        if let Some(stderr) = child.stderr.as_mut() {
            let _ = stderr.take(4096).read_to_string(&mut err);
        }
        bail!("scontrol requeue {job}: {}", err.trim());
    }
    Ok(())
}
