//! The residual layer `y = x + α·act(x W + b)` (He et al. 2015) with one learned scalar `α` per
//! layer, as ReZero (Bachlechner et al. 2020) has it: started at 0 the layer is the identity,
//! as a highway layer with a closed gate nearly is; started at 1 it is the plain shortcut.

use burn::module::{Module, Param};
use burn::tensor::{module::linear, Device, Tensor};

use crate::{init, Activation, SplitMix64, WeightInit};

/// One residual layer of width `n`: an `n × n` plain branch and its scale `α`, so the layer has
/// `n² + n + 1` parameters.
#[derive(Module, Debug)]
pub struct ResidualLayer {
    pub weight: Param<Tensor<2>>,
    pub bias: Param<Tensor<1>>,
    /// The branch's scale, a one-element tensor.
    pub alpha: Param<Tensor<1>>,
    #[module(skip)]
    pub activation: Activation,
}

impl ResidualLayer {
    /// `alpha` is the constant `α` starts at (ReZero: 0).
    pub fn new(
        width: usize,
        activation: Activation,
        alpha: f32,
        weight_init: WeightInit,
        rng: &mut SplitMix64,
        device: &Device,
    ) -> Self {
        Self {
            weight: weight_init.matrix(width, width, activation, rng, device),
            bias: init::constant(width, 0.0, device),
            alpha: init::constant(1, alpha, device),
            activation,
        }
    }

    /// One fused backend operation with a hand-written backward pass (see [`crate::ops`]).
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        crate::ops::residual::residual(
            x,
            self.weight.val(),
            self.bias.val(),
            self.alpha.val(),
            self.activation,
        )
    }

    /// The same layer composed from tensor operations, differentiated by autodiff: the
    /// reference the fused operation is tested against.
    pub fn forward_composed(&self, x: Tensor<2>) -> Tensor<2> {
        let a = self
            .activation
            .apply(linear(x.clone(), self.weight.val(), Some(self.bias.val())));
        x + a * self.alpha.val().reshape([1, 1])
    }

    pub fn width(&self) -> usize {
        self.bias.shape().dims::<1>()[0]
    }

    /// Number of trainable scalars: `n² + n + 1`.
    pub fn param_count(&self) -> usize {
        let n = self.width();
        n * n + n + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn matches_a_hand_computation() {
        let d = Device::flex();
        let layer = ResidualLayer {
            weight: Param::from_data(TensorData::from([[0.5f32, -1.0], [0.25, 2.0]]), &d),
            bias: Param::from_data(TensorData::from([0.1f32, 0.2]), &d),
            alpha: Param::from_data(TensorData::from([0.5f32]), &d),
            activation: Activation::Relu,
        };
        // x W + b = [0.5 - 0.5 + 0.1, -1 - 4 + 0.2] = [0.1, -4.8] → a = [0.1, 0]
        let x = Tensor::<2>::from_data(TensorData::from([[1.0f32, -2.0]]), &d);
        let want = [1.0 + 0.5 * 0.1, -2.0];
        for y in [
            values(layer.forward(x.clone())),
            values(layer.forward_composed(x)),
        ] {
            for (g, w) in y.iter().zip(want) {
                assert!((g - w).abs() < 1e-6, "{y:?} want {want:?}");
            }
        }
    }

    #[test]
    fn alpha_zero_is_the_identity_and_width_50_has_2551_parameters() {
        let d = Device::flex();
        let layer = ResidualLayer::new(
            50,
            Activation::Tanh,
            0.0,
            WeightInit::Normalized,
            &mut SplitMix64::new(1),
            &d,
        );
        let x = Tensor::<2>::from_data(
            TensorData::new((0..100).map(|i| i as f32 / 50.0 - 1.0).collect(), [2, 50]),
            &d,
        );
        assert_eq!(layer.forward(x.clone()).into_data(), x.into_data());
        assert_eq!(layer.param_count(), 2_551);
        assert_eq!(layer.num_params(), 2_551);
    }
}
