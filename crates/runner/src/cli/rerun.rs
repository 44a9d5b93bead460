//! `highway plan --rerun SWEEP_DIR`: the config that trains the best trials of a finished
//! random search again, with more seeds or for more epochs. It is the search's own config
//! (`sweep.json`) with `search.rerun` listing the chosen trials, so that every run keeps the
//! setting the search drew for it; the trials are chosen by the report's ranking.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::out::outln;
use crate::experiment::{Config, Rerun, RunSpec};
use crate::report::{self, BestTrials};
use crate::store::SweepDir;

#[derive(clap::Args)]
pub(super) struct RerunArgs {
    /// Instead of a config: a finished random search's folder. Prints the config (JSON) that
    /// trains its best trials per (kind, depth) again, named `<name>-seeds`.
    #[arg(long, value_name = "SWEEP_DIR", conflicts_with_all = ["config", "json", "groups"])]
    pub(super) rerun: Option<PathBuf>,
    /// With --rerun: how many trials per (kind, depth), best first as the report ranks them
    /// (lowest training loss reached, done runs only) [default: 5].
    #[arg(long)]
    top: Option<usize>,
    /// With --rerun: the seeds each chosen trial is trained with [default: 0,1,2].
    #[arg(long, value_delimiter = ',')]
    seeds: Option<Vec<u64>>,
    /// With --rerun: copy the chosen trials' finished runs of these seeds into the new sweep's
    /// folder first (same ids there), so that the re-run skips them instead of training them
    /// again.
    #[arg(long, conflicts_with = "epochs")]
    adopt: bool,
    /// With --rerun: train the chosen settings for this many epochs instead of the search's
    /// (new runs, so nothing can be adopted).
    #[arg(long)]
    epochs: Option<usize>,
    /// With --rerun: only these depths.
    #[arg(long, value_delimiter = ',')]
    depths: Option<Vec<usize>>,
    /// With --rerun: the new sweep's name (default: the search's, with `-seeds`).
    #[arg(long)]
    name: Option<String>,
}

impl RerunArgs {
    /// An error when an option of --rerun is given without it (clap's `requires` cannot say
    /// so: --rerun conflicts with the config, and a present config excuses its absence).
    pub(super) fn check_alone(&self) -> Result<()> {
        let given = self.top.is_some()
            || self.seeds.is_some()
            || self.adopt
            || self.epochs.is_some()
            || self.depths.is_some()
            || self.name.is_some();
        if given && self.rerun.is_none() {
            bail!(
                "--top, --seeds, --adopt, --epochs, --depths and --name go with --rerun SWEEP_DIR"
            );
        }
        Ok(())
    }
}

/// Prints the re-run config of the search in `dir`, adopting its finished runs when asked.
pub(super) fn print_rerun(args: RerunArgs, dir: &Path) -> Result<()> {
    let top = args.top.unwrap_or(5);
    let seeds = args.seeds.unwrap_or_else(|| vec![0, 1, 2]);
    let (sweep, best) = report::best_trials_of(dir, top)?;
    let mut config = sweep.config;
    if config.search.is_none() {
        bail!("{}: not a random search (no search section)", dir.display());
    }
    if let Some(depths) = args.depths {
        config.model.depths = depths;
    }
    let mut rerun = Vec::new();
    let mut chosen: Vec<&RunSpec> = Vec::new();
    for &kind in &config.model.kinds {
        for &depth in &config.model.depths {
            if let Some(BestTrials { trials, runs }) = best.get(&(kind, depth)) {
                let trials = trials.clone();
                rerun.push(Rerun {
                    kind,
                    depth,
                    trials,
                });
                chosen.extend(runs);
            }
        }
    }
    let searched = config.name.clone();
    let epochs = args.epochs.unwrap_or(config.training.epochs);
    let best = match top {
        1 => "The best trial".to_string(),
        n => format!("The {n} best trials"),
    };
    config.name = args.name.unwrap_or_else(|| format!("{searched}-seeds"));
    config.notes = format!(
        "{best} per (kind, depth) of the search '{searched}', each run again with seeds {:?} \
         for {epochs} epochs (highway plan --rerun). The search's own notes: {}",
        seeds, config.notes
    );
    config.training.seeds = seeds;
    config.training.epochs = epochs;
    if let Some(search) = config.search.as_mut() {
        search.rerun = rerun;
    }
    if args.adopt {
        adopt(dir, &config, &chosen)?;
    }
    outln!("{}", serde_json::to_string_pretty(&config)?);
    Ok(())
}

/// Copies the `chosen` runs of the search in `dir` whose seed the re-run trains into the
/// re-run's folder, unless there already; says how many on standard error.
fn adopt(dir: &Path, config: &Config, chosen: &[&RunSpec]) -> Result<()> {
    let (from, to) = (
        SweepDir::new(dir.to_path_buf()),
        SweepDir::new(config.output.join(&config.name)),
    );
    let runs = to.root.join("runs");
    fs::create_dir_all(&runs).with_context(|| format!("{}: cannot create", runs.display()))?;
    let mut adopted = 0;
    for spec in chosen
        .iter()
        .filter(|s| config.training.seeds.contains(&s.seed))
    {
        let target = to.run(&spec.id);
        if target.path().symlink_metadata().is_ok() {
            continue;
        }
        // Copied under another name first: a copy cut short is never taken for a run.
        let partial = runs.join(format!("{}.adopting", spec.id));
        if partial.symlink_metadata().is_ok() {
            fs::remove_dir_all(&partial)
                .with_context(|| format!("{}: cannot remove", partial.display()))?;
        }
        copy_dir(from.run(&spec.id).path(), &partial)?;
        fs::rename(&partial, target.path())
            .with_context(|| format!("{}: cannot rename", partial.display()))?;
        adopted += 1;
    }
    eprintln!("adopted {adopted} finished runs into {}", runs.display());
    Ok(())
}

/// Copies the folder `from` to `to`: its regular files and folders (links are left out).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("{}: cannot create", to.display()))?;
    let entries = fs::read_dir(from).with_context(|| format!("{}: cannot read", from.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("{}: cannot read", from.display()))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry
            .file_type()
            .with_context(|| format!("{}: cannot read", src.display()))?;
        if kind.is_dir() {
            copy_dir(&src, &dst)?;
        } else if kind.is_file() {
            fs::copy(&src, &dst).with_context(|| format!("{}: cannot copy", src.display()))?;
        }
    }
    Ok(())
}
