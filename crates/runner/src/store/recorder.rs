//! What one run writes while it trains, behind one type: the training loop says where it is
//! (start, the end of an epoch, a checkpoint, the end of the run) and [`RunRecorder`] keeps
//! every file of the run folder in step with it: `spec.json`, `status.json`, `curve.csv`,
//! `layers.csv`, the event file, the checkpoint and the model file.
//!
//! A recorder owns one run folder and nothing else, so one loop can drive several at once (K
//! trials trained as one model write K run folders).
//!
//! Every file is rewritten whole and atomically after each epoch (the event file is appended
//! to), so a kill at any moment leaves the files of the last finished epoch. A run that
//! continues from a checkpoint keeps the records of the epochs before it and writes the later
//! ones again.

use std::time::Instant;

use anyhow::{Context, Result};
use burn::module::Module;
use highway_model::{LayerStats, Mlp};

use super::checkpoint::{self, Checkpoint};
use super::curve::{curve_csv, CurveRow};
use super::run_dir::{CURVE, SPEC, STATUS};
use super::run_events::RunEvents;
use super::{files, kept_models, layers, model_file, running, RunDir, Spec, State, Status};
use crate::backend::BackendName;
use crate::experiment::SaveModel;

/// What one epoch produced: its curve row and, when measured, the layers' statistics.
#[derive(Debug, Clone)]
pub struct EpochRecord {
    pub row: CurveRow,
    pub layers: Option<Vec<LayerStats>>,
}

/// The records of one run in training.
pub struct RunRecorder {
    dir: RunDir,
    spec: Spec,
    status: Status,
    curve: Vec<CurveRow>,
    /// The text of `layers.csv`, header included.
    layers: String,
    events: RunEvents,
    /// Training seconds of earlier attempts (a resumed run) and of this one up to `since`,
    /// from when the time is counted at `share`.
    earlier_seconds: f64,
    since: Instant,
    /// How many runs share the process's time from `since` on (the trials of a stack): each
    /// is charged its share.
    share: f64,
    /// Counts the run as in training in this process, until the recorder is dropped.
    _training: running::Training,
    /// Whether a wait for the sweep's models lock ends now (a stop request).
    give_up: Box<dyn Fn() -> bool>,
}

impl RunRecorder {
    /// Starts recording the run `spec` into `dir` on `backend`: writes `spec.json` and a
    /// running status, and returns the run's checkpoint if it has one. A run that continues
    /// from a checkpoint keeps the curve, layer statistics and events of the epochs before it;
    /// one that starts afresh keeps nothing of an earlier attempt.
    pub fn start(
        dir: RunDir,
        spec: Spec,
        backend: BackendName,
    ) -> Result<(RunRecorder, Option<Checkpoint>)> {
        let started = Instant::now();
        // The data the run saw before this attempt, as its earlier spec says (read before the
        // spec is written again): a checkpoint of the format before today's does not say.
        let earlier = dir.spec().ok().flatten();
        let checkpoint = checkpoint::load(dir.path(), &spec, earlier.as_ref().map(|s| &s.data))?;
        files::write_json(&dir.file(SPEC), &serde_json::to_value(&spec)?)?;
        let position = checkpoint.as_ref().map(|c| &c.position);
        // What came before the checkpoint: its epochs' rows, the statistics at
        // initialisation (epoch 0) included.
        let keep_before = position.map_or(0, |p| p.epoch);
        let mut status = Status::starting(backend);
        if let (Some(_), Some(earlier)) = (position, dir.status()) {
            status.continue_from(&earlier);
        }
        let mut curve = dir.curve();
        curve.retain(|r| r.epoch < keep_before);
        if !curve.iter().map(|r| r.epoch).eq(1..keep_before.max(1)) {
            anyhow::bail!(
                "{}: the checkpoint stands at epoch {keep_before}, but {} holds the rows of \
                 epochs {:?}, not those of every epoch before it; refusing to resume (delete \
                 the checkpoint to train the run from epoch 1)",
                dir.path().display(),
                CURVE,
                curve.iter().map(|r| r.epoch).collect::<Vec<_>>()
            );
        }
        let vouched = match checkpoint::vouched(dir.path(), spec.id()) {
            checkpoint::Vouched::Losses(losses) if position.is_some() => Some(losses),
            _ => None,
        };
        if let Some(why) = vouched.and_then(|losses| checkpoint::unvouched(&curve, &losses)) {
            anyhow::bail!(
                "{}: {why}; refusing to resume (restore the file, or delete the run's folder to \
                 train it again)",
                dir.file(CURVE).display()
            );
        }
        let earlier_seconds = position.map_or(0.0, |p| p.wall_seconds);
        for row in &curve {
            status.record_epoch(row, earlier_seconds);
        }
        let best = curve
            .iter()
            .map(|r| r.train_loss)
            .fold(f64::INFINITY, f64::min);
        let events = RunEvents::open(dir.path(), &spec.run, keep_before, best)?;
        let recorder = RunRecorder {
            _training: running::training(&dir.file(STATUS)),
            layers: layers::earlier(dir.path(), keep_before)?,
            dir,
            spec,
            status,
            curve,
            events,
            earlier_seconds,
            since: started,
            share: 1.0,
            give_up: Box::new(|| false),
        };
        recorder.dir.write_status(&recorder.status)?;
        Ok((recorder, checkpoint))
    }

    /// The run's spec.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Seconds of training so far, over every attempt of the run.
    pub fn wall_seconds(&self) -> f64 {
        self.earlier_seconds + self.since.elapsed().as_secs_f64() / self.share
    }

    /// From now on, the run shares the process's time with `runs − 1` others (the trials of
    /// a stack) and is charged `1 / runs` of it: its `seconds` and `wall_seconds` are its share.
    pub fn share_time(&mut self, runs: usize) {
        self.earlier_seconds = self.wall_seconds();
        self.since = Instant::now();
        self.share = runs.max(1) as f64;
    }

    /// From now on, when the run finishes and waits for the sweep's models lock to decide
    /// whether it keeps its model (`kept_models.rs`), the wait ends as soon as `give_up` says
    /// so (a stop request), and the run keeps its model.
    pub fn give_up_waits_when(&mut self, give_up: impl Fn() -> bool + 'static) {
        self.give_up = Box::new(give_up);
    }

    /// Records the statistics of the freshly initialised net (epoch 0).
    pub fn initial_layers(&mut self, stats: &[LayerStats]) -> Result<()> {
        self.layers += &layers::epoch_rows(0, stats);
        files::write_atomic(&self.dir.file(layers::FILE), self.layers.as_bytes())?;
        self.events.layers(0, stats)
    }

    /// Records a finished epoch in every file.
    pub fn end_epoch(&mut self, record: &EpochRecord) -> Result<()> {
        let row = &record.row;
        if let Some(stats) = &record.layers {
            self.layers += &layers::epoch_rows(row.epoch, stats);
            files::write_atomic(&self.dir.file(layers::FILE), self.layers.as_bytes())?;
        }
        self.events.epoch(row, record.layers.as_deref())?;
        self.curve.push(row.clone());
        files::write_atomic(&self.dir.file(CURVE), curve_csv(&self.curve).as_bytes())?;
        self.status.record_epoch(row, self.wall_seconds());
        self.dir.write_status(&self.status)
    }

    /// What a stop leaves of the run when checkpoints are off (`checkpoint_every` 0): an
    /// older checkpoint it resumed from, or none.
    pub fn unsaved_stop(&self) -> &'static str {
        if checkpoint::path(self.dir.path()).is_file() {
            "no new checkpoint (checkpoint_every is 0): it continues from its older one"
        } else {
            "no checkpoint (checkpoint_every is 0)"
        }
    }

    /// Writes the run's checkpoint (the previous one stays until the new one is in place).
    pub fn checkpoint(&self, c: &Checkpoint) -> Result<()> {
        let losses: Vec<f64> = self.curve.iter().map(|r| r.train_loss).collect();
        checkpoint::save(self.dir.path(), &self.spec, c, &losses).map(|_| ())
    }

    /// Ends the run in `state` (`message` says why, for a run that did not finish normally).
    /// A finished run keeps `model` as its spec's `save_model` says (under `"best"`, when it is
    /// the best of its cell: `kept_models.rs`), written before the final status so that a run
    /// marked done has the model it keeps, and drops its checkpoint; an interrupted one keeps
    /// its checkpoint. Returns the final status. `model` is needed only for a run that is done
    /// and keeps its model.
    pub fn finish(
        mut self,
        state: State,
        message: Option<String>,
        model: Option<&Mlp>,
    ) -> Result<Status> {
        let save = match state {
            State::Done => self.spec.run.training.save_model,
            _ => SaveModel::Off,
        };
        match save {
            SaveModel::Off => self.close(state, message),
            SaveModel::All => {
                self.save_model(model)?;
                self.close(state, message)
            }
            SaveModel::Best => {
                let (dir, id) = (self.dir.clone(), self.spec.run.id.clone());
                let give_up = std::mem::replace(&mut self.give_up, Box::new(|| false));
                kept_models::finish_best(&dir, &id, &give_up, |keep| {
                    if keep {
                        self.save_model(model)?;
                    }
                    self.close(state, message)
                })
            }
        }
    }

    /// Writes the trained net to the run's model file.
    fn save_model(&self, model: Option<&Mlp>) -> Result<()> {
        let model = model.context("a finished run that keeps its model needs the model")?;
        model_file::save(&self.dir.model_path(), &model.valid(), &self.spec.model)
    }

    /// Records the run's end in `state`: drops the checkpoint of a final state, and writes the
    /// event file's end and the final status.
    fn close(mut self, state: State, message: Option<String>) -> Result<Status> {
        if state.is_final() {
            checkpoint::remove(self.dir.path())?;
        }
        self.status.state = state;
        self.status.message = message;
        self.status.wall_seconds = self.wall_seconds();
        self.status.peak_rss_mib = crate::sys::peak_rss_mib();
        let last_epoch = self.curve.last().map_or(0, |r| r.epoch);
        self.events.end(state, last_epoch)?;
        self.dir.write_status(&self.status)?;
        Ok(self.status)
    }
}
