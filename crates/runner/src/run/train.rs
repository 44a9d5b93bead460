//! One run: SGD with classical momentum and exponential learning-rate decay, seeded shuffling,
//! evaluation every epoch, divergence detection, and a checkpoint every `checkpoint_every`
//! epochs and on a stop signal, from which a restarted run continues exactly where it was.
//! The loop says what happened; the run's recorder (`store::RunRecorder`) writes it down.
//!
//! This is our own loop rather than burn-train's `Learner`: the Learner logs per batch, draws a
//! terminal UI that garbles cluster logs, and has no divergence stop; a sweep needs one line per
//! epoch, a NaN stop that records the run as diverged, and atomic per-epoch files.

use std::time::Instant;

use anyhow::Result;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use highway_data::Dataset;
use highway_model::loss::{correct, cross_entropy};
use highway_model::{LayerStats, Mlp};

use super::eval::{evaluate, to_device};
use super::order::epoch_order;
use super::progress::RunProgress;
use super::resume;
use super::sgd::Sgd;
use super::signals::{Signal, Stop};
use crate::backend::BackendName;
use crate::experiment::RunSpec;
use crate::store::{
    Checkpoint, CurveRow, EpochRecord, Position, RunDir, RunRecorder, Spec, State, Status,
};

/// Training examples (the first ones, the same every epoch) on which the per-layer statistics
/// are measured after each epoch.
pub(crate) const PROBE_EXAMPLES: usize = 256;
/// Read the loss back to the host (progress, divergence check) every this many steps.
pub(super) const READ_EVERY: usize = 10;

/// Trains `spec` on `data` into the run folder `dir` (`fingerprint` is the data's), continuing
/// from the run's checkpoint when it has one, through epoch `until` (the run's epochs, or a rung
/// of successive halving, where it then waits with a checkpoint). Returns the final status: a
/// diverged run is a result, not an error; a stopped one is `interrupted`, with a checkpoint to
/// continue from.
pub fn train_run(
    spec: &RunSpec,
    data: &Dataset,
    fingerprint: &str,
    backend: BackendName,
    dir: RunDir,
    stop: &Stop,
    until: usize,
) -> Result<Status> {
    let device = backend.device()?;
    let (mut recorder, checkpoint) =
        RunRecorder::start(dir, Spec::new(spec, data, fingerprint), backend)?;
    let (mut run, model) = Training::new(spec, data, &recorder, &device);
    let (model, position) = run.set_up(model, checkpoint, &mut recorder, &device)?;
    let eval = to_device(&data.eval, &device);
    let (model, state, message) = run.train(model, position, &eval, &mut recorder, stop, until)?;
    let status = recorder.finish(state, message, Some(&model))?;
    run.progress.finish(&status.summary());
    Ok(status)
}

/// How an epoch ended.
enum EpochEnd {
    /// The whole epoch ran: its mean training loss and accuracy.
    Finished { loss: f64, acc: f64 },
    /// The loss blew up; why.
    Diverged(String),
    /// A stop signal arrived; where training stands after the last step taken.
    Stopped { signal: Signal, at: Position },
}

/// What a run's training keeps between steps, besides the net: the optimiser, the data on the
/// device, the step count and the divergence reference.
struct Training<'a> {
    spec: &'a RunSpec,
    eval_kind: highway_data::EvalSplit,
    optim: Sgd,
    x: Tensor<2>,
    y: Tensor<1, Int>,
    device: Device,
    progress: RunProgress,
    steps_per_epoch: usize,
    /// Steps taken so far (the learning rate may decay per step).
    step: usize,
    /// The first loss read back: the reference of the divergence check.
    first_loss: Option<f64>,
}

impl<'a> Training<'a> {
    /// The training state and the freshly initialised net of the run `recorder` records.
    fn new(
        spec: &'a RunSpec,
        data: &Dataset,
        recorder: &RunRecorder,
        device: &Device,
    ) -> (Self, Mlp) {
        let t = &spec.training;
        let mut device = device.clone().autodiff();
        if t.gradient_checkpointing {
            device = device.gradient_checkpointing();
        }
        // Checkpointing recomputes activations of composed layers only (see `Mlp::fused`).
        let model = recorder
            .spec()
            .model
            .init(spec.seed, &device)
            .with_fused(!t.gradient_checkpointing);
        let (x, y) = to_device(&data.train, &device);
        let steps_per_epoch = data.train.len().div_ceil(t.batch_size);
        let training = Training {
            spec,
            eval_kind: data.eval_kind,
            optim: Sgd::new(t.momentum, t.nesterov, t.weight_decay),
            x,
            y,
            device,
            progress: RunProgress::new(spec.id.clone(), t.epochs, steps_per_epoch),
            steps_per_epoch,
            step: 0,
            first_loss: None,
        };
        (training, model)
    }

    /// The net to train and where training stands: the checkpoint's (its net and velocities
    /// restored), or the start, with the statistics of the fresh net recorded as epoch 0.
    /// `inner` is the device without autodiff, where the optimiser keeps the velocities.
    fn set_up(
        &mut self,
        model: Mlp,
        checkpoint: Option<Checkpoint>,
        recorder: &mut RunRecorder,
        inner: &Device,
    ) -> Result<(Mlp, Position)> {
        let t = &self.spec.training;
        let Some(c) = checkpoint else {
            if t.layer_stats {
                recorder.initial_layers(&self.layer_stats(&model))?;
            }
            return Ok((model, Position::start()));
        };
        let fused = !t.gradient_checkpointing;
        let config = &recorder.spec().model;
        let devices = (&self.device, inner);
        let model = resume::restore(&c, config, devices, fused, &mut self.optim)?;
        let p = c.position;
        (self.step, self.first_loss) = (p.step, p.first_loss);
        let within = match p.batch {
            0 => String::new(),
            b => format!(", step {} of {}", b + 1, self.steps_per_epoch),
        };
        let of = t.epochs;
        self.progress
            .say(&format!("resumed at epoch {} of {of}{within}", p.epoch));
        Ok((model, p))
    }

    /// Trains from `position` through the last epoch, recording each one, until the run
    /// finishes, diverges or is stopped; the net, the run's final state and why.
    fn train(
        &mut self,
        mut model: Mlp,
        mut position: Position,
        (x_eval, y_eval): &(Tensor<2>, Tensor<1, Int>),
        recorder: &mut RunRecorder,
        stop: &Stop,
        until: usize,
    ) -> Result<(Mlp, State, Option<String>)> {
        let t = &self.spec.training;
        for epoch in position.epoch..=t.epochs {
            let epoch_start = Instant::now();
            let lr = t.lr_at(epoch - 1, self.step - position.batch);
            let end;
            (model, end) = self.epoch(model, epoch, &position, stop);
            let seconds = |p: &Position| p.epoch_seconds + epoch_start.elapsed().as_secs_f64();
            let (train_loss, train_acc) = match end {
                EpochEnd::Finished { loss, acc } => (loss, acc),
                EpochEnd::Diverged(message) => return Ok((model, State::Diverged, Some(message))),
                EpochEnd::Stopped { signal, at } => {
                    let wall_seconds = recorder.wall_seconds();
                    let epoch_seconds = seconds(&position);
                    let at = Position {
                        wall_seconds,
                        epoch_seconds,
                        ..at
                    };
                    let message = self.stopped(signal, at, &model, recorder)?;
                    return Ok((model, State::Interrupted, Some(message)));
                }
            };
            let (eval_loss, eval_acc) = evaluate(&model.valid(), x_eval, y_eval);
            let layers = t.layer_stats.then(|| self.layer_stats(&model));
            let row = CurveRow {
                epoch,
                train_loss,
                train_acc,
                eval_loss,
                eval_acc,
                lr,
                seconds: seconds(&position),
            };
            self.progress.epoch(&row, self.eval_kind);
            recorder.end_epoch(&EpochRecord { row, layers })?;
            if let Some(why) = self.diverged(train_loss) {
                let message = format!("epoch {epoch}: mean training loss {why}");
                return Ok((model, State::Diverged, Some(message)));
            }
            position = Position::start();
            let every = t.checkpoint_every;
            let rung = epoch == until && epoch < t.epochs;
            if (every > 0 && epoch % every == 0 || rung) && epoch < t.epochs {
                let next = self.position(epoch + 1, recorder.wall_seconds());
                recorder.checkpoint(&resume::snapshot(&model, &self.optim, next))?;
            }
            if rung {
                return Ok((model, State::Waiting, Some(waiting(epoch))));
            }
        }
        Ok((model, State::Done, None))
    }

    /// One pass of `model` over the training set in this epoch's order, from batch
    /// `from.batch` on with the running sums `from` holds (a resumed epoch; an epoch's start
    /// otherwise). Returns the trained net and how the epoch ended.
    fn epoch(
        &mut self,
        mut model: Mlp,
        epoch: usize,
        from: &Position,
        stop: &Stop,
    ) -> (Mlp, EpochEnd) {
        let t = &self.spec.training;
        let [n, _] = self.x.dims();
        let order = epoch_order(self.spec.seed, epoch, n);
        let mut loss_sum =
            Tensor::<1>::from_data(TensorData::new(vec![from.loss_sum], [1]), &self.device);
        let mut correct_sum =
            Tensor::<1, Int>::from_data(TensorData::new(vec![from.correct_sum], [1]), &self.device);
        for (b, batch) in order.chunks(t.batch_size).enumerate().skip(from.batch) {
            let lr = t.lr_at(epoch - 1, self.step);
            let idx = Tensor::<1, Int>::from_data(
                TensorData::new(
                    batch.iter().map(|&i| i as i64).collect::<Vec<_>>(),
                    [batch.len()],
                ),
                &self.device,
            );
            let x = self.x.clone().select(0, idx.clone());
            let y = self.y.clone().select(0, idx);
            let logits = model.forward(x);
            let loss = cross_entropy(logits.clone(), y.clone());
            loss_sum = loss_sum + loss.clone().detach().mul_scalar(batch.len() as f64);
            correct_sum = correct_sum + correct(logits.detach(), y);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = self.optim.step(lr, model, grads);
            self.step += 1;
            if b % READ_EVERY == 0 || b + 1 == self.steps_per_epoch {
                let value = loss.into_scalar::<f32>() as f64;
                self.progress.step(epoch, b + 1, value);
                if let Some(why) = self.diverged(value) {
                    let at = format!("epoch {epoch}, step {}", b + 1);
                    return (model, EpochEnd::Diverged(format!("{at}: loss {why}")));
                }
            }
            if let Some(signal) = stop.requested() {
                let at = Position {
                    batch: b + 1,
                    loss_sum: loss_sum.into_scalar::<f32>(),
                    correct_sum: correct_sum.into_scalar::<i64>(),
                    ..self.position(epoch, 0.0)
                };
                return (model, EpochEnd::Stopped { signal, at });
            }
        }
        let loss = loss_sum.into_scalar::<f32>() as f64 / n as f64;
        let acc = correct_sum.into_scalar::<i64>() as f64 / n as f64;
        (model, EpochEnd::Finished { loss, acc })
    }

    /// The start of `epoch` as training stands now, after `wall_seconds` of training.
    fn position(&self, epoch: usize, wall_seconds: f64) -> Position {
        Position {
            epoch,
            step: self.step,
            first_loss: self.first_loss,
            wall_seconds,
            ..Position::start()
        }
    }

    /// The per-layer statistics of `model` on the first `PROBE_EXAMPLES` training examples.
    fn layer_stats(&self, model: &Mlp) -> Vec<LayerStats> {
        let [n, _] = self.x.dims();
        let k = n.min(PROBE_EXAMPLES);
        model.layer_stats(
            self.x.clone().narrow(0, 0, k),
            self.y.clone().narrow(0, 0, k),
        )
    }

    /// Why `loss` means the run diverged, or `None` (see [`divergence`]).
    fn diverged(&mut self, loss: f64) -> Option<String> {
        divergence(
            &mut self.first_loss,
            loss,
            self.spec.training.divergence_factor,
        )
    }

    /// Checkpoints a run stopped by `signal` at `at` (unless checkpoints are off); the status
    /// message saying so.
    fn stopped(
        &self,
        signal: Signal,
        at: Position,
        model: &Mlp,
        recorder: &RunRecorder,
    ) -> Result<String> {
        let place = format!(
            "epoch {}, step {} of {}",
            at.epoch, at.batch, self.steps_per_epoch
        );
        if self.spec.training.checkpoint_every == 0 {
            let unsaved = recorder.unsaved_stop();
            return Ok(format!("stopped by {signal} in {place}; {unsaved}"));
        }
        recorder.checkpoint(&resume::snapshot(model, &self.optim, at))?;
        Ok(format!(
            "stopped by {signal} in {place}; checkpoint written"
        ))
    }
}

/// Why `loss` means a run diverged (not finite, or above `limit` times the first loss read
/// back, `first`), or `None`. The first call sets that reference.
pub(super) fn divergence(first: &mut Option<f64>, loss: f64, limit: f64) -> Option<String> {
    let first = *first.get_or_insert(loss);
    (!loss.is_finite() || loss > limit * first)
        .then(|| format!("{loss} (first loss {first:.4}, limit {limit}×)"))
}

/// The status message of a run that waits at the rung at `epoch`.
pub(super) fn waiting(epoch: usize) -> String {
    format!(
        "waiting at the rung at epoch {epoch} of successive halving, checkpoint written, until \
         every trial of its cell has reached it"
    )
}
