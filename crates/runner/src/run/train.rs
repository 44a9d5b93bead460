//! The training loop, for a cohort of K ≥ 1 trials (a run trained alone is a cohort of one):
//! SGD with classical momentum, or Adam, and exponential learning-rate decay, seeded shuffling,
//! evaluation every epoch, divergence detection, and a checkpoint every `checkpoint_every`
//! epochs, at a rung of successive halving and on a stop signal, from which a restarted run
//! continues exactly where it was. What differs between one net and a stack of nets is behind
//! [`Trainable`]; the loop says what happened and each trial's recorder
//! (`store::RunRecorder`) writes it down.
//!
//! Each trial keeps its run folder and its recorder, which writes the files of a run trained
//! alone, checkpoint included, so a trial stopped in a stack can continue alone and the other
//! way round. A trial that diverges is recorded at that step and leaves the cohort; the others
//! go on. Trials whose checkpoints stand at different places (one was resumed alone for a
//! while) train as separate cohorts, one after the other.
//!
//! This is our own loop rather than burn-train's `Learner`: the Learner logs per batch, draws a
//! terminal UI that garbles cluster logs, and has no divergence stop; a sweep needs one line per
//! epoch, a NaN stop that records the run as diverged, and atomic per-epoch files.

use anyhow::Result;
use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use highway_data::Dataset;
use highway_model::{Mlp, ModelConfig};

use super::cohort::cohort;
use super::eval::{evaluate, to_device};
use super::job::Job;
use super::optim::Rule;
use super::order::epoch_order;
use super::progress::RunProgress;
use super::signals::{Signal, Stop};
use super::trainable::{layer_stats, measured, Layers, Trainable, TrialStart};
use crate::backend::BackendName;
use crate::experiment::{RunSpec, RunTraining};
use crate::store::{Checkpoint, CurveRow, EpochRecord, Position, RunRecorder, Spec, State, Status};

/// Training examples (the first ones, the same every epoch) on which the per-layer statistics
/// are measured after each epoch.
pub(crate) const PROBE_EXAMPLES: usize = 256;
/// Read the losses back to the host (progress, divergence check) every this many steps.
const READ_EVERY: usize = 10;

/// How each trial of a cohort ended: its final status, or why it failed.
pub(super) type TrialResults = Vec<(String, Result<Status>)>;

/// Trains the runs `runs` (locked by the caller) through epoch `until` (their epochs, or a
/// rung of successive halving, where they then wait with a checkpoint). Every trial comes back
/// with its status (a diverged run is a result, not an error; a stopped one is `interrupted`,
/// with a checkpoint to continue from) or the error that failed it; an error of a whole cohort
/// fails each of its trials.
pub(super) fn train(runs: &[&RunSpec], job: &Job, until: usize) -> Result<TrialResults> {
    let inner = job.backend.device()?;
    if job.backend.is_gpu() {
        say_compiling(job.backend);
    }
    let mut results = TrialResults::new();
    // Each trial's records, and where it stands.
    let mut waiting: Vec<(Trial, Option<Checkpoint>)> = Vec::new();
    for run in runs {
        let spec = Spec::new(run, job.data, job.fingerprint);
        match RunRecorder::start(job.dir.run(&run.id), spec, job.backend) {
            Ok((mut recorder, checkpoint)) => {
                let stop = job.stop.clone();
                recorder.give_up_waits_when(move || stop.requested().is_some());
                waiting.push((Trial::new(run, recorder), checkpoint))
            }
            Err(e) => results.push((run.id.clone(), Err(e))),
        }
    }
    // The set-up, and any cohort's time, is shared by the trials.
    let n = waiting.len();
    for (trial, _) in &mut waiting {
        trial.recorder.share_time(n);
    }
    let eval = to_device(&job.data.eval, &inner);
    while !waiting.is_empty() {
        // The trials standing where the first one stands train together.
        let at = |c: &Option<Checkpoint>| {
            c.as_ref()
                .map(|c| (c.position.epoch, c.position.batch, c.position.step))
        };
        let here = at(&waiting[0].1);
        let (now, later): (Vec<_>, Vec<_>) = waiting.into_iter().partition(|(_, c)| at(c) == here);
        waiting = later;
        if let Some(signal) = job.stop.requested() {
            results.extend(now.into_iter().map(|(trial, _)| trial.not_reached(signal)));
            continue;
        }
        let ids: Vec<String> = now.iter().map(|(t, _)| t.run.id.clone()).collect();
        match Cohort::new(now, job.data, &inner)
            .and_then(|(cohort, position)| cohort.train(position, &eval, job.stop, until))
        {
            Ok(ended) => results.extend(ended),
            Err(e) => {
                let message = format!("{e:#}");
                results.extend(
                    ids.into_iter()
                        .map(|id| (id, Err(anyhow::anyhow!("{message}")))),
                );
            }
        }
    }
    Ok(results)
}

/// One trial of a cohort: its run, its records, its divergence reference and where its
/// epoch's sums started.
struct Trial<'a> {
    run: &'a RunSpec,
    recorder: RunRecorder,
    /// The first loss read back: the reference of the divergence check.
    first_loss: Option<f64>,
    /// The running sums and seconds of the epoch it resumed in (zero at an epoch's start).
    resumed: Position,
    /// The learning rate at the start of the current epoch (its curve row's).
    epoch_lr: f64,
    /// The trial's training seconds when the current epoch started.
    epoch_started: f64,
}

impl<'a> Trial<'a> {
    fn new(run: &'a RunSpec, recorder: RunRecorder) -> Self {
        Trial {
            run,
            recorder,
            first_loss: None,
            resumed: Position::start(),
            epoch_lr: 0.0,
            epoch_started: 0.0,
        }
    }

    fn config(&self) -> &ModelConfig {
        &self.recorder.spec().model
    }

    fn id(&self) -> String {
        self.run.id.clone()
    }

    /// This trial's optimiser and its settings (the learning rate is given per step).
    fn rule(&self) -> Rule {
        Rule::of(&self.run.training)
    }

    /// Its share of the cohort's time in the current epoch (see `RunRecorder::share_time`).
    fn epoch_seconds(&self) -> f64 {
        self.resumed.epoch_seconds + self.recorder.wall_seconds() - self.epoch_started
    }

    /// Ends it in `state`, saying why.
    fn end(
        self,
        state: State,
        message: Option<String>,
        net: Option<&Mlp>,
    ) -> (String, Result<Status>) {
        (self.id(), self.recorder.finish(state, message, net))
    }

    /// Ends it interrupted before it trained in this process: a stop came first.
    fn not_reached(self, signal: Signal) -> (String, Result<Status>) {
        let message = format!(
            "stopped by {signal} before its cohort reached it; its checkpoint, if any, is kept"
        );
        self.end(State::Interrupted, Some(message), None)
    }
}

/// How an epoch of a cohort ended.
enum EpochEnd {
    /// Every batch ran: each trial's loss and correct sums.
    Finished { loss: Vec<f32>, correct: Vec<i64> },
    /// A stop signal arrived after batch `batch`: the sums so far.
    Stopped {
        signal: Signal,
        batch: usize,
        loss: Vec<f32>,
        correct: Vec<i64>,
    },
}

/// Trials standing at one place, trained as one.
struct Cohort<'a> {
    trials: Vec<Trial<'a>>,
    model: Box<dyn Trainable>,
    ended: TrialResults,
    /// The training data on the training device.
    x: Tensor<2>,
    y: Tensor<1, Int>,
    eval_kind: highway_data::EvalSplit,
    progress: RunProgress,
    steps_per_epoch: usize,
    /// Steps taken so far, the same for every trial.
    step: usize,
}

impl<'a> Cohort<'a> {
    /// The cohort of `trials` (each with its checkpoint, all at one place, or none), and
    /// where they stand. A fresh trial's statistics at initialisation are recorded here.
    fn new(
        trials: Vec<(Trial<'a>, Option<Checkpoint>)>,
        data: &Dataset,
        inner: &Device,
    ) -> Result<(Self, Position)> {
        let t = &trials[0].0.run.training;
        let (epochs, steps_per_epoch) = (t.epochs, data.train.len().div_ceil(t.batch_size));
        let starts: Vec<TrialStart> = trials
            .iter()
            .map(|(trial, checkpoint)| TrialStart {
                config: trial.config(),
                seed: trial.run.seed,
                rule: trial.rule(),
                checkpoint: checkpoint.as_ref(),
            })
            .collect();
        let checkpointing = t.gradient_checkpointing;
        let layers = Layers {
            fused: !checkpointing,
            gradient_checkpointing: checkpointing,
        };
        let model = cohort(&starts, layers, inner)?;
        drop(starts);
        let (x, y) = to_device(&data.train, model.device());
        let label = match &trials[..] {
            [(one, _)] => one.id(),
            [(first, _), rest @ ..] => format!("{} and {} more", first.id(), rest.len()),
            [] => String::new(),
        };
        let mut cohort = Cohort {
            trials: Vec::new(),
            model,
            ended: Vec::new(),
            x,
            y,
            eval_kind: data.eval_kind,
            progress: RunProgress::new(label, epochs, steps_per_epoch),
            steps_per_epoch,
            step: 0,
        };
        let position = cohort.take_in(trials)?;
        cohort.step = position.step;
        Ok((cohort, position))
    }

    /// Takes `trials` into the cohort: a resumed one says where it stands, a fresh one has its
    /// net's statistics recorded as epoch 0. Where they stand.
    fn take_in(&mut self, trials: Vec<(Trial<'a>, Option<Checkpoint>)>) -> Result<Position> {
        let t = &trials[0].0.run.training;
        let fresh = trials.iter().any(|(_, c)| c.is_none());
        let nets = match fresh && t.layer_stats {
            true => self.model.nets()?,
            false => Vec::new(),
        };
        let alone = self.model.measures_alone();
        let mut position = Position::start();
        for (i, (mut trial, checkpoint)) in trials.into_iter().enumerate() {
            match checkpoint {
                Some(c) => {
                    let p = c.position;
                    let within = match p.batch {
                        0 => String::new(),
                        b => format!(", step {} of {}", b + 1, self.steps_per_epoch),
                    };
                    let (epoch, of) = (p.epoch, t.epochs);
                    let message = format!("resumed at epoch {epoch} of {of}{within}");
                    self.progress.say(&trial.run.id, &message);
                    trial.first_loss = p.first_loss;
                    trial.resumed = p.clone();
                    position = p;
                }
                None if t.layer_stats => {
                    let stats = layer_stats(alone, &nets[i], &self.x, &self.y, PROBE_EXAMPLES);
                    trial.recorder.initial_layers(&stats)?;
                }
                None => {}
            }
            self.trials.push(trial);
        }
        // From here on each trial is charged its share of this cohort's time.
        let k = self.trials.len();
        for trial in &mut self.trials {
            trial.recorder.share_time(k);
        }
        Ok(position)
    }

    /// The training settings every trial shares (all but the per-trial hyperparameters).
    fn shared(&self) -> &'a RunTraining {
        &self.trials[0].run.training
    }

    /// Trains from `position` through the last epoch, recording each trial's epochs, until
    /// every trial has finished, diverged, been stopped or reached the rung `until`; each
    /// trial's result.
    fn train(
        mut self,
        mut position: Position,
        eval: &(Tensor<2>, Tensor<1, Int>),
        stop: &Stop,
        until: usize,
    ) -> Result<TrialResults> {
        let t = self.shared();
        if position.epoch > until {
            // Its checkpoint stands past an undecided rung (a kill between the rung's
            // checkpoints and the records that it waits, or a status that cannot be read): it
            // waits there, whatever its status said.
            return self.end_all(State::Waiting, Some(waiting(position.epoch - 1)));
        }
        for epoch in position.epoch..=t.epochs {
            for trial in &mut self.trials {
                trial.epoch_lr = trial
                    .run
                    .training
                    .lr_at(epoch - 1, self.step - position.batch);
                trial.epoch_started = trial.recorder.wall_seconds();
            }
            let (loss, correct) = match self.epoch(epoch, position.batch, stop)? {
                EpochEnd::Finished { loss, correct } => (loss, correct),
                EpochEnd::Stopped {
                    signal,
                    batch,
                    loss,
                    correct,
                } => {
                    self.stopped(signal, epoch, batch, (loss, correct));
                    return Ok(self.ended);
                }
            };
            if self.trials.is_empty() {
                break;
            }
            self.end_epoch(epoch, (loss, correct), eval)?;
            position = Position::start();
            if self.trials.is_empty() {
                break;
            }
            let rung = epoch == until && epoch < t.epochs;
            let every = t.checkpoint_every;
            if (every > 0 && epoch % every == 0 || rung) && epoch < t.epochs {
                self.checkpoint_all(epoch + 1)?;
            }
            if rung {
                return self.end_all(State::Waiting, Some(waiting(epoch)));
            }
        }
        self.end_all(State::Done, None)
    }

    /// One pass over the training set in this epoch's order, from batch `from` on with each
    /// trial's running sums.
    fn epoch(&mut self, epoch: usize, from: usize, stop: &Stop) -> Result<EpochEnd> {
        let t = self.shared();
        let [n, _] = self.x.dims();
        let order = epoch_order(self.trials[0].run.seed, epoch, n);
        let device = self.model.device().clone();
        let loss = self.trials.iter().map(|t| t.resumed.loss_sum).collect();
        let correct = self.trials.iter().map(|t| t.resumed.correct_sum).collect();
        let k = self.trials.len();
        let mut loss_sum = Tensor::<1>::from_data(TensorData::new(loss, [k]), &device);
        let mut correct_sum = Tensor::<1, Int>::from_data(TensorData::new(correct, [k]), &device);
        for (b, batch) in order.chunks(t.batch_size).enumerate().skip(from) {
            let lrs: Vec<f64> = self
                .trials
                .iter()
                .map(|trial| trial.run.training.lr_at(epoch - 1, self.step))
                .collect();
            let idx = index_tensor(batch, &device);
            let x = self.x.clone().select(0, idx.clone());
            let y = self.y.clone().select(0, idx);
            let (losses, hits) = self.model.step((x, y), &lrs, self.step + 1);
            loss_sum = loss_sum + losses.clone().mul_scalar(batch.len() as f64);
            correct_sum = correct_sum + hits;
            self.step += 1;
            if b % READ_EVERY == 0 || b + 1 == self.steps_per_epoch {
                let values: Vec<f64> = floats(losses).into_iter().map(f64::from).collect();
                self.progress.step(epoch, b + 1, values[0]);
                let why = self.diverged(&values, |w| {
                    format!("epoch {epoch}, step {}: loss {w}", b + 1)
                });
                if why.iter().any(Option::is_some) {
                    let keep = self.end_diverged(why)?;
                    if self.trials.is_empty() {
                        break;
                    }
                    let rows = index_tensor(&keep, &device);
                    loss_sum = loss_sum.select(0, rows.clone());
                    correct_sum = correct_sum.select(0, rows);
                }
            }
            if let Some(signal) = stop.requested() {
                let (loss, correct) = (floats(loss_sum), ints(correct_sum));
                return Ok(EpochEnd::Stopped {
                    signal,
                    batch: b + 1,
                    loss,
                    correct,
                });
            }
        }
        let (loss, correct) = (floats(loss_sum), ints(correct_sum));
        Ok(EpochEnd::Finished { loss, correct })
    }

    /// For each trial, why its loss in `values` means it diverged (`at` says where), or `None`.
    fn diverged(&mut self, values: &[f64], at: impl Fn(String) -> String) -> Vec<Option<String>> {
        let limit = self.shared().divergence_factor;
        self.trials
            .iter_mut()
            .zip(values)
            .map(|(trial, &v)| divergence(&mut trial.first_loss, v, limit).map(&at))
            .collect()
    }

    /// Records each trial's epoch from its loss and correct sums; those whose mean loss
    /// diverged leave the cohort.
    fn end_epoch(
        &mut self,
        epoch: usize,
        (loss, correct): (Vec<f32>, Vec<i64>),
        (x_eval, y_eval): &(Tensor<2>, Tensor<1, Int>),
    ) -> Result<()> {
        let t = self.shared();
        let n = self.x.dims()[0] as f64;
        let nets = self.model.nets()?;
        let alone = self.model.measures_alone();
        let mut train_losses = Vec::new();
        for (i, net) in nets.iter().enumerate() {
            let (train_loss, train_acc) = (loss[i] as f64 / n, correct[i] as f64 / n);
            let (eval_loss, eval_acc) = measured(alone, || evaluate(&net.valid(), x_eval, y_eval));
            let layers = t
                .layer_stats
                .then(|| layer_stats(alone, net, &self.x, &self.y, PROBE_EXAMPLES));
            let trial = &mut self.trials[i];
            let row = CurveRow {
                epoch,
                train_loss,
                train_acc,
                eval_loss,
                eval_acc,
                lr: trial.epoch_lr,
                seconds: trial.epoch_seconds(),
            };
            self.progress.epoch(&trial.run.id, &row, self.eval_kind);
            trial.recorder.end_epoch(&EpochRecord { row, layers })?;
            train_losses.push(train_loss);
        }
        let why = self.diverged(&train_losses, |w| {
            format!("epoch {epoch}: mean training loss {w}")
        });
        if why.iter().any(Option::is_some) {
            self.end_diverged(why)?;
        }
        for trial in &mut self.trials {
            trial.resumed = Position::start();
        }
        Ok(())
    }

    /// Ends the trials with a divergence message in `why` (one entry per trial, in cohort
    /// order) as diverged; the others stay. The cohort indices kept.
    fn end_diverged(&mut self, why: Vec<Option<String>>) -> Result<Vec<usize>> {
        let mut keep = Vec::new();
        let mut kept = Vec::new();
        for (i, (trial, why)) in std::mem::take(&mut self.trials)
            .into_iter()
            .zip(why)
            .enumerate()
        {
            match why {
                None => {
                    keep.push(i);
                    kept.push(trial);
                }
                Some(message) => {
                    let ended = trial.end(State::Diverged, Some(message), None);
                    self.say_ended(&ended);
                    self.ended.push(ended);
                }
            }
        }
        self.trials = kept;
        let k = self.trials.len();
        for trial in &mut self.trials {
            trial.recorder.share_time(k);
        }
        self.model.retain(&keep)?;
        Ok(keep)
    }

    /// Writes every trial's checkpoint at the start of epoch `epoch`.
    fn checkpoint_all(&self, epoch: usize) -> Result<()> {
        for (trial, (params, optimizer)) in self.trials.iter().zip(self.model.snapshots()) {
            let position = Position {
                epoch,
                step: self.step,
                first_loss: trial.first_loss,
                wall_seconds: trial.recorder.wall_seconds(),
                ..Position::start()
            };
            trial.recorder.checkpoint(&Checkpoint {
                position,
                params,
                optimizer,
            })?;
        }
        Ok(())
    }

    /// Checkpoints every trial (unless checkpoints are off) after a stop by `signal` after
    /// batch `batch` of `epoch`, each with its own running sums, and ends them interrupted.
    fn stopped(&mut self, signal: Signal, epoch: usize, batch: usize, sums: (Vec<f32>, Vec<i64>)) {
        let snapshots = self.model.snapshots();
        let steps = self.steps_per_epoch;
        let trials = std::mem::take(&mut self.trials);
        for (i, (trial, (params, optimizer))) in trials.into_iter().zip(snapshots).enumerate() {
            let position = Position {
                epoch,
                batch,
                step: self.step,
                first_loss: trial.first_loss,
                loss_sum: sums.0[i],
                correct_sum: sums.1[i],
                wall_seconds: trial.recorder.wall_seconds(),
                epoch_seconds: trial.epoch_seconds(),
            };
            let place = format!("epoch {epoch}, step {batch} of {steps}");
            let written = if trial.run.training.checkpoint_every == 0 {
                let unsaved = trial.recorder.unsaved_stop();
                Ok(format!("stopped by {signal} in {place}; {unsaved}"))
            } else {
                let c = Checkpoint {
                    position,
                    params,
                    optimizer,
                };
                trial
                    .recorder
                    .checkpoint(&c)
                    .map(|()| format!("stopped by {signal} in {place}; checkpoint written"))
            };
            let id = trial.id();
            let status =
                written.and_then(|m| trial.recorder.finish(State::Interrupted, Some(m), None));
            self.ended.push((id, status));
        }
        self.progress.clear();
    }

    /// Ends every trial still in the cohort in `state` (done, or waiting at a rung). A trial
    /// done gets its net, for the model file it may keep.
    fn end_all(mut self, state: State, message: Option<String>) -> Result<TrialResults> {
        let nets = match state == State::Done && !self.trials.is_empty() {
            true => self.model.nets()?,
            false => Vec::new(),
        };
        for (i, trial) in std::mem::take(&mut self.trials).into_iter().enumerate() {
            let ended = trial.end(state, message.clone(), nets.get(i));
            self.say_ended(&ended);
            self.ended.push(ended);
        }
        self.progress.clear();
        Ok(self.ended)
    }

    /// Says how a trial ended.
    fn say_ended(&self, (id, status): &(String, Result<Status>)) {
        if let Ok(s) = status {
            self.progress.say(id, &s.summary());
        }
    }
}

/// Why `loss` means a run diverged (not finite, or above `limit` times the first loss read
/// back, `first`), or `None`. The first call sets that reference.
/// Says, once per process, that the first steps on a GPU wait for its kernels to compile: a
/// minute or so without a line otherwise looks like a hang.
fn say_compiling(backend: BackendName) {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        eprintln!(
            "{backend}: the first steps compile the GPU kernels of these nets (up to a \
             minute on a software adapter); the first epoch's line follows"
        )
    });
}

fn divergence(first: &mut Option<f64>, loss: f64, limit: f64) -> Option<String> {
    let first = *first.get_or_insert(loss);
    (!loss.is_finite() || loss > limit * first)
        .then(|| format!("{loss} (first loss {first:.4}, limit {limit}×)"))
}

/// The status message of a run that waits at the rung at `epoch`.
fn waiting(epoch: usize) -> String {
    format!(
        "waiting at the rung at epoch {epoch} of successive halving, checkpoint written, until \
         every trial of its cell has reached it"
    )
}

fn index_tensor(rows: &[usize], device: &Device) -> Tensor<1, Int> {
    let rows: Vec<i64> = rows.iter().map(|&i| i as i64).collect();
    let n = rows.len();
    Tensor::from_data(TensorData::new(rows, [n]), device)
}

fn floats(t: Tensor<1>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec()
        .expect("f32 values")
}

fn ints(t: Tensor<1, Int>) -> Vec<i64> {
    t.into_data()
        .convert::<i64>()
        .try_into_vec()
        .expect("i64 values")
}
