//! `summary.csv` (one row per run) and `summary.md` (one row per kind and depth, and the runs
//! that are not done).

use std::fmt::Write;

use super::results::{groups, mean_std, RunResult};
use crate::experiment::GridPoint;
use crate::store::{State, SweepFile};
use crate::words::count;

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:e}")).unwrap_or_default()
}

/// The columns of `summary.csv`.
pub const SUMMARY_HEADER: &str = "index,id,kind,depth,seed,trial,width,activation,gate_bias,lr,momentum,lr_decay,batch_size,state,epochs,final_train_loss,best_train_loss,final_eval_loss,final_eval_acc,wall_seconds,backend,message";

/// One row per run; a sweep with Adam's runs has their optimiser in a column of its own (SGD's
/// sweeps keep the columns they had), and a grid sweep's rows end with the grid point each run
/// was planned at.
pub(super) fn summary_csv(runs: &[RunResult]) -> String {
    let grid = runs.iter().any(|r| r.spec.point.is_some());
    let adam = runs.iter().any(|r| !r.spec.training.optimizer.is_sgd());
    let mut s = SUMMARY_HEADER.to_string();
    if adam {
        s += ",optimizer";
    }
    if grid {
        s += ",point";
    }
    s.push('\n');
    for r in runs {
        let (spec, st) = (&r.spec, r.status.as_ref());
        let message = st
            .and_then(|s| s.message.clone())
            .unwrap_or_default()
            .replace([',', '\n', '"'], " ");
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            spec.index,
            spec.id,
            spec.kind.name(),
            spec.depth,
            spec.seed,
            spec.trial.map(|t| t.to_string()).unwrap_or_default(),
            spec.model.width,
            spec.model.activation.name(),
            spec.model.gate_bias,
            spec.training.lr,
            spec.training.momentum,
            spec.training.lr_decay,
            spec.training.batch_size,
            r.state_name(),
            r.curve.len(),
            opt(r.final_train_loss()),
            opt(r.best_train_loss()),
            opt(r.curve.last().map(|c| c.eval_loss)),
            opt(r.final_eval_acc()),
            st.map(|s| format!("{:.1}", s.wall_seconds))
                .unwrap_or_default(),
            st.map(|s| s.backends()).unwrap_or_default(),
            message
        );
        if adam {
            s.pop();
            let _ = writeln!(s, ",{}", r.spec.training.optimizer.name());
        }
        if let Some(point) = r.spec.point.as_ref().filter(|_| grid) {
            s.pop();
            let _ = writeln!(
                s,
                ",{}",
                point.label().replace(", ", "; ").replace([',', '"'], " ")
            );
        }
    }
    s
}

pub(super) fn summary_md(sweep: &SweepFile, runs: &[RunResult]) -> String {
    let mut s = intro(sweep);
    s += &format!("{TABLE_HEAD}\n{TABLE_RULE}\n");
    s += &rows(runs, None);
    s + &runs_not_done(runs)
}

/// `summary.md` of a grid sweep: one table of every point's (kind, depth) cells, each point
/// linked to its own report in `points/<tag>/`.
pub(super) fn grid_summary_md(
    sweep: &SweepFile,
    points: &[(GridPoint, Vec<RunResult>)],
    all: &[RunResult],
) -> String {
    let mut s = intro(sweep);
    let axes: Vec<String> = (sweep.config.grid.axes())
        .map(|(field, values)| {
            let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            format!("`{field}` ({})", values.join(", "))
        })
        .collect();
    let _ = writeln!(
        s,
        "A grid over {}: {} points, each planned as a config of its own. A run that two points \
         give alike (a net without the setting a field varies) is trained once and counted at \
         each. Each point's own report, with its figures, is in `points/<point>/`.\n",
        axes.join(" and "),
        points.len()
    );
    s += &format!("| grid point {TABLE_HEAD}\n|---{TABLE_RULE}\n");
    for (point, runs) in points {
        let link = format!("[{}](points/{}/summary.md)", point.label(), point.tag());
        s += &rows(runs, Some(&link));
    }
    s + &runs_not_done(all)
}

/// The title, the dataset and training line, and the notes.
fn intro(sweep: &SweepFile) -> String {
    let c = &sweep.config;
    let mut s = format!("# {}\n\n", c.name);
    let _ = writeln!(
        s,
        "Dataset `{}`, {} epochs, batch {}, backend `{}`. Final training loss is the mean cross-entropy \
         over the last epoch; statistics over seeds use finished (done) runs only.\n",
        c.dataset.name, c.training.epochs, c.training.batch_size, c.backend
    );
    if !c.notes.is_empty() {
        let _ = writeln!(s, "{}\n", c.notes);
    }
    s
}

/// The columns of the per-(kind, depth) table, and its alignment row.
const TABLE_HEAD: &str = "| kind | depth | runs | done | diverged | stopped | failed | unfinished | best final train loss | mean ± std final train loss | mean eval accuracy | mean time per run (s) |";
const TABLE_RULE: &str = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

/// One table row per (kind, depth) of `runs`, each led by `lead` (a grid point) when given.
fn rows(runs: &[RunResult], lead: Option<&str>) -> String {
    let mut s = String::new();
    let lead = lead.map(|l| format!("| {l} ")).unwrap_or_default();
    for ((kind, depth), rs) in groups(runs) {
        let count = |st: State| rs.iter().filter(|r| r.state() == Some(st)).count();
        let done: Vec<&&RunResult> = rs.iter().filter(|r| r.is_done()).collect();
        let finals: Vec<f64> = done
            .iter()
            .filter_map(|r| r.final_train_loss())
            .filter(|v| v.is_finite())
            .collect();
        let accs: Vec<f64> = done.iter().filter_map(|r| r.final_eval_acc()).collect();
        let times: Vec<f64> = done
            .iter()
            .filter_map(|r| r.status.as_ref().map(|s| s.wall_seconds))
            .collect();
        let best = finals.iter().cloned().reduce(f64::min);
        let _ = writeln!(
            s,
            "{lead}| {} | {depth} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            kind.name(),
            rs.len(),
            done.len(),
            count(State::Diverged),
            count(State::Stopped),
            count(State::Failed),
            rs.len()
                - done.len()
                - count(State::Diverged)
                - count(State::Stopped)
                - count(State::Failed),
            best.map(|b| format!("{b:.3e}")).unwrap_or("–".into()),
            mean_std(&finals)
                .map(|(m, sd)| format!("{m:.3e} ± {sd:.1e}"))
                .unwrap_or("–".into()),
            mean_std(&accs)
                .map(|(m, _)| format!("{:.2}%", 100.0 * m))
                .unwrap_or("–".into()),
            mean_std(&times)
                .map(|(m, _)| format!("{m:.0}"))
                .unwrap_or("–".into()),
        );
    }
    s
}

/// The "Runs not done" section: each run that is not done, and why (trials stopped by
/// successive halving have their own section).
fn runs_not_done(runs: &[RunResult]) -> String {
    let mut s = String::new();
    let odd: Vec<&RunResult> = runs
        .iter()
        .filter(|r| !r.is_done() && r.state() != Some(State::Stopped))
        .collect();
    if !odd.is_empty() {
        s += "\n## Runs not done\n\n";
        for r in odd {
            let msg = r
                .status
                .as_ref()
                .and_then(|s| s.message.clone())
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "- `{}`: {} after {}{}",
                r.spec.id,
                r.state_name(),
                count(r.curve.len(), "epoch"),
                if msg.is_empty() {
                    String::new()
                } else {
                    format!(" — {msg}")
                }
            );
        }
    }
    s
}
