//! Trials trained together: the runs of one group (`experiment::groups`) as one stack of nets
//! (`highway_model::Stack`), one forward and one backward pass per batch for all of them.
//!
//! Nothing of this shows in the results. Each trial keeps its run folder and its recorder,
//! which writes the files a run trained alone writes, checkpoint included, so a trial stopped in
//! a group can continue alone and the other way round. On Flex each trial's numbers are those
//! of the run trained alone on one thread: the stack's operations run each trial through the
//! single net's code, and a trial's evaluation and layer statistics run on one thread
//! (`ops::on_one_thread`). A trial that diverges is recorded at that step and leaves the stack;
//! the others go on.
//!
//! Trials whose checkpoints stand at different places (one was resumed alone for a while)
//! train as separate stacks, one after the other.

use anyhow::{Context, Result};
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use highway_data::Dataset;
use highway_model::loss::{trial_correct, trial_cross_entropy};
use highway_model::ops::on_one_thread;
use highway_model::ops::sgd::SgdStep;
use highway_model::ops::trials::sgd::TrialSteps;
use highway_model::{LayerStats, Mlp, ModelConfig, NamedTensor, Stack};

use super::eval::{evaluate, to_device};
use super::order::epoch_order;
use super::progress::RunProgress;
use super::signals::{Signal, Stop};
use super::stack_sgd::StackSgd;
use super::train::{divergence, waiting, PROBE_EXAMPLES, READ_EVERY};
use crate::backend::BackendName;
use crate::experiment::RunSpec;
use crate::store::{
    Checkpoint, CurveRow, EpochRecord, Position, RunDir, RunRecorder, Spec, State, Status,
};

/// How each trial of a group ended: its final status, or why it failed.
pub(super) type TrialResults = Vec<(String, Result<Status>)>;

/// Trains the runs `runs` (one group, locked by the caller) into their folders `dirs`, through
/// epoch `until` (see [`super::train::train_run`]). Every
/// trial comes back with its status (`interrupted` after a stop signal, checkpoint written) or
/// the error that failed it; an error of the whole group fails every trial still training.
pub(super) fn train_group(
    runs: &[&RunSpec],
    dirs: Vec<RunDir>,
    data: &Dataset,
    fingerprint: &str,
    backend: BackendName,
    stop: &Stop,
    until: usize,
) -> Result<TrialResults> {
    let inner = backend.device()?;
    let mut results = TrialResults::new();
    // Each trial's records, and where it stands.
    let mut waiting: Vec<(Trial, Option<Checkpoint>)> = Vec::new();
    for (run, dir) in runs.iter().zip(dirs) {
        match RunRecorder::start(dir, Spec::new(run, data, fingerprint), backend) {
            Ok((recorder, checkpoint)) => {
                let steps = data.train.len().div_ceil(run.training.batch_size);
                waiting.push((Trial::new(run, recorder, steps), checkpoint))
            }
            Err(e) => results.push((run.id.clone(), Err(e))),
        }
    }
    // The group's set-up, and any stack's time, is shared by its trials.
    let n = waiting.len();
    for (trial, _) in &mut waiting {
        trial.recorder.share_time(n);
    }
    let eval = to_device(&data.eval, &inner);
    while !waiting.is_empty() {
        // The trials standing where the first one stands train together.
        let at = |c: &Option<Checkpoint>| {
            c.as_ref()
                .map(|c| (c.position.epoch, c.position.batch, c.position.step))
        };
        let here = at(&waiting[0].1);
        let (now, later): (Vec<_>, Vec<_>) = waiting.into_iter().partition(|(_, c)| at(c) == here);
        waiting = later;
        if let Some(signal) = stop.requested() {
            for (trial, _) in now {
                let message = format!("stopped by {signal} before its group reached it; its checkpoint, if any, is kept");
                let id = trial.run.id.clone();
                results.push((
                    id,
                    trial
                        .recorder
                        .finish(State::Interrupted, Some(message), None),
                ));
            }
            continue;
        }
        let ids: Vec<String> = now.iter().map(|(t, _)| t.run.id.clone()).collect();
        match StackRun::new(now, data, &inner)
            .and_then(|(run, position)| run.train(position, &eval, stop, until))
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

/// One trial of a stack: its run, its records, its divergence reference and where its epoch's
/// sums started.
struct Trial<'a> {
    run: &'a RunSpec,
    recorder: RunRecorder,
    progress: RunProgress,
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
    fn new(run: &'a RunSpec, recorder: RunRecorder, steps_per_epoch: usize) -> Self {
        let epochs = run.training.epochs;
        Trial {
            run,
            recorder,
            progress: RunProgress::lines(run.id.clone(), epochs, steps_per_epoch),
            first_loss: None,
            resumed: Position::start(),
            epoch_lr: 0.0,
            epoch_started: 0.0,
        }
    }

    fn config(&self) -> &ModelConfig {
        &self.recorder.spec().model
    }

    /// This trial's step at learning rate `lr`.
    fn sgd(&self, lr: f64) -> SgdStep {
        let t = &self.run.training;
        SgdStep {
            lr: lr as f32,
            momentum: t.momentum as f32,
            dampening: 0.0,
            weight_decay: t.weight_decay as f32,
            nesterov: t.nesterov,
        }
    }
}

/// How an epoch of a stack ended.
enum EpochEnd {
    /// Every batch ran: each live trial's loss and correct sums.
    Finished { loss: Vec<f32>, correct: Vec<i64> },
    /// A stop signal arrived after batch `batch`: the sums so far.
    Stopped {
        signal: Signal,
        batch: usize,
        loss: Vec<f32>,
        correct: Vec<i64>,
    },
}

/// Trials standing at one place, trained as one stack.
struct StackRun<'a> {
    trials: Vec<Trial<'a>>,
    /// Taken out for a step, put back after it.
    stack: Option<Stack>,
    optim: StackSgd,
    ended: TrialResults,
    /// The training data on the autodiff device, and that device.
    x: Tensor<2>,
    y: Tensor<1, Int>,
    device: Device,
    eval_kind: highway_data::EvalSplit,
    progress: RunProgress,
    steps_per_epoch: usize,
    /// Steps taken so far, the same for every trial.
    step: usize,
}

impl<'a> StackRun<'a> {
    /// The stack of `trials` (each with its checkpoint, all at one place, or none), and where
    /// they stand.
    fn new(
        trials: Vec<(Trial<'a>, Option<Checkpoint>)>,
        data: &Dataset,
        inner: &Device,
    ) -> Result<(Self, Position)> {
        let device = inner.clone().autodiff();
        let (x, y) = to_device(&data.train, &device);
        let t = &trials[0].0.run.training;
        let (epochs, steps_per_epoch) = (t.epochs, data.train.len().div_ceil(t.batch_size));
        let mut tensors = Vec::new();
        let mut velocities = Vec::new();
        let mut position = Position::start();
        let mut kept = Vec::new();
        for (mut trial, checkpoint) in trials {
            match checkpoint {
                Some(c) => {
                    let p = &c.position;
                    let within = match p.batch {
                        0 => String::new(),
                        b => format!(", step {} of {steps_per_epoch}", b + 1),
                    };
                    let epoch = p.epoch;
                    trial
                        .progress
                        .say(&format!("resumed at epoch {epoch} of {epochs}{within}"));
                    trial.first_loss = p.first_loss;
                    trial.resumed = p.clone();
                    position = p.clone();
                    tensors.push(c.params);
                    velocities.push(c.velocity);
                }
                None => {
                    let net = trial.config().init(trial.run.seed, &device);
                    if t.layer_stats {
                        trial.recorder.initial_layers(&layer_stats(&net, &x, &y))?;
                    }
                    tensors.push(net.tensors());
                    velocities.push(Vec::new());
                }
            }
            kept.push(trial);
        }
        let configs: Vec<ModelConfig> = kept.iter().map(|t| t.config().clone()).collect();
        let stack = Stack::new(&configs, tensors, &device)
            .context("the trials' parameters do not make one stack")?;
        let mut optim = StackSgd::new();
        optim.restore(&velocities, inner);
        // From here on each trial is charged its share of this stack's time.
        let k = kept.len();
        for trial in &mut kept {
            trial.recorder.share_time(k);
        }
        let label = match kept.len() {
            1 => kept[0].run.id.clone(),
            n => format!("{} and {} more", kept[0].run.id, n - 1),
        };
        let run = StackRun {
            trials: kept,
            stack: Some(stack),
            optim,
            ended: Vec::new(),
            x,
            y,
            device,
            eval_kind: data.eval_kind,
            progress: RunProgress::new(label, epochs, steps_per_epoch),
            steps_per_epoch,
            step: position.step,
        };
        Ok((run, position))
    }

    /// The training settings every trial shares (all but the per-trial hyperparameters).
    fn shared(&self) -> &'a crate::experiment::RunTraining {
        &self.trials[0].run.training
    }

    /// Trains from `position` through the last epoch, recording each trial's epochs, until
    /// every trial has finished, diverged or been stopped; each trial's result.
    fn train(
        mut self,
        mut position: Position,
        (x_eval, y_eval): &(Tensor<2>, Tensor<1, Int>),
        stop: &Stop,
        until: usize,
    ) -> Result<TrialResults> {
        let t = self.shared();
        for epoch in position.epoch..=t.epochs {
            if self.trials.is_empty() {
                break;
            }
            for trial in &mut self.trials {
                let t = &trial.run.training;
                trial.epoch_lr = t.lr_at(epoch - 1, self.step - position.batch);
                trial.epoch_started = trial.recorder.wall_seconds();
            }
            let sums = |trials: &[Trial]| {
                let loss = trials.iter().map(|t| t.resumed.loss_sum).collect();
                let correct = trials.iter().map(|t| t.resumed.correct_sum).collect();
                (loss, correct)
            };
            let from = sums(&self.trials);
            let end = self.epoch(epoch, position.batch, from, stop)?;
            // A trial's share of the stack's time (see `RunRecorder::share_time`).
            let seconds = |trial: &Trial| {
                trial.resumed.epoch_seconds + trial.recorder.wall_seconds() - trial.epoch_started
            };
            let (loss, correct) = match end {
                EpochEnd::Finished { loss, correct } => (loss, correct),
                EpochEnd::Stopped {
                    signal,
                    batch,
                    loss,
                    correct,
                } => {
                    let at = self
                        .trials
                        .iter()
                        .enumerate()
                        .map(|(i, trial)| Position {
                            epoch,
                            batch,
                            step: self.step,
                            first_loss: trial.first_loss,
                            loss_sum: loss[i],
                            correct_sum: correct[i],
                            wall_seconds: trial.recorder.wall_seconds(),
                            epoch_seconds: seconds(trial),
                        })
                        .collect();
                    self.stopped(signal, at);
                    return Ok(self.ended);
                }
            };
            if self.trials.is_empty() {
                break;
            }
            // Each trial's epoch, recorded; those whose mean loss diverged leave the stack.
            let n = self.x.dims()[0] as f64;
            let nets = self.nets()?;
            let mut why = Vec::new();
            for (i, net) in nets.iter().enumerate() {
                let (train_loss, train_acc) = (loss[i] as f64 / n, correct[i] as f64 / n);
                let (eval_loss, eval_acc) =
                    on_one_thread(|| evaluate(&net.valid(), x_eval, y_eval));
                let layers = t.layer_stats.then(|| layer_stats(net, &self.x, &self.y));
                let trial = &mut self.trials[i];
                let row = CurveRow {
                    epoch,
                    train_loss,
                    train_acc,
                    eval_loss,
                    eval_acc,
                    lr: trial.epoch_lr,
                    seconds: seconds(trial),
                };
                trial.progress.epoch(&row, self.eval_kind);
                trial.recorder.end_epoch(&EpochRecord { row, layers })?;
                let diverged = divergence(&mut trial.first_loss, train_loss, t.divergence_factor);
                why.push(diverged.map(|w| format!("epoch {epoch}: mean training loss {w}")));
            }
            if why.iter().any(Option::is_some) {
                self.end_diverged(why)?;
            }
            for trial in &mut self.trials {
                trial.resumed = Position::start();
            }
            position = Position::start();
            let every = t.checkpoint_every;
            let rung = epoch == until && epoch < t.epochs;
            if (every > 0 && epoch % every == 0 || rung)
                && epoch < t.epochs
                && !self.trials.is_empty()
            {
                self.checkpoint_all(epoch + 1)?;
            }
            if rung {
                for trial in std::mem::take(&mut self.trials) {
                    let id = trial.run.id.clone();
                    let message = Some(waiting(epoch));
                    let status = trial.recorder.finish(State::Waiting, message, None);
                    self.ended.push((id, status));
                }
                return Ok(self.ended);
            }
        }
        let nets = if self.trials.is_empty() {
            Vec::new()
        } else {
            self.nets()?
        };
        for (trial, net) in std::mem::take(&mut self.trials).into_iter().zip(&nets) {
            let id = trial.run.id.clone();
            let status = trial.recorder.finish(State::Done, None, Some(net));
            if let Ok(s) = &status {
                trial.progress.finish(&s.summary());
            }
            self.ended.push((id, status));
        }
        self.progress.finish("group finished");
        Ok(self.ended)
    }

    /// One pass over the training set in this epoch's order, from batch `from` on with each
    /// trial's running sums.
    fn epoch(
        &mut self,
        epoch: usize,
        from: usize,
        (loss, correct): (Vec<f32>, Vec<i64>),
        stop: &Stop,
    ) -> Result<EpochEnd> {
        let t = self.shared();
        let [n, _] = self.x.dims();
        let order = epoch_order(self.trials[0].run.seed, epoch, n);
        let k = self.trials.len();
        let mut loss_sum = Tensor::<1>::from_data(TensorData::new(loss, [k]), &self.device);
        let mut correct_sum =
            Tensor::<1, Int>::from_data(TensorData::new(correct, [k]), &self.device);
        for (b, batch) in order.chunks(t.batch_size).enumerate().skip(from) {
            let steps = self
                .trials
                .iter()
                .map(|trial| trial.sgd(trial.run.training.lr_at(epoch - 1, self.step)))
                .collect();
            let idx = index_tensor(batch, &self.device);
            let x = self.x.clone().select(0, idx.clone());
            let y = self.y.clone().select(0, idx);
            let stack = self
                .stack
                .take()
                .expect("the stack is back after every step");
            let logits = stack.forward(x);
            let losses = trial_cross_entropy(logits.clone(), y.clone());
            loss_sum = loss_sum + losses.clone().detach().mul_scalar(batch.len() as f64);
            correct_sum = correct_sum + trial_correct(logits.detach(), y);
            let grads = GradientsParams::from_grads(losses.clone().sum().backward(), &stack);
            self.stack = Some(self.optim.step(TrialSteps::new(steps), stack, grads));
            self.step += 1;
            if b % READ_EVERY == 0 || b + 1 == self.steps_per_epoch {
                let values = floats(losses);
                self.progress.step(epoch, b + 1, values[0] as f64);
                let limit = t.divergence_factor;
                let why: Vec<Option<String>> = self
                    .trials
                    .iter_mut()
                    .zip(&values)
                    .map(|(trial, v)| {
                        let why = divergence(&mut trial.first_loss, *v as f64, limit)?;
                        Some(format!("epoch {epoch}, step {}: loss {why}", b + 1))
                    })
                    .collect();
                if why.iter().any(Option::is_some) {
                    let keep = self.end_diverged(why)?;
                    if self.trials.is_empty() {
                        break;
                    }
                    let rows = index_tensor(&keep, &self.device);
                    loss_sum = loss_sum.select(0, rows.clone());
                    correct_sum = correct_sum.select(0, rows);
                }
            }
            if let Some(signal) = stop.requested() {
                return Ok(EpochEnd::Stopped {
                    signal,
                    batch: b + 1,
                    loss: floats(loss_sum),
                    correct: ints(correct_sum),
                });
            }
        }
        Ok(EpochEnd::Finished {
            loss: floats(loss_sum),
            correct: ints(correct_sum),
        })
    }

    /// Ends the trials with a divergence message in `why` (one entry per trial, in stack order)
    /// as diverged, and rebuilds the stack of the others; the stack indices kept.
    fn end_diverged(&mut self, why: Vec<Option<String>>) -> Result<Vec<usize>> {
        let stack = self.stack.take().expect("the stack is there between steps");
        let mut tensors = stack.tensors();
        drop(stack);
        let mut keep = Vec::new();
        let mut kept = Vec::new();
        let mut kept_tensors = Vec::new();
        for (i, (trial, why)) in std::mem::take(&mut self.trials)
            .into_iter()
            .zip(why)
            .enumerate()
        {
            let params = std::mem::take(&mut tensors[i]);
            match why {
                None => {
                    keep.push(i);
                    kept.push(trial);
                    kept_tensors.push(params);
                }
                Some(message) => {
                    let id = trial.run.id.clone();
                    let status = trial.recorder.finish(State::Diverged, Some(message), None);
                    if let Ok(s) = &status {
                        trial.progress.finish(&s.summary());
                    }
                    self.ended.push((id, status));
                }
            }
        }
        self.trials = kept;
        let k = self.trials.len();
        for trial in &mut self.trials {
            trial.recorder.share_time(k);
        }
        self.optim.retain(&keep);
        if !self.trials.is_empty() {
            let configs: Vec<ModelConfig> =
                self.trials.iter().map(|t| t.config().clone()).collect();
            self.stack = Some(Stack::new(&configs, kept_tensors, &self.device)?);
        }
        Ok(keep)
    }

    /// Each trial's parameters and velocities, as its own checkpoint holds them.
    fn trial_states(&self) -> (Vec<Vec<NamedTensor>>, Vec<Vec<NamedTensor>>) {
        let stack = self
            .stack
            .as_ref()
            .expect("the stack is there between steps");
        let names: Vec<String> = stack.param_ids().into_iter().map(|(n, _)| n).collect();
        let velocities = self.optim.trial_velocities(&names, self.trials.len());
        (stack.tensors(), velocities)
    }

    /// Each trial as a net of its own, on the training device.
    fn nets(&self) -> Result<Vec<Mlp>> {
        let stack = self
            .stack
            .as_ref()
            .expect("the stack is there between steps");
        self.trials
            .iter()
            .zip(stack.tensors())
            .map(|(trial, params)| {
                trial
                    .config()
                    .load(params, &self.device)
                    .context("a trial of the stack does not fit its net")
            })
            .collect()
    }

    /// Writes every trial's checkpoint at the start of epoch `epoch`.
    fn checkpoint_all(&self, epoch: usize) -> Result<()> {
        let (tensors, velocities) = self.trial_states();
        for ((trial, params), velocity) in self.trials.iter().zip(tensors).zip(velocities) {
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
                velocity,
            })?;
        }
        Ok(())
    }

    /// Checkpoints every trial (unless checkpoints are off) after a stop by `signal`, each at
    /// its own place `at[i]`, and ends them interrupted.
    fn stopped(&mut self, signal: Signal, at: Vec<Position>) {
        let (tensors, velocities) = self.trial_states();
        let steps = self.steps_per_epoch;
        let trials = std::mem::take(&mut self.trials);
        for (((trial, params), velocity), position) in
            trials.into_iter().zip(tensors).zip(velocities).zip(at)
        {
            let place = format!(
                "epoch {}, step {} of {steps}",
                position.epoch, position.batch
            );
            let written = if trial.run.training.checkpoint_every == 0 {
                let unsaved = trial.recorder.unsaved_stop();
                Ok(format!("stopped by {signal} in {place}; {unsaved}"))
            } else {
                let c = Checkpoint {
                    position,
                    params,
                    velocity,
                };
                trial
                    .recorder
                    .checkpoint(&c)
                    .map(|()| format!("stopped by {signal} in {place}; checkpoint written"))
            };
            let id = trial.run.id.clone();
            let status = written.and_then(|message| {
                trial
                    .recorder
                    .finish(State::Interrupted, Some(message), None)
            });
            self.ended.push((id, status));
        }
    }
}

/// The per-layer statistics of `net` on the first `PROBE_EXAMPLES` training examples, on one
/// thread (the numbers of the run trained alone on one thread).
fn layer_stats(net: &Mlp, x: &Tensor<2>, y: &Tensor<1, Int>) -> Vec<LayerStats> {
    let [n, _] = x.dims();
    let k = n.min(PROBE_EXAMPLES);
    on_one_thread(|| net.layer_stats(x.clone().narrow(0, 0, k), y.clone().narrow(0, 0, k)))
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
