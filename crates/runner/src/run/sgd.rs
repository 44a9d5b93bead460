//! SGD with momentum, one fused backend operation per parameter.
//!
//! Burn's `Sgd` computes the same step (checked in the tests below) but, per parameter, joins a
//! path string, looks up its settings and state behind a type-erased record, and runs five
//! tensor operations; a 900-layer highway net has 3,600 parameters, so that bookkeeping is a
//! large share of its step (docs/performance.md). This optimiser keeps one velocity tensor
//! per parameter and calls [`highway_model::ops::sgd::sgd_step`]; a checkpoint saves the
//! velocities by parameter name (`run/net.rs`).

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use highway_model::ops::sgd::{sgd_step, SgdStep};

/// Classical SGD (no dampening) with optional momentum, Nesterov momentum and weight decay.
pub(crate) struct Sgd {
    momentum: f32,
    nesterov: bool,
    weight_decay: f32,
    velocity: HashMap<ParamId, Tensor<1>>,
}

impl Sgd {
    pub(crate) fn new(momentum: f64, nesterov: bool, weight_decay: f64) -> Self {
        Self {
            momentum: momentum as f32,
            nesterov,
            weight_decay: weight_decay as f32,
            velocity: HashMap::new(),
        }
    }

    /// The velocity of parameter `id`; `None` before its first step.
    pub(crate) fn velocity(&self, id: &ParamId) -> Option<&Tensor<1>> {
        self.velocity.get(id)
    }

    /// Sets the velocity of parameter `id` (resuming from a checkpoint). It must live on the
    /// device the parameter's values live on, without autodiff.
    pub(crate) fn set_velocity(&mut self, id: ParamId, velocity: Tensor<1>) {
        self.velocity.insert(id, velocity);
    }

    /// Updates every parameter of `module` that has a gradient in `grads`.
    pub(crate) fn step<M: Module>(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        module.map(&mut Stepper {
            sgd: self,
            grads,
            lr: lr as f32,
        })
    }
}

struct Stepper<'a> {
    sgd: &'a mut Sgd,
    grads: GradientsParams,
    lr: f32,
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
        // A zero velocity makes the first step's velocity the gradient, as in Burn's momentum.
        let v = match self.sgd.velocity.remove(&id) {
            Some(v) => v,
            None => p.zeros_like(),
        };
        let step = SgdStep {
            lr: self.lr,
            momentum: self.sgd.momentum,
            dampening: 0.0,
            weight_decay: self.sgd.weight_decay,
            nesterov: self.sgd.nesterov,
        };
        let (p, v) = sgd_step(p, grad.reshape([n]), v, step);
        self.sgd.velocity.insert(id, v);
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
    use burn::optim::SgdConfig;
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

    /// Four steps of ours and of Burn's `Sgd` (dampening 0) from the same net and data.
    fn both(device: &Device, momentum: f64, nesterov: bool, decay: f64) -> (Vec<f32>, Vec<f32>) {
        let (x, y) = batch(device);
        let mut ours = Sgd::new(momentum, nesterov, decay);
        let mut config = SgdConfig::new().with_momentum(Some(
            MomentumConfig::new()
                .with_momentum(momentum)
                .with_dampening(0.0)
                .with_nesterov(nesterov),
        ));
        if decay > 0.0 {
            config = config.with_weight_decay(Some(WeightDecayConfig::new(decay as f32)));
        }
        let mut theirs = config.init();
        let (mut a, mut b) = (net(Kind::Highway, device), net(Kind::Highway, device));
        for step in 0..4 {
            let lr = 0.1 / (step + 1) as f64;
            let loss = cross_entropy(a.forward(x.clone()), y.clone());
            a = ours.step(
                lr,
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
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-6 * (1.0 + y.abs()), "{x} vs {y}");
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
        let mut sgd = Sgd::new(0.9, false, 0.0);
        let mut model = net(Kind::Plain, &device);
        let mut losses = vec![];
        for _ in 0..20 {
            let loss = cross_entropy(model.forward(x.clone()), y.clone());
            losses.push(loss.clone().into_scalar::<f32>());
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = sgd.step(0.1, model, grads);
        }
        assert!(losses[19] < 0.5 * losses[0], "{losses:?}");
    }
}
