//! A sweep's cells: the runs that the report ranks against each other, those of one (kind,
//! depth) at one grid point (or in the whole sweep without a grid), across the trials and seeds
//! of a search, or the seeds of a sweep without one. Which runs keep their model under
//! `training.save_model = "best"` is decided per cell, so the cell's best run in the report's
//! tables is the one whose model is kept.

use std::collections::BTreeMap;

use highway_model::Kind;

use super::config::Config;
use super::plan::by_point;
use super::spec::RunSpec;

/// `config`'s plan and each of its cells, as the plan indices of its runs in the order the
/// report reads them (its grid point's order), which is the order that breaks ties in its
/// ranking. A run that two grid points give alike is in a cell of each.
pub(crate) fn cells(config: &Config) -> (Vec<RunSpec>, Vec<Vec<usize>>) {
    let (plan, points) = by_point(config);
    let mut cells = Vec::new();
    for (_, members) in points {
        let mut by_cell: BTreeMap<(Kind, usize), Vec<usize>> = BTreeMap::new();
        for i in members {
            by_cell
                .entry((plan[i].kind, plan[i].depth))
                .or_default()
                .push(i);
        }
        cells.extend(by_cell.into_values());
    }
    (plan, cells)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::config::apply_set;
    use serde_json::json;

    fn config(sets: &[&str]) -> Config {
        let mut v = json!({
            "name": "t",
            "dataset": {"name": "synthetic"},
            "model": {"kinds": ["plain", "highway"], "depths": [2, 5]},
            "training": {"epochs": 1, "lr": 0.1, "seeds": [0, 1]}
        });
        for s in sets {
            apply_set(&mut v, s).unwrap();
        }
        Config::from_value(v).unwrap()
    }

    #[test]
    fn a_cell_is_a_kind_and_depth_at_a_grid_point() {
        // Seeds of a sweep without a search: one cell per (kind, depth).
        let plain = cells(&config(&[])).1;
        assert_eq!(plain, vec![vec![0, 1], vec![2, 3], vec![4, 5], vec![6, 7]]);
        // Trials and seeds of a search are ranked together.
        let search = cells(&config(&[r#"search={"trials": 3, "seed": 1}"#])).1;
        assert_eq!(search.len(), 4);
        assert!(search.iter().all(|c| c.len() == 3 * 2));
        // A grid over highway's gate bias: plain's runs are the same at both points, and are
        // in a cell at each.
        let grid = config(&[r#"grid={"model.gate_bias": [-1, -3]}"#]);
        let (plan, grid_cells) = cells(&grid);
        assert_eq!(grid_cells.len(), 8);
        let plain_at = |c: &Vec<usize>| plan[c[0]].kind == Kind::Plain;
        let plains: Vec<&Vec<usize>> = grid_cells.iter().filter(|c| plain_at(c)).collect();
        assert_eq!(plains[0], plains[2], "plain's depth-2 cell at both points");
    }
}
