//! A grid sweep as the report sees it: each point's runs, reported as a sweep of their own in
//! `points/<tag>/`, and the point's config for its title and settings.

use std::collections::HashMap;

use super::results::RunResult;
use crate::experiment::{by_point, GridPoint};
use crate::store::SweepFile;

/// Each grid point and its runs, in the plan's order of points; a run that several points
/// give alike is in each of them.
pub(super) fn points(sweep: &SweepFile, runs: &[RunResult]) -> Vec<(GridPoint, Vec<RunResult>)> {
    let by_id: HashMap<&str, &RunResult> = runs.iter().map(|r| (r.spec.id.as_str(), r)).collect();
    let (plan, points) = by_point(&sweep.config);
    points
        .into_iter()
        .filter_map(|(point, members)| {
            let runs = members
                .iter()
                .filter_map(|&i| by_id.get(plan[i].id.as_str()).map(|r| (*r).clone()))
                .collect();
            Some((point?, runs))
        })
        .collect()
}

/// The sweep as one point of its grid: the point's config, named for the point.
pub(super) fn sweep_at(sweep: &SweepFile, point: &GridPoint) -> SweepFile {
    let config = sweep
        .config
        .grid_points()
        .expect("a stored config is valid")
        .into_iter()
        .find(|(p, _)| p.as_ref() == Some(point))
        .map(|(_, c)| c)
        .unwrap_or_else(|| sweep.config.clone());
    let mut at = SweepFile {
        config,
        plan: Vec::new(),
        harness_version: sweep.harness_version.clone(),
    };
    at.config.name = format!("{} at {}", sweep.config.name, point.label());
    at
}
