//! Progress of a cohort of trials: a bar on a terminal (epoch, step, loss, time left), and one
//! plain line per trial and epoch, so that cluster logs stay readable.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use highway_data::EvalSplit;
use indicatif::{ProgressBar, ProgressStyle};

use crate::sig_digits::sig;
use crate::store::CurveRow;

pub(super) struct RunProgress {
    bar: Option<ProgressBar>,
    epochs: usize,
    steps_per_epoch: usize,
    started: Instant,
}

impl RunProgress {
    /// Progress of the cohort `label` (a run, or "a and n more"): a bar on a terminal.
    pub(super) fn new(label: String, epochs: usize, steps_per_epoch: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new((epochs * steps_per_epoch) as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {msg} {elapsed_precise} (left {eta})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(label);
            bar.enable_steady_tick(Duration::from_millis(500));
            bar
        });
        Self {
            bar,
            epochs,
            steps_per_epoch,
            started: Instant::now(),
        }
    }

    /// After `step` (1-based) of `epoch` (1-based), with the latest loss read back.
    pub(super) fn step(&self, epoch: usize, step: usize, loss: f64) {
        if let Some(bar) = &self.bar {
            bar.set_position(((epoch - 1) * self.steps_per_epoch + step) as u64);
            bar.set_message(format!(
                "epoch {epoch}/{} step {step}/{} loss {loss:.4}",
                self.epochs, self.steps_per_epoch
            ));
        }
    }

    /// The line of trial `id`'s finished epoch.
    pub(super) fn epoch(&self, id: &str, row: &CurveRow, eval_kind: EvalSplit) {
        self.say(
            id,
            &format!(
                "epoch {}/{}: train loss {} acc {:.4} | {eval_kind} loss {} acc {:.4} | lr {} | {:.1}s (total {:.0}s)",
                row.epoch,
                self.epochs,
                sig(row.train_loss, 5),
                row.train_acc,
                sig(row.eval_loss, 4),
                row.eval_acc,
                sig(row.lr, 4),
                row.seconds,
                self.started.elapsed().as_secs_f64()
            ),
        );
    }

    /// A line of trial `id`'s, above the bar on a terminal.
    pub(super) fn say(&self, id: &str, message: &str) {
        let line = format!("{id} {message}");
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Takes the bar away: the cohort is over.
    pub(super) fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
