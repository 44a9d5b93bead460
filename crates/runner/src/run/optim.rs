//! The optimisers, one fused backend operation per parameter: SGD with momentum
//! ([`highway_model::ops::sgd::sgd_step`]) and Adam or AdamW
//! ([`highway_model::ops::adam::adam_step`]).
//!
//! Burn's `Sgd` and `Adam` compute the same steps (checked in the tests below) but, per
//! parameter, join a path string, look up its settings and state behind a type-erased record,
//! and run five or more tensor operations; a 900-layer highway net has 3,600 parameters, so
//! that bookkeeping is a large share of its step (docs/performance.md). This optimiser keeps
//! its state per parameter (SGD: a velocity; Adam: two moments), one tensor per slot of
//! [`Rule::slots`], and a checkpoint saves them by slot and parameter name
//! (`velocity.highway.3.w_t`, `adam_m.…`, `adam_v.…`; `run/net.rs`).

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use highway_model::ops::adam::{adam_step, AdamStep};
use highway_model::ops::sgd::{sgd_step, SgdStep};

use crate::experiment::{Optimizer, RunTraining, DEFAULT_BETAS, DEFAULT_EPS};
use crate::store::{ADAM_SLOTS, SGD_SLOTS};

/// An optimiser's step and its settings: the learning rate and step number are set per step
/// ([`Rule::at`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Rule {
    /// Classical SGD (dampening 0) with optional momentum, Nesterov momentum and weight decay.
    Sgd(SgdStep),
    /// Adam, or AdamW (`decoupled`).
    Adam(AdamStep),
}

impl Rule {
    /// The rule a run trains with (learning rate and step number 0: set per step).
    pub(crate) fn of(t: &RunTraining) -> Rule {
        let betas = t.betas.unwrap_or(DEFAULT_BETAS);
        let eps = t.eps.unwrap_or(DEFAULT_EPS);
        Rule::new(
            t.optimizer,
            t.momentum,
            t.nesterov,
            t.weight_decay,
            (betas, eps),
        )
    }

    /// `optimizer` with SGD's `momentum` and `nesterov`, or Adam's `betas` and `eps`, and
    /// `weight_decay`.
    pub(crate) fn new(
        optimizer: Optimizer,
        momentum: f64,
        nesterov: bool,
        weight_decay: f64,
        ([beta1, beta2], eps): ([f64; 2], f64),
    ) -> Rule {
        match optimizer {
            Optimizer::Sgd => Rule::Sgd(SgdStep {
                lr: 0.0,
                momentum: momentum as f32,
                dampening: 0.0,
                weight_decay: weight_decay as f32,
                nesterov,
            }),
            Optimizer::Adam | Optimizer::AdamW => Rule::Adam(AdamStep {
                lr: 0.0,
                beta1: beta1 as f32,
                beta2: beta2 as f32,
                eps: eps as f32,
                weight_decay: weight_decay as f32,
                decoupled: optimizer == Optimizer::AdamW,
                t: 0,
            }),
        }
    }

    /// The state kept per parameter, by the names of its slots in a checkpoint.
    pub(crate) fn slots(&self) -> &'static [&'static str] {
        match self {
            Rule::Sgd(_) => SGD_SLOTS,
            Rule::Adam(_) => ADAM_SLOTS,
        }
    }

    /// This rule at learning rate `lr` for the step numbered `step` (1 for the first).
    pub(crate) fn at(self, lr: f64, step: usize) -> Rule {
        match self {
            Rule::Sgd(s) => Rule::Sgd(SgdStep { lr: lr as f32, ..s }),
            Rule::Adam(s) => Rule::Adam(AdamStep {
                lr: lr as f32,
                t: u32::try_from(step).unwrap_or(u32::MAX),
                ..s
            }),
        }
    }

    /// Whether `self` and `other` are the same optimiser (their state has the same slots).
    pub(crate) fn same_kind(&self, other: &Rule) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    /// One step of the flat parameter `p` with gradient `g` and state `state` (one tensor
    /// per slot); the new parameter and state.
    fn apply(
        self,
        p: Tensor<1>,
        g: Tensor<1>,
        state: Vec<Tensor<1>>,
    ) -> (Tensor<1>, Vec<Tensor<1>>) {
        let mut state = state.into_iter();
        let mut next = || state.next().expect("one tensor per slot");
        match self {
            Rule::Sgd(s) => {
                let (p, v) = sgd_step(p, g, next(), s);
                (p, vec![v])
            }
            Rule::Adam(s) => {
                let (m, v) = (next(), next());
                let (p, m, v) = adam_step(p, g, m, v, s);
                (p, vec![m, v])
            }
        }
    }
}

/// The name of slot `slot`'s tensor of parameter `param` in a checkpoint.
pub(crate) fn state_name(slot: &str, param: &str) -> String {
    format!("{slot}.{param}")
}

/// An optimiser of one net: a [`Rule`] and each parameter's state.
pub(crate) struct Optim {
    rule: Rule,
    state: HashMap<ParamId, Vec<Tensor<1>>>,
}

impl Optim {
    pub(crate) fn new(rule: Rule) -> Self {
        Self {
            rule,
            state: HashMap::new(),
        }
    }

    pub(crate) fn rule(&self) -> &Rule {
        &self.rule
    }

    /// The state of parameter `id`, one tensor per slot; `None` before its first step.
    pub(crate) fn state(&self, id: &ParamId) -> Option<&[Tensor<1>]> {
        self.state.get(id).map(Vec::as_slice)
    }

    /// Sets the state of parameter `id` (resuming from a checkpoint), one tensor per slot. It
    /// must live on the device the parameter's values live on, without autodiff.
    pub(crate) fn set_state(&mut self, id: ParamId, state: Vec<Tensor<1>>) {
        assert_eq!(state.len(), self.rule.slots().len(), "one tensor per slot");
        self.state.insert(id, state);
    }

    /// Updates every parameter of `module` that has a gradient in `grads`, with the rule at
    /// learning rate `lr` in step number `step` (1 for the first).
    pub(crate) fn step<M: Module>(
        &mut self,
        lr: f64,
        step: usize,
        module: M,
        grads: GradientsParams,
    ) -> M {
        let rule = self.rule.at(lr, step);
        module.map(&mut Stepper {
            optim: self,
            grads,
            rule,
        })
    }
}

struct Stepper<'a> {
    optim: &'a mut Optim,
    grads: GradientsParams,
    rule: Rule,
}

impl ModuleMapper for Stepper<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let checkpointing = tensor.gradient_checkpointing_strategy();
        let shape = tensor.shape();
        let n = shape.num_elements();
        let p = tensor.inner().reshape([n]);
        // A zero state makes the first step Burn's: its velocity is the gradient, its moments
        // (1 − β)·g and (1 − β)·g².
        let state = match self.optim.state.remove(&id) {
            Some(state) => state,
            None => self.rule.slots().iter().map(|_| p.zeros_like()).collect(),
        };
        let (p, state) = self.rule.apply(p, grad.reshape([n]), state);
        self.optim.state.insert(id, state);
        let mut tensor = Tensor::from_inner(p.reshape(shape));
        if let Some(strategy) = checkpointing {
            tensor = tensor.with_gradient_checkpointing_strategy(strategy);
        }
        if require_grad {
            tensor = tensor.require_grad();
        }
        Param::from_mapped_value(id, tensor, mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::decay::WeightDecayConfig;
    use burn::optim::momentum::MomentumConfig;
    use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
    use burn::tensor::{Device, Int, TensorData};
    use highway_model::loss::cross_entropy;
    use highway_model::{Activation, Kind, Mlp, ModelConfig, WeightInit};

    fn net(kind: Kind, device: &Device) -> Mlp {
        ModelConfig {
            kind,
            depth: 3,
            width: 8,
            input_size: 6,
            classes: 3,
            activation: Activation::Relu,
            gate_bias: -1.0,
            residual_alpha: 0.5,
            init: WeightInit::Normalized,
        }
        .init(7, device)
    }

    fn batch(device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
        let x: Vec<f32> = (0..5 * 6)
            .map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0)
            .collect();
        (
            Tensor::from_data(TensorData::new(x, [5, 6]), device),
            Tensor::from_data(TensorData::new(vec![0i64, 1, 2, 1, 0], [5]), device),
        )
    }

    fn params(m: &Mlp) -> Vec<f32> {
        m.tensors().into_iter().flat_map(|t| t.values).collect()
    }

    fn sgd(momentum: f64, nesterov: bool, decay: f64) -> Optim {
        Optim::new(Rule::Sgd(SgdStep {
            lr: 0.0,
            momentum: momentum as f32,
            dampening: 0.0,
            weight_decay: decay as f32,
            nesterov,
        }))
    }

    /// Four steps of ours and of Burn's `Sgd` (dampening 0) from the same net and data.
    fn both(device: &Device, momentum: f64, nesterov: bool, decay: f64) -> (Vec<f32>, Vec<f32>) {
        let mut config = SgdConfig::new().with_momentum(Some(
            MomentumConfig::new()
                .with_momentum(momentum)
                .with_dampening(0.0)
                .with_nesterov(nesterov),
        ));
        if decay > 0.0 {
            config = config.with_weight_decay(Some(WeightDecayConfig::new(decay as f32)));
        }
        let theirs = config.init();
        four_steps(device, sgd(momentum, nesterov, decay), theirs, 0.1)
    }

    /// Four steps of `ours` and `theirs` (Burn's) from the same net and data, from learning
    /// rate `lr0` down.
    fn four_steps(
        device: &Device,
        mut ours: Optim,
        mut theirs: ModuleOptimizer,
        lr0: f64,
    ) -> (Vec<f32>, Vec<f32>) {
        let (x, y) = batch(device);
        let (mut a, mut b) = (net(Kind::Highway, device), net(Kind::Highway, device));
        for step in 0..4 {
            let lr = lr0 / (step + 1) as f64;
            let loss = cross_entropy(a.forward(x.clone()), y.clone());
            a = ours.step(
                lr,
                step + 1,
                a.clone(),
                GradientsParams::from_grads(loss.backward(), &a),
            );
            let loss = cross_entropy(b.forward(x.clone()), y.clone());
            b = theirs.step(
                lr,
                b.clone(),
                GradientsParams::from_grads(loss.backward(), &b),
            );
        }
        (params(&a), params(&b))
    }

    fn close(a: &[f32], b: &[f32]) {
        close_within(a, b, 1e-6);
    }

    fn close_within(a: &[f32], b: &[f32], tolerance: f32) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= tolerance * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    fn adam(beta1: f32, beta2: f32, eps: f32, decay: f32, decoupled: bool) -> Optim {
        Optim::new(Rule::Adam(AdamStep {
            lr: 0.0,
            beta1,
            beta2,
            eps,
            weight_decay: decay,
            decoupled,
            t: 0,
        }))
    }

    /// Ours and Burn's Adam and AdamW take the same four steps (their bias correction, weight
    /// decay and ε included), on every backend. Burn arranges Adam's formula differently
    /// (its ε scaled by √(1 − β₂ᵗ)), so the two agree to rounding, not bit for bit.
    #[test]
    fn matches_burns_adam_and_adamw_on_flex_ndarray_and_wgpu() {
        #[allow(deprecated)]
        for device in [
            Device::flex(),
            Device::ndarray(),
            Device::wgpu(Default::default()),
        ] {
            let device = device.autodiff();
            for (beta1, beta2, eps, decay) in [
                (0.9, 0.999, 1e-8, 0.0),
                (0.8, 0.99, 1e-3, 1e-2),
                (0.5, 0.9, 1e-6, 0.1),
            ] {
                let mut config = AdamConfig::new()
                    .with_beta_1(beta1)
                    .with_beta_2(beta2)
                    .with_epsilon(eps);
                if decay > 0.0 {
                    config = config.with_weight_decay(Some(WeightDecayConfig::new(decay)));
                }
                let ours = adam(beta1, beta2, eps, decay, false);
                let (a, b) = four_steps(&device, ours, config.init(), 1e-2);
                close_within(&a, &b, 1e-5);
                let config = AdamWConfig::new()
                    .with_beta_1(beta1)
                    .with_beta_2(beta2)
                    .with_epsilon(eps)
                    .with_weight_decay(decay);
                let ours = adam(beta1, beta2, eps, decay, true);
                let (a, b) = four_steps(&device, ours, config.init(), 1e-2);
                close_within(&a, &b, 1e-5);
            }
        }
    }

    #[test]
    fn matches_burns_sgd_on_flex_and_ndarray() {
        #[allow(deprecated)]
        for device in [Device::flex(), Device::ndarray()] {
            let device = device.autodiff();
            for (momentum, nesterov, decay) in [
                (0.9, false, 0.0),
                (0.9, true, 0.0),
                (0.5, false, 1e-3),
                (0.0, false, 0.0),
            ] {
                let (a, b) = both(&device, momentum, nesterov, decay);
                close(&a, &b);
            }
        }
    }

    #[test]
    fn parameters_still_train_after_a_step() {
        let device = Device::flex().autodiff();
        let (x, y) = batch(&device);
        for (mut optim, lr) in [
            (sgd(0.9, false, 0.0), 0.1),
            (adam(0.9, 0.999, 1e-8, 0.0, false), 1e-2),
            (adam(0.9, 0.999, 1e-8, 1e-2, true), 1e-2),
        ] {
            let mut model = net(Kind::Plain, &device);
            let mut losses = vec![];
            for step in 1..=20 {
                let loss = cross_entropy(model.forward(x.clone()), y.clone());
                losses.push(loss.clone().into_scalar::<f32>());
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(lr, step, model, grads);
            }
            assert!(
                losses[19] < 0.5 * losses[0],
                "{:?}: {losses:?}",
                optim.rule()
            );
        }
    }
}
