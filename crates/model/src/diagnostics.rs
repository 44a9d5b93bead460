//! Per-layer statistics of one forward and backward pass: how much gradient reaches each layer,
//! what its outputs look like, how many of its units are dead, and how open its gates are. They
//! show where and why a deep net stops learning.

use burn::module::Module;
use burn::tensor::{module::linear, Int, Tensor};

use crate::loss::cross_entropy;
use crate::Mlp;

/// What one hidden layer looked like on a probe batch. Norms are Frobenius norms of the
/// gradient of the batch's mean loss.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerStats {
    /// The gradient with respect to all of the layer's weight matrices (for a highway layer
    /// `W_H` and `W_T` together).
    pub grad_w: f64,
    /// Highway layers: the gradient with respect to `W_H` and to `W_T`.
    pub grad_w_h: Option<f64>,
    pub grad_w_t: Option<f64>,
    /// The gradient with respect to the layer's output: the signal that reaches it from the loss.
    pub grad_out: f64,
    /// Mean and standard deviation of the layer's outputs over the batch and its units.
    pub out_mean: f64,
    pub out_std: f64,
    /// The fraction of units whose activation (`act(W x + b)`; `H(x)` in a highway layer, the
    /// branch in a residual layer) is zero for every example of the batch.
    pub dead: f64,
    /// Highway layers: the mean transform gate `T(x)` and the mean gate bias `b_T`.
    pub gate: Option<f64>,
    pub gate_bias: Option<f64>,
}

/// Quantities read back per layer, in this order, in one transfer.
const PER_LAYER: usize = 8;

impl Mlp {
    /// The statistics of every hidden layer (the input layer first) for the batch `x` with
    /// labels `labels`. The net must be on an autodiff device; its parameters are not changed.
    ///
    /// Two passes keep the memory near a training step's: a forward pass without autodiff
    /// that keeps nothing but each layer's summary values (and sees `H` and `T` of highway
    /// layers), and a forward and backward pass of the fused layers for the gradients.
    pub fn layer_stats(&self, x: Tensor<2>, labels: Tensor<1, Int>) -> Vec<LayerStats> {
        let device = x.device();
        let zero = || Tensor::<1>::zeros([1], &device).inner();
        let values = summaries(&self.valid(), x.clone().inner());
        // A zero added to each layer's output: its gradient is the gradient with respect to
        // that output, which autodiff does not keep for intermediate tensors.
        let mut taps = Vec::with_capacity(self.depth());
        let mut tapped = |y: Tensor<2>| {
            let tap = Tensor::<2>::zeros(y.dims(), &device).require_grad();
            taps.push(tap.clone());
            y + tap
        };
        let mut h = x;
        for plain in std::iter::once(&self.input).chain(&self.plain) {
            h = tapped(plain.forward(h));
        }
        for highway in &self.highway {
            h = tapped(highway.forward(h));
        }
        for residual in &self.residual {
            h = tapped(residual.forward(h));
        }
        let grads = cross_entropy(self.output.forward(h), labels).backward();
        let sq = |g: Option<Tensor<2>>| g.map_or_else(zero, |g| g.square().sum());
        let plain_weights = std::iter::once(&self.input).chain(&self.plain);
        let mut weight_grads: Vec<[Tensor<1>; 2]> = plain_weights
            .map(|p| [sq(p.weight.val().grad(&grads)), zero()])
            .collect();
        weight_grads.extend(
            self.highway
                .iter()
                .map(|hw| [sq(hw.w_h.val().grad(&grads)), sq(hw.w_t.val().grad(&grads))]),
        );
        weight_grads.extend(
            self.residual
                .iter()
                .map(|r| [sq(r.weight.val().grad(&grads)), zero()]),
        );
        let mut columns = Vec::with_capacity(self.depth() * PER_LAYER);
        for ((v, w), tap) in values.into_iter().zip(weight_grads).zip(taps) {
            columns.extend(w);
            columns.push(sq(tap.grad(&grads)));
            columns.extend(v);
        }
        let values: Vec<f32> = Tensor::cat(columns, 0)
            .into_data()
            .try_to_vec()
            .expect("f32 statistics");
        let highway = 1 + self.plain.len()..1 + self.plain.len() + self.highway.len();
        values
            .chunks(PER_LAYER)
            .enumerate()
            .map(|(i, v)| {
                let v: Vec<f64> = v.iter().map(|&x| x as f64).collect();
                let highway = highway.contains(&i);
                LayerStats {
                    grad_w: (v[0] + v[1]).sqrt(),
                    grad_w_h: highway.then(|| v[0].sqrt()),
                    grad_w_t: highway.then(|| v[1].sqrt()),
                    grad_out: v[2].sqrt(),
                    out_mean: v[3],
                    out_std: (v[4] - v[3] * v[3]).max(0.0).sqrt(),
                    dead: v[5],
                    gate: highway.then_some(v[6]),
                    gate_bias: highway.then_some(v[7]),
                }
            })
            .collect()
    }
}

/// The summary values of every hidden layer of `net` (a net without autodiff) for the batch
/// `x`, in forward order (see [`output_values`]).
fn summaries(net: &Mlp, x: Tensor<2>) -> Vec<[Tensor<1>; 5]> {
    let device = x.device();
    let zero = || Tensor::<1>::zeros([1], &device);
    let mut values = Vec::with_capacity(net.depth());
    let mut h = x;
    for plain in std::iter::once(&net.input).chain(&net.plain) {
        let y = plain.forward(h);
        values.push(output_values(&y, y.clone(), [zero(), zero()]));
        h = y;
    }
    for highway in &net.highway {
        let out = highway.forward_gated(h);
        let gate = [out.gate.mean(), highway.b_t.val().mean()];
        values.push(output_values(&out.y, out.h, gate));
        h = out.y;
    }
    for residual in &net.residual {
        let (w, b) = (residual.weight.val(), residual.bias.val());
        let a = residual.activation.apply(linear(h.clone(), w, Some(b)));
        let y = residual.forward(h);
        values.push(output_values(&y, a, [zero(), zero()]));
        h = y;
    }
    values
}

/// A layer's output `y`: its mean and mean square; the fraction of units of `act` that are
/// zero for every example; and `gate` (the mean gate and gate bias, or zeros).
fn output_values(y: &Tensor<2>, act: Tensor<2>, gate: [Tensor<1>; 2]) -> [Tensor<1>; 5] {
    let units = act.dims()[1] as f64;
    let dead = act.abs().max_dim(0).equal_elem(0.0).float().sum();
    let [g, b] = gate;
    [
        y.clone().mean(),
        y.clone().square().mean(),
        dead.div_scalar(units),
        g,
        b,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, Kind, ModelConfig, WeightInit};
    use burn::module::Param;
    use burn::tensor::{Device, TensorData};

    fn net(kind: Kind, device: &Device) -> Mlp {
        ModelConfig {
            kind,
            depth: 4,
            width: 6,
            input_size: 5,
            classes: 3,
            activation: Activation::Relu,
            gate_bias: -1.0,
            residual_alpha: 0.5,
            init: WeightInit::Normalized,
        }
        .init(7, device)
    }

    fn batch(device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
        let x = (0..8 * 5).map(|i| ((i * 13) % 11) as f32 / 5.0 - 1.0);
        let x = Tensor::from_data(TensorData::new(x.collect::<Vec<_>>(), [8, 5]), device);
        let y = Tensor::from_data(
            TensorData::new((0..8).map(|i| i % 3).collect::<Vec<i64>>(), [8]),
            device,
        );
        (x, y)
    }

    fn norm(t: Option<Tensor<2>>) -> f64 {
        let v: Vec<f32> = t.expect("a gradient").into_data().try_to_vec().unwrap();
        v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-4 * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn weight_gradients_match_an_ordinary_backward_pass() {
        let d = Device::flex().autodiff();
        let (x, y) = batch(&d);
        for kind in Kind::ALL {
            let net = net(kind, &d);
            let stats = net.layer_stats(x.clone(), y.clone());
            assert_eq!(stats.len(), 4);
            let grads = cross_entropy(net.forward(x.clone()), y.clone()).backward();
            assert!(close(
                stats[0].grad_w,
                norm(net.input.weight.val().grad(&grads))
            ));
            if kind == Kind::Highway {
                for (s, hw) in stats[1..].iter().zip(&net.highway) {
                    let (gh, gt) = (
                        norm(hw.w_h.val().grad(&grads)),
                        norm(hw.w_t.val().grad(&grads)),
                    );
                    assert!(close(s.grad_w_h.unwrap(), gh), "{s:?} vs {gh}");
                    assert!(close(s.grad_w_t.unwrap(), gt));
                    assert!(close(s.grad_w, (gh * gh + gt * gt).sqrt()));
                    assert!(s.grad_out > 0.0);
                }
            } else {
                let weights: Vec<_> = match kind {
                    Kind::Residual => net.residual.iter().map(|r| &r.weight).collect(),
                    _ => net.plain.iter().map(|p| &p.weight).collect(),
                };
                assert_eq!(weights.len(), 3);
                for (s, w) in stats[1..].iter().zip(weights) {
                    let g = norm(w.val().grad(&grads));
                    assert!(g > 0.0 && close(s.grad_w, g), "{kind:?}: {s:?} vs {g}");
                    assert_eq!((s.grad_w_h, s.gate), (None, None));
                }
            }
        }
    }

    #[test]
    fn outputs_gates_and_dead_units_are_what_a_probe_sees() {
        let d = Device::flex().autodiff();
        let (x, y) = batch(&d);
        let mut net = net(Kind::Highway, &d);
        let probe = net.probe(x.clone());
        let stats = net.layer_stats(x.clone(), y.clone());
        for (i, s) in stats[1..].iter().enumerate() {
            let out: Vec<f32> = probe.outputs[i].clone().into_data().try_to_vec().unwrap();
            let mean = out.iter().map(|v| *v as f64).sum::<f64>() / out.len() as f64;
            let var =
                out.iter().map(|v| (*v as f64 - mean).powi(2)).sum::<f64>() / out.len() as f64;
            assert!(
                close(s.out_mean, mean) && close(s.out_std, var.sqrt()),
                "{s:?}"
            );
            let gate = probe.gates[i].clone().mean().into_scalar::<f32>() as f64;
            assert!(close(s.gate.unwrap(), gate));
            assert!(close(s.gate_bias.unwrap(), -1.0));
        }
        // An input layer whose biases are hugely negative: every unit dead, no gradient below.
        net.input.bias = Param::from_data(TensorData::new(vec![-1e3f32; 6], [6]), &d);
        let stats = net.layer_stats(x, y);
        assert_eq!(stats[0].dead, 1.0);
        assert_eq!(stats[0].grad_w, 0.0);
        assert!(
            stats[0].grad_out > 0.0,
            "the gradient still reaches the dead layer's output"
        );
    }
}
