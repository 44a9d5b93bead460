//! A cohort of several trials as one stack of nets (`highway_model::Stack`) and its optimiser
//! ([`super::stack_optim::StackOptim`]): one forward and one backward pass per batch for all of
//! them, each trial with its own learning rate, momentum or betas and weight decay.
//!
//! On Flex each trial's numbers are those of the run trained alone on one thread: the stack's
//! operations run each trial through the single net's code, and a trial's evaluation and layer
//! statistics run on one thread ([`Trainable::measures_alone`]).

use anyhow::{ensure, Context, Result};
use burn::optim::GradientsParams;
use burn::tensor::Device;
use highway_model::loss::{trial_correct, trial_cross_entropy};
use highway_model::{Mlp, ModelConfig, NamedTensor, Stack};

use super::optim::Rule;
use super::stack_optim::StackOptim;
use super::trainable::{Batch, Scores, Trainable, TrialStart};

pub(crate) struct Stacked {
    /// Taken out for a step, put back after it.
    stack: Option<Stack>,
    optim: StackOptim,
    /// Each trial's net and optimiser settings, in stack order.
    configs: Vec<ModelConfig>,
    rules: Vec<Rule>,
    device: Device,
}

impl Stacked {
    /// The stack of `trials` (fresh, or each from its checkpoint) on `inner`'s autodiff
    /// device.
    pub(crate) fn new(trials: &[TrialStart], inner: &Device) -> Result<Self> {
        let device = inner.clone().autodiff();
        let mut tensors = Vec::new();
        let mut states = Vec::new();
        for trial in trials {
            match trial.checkpoint {
                Some(c) => {
                    tensors.push(c.params.clone());
                    states.push(c.optimizer.clone());
                }
                None => {
                    tensors.push(trial.config.init(trial.seed, &device).tensors());
                    states.push(Vec::new());
                }
            }
        }
        let configs: Vec<ModelConfig> = trials.iter().map(|t| t.config.clone()).collect();
        let stack = Stack::new(&configs, tensors, &device)
            .context("the trials' parameters do not make one stack")?;
        let rules: Vec<Rule> = trials.iter().map(|t| t.rule).collect();
        ensure!(
            rules.iter().all(|r| r.same_kind(&rules[0])),
            "the trials of a stack share their optimiser"
        );
        let mut optim = StackOptim::new(&rules[0]);
        optim.restore(&states, inner);
        Ok(Stacked {
            stack: Some(stack),
            optim,
            configs,
            rules,
            device,
        })
    }

    fn stack(&self) -> &Stack {
        self.stack
            .as_ref()
            .expect("the stack is back after every step")
    }
}

impl Trainable for Stacked {
    fn step(&mut self, (x, y): Batch, lrs: &[f64], step: usize) -> Scores {
        let stack = self
            .stack
            .take()
            .expect("the stack is back after every step");
        let logits = stack.forward(x);
        let losses = trial_cross_entropy(logits.clone(), y.clone());
        let hits = trial_correct(logits.detach(), y);
        let grads = GradientsParams::from_grads(losses.clone().sum().backward(), &stack);
        let rules: Vec<Rule> = (self.rules.iter().zip(lrs))
            .map(|(r, &lr)| r.at(lr, step))
            .collect();
        self.stack = Some(self.optim.step(&rules, stack, grads));
        (losses.detach(), hits)
    }

    fn nets(&self) -> Result<Vec<Mlp>> {
        self.configs
            .iter()
            .zip(self.stack().tensors())
            .map(|(config, params)| {
                config
                    .load(params, &self.device)
                    .context("a trial of the stack does not fit its net")
            })
            .collect()
    }

    fn measures_alone(&self) -> bool {
        true
    }

    fn snapshots(&self) -> Vec<(Vec<NamedTensor>, Vec<NamedTensor>)> {
        let stack = self.stack();
        let names: Vec<String> = stack.param_ids().into_iter().map(|(n, _)| n).collect();
        let states = self.optim.trial_state(&names, self.configs.len());
        stack.tensors().into_iter().zip(states).collect()
    }

    fn retain(&mut self, keep: &[usize]) -> Result<()> {
        let mut tensors = self.stack().tensors();
        self.stack = None;
        let params = keep
            .iter()
            .map(|&i| std::mem::take(&mut tensors[i]))
            .collect();
        self.configs = keep.iter().map(|&i| self.configs[i].clone()).collect();
        self.rules = keep.iter().map(|&i| self.rules[i]).collect();
        self.optim.retain(keep);
        if !keep.is_empty() {
            self.stack = Some(Stack::new(&self.configs, params, &self.device)?);
        }
        Ok(())
    }

    fn device(&self) -> &Device {
        &self.device
    }
}
