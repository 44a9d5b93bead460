//! A cohort of one: one net and its optimiser ([`super::optim::Optim`]), on any backend, with
//! fused or composed layers and gradient checkpointing, its operations on every thread the
//! backend has. Its checkpoint holds the net's parameters and the optimiser's state by slot and
//! parameter name.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use highway_model::loss::{correct, cross_entropy};
use highway_model::{Mlp, ModelConfig, NamedTensor};

use super::optim::{state_name, Optim};
use super::trainable::{Batch, Layers, Scores, Trainable, TrialStart};
use crate::store::Checkpoint;

pub(crate) struct Net {
    /// Taken out for a step, put back after it.
    model: Option<Mlp>,
    optim: Optim,
    device: Device,
}

impl Net {
    /// The net of `trial` on `inner`'s autodiff device: fresh, or as its checkpoint left it.
    pub(crate) fn new(trial: &TrialStart, layers: Layers, inner: &Device) -> Result<Self> {
        let mut device = inner.clone().autodiff();
        if layers.gradient_checkpointing {
            device = device.gradient_checkpointing();
        }
        let mut optim = Optim::new(trial.rule);
        let model = match trial.checkpoint {
            None => trial.config.init(trial.seed, &device),
            Some(c) => restore(c, trial.config, (&device, inner), &mut optim)?,
        };
        Ok(Net {
            model: Some(model.with_fused(layers.fused)),
            optim,
            device,
        })
    }

    fn model(&self) -> &Mlp {
        self.model
            .as_ref()
            .expect("the net is back after every step")
    }
}

impl Trainable for Net {
    fn device(&self) -> &Device {
        &self.device
    }

    fn step(&mut self, (x, y): Batch, lrs: &[f64], step: usize) -> Scores {
        let model = self.model.take().expect("the net is back after every step");
        let logits = model.forward(x);
        let loss = cross_entropy(logits.clone(), y.clone());
        let hits = correct(logits.detach(), y);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optim.step(lrs[0], step, model, grads));
        (loss.detach(), hits)
    }

    fn nets(&self) -> Result<Vec<Mlp>> {
        Ok(vec![self.model().clone()])
    }

    fn measures_alone(&self) -> bool {
        false
    }

    fn snapshots(&self) -> Vec<(Vec<NamedTensor>, Vec<NamedTensor>)> {
        let model = self.model();
        let slots = self.optim.rule().slots();
        let state = model
            .param_ids()
            .into_iter()
            .filter_map(|(name, id)| Some((name, self.optim.state(&id)?)))
            .flat_map(|(name, state)| {
                slots.iter().zip(state).filter_map(move |(slot, v)| {
                    Some(NamedTensor {
                        name: state_name(slot, &name),
                        shape: v.dims().to_vec(),
                        values: v.clone().into_data().convert::<f32>().try_into_vec().ok()?,
                    })
                })
            })
            .collect();
        vec![(model.tensors(), state)]
    }

    fn retain(&mut self, _keep: &[usize]) -> Result<()> {
        // One trial: it stays, or the cohort ends with it.
        Ok(())
    }
}

/// The net of checkpoint `c` on the training device `device`, its optimiser's state set in
/// `optim` on `device`'s inner device `inner`, where the optimiser keeps it.
fn restore(
    c: &Checkpoint,
    config: &ModelConfig,
    (device, inner): (&Device, &Device),
    optim: &mut Optim,
) -> Result<Mlp> {
    let model = config
        .load(c.params.clone(), device)
        .context("the checkpoint's parameters do not fit the net")?;
    let slots = optim.rule().slots();
    let by_name: HashMap<&str, &NamedTensor> =
        c.optimizer.iter().map(|v| (v.name.as_str(), v)).collect();
    let mut used = 0;
    for (param, id) in model.param_ids() {
        let state: Vec<Option<&&NamedTensor>> = slots
            .iter()
            .map(|slot| by_name.get(state_name(slot, &param).as_str()))
            .collect();
        if state.iter().all(Option::is_none) {
            // No step yet.
            continue;
        }
        let mut tensors = Vec::new();
        for (slot, v) in slots.iter().zip(state) {
            let v =
                v.with_context(|| format!("the checkpoint has no '{}'", state_name(slot, &param)))?;
            tensors.push(Tensor::<1>::from_data(
                TensorData::new(v.values.clone(), [v.values.len()]),
                inner,
            ));
            used += 1;
        }
        optim.set_state(id, tensors);
    }
    if used < c.optimizer.len() {
        let names = model.param_ids();
        let stray = c.optimizer.iter().find(|v| {
            !names
                .iter()
                .any(|(param, _)| slots.iter().any(|slot| state_name(slot, param) == v.name))
        });
        bail!(
            "the checkpoint has optimiser state '{}', which neither the net nor its optimiser has",
            stray.map_or("?", |v| v.name.as_str())
        );
    }
    Ok(model)
}
