//! The plain layer `y = act(W x + b)`.

use burn::module::{Module, Param};
use burn::tensor::{module::linear, Device, Tensor};

use crate::{init, Activation, SplitMix64, WeightInit};

/// A fully connected layer followed by the activation. With `activation = None` it is the
/// linear output layer that produces class logits.
#[derive(Module, Debug)]
pub struct PlainLayer {
    pub weight: Param<Tensor<2>>,
    pub bias: Param<Tensor<1>>,
    #[module(skip)]
    pub activation: Option<Activation>,
}

impl PlainLayer {
    /// `init_act` chooses the initialisation scale (the output layer has no activation of its
    /// own and is initialised for the activation of the net).
    pub fn new(
        d_in: usize,
        d_out: usize,
        activation: Option<Activation>,
        init_act: Activation,
        weight_init: WeightInit,
        rng: &mut SplitMix64,
        device: &Device,
    ) -> Self {
        Self {
            weight: weight_init.matrix(d_in, d_out, init_act, rng, device),
            bias: init::constant(d_out, 0.0, device),
            activation,
        }
    }

    /// One fused backend operation with a hand-written backward pass (see [`crate::ops`]).
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        crate::ops::plain::plain(x, self.weight.val(), self.bias.val(), self.activation)
    }

    /// The same layer composed from tensor operations, differentiated by autodiff: the
    /// reference the fused operation is tested against.
    pub fn forward_composed(&self, x: Tensor<2>) -> Tensor<2> {
        let z = linear(x, self.weight.val(), Some(self.bias.val()));
        match self.activation {
            Some(act) => act.apply(z),
            None => z,
        }
    }

    /// Number of trainable scalars: `d_in·d_out + d_out`.
    pub fn param_count(&self) -> usize {
        let [d_in, d_out] = self.weight.shape().dims();
        d_in * d_out + d_out
    }
}
