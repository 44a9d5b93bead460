//! The optimiser of a stack of trials: one fused step per stacked parameter, each trial with
//! its own hyperparameters ([`highway_model::ops::trials::sgd::trial_sgd_step`],
//! [`highway_model::ops::trials::adam::trial_adam_step`]), the formula of [`super::optim`]
//! per trial; every trial of a stack has the same optimiser. The state is kept by checkpoint
//! name (`<slot>.<parameter>`: a stack rebuilt without some trials has new parameter ids), one
//! `[K, len]` tensor per slot and parameter, and goes in and out of a trial's checkpoint as
//! that trial's own flat state.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use highway_model::ops::trials::adam::trial_adam_step;
use highway_model::ops::trials::sgd::{trial_sgd_step, TrialSteps};
use highway_model::{NamedTensor, Stack};

use super::optim::{state_name, Rule};

pub(crate) struct StackOptim {
    /// The slots of the trials' optimiser ([`Rule::slots`]).
    slots: &'static [&'static str],
    /// By checkpoint name, `<slot>.<parameter>`.
    state: HashMap<String, Tensor<2>>,
}

/// Each trial's step, of one optimiser.
enum Steps {
    Sgd(TrialSteps<highway_model::ops::sgd::SgdStep>),
    Adam(TrialSteps<highway_model::ops::adam::AdamStep>),
}

impl StackOptim {
    /// The optimiser of trials that step by `rule` (each with its own settings).
    pub(crate) fn new(rule: &Rule) -> Self {
        Self {
            slots: rule.slots(),
            state: HashMap::new(),
        }
    }

    /// Sets the state from each trial's own (a checkpoint's, by name) on `device`; a trial
    /// without a state for a parameter starts that one at zero, as a fresh run does.
    pub(crate) fn restore(&mut self, trials: &[Vec<NamedTensor>], device: &Device) {
        let k = trials.len();
        let mut by_name: HashMap<&str, Vec<Option<&NamedTensor>>> = HashMap::new();
        for (i, state) in trials.iter().enumerate() {
            for v in state {
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
            self.state.insert(name.to_string(), t);
        }
    }

    /// Each trial's state, flat and by checkpoint name, parameter by parameter in the order of
    /// `names` and slot by slot, as a checkpoint of the trial trained alone holds it.
    pub(crate) fn trial_state(&self, names: &[String], trials: usize) -> Vec<Vec<NamedTensor>> {
        let mut out = vec![Vec::new(); trials];
        for param in names {
            for slot in self.slots {
                let name = state_name(slot, param);
                let Some(v) = self.state.get(&name) else {
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
        }
        out
    }

    /// Keeps the state of the trials `keep` (indices into the stack, in order).
    pub(crate) fn retain(&mut self, keep: &[usize]) {
        for v in self.state.values_mut() {
            let device = v.device();
            let rows: Vec<i64> = keep.iter().map(|&i| i as i64).collect();
            let idx = Tensor::<1, Int>::from_data(TensorData::new(rows, [keep.len()]), &device);
            *v = v.clone().select(0, idx);
        }
    }

    /// Updates every parameter of `stack` that has a gradient in `grads`, trial `k` with
    /// `rules[k]` (learning rate and step number set).
    pub(crate) fn step(&mut self, rules: &[Rule], stack: Stack, grads: GradientsParams) -> Stack {
        let steps = match rules.first() {
            Some(Rule::Adam(_)) => Steps::Adam(TrialSteps::new(
                rules
                    .iter()
                    .map(|r| match r {
                        Rule::Adam(s) => *s,
                        Rule::Sgd(_) => panic!("the trials of a stack share their optimiser"),
                    })
                    .collect(),
            )),
            _ => Steps::Sgd(TrialSteps::new(
                rules
                    .iter()
                    .map(|r| match r {
                        Rule::Sgd(s) => *s,
                        Rule::Adam(_) => panic!("the trials of a stack share their optimiser"),
                    })
                    .collect(),
            )),
        };
        let names = stack
            .param_ids()
            .into_iter()
            .map(|(n, id)| (id, n))
            .collect();
        stack.map(&mut Stepper {
            optim: self,
            names,
            grads,
            steps,
        })
    }
}

struct Stepper<'a> {
    optim: &'a mut StackOptim,
    names: HashMap<ParamId, String>,
    grads: GradientsParams,
    steps: Steps,
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
        let g = grad.reshape([k, len]);
        // A zero state makes the first step that of `Optim`.
        let names: Vec<String> = self
            .optim
            .slots
            .iter()
            .map(|s| state_name(s, name))
            .collect();
        let mut state: Vec<Tensor<2>> = names
            .iter()
            .map(|n| match self.optim.state.remove(n) {
                Some(v) => v,
                None => p.zeros_like(),
            })
            .collect();
        let p = match &self.steps {
            Steps::Sgd(steps) => {
                let v = state.pop().expect("SGD's velocity");
                let (p, v) = trial_sgd_step(p, g, v, steps.clone());
                state = vec![v];
                p
            }
            Steps::Adam(steps) => {
                let v = state.pop().expect("Adam's second moment");
                let m = state.pop().expect("Adam's first moment");
                let (p, m, v) = trial_adam_step(p, g, m, v, steps.clone());
                state = vec![m, v];
                p
            }
        };
        for (n, t) in names.into_iter().zip(state) {
            self.optim.state.insert(n, t);
        }
        let mut tensor = Tensor::from_inner(p.reshape(shape));
        if require_grad {
            tensor = tensor.require_grad();
        }
        Param::from_mapped_value(id, tensor, mapper)
    }
}
