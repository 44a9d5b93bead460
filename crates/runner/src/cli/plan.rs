//! `highway plan`: the resolved config, every field with the value it takes, and one line per
//! run with every setting a search draws; or the groups of trials trained as one stack.

use anyhow::Result;

use super::args::RunArgs;
use super::out::outln;
use crate::experiment::{groups, plan, RunSpec};
use crate::sig_digits::sig;
use crate::words::count;

/// `highway plan`: the resolved config and one line per run, or both as one JSON object;
/// with `groups`, the groups of trials trained as one stack.
pub(super) fn print_plan(args: RunArgs, json: bool, groups: bool) -> Result<()> {
    let opts = args.sweep_options()?;
    let config = &opts.config;
    let runs = plan(config);
    if groups {
        return print_groups(&runs, opts.batch_trials(), json);
    }
    let resolved = config.resolved()?;
    if json {
        let both = serde_json::json!({ "config": resolved, "runs": runs });
        outln!("{}", serde_json::to_string_pretty(&both)?);
        return Ok(());
    }
    outln!("{}", serde_json::to_string_pretty(&resolved)?);
    match config.grid.size() {
        Some(points) if !config.grid.is_empty() => outln!(
            "\n{} over {points} grid points (a run two points give alike is listed once, at \
             the first):",
            count(runs.len(), "run")
        ),
        _ => outln!("\n{}:", count(runs.len(), "run")),
    }
    for r in &runs {
        outln!("{}", run_line(r));
    }
    Ok(())
}

/// A run's line: its index, id, net, seed and trial, and every setting a search may draw
/// (learning rate, momentum, decay, activation, and `b_T` where the net has gates), each to
/// four significant digits.
fn run_line(r: &RunSpec) -> String {
    let t = &r.training;
    let trial = r
        .trial
        .map(|t| format!("  trial {t:>3}"))
        .unwrap_or_default();
    let momentum = match t.optimizer.is_sgd() {
        true => format!("  momentum {:<6}", sig(t.momentum, 4)),
        false => format!("  {:<15}", t.optimizer.name()),
    };
    let gate = match r.kind {
        highway_model::Kind::Highway => format!("  b_T {}", sig(r.model.gate_bias.into(), 4)),
        _ => String::new(),
    };
    format!(
        "{:>4}  {:<36} {:<8} depth {:>4}  width {:>3}  seed {:>3}{trial}  {}  lr {:<9}{momentum}  \
         decay {:<6}  {:<4}{gate}",
        r.index,
        r.id,
        r.kind.name(),
        r.depth,
        r.model.width,
        r.seed,
        count(t.epochs, "epoch"),
        sig(t.lr, 4),
        sig(t.lr_decay, 4),
        r.model.activation.name(),
    )
}

/// `highway plan --groups`: one line per group (its number, size, cell and runs), or JSON.
fn print_groups(runs: &[RunSpec], batch_trials: usize, json: bool) -> Result<()> {
    let all = groups(runs, batch_trials);
    if json {
        outln!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    outln!(
        "{} of at most {} (highway run CONFIG --group G):",
        count(all.len(), "group"),
        count(batch_trials, "trial")
    );
    for g in &all {
        let first = &runs[g.runs[0]];
        outln!(
            "{:>4}  {:>3} trials  {:<8} depth {:>4}  seed {:>3}  runs {}",
            g.index,
            g.runs.len(),
            first.kind.name(),
            first.depth,
            first.seed,
            plan_indices(&g.runs)
        );
    }
    Ok(())
}

/// Plan indices (ascending) as a range where they are consecutive (`3..=7`), else listed
/// (`0, 2, 4, 6`): a group of a grid's interleaved runs is not a range.
fn plan_indices(runs: &[usize]) -> String {
    match runs {
        [first, .., last] if last - first + 1 == runs.len() => format!("{first}..={last}"),
        _ => runs
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::plan_indices;

    #[test]
    fn a_group_is_a_range_only_where_its_runs_are_consecutive() {
        assert_eq!(plan_indices(&[3, 4, 5, 6, 7]), "3..=7");
        assert_eq!(plan_indices(&[0, 2, 4, 6]), "0, 2, 4, 6");
        assert_eq!(plan_indices(&[5]), "5");
    }
}
