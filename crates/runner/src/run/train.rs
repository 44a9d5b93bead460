//! One run: SGD with classical momentum and exponential learning-rate decay, seeded shuffling,
//! evaluation every epoch, divergence detection, a curve written after every epoch, and a
//! checkpoint every `checkpoint_every` epochs and on a stop signal, from which a restarted run
//! continues exactly where it was.
//!
//! This is our own loop rather than burn-train's `Learner`: the Learner logs per batch, draws a
//! terminal UI that garbles cluster logs, and has no divergence stop; a sweep needs one line per
//! epoch, a NaN stop that records the run as diverged, and atomic per-epoch files.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use highway_data::Dataset;
use highway_model::loss::{correct, cross_entropy};
use highway_model::{LayerStats, Mlp, ModelConfig};

use super::eval::{evaluate, to_device};
use super::order::epoch_order;
use super::progress::RunProgress;
use super::resume;
use super::sgd::Sgd;
use super::signals::{Signal, Stop};
use crate::backend::BackendName;
use crate::experiment::RunSpec;
use crate::store::checkpoint::{self, Position};
use crate::store::run_events::RunEvents;
use crate::store::{self, layers, model_file, CurveRow, State, Status};
use crate::sys;

/// Training examples (the first ones, the same every epoch) on which the per-layer statistics
/// are measured after each epoch.
pub const PROBE_EXAMPLES: usize = 256;
/// Read the loss back to the host (progress, divergence check) every this many steps.
const READ_EVERY: usize = 10;

/// Trains one run into `dir`, writing `spec.json` (with `fingerprint`, the data's), `curve.csv`,
/// `layers.csv`, the TensorBoard event file, `status.json`, checkpoints while it runs and, if
/// asked, `model.safetensors`; continues from the run's checkpoint when it has one. Returns the final status: a diverged run is a result, not an
/// error; a stopped one is `interrupted`, with a checkpoint to continue from.
pub fn train_run(
    spec: &RunSpec,
    data: &Dataset,
    fingerprint: &str,
    backend: BackendName,
    dir: &Path,
    stop: &Stop,
) -> Result<Status> {
    let started = Instant::now();
    let mut status = Status::starting(backend.as_str());
    let mut model_config = spec.model.clone();
    model_config.input_size = data.train.dim;
    model_config.classes = data.classes;
    store::write_json(
        &dir.join("spec.json"),
        &serde_json::json!({ "run": spec, "model": model_config, "data": data_record(data, fingerprint) }),
    )?;
    let device = backend.device()?;
    let (mut run, mut model) = Training::new(spec, &model_config, data, &device);
    let t = &spec.training;
    let (mut position, mut curve) = (Position::start(), Vec::new());
    let checkpoint = checkpoint::load(dir, &spec.id, &model_config)?;
    let fresh = checkpoint.is_none();
    if let Some(c) = checkpoint {
        let fused = !t.gradient_checkpointing;
        let devices = (&run.device, &device);
        model = resume::restore(&c, &model_config, devices, fused, &mut run.optim)?;
        curve = resume::earlier_rows(dir, c.position.epoch)?;
        position = c.position;
        run.step = position.step;
        run.first_loss = position.first_loss;
        for row in &curve {
            status.record_epoch(row, position.wall_seconds);
        }
        run.progress.say(&format!(
            "resumed at epoch {} of {}{}",
            position.epoch,
            t.epochs,
            match position.batch {
                0 => String::new(),
                b => format!(", step {} of {}", b + 1, run.steps_per_epoch),
            }
        ));
    }
    // A fresh start keeps nothing of an earlier attempt; a resumed run keeps what came before
    // its checkpoint, the statistics at initialisation (epoch 0) included.
    let keep_before = if fresh { 0 } else { position.epoch };
    let mut layers_csv = layers::earlier(dir, keep_before);
    let best = curve
        .iter()
        .map(|r| r.train_loss)
        .fold(f64::INFINITY, f64::min);
    let mut events = RunEvents::open(dir, spec, keep_before, best)?;
    if fresh && t.layer_stats {
        // Epoch 0: the freshly initialised net, before any step.
        let stats = run.layer_stats(&model);
        layers_csv += &layers::epoch_rows(0, &stats);
        store::write_atomic(&dir.join(layers::FILE), layers_csv.as_bytes())?;
        events.layers(0, &stats)?;
    }
    let offset = position.wall_seconds;
    store::write_json(&dir.join("status.json"), &status)?;
    let (x_eval, y_eval) = to_device(&data.eval, &device);
    for epoch in position.epoch..=t.epochs {
        let epoch_start = Instant::now();
        let lr = t.lr_at(epoch - 1, run.step - position.batch);
        let end;
        (model, end) = run.epoch(model, epoch, &position, stop);
        let prior_seconds = position.epoch_seconds;
        position = Position::start();
        let (train_loss, train_acc) = match end {
            EpochEnd::Finished { loss, acc } => (loss, acc),
            EpochEnd::Diverged(message) => {
                status.state = State::Diverged;
                status.message = Some(message);
                break;
            }
            EpochEnd::Stopped { signal, at } => {
                let at = Position {
                    wall_seconds: offset + started.elapsed().as_secs_f64(),
                    epoch_seconds: prior_seconds + epoch_start.elapsed().as_secs_f64(),
                    ..at
                };
                status.state = State::Interrupted;
                status.message = Some(run.stopped(signal, &at, &model, dir, &model_config)?);
                break;
            }
        };
        let (eval_loss, eval_acc) = evaluate(&model.valid(), &x_eval, &y_eval);
        let stats = t.layer_stats.then(|| run.layer_stats(&model));
        if let Some(stats) = &stats {
            layers_csv += &layers::epoch_rows(epoch, stats);
            store::write_atomic(&dir.join(layers::FILE), layers_csv.as_bytes())?;
        }
        let row = CurveRow {
            epoch,
            train_loss,
            train_acc,
            eval_loss,
            eval_acc,
            lr,
            seconds: prior_seconds + epoch_start.elapsed().as_secs_f64(),
        };
        run.progress.epoch(&row, data.eval_kind);
        events.epoch(&row, stats.as_deref())?;
        curve.push(row);
        store::write_atomic(&dir.join("curve.csv"), store::curve_csv(&curve).as_bytes())?;
        status.record_epoch(
            curve.last().expect("just pushed"),
            offset + started.elapsed().as_secs_f64(),
        );
        if let Some(why) = run.diverged(train_loss) {
            status.state = State::Diverged;
            status.message = Some(format!("epoch {epoch}: mean training loss {why}"));
            break;
        }
        let every = t.checkpoint_every;
        if every > 0 && epoch % every == 0 && epoch < t.epochs {
            let next = Position {
                epoch: epoch + 1,
                step: run.step,
                first_loss: run.first_loss,
                wall_seconds: offset + started.elapsed().as_secs_f64(),
                ..Position::start()
            };
            let c = resume::snapshot(&model, &run.optim, next);
            checkpoint::save(dir, &spec.id, &model_config, &c)?;
        }
        store::write_json(&dir.join("status.json"), &status)?;
    }
    if status.state == State::Running {
        status.state = State::Done;
        if t.save_model {
            // Written before the final status, so a run marked done has its model.
            let path = dir.join(model_file::FILE);
            model_file::save(&path, &model.valid(), &model_config)?;
        }
    }
    if status.state.is_final() {
        checkpoint::remove(dir)?;
    }
    status.wall_seconds = offset + started.elapsed().as_secs_f64();
    status.peak_rss_mib = sys::peak_rss_mib();
    events.end(status.state, curve.last().map_or(0, |r| r.epoch))?;
    store::write_json(&dir.join("status.json"), &status)?;
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
    /// The training state and the freshly initialised net.
    fn new(
        spec: &'a RunSpec,
        model_config: &ModelConfig,
        data: &Dataset,
        device: &Device,
    ) -> (Self, Mlp) {
        let t = &spec.training;
        let mut device = device.clone().autodiff();
        if t.gradient_checkpointing {
            device = device.gradient_checkpointing();
        }
        // Checkpointing recomputes activations of composed layers only (see `Mlp::fused`).
        let model = model_config
            .init(spec.seed, &device)
            .with_fused(!t.gradient_checkpointing);
        let (x, y) = to_device(&data.train, &device);
        let steps_per_epoch = data.train.len().div_ceil(t.batch_size);
        let training = Training {
            spec,
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
                    epoch,
                    batch: b + 1,
                    step: self.step,
                    first_loss: self.first_loss,
                    loss_sum: loss_sum.into_scalar::<f32>(),
                    correct_sum: correct_sum.into_scalar::<i64>(),
                    ..Position::start()
                };
                return (model, EpochEnd::Stopped { signal, at });
            }
        }
        let loss = loss_sum.into_scalar::<f32>() as f64 / n as f64;
        let acc = correct_sum.into_scalar::<i64>() as f64 / n as f64;
        (model, EpochEnd::Finished { loss, acc })
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

    /// Why `loss` means the run diverged (not finite, or above `divergence_factor` times the
    /// first loss read back), or `None`. The first call sets that reference.
    fn diverged(&mut self, loss: f64) -> Option<String> {
        let first = *self.first_loss.get_or_insert(loss);
        let limit = self.spec.training.divergence_factor;
        (!loss.is_finite() || loss > limit * first)
            .then(|| format!("{loss} (first loss {first:.4}, limit {limit}×)"))
    }

    /// Writes the checkpoint of a run stopped by `signal` at `at` (unless checkpoints are off);
    /// the status message saying so.
    fn stopped(
        &self,
        signal: Signal,
        at: &Position,
        model: &Mlp,
        dir: &Path,
        model_config: &ModelConfig,
    ) -> Result<String> {
        let place = format!(
            "epoch {}, step {} of {}",
            at.epoch, at.batch, self.steps_per_epoch
        );
        if self.spec.training.checkpoint_every == 0 {
            return Ok(format!(
                "stopped by {signal} in {place}; no checkpoint (checkpoint_every is 0)"
            ));
        }
        let c = resume::snapshot(model, &self.optim, at.clone());
        checkpoint::save(dir, &self.spec.id, model_config, &c)?;
        Ok(format!(
            "stopped by {signal} in {place}; checkpoint written"
        ))
    }
}

/// What the run saw of its data, for `spec.json`.
fn data_record(data: &Dataset, fingerprint: &str) -> serde_json::Value {
    serde_json::json!({
        "dataset": data.name.as_str(),
        "fingerprint": fingerprint,
        "train_examples": data.train.len(),
        "eval_split": data.eval_kind,
        "eval_examples": data.eval.len(),
        "preprocess": format!("{:?}", data.normalization.method).to_lowercase(),
        "mean": data.normalization.mean,
        "std": data.normalization.std,
    })
}
