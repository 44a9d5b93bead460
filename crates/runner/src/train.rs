//! One run: SGD with classical momentum and exponential learning-rate decay, seeded shuffling,
//! evaluation every epoch, divergence detection, and a curve written after every epoch.
//!
//! This is our own loop rather than burn-train's `Learner`: the Learner logs per batch, draws a
//! terminal UI that garbles cluster logs, and has no divergence stop; a sweep needs one line per
//! epoch, a NaN stop that records the run as diverged, and atomic per-epoch files.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Result;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use highway_data::{Dataset, Split};
use highway_model::loss::{correct, cross_entropy};
use highway_model::{Kind, Mlp, SplitMix64};

use crate::backend::BackendName;
use crate::model_file;
use crate::plan::RunSpec;
use crate::progress::RunProgress;
use crate::sgd::Sgd;
use crate::store::{self, CurveRow, State, Status};
use crate::sys;

/// Examples per forward pass when evaluating.
const EVAL_BATCH: usize = 1_000;
/// Examples whose gate activity is recorded after each epoch.
const GATE_SAMPLES: usize = 1_000;
/// Read the loss back to the host (progress, divergence check) every this many steps.
const READ_EVERY: usize = 10;

/// Trains one run into `dir`, writing `spec.json`, `curve.csv`, `gates.csv`, `status.json` and,
/// if asked, `model.safetensors`.
/// Returns the final status; a diverged run is a result, not an error.
pub fn train_run(
    spec: &RunSpec,
    data: &Dataset,
    backend: BackendName,
    dir: &Path,
    stop: &AtomicBool,
) -> Result<Status> {
    let started = Instant::now();
    let mut status = Status::starting(backend.as_str());
    let mut model_config = spec.model.clone();
    model_config.input_size = data.train.dim;
    model_config.classes = data.classes;
    store::write_json(
        &dir.join("spec.json"),
        &serde_json::json!({ "run": spec, "model": model_config, "data": data_record(data) }),
    )?;
    store::write_json(&dir.join("status.json"), &status)?;

    let device = backend.device()?;
    let mut train_device = device.clone().autodiff();
    if spec.training.gradient_checkpointing {
        train_device = train_device.gradient_checkpointing();
    }
    // Checkpointing recomputes activations of composed layers only (see `Mlp::fused`).
    let mut model: Mlp = model_config
        .init(spec.seed, &train_device)
        .with_fused(!spec.training.gradient_checkpointing);
    let t = &spec.training;
    let mut optim = Sgd::new(t.momentum, t.nesterov, t.weight_decay);

    let (x_train, y_train) = to_device(&data.train, &train_device);
    let (x_eval, y_eval) = to_device(&data.eval, &device);
    let n = data.train.len();
    let steps_per_epoch = n.div_ceil(t.batch_size);
    let progress = RunProgress::new(spec.id.clone(), t.epochs, steps_per_epoch);
    let mut order: Vec<usize> = (0..n).collect();
    let mut curve = Vec::new();
    let mut gates_csv = String::from("epoch,layer,mean_gate,mean_gate_bias\n");
    let mut first_loss: Option<f64> = None;
    let mut step = 0usize;

    'epochs: for epoch in 1..=t.epochs {
        let epoch_start = Instant::now();
        let lr = t.lr_at(epoch - 1, step);
        // A fresh generator per (seed, epoch): an epoch's order does not depend on earlier ones.
        SplitMix64::new(
            spec.seed
                .wrapping_mul(0x9E37_79B9)
                .wrapping_add(epoch as u64),
        )
        .shuffle(&mut order);
        let mut loss_sum = Tensor::<1>::zeros([1], &train_device);
        let mut correct_sum = Tensor::<1, Int>::zeros([1], &train_device);
        for (b, batch) in order.chunks(t.batch_size).enumerate() {
            let lr = t.lr_at(epoch - 1, step);
            let idx = Tensor::<1, Int>::from_data(
                TensorData::new(
                    batch.iter().map(|&i| i as i64).collect::<Vec<_>>(),
                    [batch.len()],
                ),
                &train_device,
            );
            let x = x_train.clone().select(0, idx.clone());
            let y = y_train.clone().select(0, idx);
            let logits = model.forward(x);
            let loss = cross_entropy(logits.clone(), y.clone());
            loss_sum = loss_sum + loss.clone().detach().mul_scalar(batch.len() as f64);
            correct_sum = correct_sum + correct(logits.detach(), y);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
            step += 1;
            if b % READ_EVERY == 0 || b + 1 == steps_per_epoch {
                let value = loss.into_scalar::<f32>() as f64;
                let first = *first_loss.get_or_insert(value);
                progress.step(epoch, b + 1, value);
                if !value.is_finite() || value > t.divergence_factor * first {
                    status.state = State::Diverged;
                    status.message = Some(format!(
                        "epoch {epoch}, step {}: loss {value} (first loss {first:.4}, limit {}×)",
                        b + 1,
                        t.divergence_factor
                    ));
                    break 'epochs;
                }
            }
            if stop.load(Ordering::SeqCst) {
                status.state = State::Interrupted;
                status.message = Some(format!("interrupted in epoch {epoch}"));
                break 'epochs;
            }
        }
        let train_loss = loss_sum.into_scalar::<f32>() as f64 / n as f64;
        let train_acc = correct_sum.into_scalar::<i64>() as f64 / n as f64;
        let valid = model.valid();
        let (eval_loss, eval_acc) = evaluate(&valid, &x_eval, &y_eval);
        if spec.kind == Kind::Highway {
            gate_rows(&valid, &x_eval, epoch, &mut gates_csv);
            store::write_atomic(&dir.join("gates.csv"), gates_csv.as_bytes())?;
        }
        let row = CurveRow {
            epoch,
            train_loss,
            train_acc,
            eval_loss,
            eval_acc,
            lr,
            seconds: epoch_start.elapsed().as_secs_f64(),
        };
        progress.epoch(&row, data.eval_kind);
        curve.push(row);
        store::write_atomic(&dir.join("curve.csv"), store::curve_csv(&curve).as_bytes())?;
        status.epochs = epoch;
        status.final_train_loss = Some(train_loss);
        status.best_train_loss = Some(
            status
                .best_train_loss
                .map_or(train_loss, |b: f64| b.min(train_loss)),
        );
        status.final_eval_loss = Some(eval_loss);
        status.final_eval_acc = Some(eval_acc);
        status.wall_seconds = started.elapsed().as_secs_f64();
        status.peak_rss_mib = sys::peak_rss_mib();
        if !train_loss.is_finite()
            || train_loss > t.divergence_factor * first_loss.unwrap_or(f64::INFINITY)
        {
            status.state = State::Diverged;
            status.message = Some(format!("epoch {epoch}: mean training loss {train_loss}"));
            break;
        }
        store::write_json(&dir.join("status.json"), &status)?;
    }
    if status.state == State::Running {
        status.state = State::Done;
        if t.save_model {
            // Written before the final status, so a run marked done has its model.
            model_file::save(&dir.join(model_file::FILE), &model.valid(), &model_config)?;
        }
    }
    status.wall_seconds = started.elapsed().as_secs_f64();
    status.peak_rss_mib = sys::peak_rss_mib();
    store::write_json(&dir.join("status.json"), &status)?;
    progress.finish(&format!(
        "{} after {} epochs, {:.1}s{}",
        status.state.as_str(),
        status.epochs,
        status.wall_seconds,
        status
            .message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    ));
    Ok(status)
}

/// A split as a `[n, dim]` feature tensor and a `[n]` label tensor on `device`.
pub fn to_device(split: &Split, device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let x = Tensor::<2>::from_data(
        TensorData::new(split.features.clone(), [split.len(), split.dim]),
        device,
    );
    let y = Tensor::<1, Int>::from_data(
        TensorData::new(
            split.labels.iter().map(|&l| l as i64).collect::<Vec<_>>(),
            [split.len()],
        ),
        device,
    );
    (x, y)
}

/// Mean cross-entropy and accuracy over a whole split, in batches.
pub fn evaluate(model: &Mlp, x: &Tensor<2>, y: &Tensor<1, Int>) -> (f64, f64) {
    evaluate_lesioned(model, x, y, None)
}

/// [`evaluate`] with highway layer `lesion` (0-based) forced shut.
pub fn evaluate_lesioned(
    model: &Mlp,
    x: &Tensor<2>,
    y: &Tensor<1, Int>,
    lesion: Option<usize>,
) -> (f64, f64) {
    let [n, _] = x.dims();
    let mut loss = 0.0;
    let mut hits = 0i64;
    for start in (0..n).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(n);
        let xb = x.clone().narrow(0, start, end - start);
        let yb = y.clone().narrow(0, start, end - start);
        let logits = model.forward_lesioned(xb, lesion);
        loss += cross_entropy(logits.clone(), yb.clone()).into_scalar::<f32>() as f64
            * (end - start) as f64;
        hits += correct(logits, yb).into_scalar::<i64>();
    }
    (loss / n as f64, hits as f64 / n as f64)
}

/// Appends, per highway layer, the mean transform-gate output over the first `GATE_SAMPLES`
/// examples of `x` (the evaluation split: the same examples every epoch)
/// and the mean gate bias `b_T`.
fn gate_rows(model: &Mlp, x: &Tensor<2>, epoch: usize, out: &mut String) {
    let [n, _] = x.dims();
    let probe = model.probe(x.clone().narrow(0, 0, n.min(GATE_SAMPLES)));
    for (layer, (gate, hw)) in probe.gates.into_iter().zip(&model.highway).enumerate() {
        let mean_gate = gate.mean().into_scalar::<f32>();
        let mean_bias = hw.b_t.val().mean().into_scalar::<f32>();
        out.push_str(&format!(
            "{epoch},{},{mean_gate:.6},{mean_bias:.6}\n",
            layer + 1
        ));
    }
}

/// What the run saw of its data, for `spec.json`.
fn data_record(data: &Dataset) -> serde_json::Value {
    serde_json::json!({
        "dataset": data.name.as_str(),
        "train_examples": data.train.len(),
        "eval_split": data.eval_kind,
        "eval_examples": data.eval.len(),
        "preprocess": format!("{:?}", data.normalization.method).to_lowercase(),
        "mean": data.normalization.mean,
        "std": data.normalization.std,
    })
}
