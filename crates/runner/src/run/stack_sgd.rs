//! SGD with momentum on a stack of trials: one fused step per stacked parameter, each trial
//! with its own learning rate, momentum and weight decay
//! ([`highway_model::ops::trials::sgd::trial_sgd_step`]), the formula of [`super::sgd::Sgd`]
//! per trial. Velocities are kept by parameter name (a stack rebuilt without some trials has
//! new parameter ids), one `[K, len]` tensor per parameter, and go in and out of a trial's
//! checkpoint as that trial's own flat velocities.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use highway_model::ops::trials::sgd::{trial_sgd_step, TrialSteps};
use highway_model::{NamedTensor, Stack};

pub(crate) struct StackSgd {
    velocity: HashMap<String, Tensor<2>>,
}

impl StackSgd {
    pub(crate) fn new() -> Self {
        Self {
            velocity: HashMap::new(),
        }
    }

    /// Sets the velocities from each trial's own (a checkpoint's, by name) on `device`; a
    /// trial without a velocity for a parameter starts that one at zero, as a fresh run does.
    pub(crate) fn restore(&mut self, trials: &[Vec<NamedTensor>], device: &Device) {
        let k = trials.len();
        let mut by_name: HashMap<&str, Vec<Option<&NamedTensor>>> = HashMap::new();
        for (i, velocities) in trials.iter().enumerate() {
            for v in velocities {
                by_name.entry(&v.name).or_insert_with(|| vec![None; k])[i] = Some(v);
            }
        }
        for (name, rows) in by_name {
            let len = rows
                .iter()
                .flatten()
                .map(|v| v.values.len())
                .max()
                .unwrap_or(0);
            let mut values = Vec::with_capacity(k * len);
            for row in rows {
                match row {
                    Some(v) => values.extend_from_slice(&v.values),
                    None => values.extend(std::iter::repeat_n(0.0, len)),
                }
            }
            let t = Tensor::<2>::from_data(TensorData::new(values, [k, len]), device);
            self.velocity.insert(name.to_string(), t);
        }
    }

    /// Each trial's velocities, flat and by name in the order of `names`, as a checkpoint of
    /// the trial trained alone holds them.
    pub(crate) fn trial_velocities(
        &self,
        names: &[String],
        trials: usize,
    ) -> Vec<Vec<NamedTensor>> {
        let mut out = vec![Vec::new(); trials];
        for name in names {
            let Some(v) = self.velocity.get(name) else {
                continue;
            };
            let [k, len] = v.dims();
            let values: Vec<f32> = v
                .clone()
                .into_data()
                .convert::<f32>()
                .try_into_vec()
                .unwrap_or_default();
            for (i, trial) in out.iter_mut().enumerate().take(k) {
                trial.push(NamedTensor {
                    name: name.clone(),
                    shape: vec![len],
                    values: values[i * len..][..len].to_vec(),
                });
            }
        }
        out
    }

    /// Keeps the velocities of the trials `keep` (indices into the stack, in order).
    pub(crate) fn retain(&mut self, keep: &[usize]) {
        for v in self.velocity.values_mut() {
            let device = v.device();
            let rows: Vec<i64> = keep.iter().map(|&i| i as i64).collect();
            let idx = Tensor::<1, Int>::from_data(TensorData::new(rows, [keep.len()]), &device);
            *v = v.clone().select(0, idx);
        }
    }

    /// Updates every parameter of `stack` that has a gradient in `grads`, trial `k` with
    /// `steps[k]`.
    pub(crate) fn step(
        &mut self,
        steps: TrialSteps,
        stack: Stack,
        grads: GradientsParams,
    ) -> Stack {
        let names = stack
            .param_ids()
            .into_iter()
            .map(|(n, id)| (id, n))
            .collect();
        stack.map(&mut Stepper {
            sgd: self,
            names,
            grads,
            steps,
        })
    }
}

struct Stepper<'a> {
    sgd: &'a mut StackSgd,
    names: HashMap<ParamId, String>,
    grads: GradientsParams,
    steps: TrialSteps,
}

impl ModuleMapper for Stepper<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let (Some(grad), Some(name)) = (self.grads.remove::<D>(id), self.names.get(&id)) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let shape = tensor.shape();
        let k = shape[0];
        let len = shape.num_elements() / k.max(1);
        let p = tensor.inner().reshape([k, len]);
        // A zero velocity makes the first step's velocity the gradient, as in `Sgd`.
        let v = match self.sgd.velocity.remove(name) {
            Some(v) => v,
            None => p.zeros_like(),
        };
        let (p, v) = trial_sgd_step(p, grad.reshape([k, len]), v, self.steps.clone());
        self.sgd.velocity.insert(name.clone(), v);
        let mut tensor = Tensor::from_inner(p.reshape(shape));
        if require_grad {
            tensor = tensor.require_grad();
        }
        Param::from_mapped_value(id, tensor, mapper)
    }
}
