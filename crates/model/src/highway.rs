//! The highway layer `y = H(x)·T(x) + x·(1 − T(x))`.

use burn::module::{Module, Param};
use burn::tensor::{activation::sigmoid, module::linear, Device, Tensor};

use crate::{init, Activation, SplitMix64, WeightInit};

/// One highway layer of width `n`: `H = act(x W_H + b_H)`, `T = σ(x W_T + b_T)`, one gate per
/// unit, coupled carry `C = 1 − T`. `W_H` and `W_T` are full `n × n` matrices, so the layer has
/// `2(n² + n)` parameters.
#[derive(Module, Debug)]
pub struct HighwayLayer {
    pub w_h: Param<Tensor<2>>,
    pub b_h: Param<Tensor<1>>,
    pub w_t: Param<Tensor<2>>,
    pub b_t: Param<Tensor<1>>,
    #[module(skip)]
    pub activation: Activation,
}

/// What one layer computed: its output and, for analysis, its transform gate `T(x)` and its
/// transform `H(x)`.
pub struct HighwayOutput {
    pub y: Tensor<2>,
    pub gate: Tensor<2>,
    pub h: Tensor<2>,
}

impl HighwayLayer {
    /// `gate_bias` is the constant `b_T` starts at; negative values (the paper: −1 … −4, default
    /// −2) make a fresh layer mostly carry its input.
    pub fn new(
        width: usize,
        activation: Activation,
        gate_bias: f32,
        weight_init: WeightInit,
        rng: &mut SplitMix64,
        device: &Device,
    ) -> Self {
        Self {
            w_h: weight_init.matrix(width, width, activation, rng, device),
            b_h: init::constant(width, 0.0, device),
            // The gate is a sigmoid unit; it is initialised like the tanh family (Glorot).
            w_t: weight_init.matrix(width, width, Activation::Tanh, rng, device),
            b_t: init::constant(width, gate_bias, device),
            activation,
        }
    }

    /// `y = x + T·(H − x)`: algebraically the paper's `H·T + x·(1 − T)`, one product fewer.
    /// One fused backend operation with a hand-written backward pass (see [`crate::ops`]).
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        crate::ops::highway::highway(
            x,
            self.w_h.val(),
            self.b_h.val(),
            self.w_t.val(),
            self.b_t.val(),
            self.activation,
        )
    }

    /// The same layer composed from tensor operations, differentiated by autodiff: the
    /// reference the fused operation is tested against.
    pub fn forward_composed(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward_gated(x).y
    }

    /// The forward pass that also hands back the transform gate.
    pub fn forward_gated(&self, x: Tensor<2>) -> HighwayOutput {
        let h = self
            .activation
            .apply(linear(x.clone(), self.w_h.val(), Some(self.b_h.val())));
        let gate = sigmoid(linear(x.clone(), self.w_t.val(), Some(self.b_t.val())));
        let y = x.clone() + gate.clone() * (h.clone() - x);
        HighwayOutput { y, gate, h }
    }

    pub fn width(&self) -> usize {
        self.b_t.shape().dims::<1>()[0]
    }

    /// Number of trainable scalars: `2(n² + n)`.
    pub fn param_count(&self) -> usize {
        let n = self.width();
        2 * (n * n + n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn device() -> Device {
        Device::flex()
    }

    fn layer_with(
        w_h: [[f32; 2]; 2],
        b_h: [f32; 2],
        w_t: [[f32; 2]; 2],
        b_t: [f32; 2],
    ) -> HighwayLayer {
        let d = device();
        HighwayLayer {
            w_h: Param::from_data(TensorData::from(w_h), &d),
            b_h: Param::from_data(TensorData::from(b_h), &d),
            w_t: Param::from_data(TensorData::from(w_t), &d),
            b_t: Param::from_data(TensorData::from(b_t), &d),
            activation: Activation::Relu,
        }
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn matches_a_hand_computation() {
        // x = [1, -2]; H = relu(x W_H + b_H); T = σ(x W_T + b_T); y = H·T + x·(1 − T)
        let layer = layer_with(
            [[0.5, -1.0], [0.25, 2.0]],
            [0.1, 0.2],
            [[1.0, 0.0], [0.0, -1.0]],
            [-1.0, 0.5],
        );
        let x = Tensor::<2>::from_data(TensorData::from([[1.0f32, -2.0]]), &device());
        // x W_H + b_H = [0.5 - 0.5 + 0.1, -1 - 4 + 0.2] = [0.1, -4.8] → H = [0.1, 0]
        // x W_T + b_T = [1 - 1, 2 + 0.5] = [0, 2.5] → T = [0.5, σ(2.5)]
        let s = 1.0 / (1.0 + (-2.5f32).exp());
        let expected = [0.1 * 0.5 + 1.0 * 0.5, 0.0 * s + (-2.0) * (1.0 - s)];
        let out = layer.forward_gated(x);
        let y = values(out.y);
        let t = values(out.gate);
        for i in 0..2 {
            assert!(
                (y[i] - expected[i]).abs() < 1e-6,
                "y[{i}] = {} want {}",
                y[i],
                expected[i]
            );
        }
        assert!((t[0] - 0.5).abs() < 1e-6 && (t[1] - s).abs() < 1e-6);
    }

    #[test]
    fn open_gate_is_plain_closed_gate_is_identity() {
        let d = device();
        let mut rng = SplitMix64::new(3);
        let x = Tensor::<2>::from_data(
            TensorData::new(
                (0..12).map(|i| i as f32 * 0.3 - 1.5).collect::<Vec<_>>(),
                [3, 4],
            ),
            &d,
        );
        let open = HighwayLayer::new(
            4,
            Activation::Relu,
            50.0,
            WeightInit::Normalized,
            &mut rng,
            &d,
        );
        let plain_h =
            Activation::Relu.apply(linear(x.clone(), open.w_h.val(), Some(open.b_h.val())));
        let (got, want) = (values(open.forward(x.clone())), values(plain_h));
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() < 1e-5,
                "b_T = +50 should give H(x): {g} vs {w}"
            );
        }
        let shut = HighwayLayer::new(
            4,
            Activation::Relu,
            -50.0,
            WeightInit::Normalized,
            &mut rng,
            &d,
        );
        let (got, want) = (values(shut.forward(x.clone())), values(x));
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "b_T = -50 should give x: {g} vs {w}");
        }
    }

    #[test]
    fn width_50_has_5100_parameters() {
        let d = device();
        let layer = HighwayLayer::new(
            50,
            Activation::Relu,
            -2.0,
            WeightInit::Normalized,
            &mut SplitMix64::new(0),
            &d,
        );
        assert_eq!(layer.param_count(), 5_100);
        assert_eq!(layer.num_params(), 5_100);
    }
}
