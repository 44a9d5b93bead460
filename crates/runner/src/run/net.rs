//! A cohort of one: one net and its SGD ([`super::sgd::Sgd`]), on any backend, with fused or
//! composed layers and gradient checkpointing, its operations on every thread the backend has.
//! Its checkpoint holds the net's parameters and the velocities by parameter name.

use anyhow::{Context, Result};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use highway_model::loss::{correct, cross_entropy};
use highway_model::{Mlp, ModelConfig, NamedTensor};

use super::sgd::Sgd;
use super::trainable::{Batch, Layers, Scores, Trainable, TrialStart};
use crate::store::Checkpoint;

pub(crate) struct Net {
    /// Taken out for a step, put back after it.
    model: Option<Mlp>,
    optim: Sgd,
    device: Device,
}

impl Net {
    /// The net of `trial` on `inner`'s autodiff device: fresh, or as its checkpoint left it.
    pub(crate) fn new(trial: &TrialStart, layers: Layers, inner: &Device) -> Result<Self> {
        let mut device = inner.clone().autodiff();
        if layers.gradient_checkpointing {
            device = device.gradient_checkpointing();
        }
        let s = trial.sgd;
        let mut optim = Sgd::new(s.momentum.into(), s.nesterov, s.weight_decay.into());
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

    fn step(&mut self, (x, y): Batch, lrs: &[f64]) -> Scores {
        let model = self.model.take().expect("the net is back after every step");
        let logits = model.forward(x);
        let loss = cross_entropy(logits.clone(), y.clone());
        let hits = correct(logits.detach(), y);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optim.step(lrs[0], model, grads));
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
        let velocity = model
            .param_ids()
            .into_iter()
            .filter_map(|(name, id)| {
                let v = self.optim.velocity(&id)?;
                Some(NamedTensor {
                    name,
                    shape: v.dims().to_vec(),
                    values: v.clone().into_data().convert::<f32>().try_into_vec().ok()?,
                })
            })
            .collect();
        vec![(model.tensors(), velocity)]
    }

    fn retain(&mut self, _keep: &[usize]) -> Result<()> {
        // One trial: it stays, or the cohort ends with it.
        Ok(())
    }
}

/// The net of checkpoint `c` on the training device `device`, its velocities set in `optim`
/// on `device`'s inner device `inner`, where the optimiser keeps them.
fn restore(
    c: &Checkpoint,
    config: &ModelConfig,
    (device, inner): (&Device, &Device),
    optim: &mut Sgd,
) -> Result<Mlp> {
    let model = config
        .load(c.params.clone(), device)
        .context("the checkpoint's parameters do not fit the net")?;
    let ids = model.param_ids();
    for v in &c.velocity {
        let (_, id) = ids
            .iter()
            .find(|(name, _)| *name == v.name)
            .with_context(|| {
                format!(
                    "the checkpoint has a velocity for '{}', which the net does not have",
                    v.name
                )
            })?;
        let values =
            Tensor::<1>::from_data(TensorData::new(v.values.clone(), [v.values.len()]), inner);
        optim.set_velocity(*id, values);
    }
    Ok(model)
}
