//! `highway report`: a sweep folder to `summary.csv`, `summary.md` and `figures/*.svg`, and the
//! Figure 1 panels of the sweep's own TensorBoard event file.
//!
//! Everything is computed from what the runs recorded, read through `store` (their curves,
//! statuses and layer statistics), so a report of a half-finished, diverged or failed sweep is
//! honest about each run. Figures are drawn with the crate's `svg` module.
//!
//! The sweep analyses of `highway analyze search|mechanism|halving|time` and the trial choice of
//! `highway plan --rerun` live here too, beside the ranking and thresholds they share with the
//! report's tables (`search::ranked`, `trainability::TRAINED`, …): one copy of each rule.

mod breakdown;
mod convergence;
mod figures;
mod first_epoch;
mod gradients;
mod grid;
mod halving;
mod halving_twin;
mod mechanism;
mod panels;
mod progress;
mod rank_correlation;
mod rerun;
mod results;
mod search;
mod seeds;
mod sensitivity;
mod setting_figures;
mod summary;
mod sweep_time;
mod trainability;
mod utc;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::store::{self, Panels, SweepDir, SweepFile};
use crate::svg::plot::{side_by_side, Chart};
use figures::{figures, Figure};
use results::{collect, RunResult};
use search::{search_charts, search_md};
use summary::{summary_csv, summary_md};

pub(crate) use breakdown::breakdown;
pub(crate) use halving_twin::halving_against;
pub(crate) use mechanism::mechanism;
pub(crate) use progress::progress;
pub(crate) use rerun::{best_trials_of, BestTrials};
pub use summary::SUMMARY_HEADER;
pub(crate) use sweep_time::sweep_time;

/// Writes the summary files and figures; returns their paths.
pub fn write(root: &Path) -> Result<Vec<PathBuf>> {
    // Never given up: `None` cannot come back.
    Ok(write_unless(root, &|| false)?.unwrap_or_default())
}

/// Writes the figures of `runs` (a sweep's, or one grid point's) into `out`; returns the
/// sections of `summary.md` after its first table (a search's, the layers').
fn write_cells(
    dir: &SweepDir,
    out: &Path,
    sweep: &SweepFile,
    runs: &[RunResult],
    put: &mut dyn FnMut(PathBuf, String) -> Result<()>,
) -> Result<String> {
    let mut put = |name: &str, text: String| put(out.join(name), text);
    let mut md = String::new();
    if runs.iter().any(|r| r.spec.trial.is_some()) {
        let c = &sweep.config;
        let halving = c.search.as_ref().and_then(|s| s.halving.as_ref());
        md += &search_md(runs);
        md += &trainability::trainability_md(runs, halving.is_some());
        md += &convergence::convergence_md(runs);
        md += &sensitivity::gate_bias_md(runs);
        md += &seeds::seeds_md(runs);
        if let Some(h) = halving {
            md += &halving::halving_md(h, c.training.epochs, runs);
        }
        let (best, top) = search_charts(runs, halving.is_some());
        put("figures/search-best.svg", best.to_svg())?;
        put("figures/search-top10.svg", top.to_svg())?;
        put("figures/search.svg", side_by_side(&[best, top], 2))?;
        for (name, svg) in setting_figures::setting_figures(sweep, runs, halving.is_some()) {
            put(&format!("figures/{name}.svg"), svg)?;
        }
    }
    let profiles = gradients::profiles(dir, runs);
    md += &gradients::gradients_md(&profiles);
    for (name, svg) in gradients::gradient_figures(&profiles) {
        put(&format!("figures/{name}.svg"), svg)?;
    }
    let charts = figures(runs);
    let panels: Vec<Chart> = charts
        .iter()
        .filter(|(figure, _)| matches!(figure, Figure::LossAtDepth(_)))
        .map(|(_, c)| c.clone())
        .collect();
    for (figure, chart) in charts {
        put(&format!("figures/{}.svg", figure.stem()), chart.to_svg())?;
    }
    // The per-depth panels side by side, the shallowest first.
    put("figures/loss-by-depth.svg", side_by_side(&panels, 2))?;
    Ok(md)
}

/// Whether the sweep's search trains its trials with successive halving.
fn halving(sweep: &SweepFile) -> bool {
    let search = sweep.config.search.as_ref();
    search.is_some_and(|s| s.halving.is_some())
}

/// Writes the summary files and figures, and the panels of the sweep's event file, unless
/// `give_up` says so (a stop request) while another process writes the sweep's report or
/// prepares the sweep; their paths, or `None` when given up.
pub(crate) fn write_unless(
    root: &Path,
    give_up: &dyn Fn() -> bool,
) -> Result<Option<Vec<PathBuf>>> {
    let dir = SweepDir::new(root.to_path_buf());
    dir.load()?;
    // Many `run --index` processes may report at once: one at a time.
    let Some(_lock) = dir.report_lock(give_up)? else {
        return Ok(None);
    };
    let (sweep, runs) = collect(&dir)?;
    let mut written = Vec::new();
    let mut put = |path: PathBuf, text: String| -> Result<()> {
        store::write_atomic(&path, text.as_bytes())?;
        written.push(path);
        Ok(())
    };
    let mut panels = Panels::default();
    if sweep.config.grid.is_empty() {
        put(root.join("summary.csv"), summary_csv(&runs))?;
        let md = write_cells(&dir, root, &sweep, &runs, &mut put)?;
        put(root.join("summary.md"), summary_md(&sweep, &runs) + &md)?;
        panels = panels::panels(&runs, halving(&sweep), None);
    } else {
        let points = grid::points(&sweep, &runs);
        put(root.join("summary.csv"), summary_csv(&runs))?;
        let md = summary::grid_summary_md(&sweep, &points, &runs);
        put(root.join("summary.md"), md)?;
        for (point, point_runs) in &points {
            let out = root.join("points").join(point.tag());
            let point_sweep = grid::sweep_at(&sweep, point);
            put(out.join("summary.csv"), summary_csv(point_runs))?;
            let md = write_cells(&dir, &out, &point_sweep, point_runs, &mut put)?;
            let head = summary_md(&point_sweep, point_runs);
            put(out.join("summary.md"), head + &md)?;
            let at = panels::panels(point_runs, halving(&point_sweep), Some(point));
            panels.curves.extend(at.curves);
            panels.layout.extend(at.layout);
        }
    }
    match dir.write_panels(&panels, give_up)? {
        Some(path) => written.push(path),
        None => return Ok(None),
    }
    Ok(Some(written))
}
