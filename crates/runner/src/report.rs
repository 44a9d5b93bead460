//! `highway report`: a sweep folder to `summary.csv`, `summary.md` and `figures/*.svg`.
//!
//! Everything is computed from the files the runs wrote (`curve.csv`, `status.json`), so a
//! report of a half-finished, diverged or failed sweep is honest about each run.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use highway_model::Kind;

use crate::plan::RunSpec;
use crate::plot::{shades, side_by_side, Chart, Series};
use crate::store::{self, CurveRow, Status, SweepDir, SweepFile};

/// One run of the plan and what it has written so far.
pub struct RunResult {
    pub spec: RunSpec,
    pub status: Option<Status>,
    pub curve: Vec<CurveRow>,
}

impl RunResult {
    /// done, diverged, failed, interrupted, running, or pending (never started).
    pub fn state(&self) -> &'static str {
        self.status.as_ref().map_or("pending", |s| s.state.as_str())
    }

    pub fn final_train_loss(&self) -> Option<f64> {
        self.curve.last().map(|r| r.train_loss)
    }

    pub fn best_train_loss(&self) -> Option<f64> {
        self.curve
            .iter()
            .map(|r| r.train_loss)
            .filter(|v| v.is_finite())
            .reduce(f64::min)
    }

    pub fn final_eval_acc(&self) -> Option<f64> {
        self.curve.last().map(|r| r.eval_acc)
    }
}

/// Reads the plan and every run's files.
pub fn collect(dir: &SweepDir) -> Result<(SweepFile, Vec<RunResult>)> {
    let sweep = dir.load()?;
    let runs = sweep
        .plan
        .iter()
        .map(|spec| {
            let run_dir = dir.run_dir(&spec.id);
            RunResult {
                spec: spec.clone(),
                status: dir.status(&spec.id),
                curve: store::read_curve(&run_dir.join("curve.csv")).unwrap_or_default(),
            }
        })
        .collect();
    Ok((sweep, runs))
}

/// Writes the summary files and figures; returns their paths.
pub fn write(root: &Path) -> Result<Vec<PathBuf>> {
    let dir = SweepDir::new(root.to_path_buf());
    dir.load()?;
    // Many `run --index` processes may report at once: one at a time, so that the last report
    // written reads every status written before it.
    let lock_path = root.join(".report.lock");
    let lock = std::fs::File::create(&lock_path)
        .with_context(|| format!("{}: cannot create", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("{}: cannot lock", lock_path.display()))?;
    let (sweep, runs) = collect(&dir)?;
    let mut written = Vec::new();
    let mut put = |name: &str, text: String| -> Result<()> {
        let path = root.join(name);
        store::write_atomic(&path, text.as_bytes())?;
        written.push(path);
        Ok(())
    };
    put("summary.csv", summary_csv(&runs))?;
    let mut md = summary_md(&sweep, &runs);
    if runs.iter().any(|r| r.spec.trial.is_some()) {
        md += &search_md(&runs);
        let (best, top) = search_charts(&runs);
        put("figures/search-best.svg", best.to_svg())?;
        put("figures/search-top10.svg", top.to_svg())?;
        put("figures/search.svg", side_by_side(&[best, top], 2))?;
    }
    put("summary.md", md)?;
    let charts = figures(&runs);
    let panels: Vec<Chart> = charts
        .iter()
        .filter(|(name, _)| name.starts_with("loss-depth-"))
        .map(|(_, c)| c.clone())
        .collect();
    for (name, chart) in charts {
        put(&format!("figures/{name}.svg"), chart.to_svg())?;
    }
    // The per-depth panels side by side, the shallowest first.
    put("figures/loss-by-depth.svg", side_by_side(&panels, 3))?;
    Ok(written)
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:e}")).unwrap_or_default()
}

pub const SUMMARY_HEADER: &str = "index,id,kind,depth,seed,trial,width,activation,gate_bias,lr,momentum,lr_decay,batch_size,state,epochs,final_train_loss,best_train_loss,final_eval_loss,final_eval_acc,wall_seconds,backend,message";

fn summary_csv(runs: &[RunResult]) -> String {
    let mut s = format!("{SUMMARY_HEADER}\n");
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
            r.state(),
            r.curve.len(),
            opt(r.final_train_loss()),
            opt(r.best_train_loss()),
            opt(r.curve.last().map(|c| c.eval_loss)),
            opt(r.final_eval_acc()),
            st.map(|s| format!("{:.1}", s.wall_seconds))
                .unwrap_or_default(),
            st.map(|s| s.backend.clone()).unwrap_or_default(),
            message
        );
    }
    s
}

/// Runs grouped by (kind, depth), in plan order of kinds and increasing depth.
fn groups(runs: &[RunResult]) -> BTreeMap<(Kind, usize), Vec<&RunResult>> {
    let mut g: BTreeMap<(Kind, usize), Vec<&RunResult>> = BTreeMap::new();
    for r in runs {
        g.entry((r.spec.kind, r.spec.depth)).or_default().push(r);
    }
    g
}

fn mean_std(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64;
    Some((m, var.sqrt()))
}

fn summary_md(sweep: &SweepFile, runs: &[RunResult]) -> String {
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
    s += "| kind | depth | runs | done | diverged | failed | unfinished | best final train loss | mean ± std final train loss | mean eval accuracy | mean time per run (s) |\n";
    s += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for ((kind, depth), rs) in groups(runs) {
        let count = |st: &str| rs.iter().filter(|r| r.state() == st).count();
        let done: Vec<&&RunResult> = rs.iter().filter(|r| r.state() == "done").collect();
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
            "| {} | {depth} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            kind.name(),
            rs.len(),
            done.len(),
            count("diverged"),
            count("failed"),
            rs.len() - done.len() - count("diverged") - count("failed"),
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
    let odd: Vec<&RunResult> = runs
        .iter()
        .filter(|r| !matches!(r.state(), "done"))
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
                "- `{}`: {} after {} epochs{}",
                r.spec.id,
                r.state(),
                r.curve.len(),
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

fn kind_hue(kind: Kind) -> f64 {
    match kind {
        Kind::Plain => 8.0,     // reds
        Kind::Highway => 215.0, // blues
    }
}

/// Per epoch: (epoch, mean, min, max) of the training loss over the group's runs.
fn loss_by_epoch(rs: &[&RunResult]) -> Vec<(f64, f64, f64, f64)> {
    let epochs = rs.iter().map(|r| r.curve.len()).max().unwrap_or(0);
    (0..epochs)
        .filter_map(|e| {
            let v: Vec<f64> = rs
                .iter()
                .filter_map(|r| r.curve.get(e))
                .map(|c| c.train_loss)
                .filter(|x| x.is_finite())
                .collect();
            let (m, _) = mean_std(&v)?;
            let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            Some(((e + 1) as f64, m, lo, hi))
        })
        .collect()
}

/// The distinct kinds and depths of a sweep, in order.
fn axes(g: &BTreeMap<(Kind, usize), Vec<&RunResult>>) -> (Vec<Kind>, Vec<usize>) {
    let mut kinds: Vec<Kind> = g.keys().map(|k| k.0).collect();
    let mut depths: Vec<usize> = g.keys().map(|k| k.1).collect();
    kinds.sort();
    kinds.dedup();
    depths.sort();
    depths.dedup();
    (kinds, depths)
}

/// One hue per kind, darker for deeper nets: the look of the paper's Figure 1.
fn depth_color(kind: Kind, depth: usize, depths: &[usize]) -> String {
    let i = depths.iter().position(|&d| d == depth).unwrap_or(0);
    shades(kind_hue(kind), depths.len())[i].clone()
}

fn figures(runs: &[RunResult]) -> Vec<(String, Chart)> {
    let g = groups(runs);
    let (kinds, depths) = axes(&g);
    let mut out = Vec::new();
    let band_series = |label: String, color: String, rs: &[&RunResult]| {
        let stats = loss_by_epoch(rs);
        let mut s = Series::line(label, color, stats.iter().map(|p| (p.0, p.1)).collect());
        s.band = stats.iter().map(|p| (p.0, p.2, p.3)).collect();
        s
    };
    // Figure 1's look: every (kind, depth), colours per kind, darker for deeper.
    let mut all = Vec::new();
    for &kind in &kinds {
        for &depth in &depths {
            if let Some(rs) = g.get(&(kind, depth)) {
                let color = depth_color(kind, depth, &depths);
                let mut s = band_series(format!("{} {depth}", kind.name()), color, rs);
                s.band.clear();
                all.push(s);
            }
        }
    }
    out.push((
        "loss-all-depths".to_string(),
        Chart {
            title: "Training loss, mean over seeds".into(),
            x_label: "epoch".into(),
            y_label: "training cross-entropy (log)".into(),
            log_y: true,
            series: all,
        },
    ));
    // One panel per depth: plain vs highway with the min–max band over seeds.
    for &depth in &depths {
        let series = kinds
            .iter()
            .filter_map(|&kind| {
                g.get(&(kind, depth)).map(|rs| {
                    band_series(
                        format!("{} (n={})", kind.name(), rs.len()),
                        shades(kind_hue(kind), 1)[0].clone(),
                        rs,
                    )
                })
            })
            .collect();
        out.push((
            format!("loss-depth-{depth}"),
            Chart {
                title: format!("Depth {depth}: training loss, mean and min–max over seeds"),
                x_label: "epoch".into(),
                y_label: "training cross-entropy (log)".into(),
                log_y: true,
                series,
            },
        ));
    }
    // The depth-trouble plot and accuracy vs depth.
    let by_depth = |value: &dyn Fn(&RunResult) -> Option<f64>| -> Vec<Series> {
        kinds
            .iter()
            .map(|&kind| {
                let mut points = Vec::new();
                let mut band = Vec::new();
                for &depth in &depths {
                    let v: Vec<f64> = g
                        .get(&(kind, depth))
                        .map(|rs| {
                            rs.iter()
                                .filter(|r| r.state() == "done")
                                .filter_map(|r| value(r))
                                .filter(|x| x.is_finite())
                                .collect()
                        })
                        .unwrap_or_default();
                    if let Some((m, _)) = mean_std(&v) {
                        points.push((depth as f64, m));
                        band.push((
                            depth as f64,
                            v.iter().cloned().fold(f64::INFINITY, f64::min),
                            v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                        ));
                    }
                }
                let mut s = Series::line(kind.name(), shades(kind_hue(kind), 1)[0].clone(), points);
                s.band = band;
                s.markers = true;
                s
            })
            .collect()
    };
    out.push((
        "final-loss-vs-depth".to_string(),
        Chart {
            title: "Final training loss vs depth (done runs; min–max over seeds)".into(),
            x_label: "depth (hidden layers)".into(),
            y_label: "final training cross-entropy (log)".into(),
            log_y: true,
            series: by_depth(&|r| r.final_train_loss()),
        },
    ));
    out.push((
        "accuracy-vs-depth".to_string(),
        Chart {
            title: "Final evaluation accuracy vs depth".into(),
            x_label: "depth (hidden layers)".into(),
            y_label: "accuracy".into(),
            log_y: false,
            series: by_depth(&|r| r.final_eval_acc()),
        },
    ));
    out
}

/// A group's finished runs, best first: ranked by the lowest training loss each reached (the
/// paper's "best"). Diverged and unfinished runs are left out.
fn ranked<'a>(rs: &[&'a RunResult]) -> Vec<&'a RunResult> {
    let mut done: Vec<&RunResult> = rs
        .iter()
        .copied()
        .filter(|r| r.state() == "done" && r.best_train_loss().is_some())
        .collect();
    done.sort_by(|a, b| {
        a.best_train_loss()
            .unwrap()
            .total_cmp(&b.best_train_loss().unwrap())
    });
    done
}

/// How many of the best runs the right-hand panel averages, as in the paper.
const TOP: usize = 10;

fn search_md(runs: &[RunResult]) -> String {
    let mut s = String::from(
        "\n## Random search\n\nPer (kind, depth): the trial that reached the lowest training loss, its \
         hyperparameters, and the mean final loss of the best 10 trials (diverged and unfinished \
         trials are not ranked).\n\n| kind | depth | trials done | diverged | best trial | best loss | lr | momentum | lr decay | activation | b_T | mean final loss, top 10 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n",
    );
    for ((kind, depth), rs) in groups(runs) {
        let ranked = ranked(&rs);
        let diverged = rs.iter().filter(|r| r.state() == "diverged").count();
        let top: Vec<f64> = ranked
            .iter()
            .take(TOP)
            .filter_map(|r| r.final_train_loss())
            .collect();
        let Some(best) = ranked.first() else {
            let _ = writeln!(
                s,
                "| {} | {depth} | 0 | {diverged} | – | – | | | | | | |",
                kind.name()
            );
            continue;
        };
        let (m, t) = (&best.spec.model, &best.spec.training);
        let _ = writeln!(
            s,
            "| {} | {depth} | {} | {diverged} | {} | {:.3e} | {:.3e} | {:.3} | {:.3} | {} | {} | {} |",
            kind.name(),
            ranked.len(),
            best.spec.trial.map(|t| t.to_string()).unwrap_or_default(),
            best.best_train_loss().unwrap_or(f64::NAN),
            t.lr,
            t.momentum,
            t.lr_decay,
            m.activation.name(),
            if kind == Kind::Highway { format!("{:.2}", m.gate_bias) } else { "–".into() },
            mean_std(&top).map(|(m, _)| format!("{m:.3e} (n={})", top.len())).unwrap_or("–".into()),
        );
    }
    s
}

/// The paper's two panels: the best trial's curve, and the mean curve of the top 10 trials,
/// per (kind, depth).
fn search_charts(runs: &[RunResult]) -> (Chart, Chart) {
    let g = groups(runs);
    let (_, depths) = axes(&g);
    let (mut best, mut top) = (Vec::new(), Vec::new());
    for ((kind, depth), rs) in &g {
        let color = depth_color(*kind, *depth, &depths);
        let ranked = ranked(rs);
        let label = format!("{} {depth}", kind.name());
        let curve = |r: &RunResult| {
            r.curve
                .iter()
                .map(|c| (c.epoch as f64, c.train_loss))
                .collect::<Vec<_>>()
        };
        best.push(Series::line(
            label.clone(),
            color.clone(),
            ranked.first().map(|r| curve(r)).unwrap_or_default(),
        ));
        let chosen: Vec<&RunResult> = ranked.into_iter().take(TOP).collect();
        let mean = loss_by_epoch(&chosen)
            .into_iter()
            .map(|p| (p.0, p.1))
            .collect();
        top.push(Series::line(label, color, mean));
    }
    let chart = |title: &str, series| Chart {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: "training cross-entropy (log)".into(),
        log_y: true,
        series,
    };
    (
        chart("Best trial per (kind, depth)", best),
        chart("Mean of the top 10 trials", top),
    )
}
