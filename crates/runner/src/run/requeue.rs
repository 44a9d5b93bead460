//! Requeueing a SLURM job that was warned of its end (`#SBATCH --signal=B:USR1@…`), as
//! Lightning's `SLURMEnvironment(auto_requeue=True)` does: after the checkpoint is written,
//! `scontrol requeue` puts the job (or the one task of a job array) back in the queue, and when
//! it starts again `highway run` continues from the checkpoint.

use std::process::Command;

use anyhow::{bail, Context, Result};

/// The job to requeue: `<array job>_<task>` for a task of a job array, else the job id; `None`
/// outside SLURM.
pub(super) fn slurm_job() -> Option<String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
        (Some(array), Some(task)) => Some(format!("{array}_{task}")),
        _ => var("SLURM_JOB_ID"),
    }
}

/// Runs `scontrol requeue JOB`.
pub(super) fn requeue(job: &str) -> Result<()> {
    let out = Command::new("scontrol")
        .args(["requeue", job])
        .output()
        .context("cannot run scontrol")?;
    if !out.status.success() {
        bail!(
            "scontrol requeue {job}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
