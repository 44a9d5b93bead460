//! The nonlinearity `act` of `H(x) = act(W x + b)`.

use burn::tensor::{activation, Tensor};
use serde::{Deserialize, Serialize};

/// ReLU is the default (Chainer's `L.Highway`); the paper's random search also tried tanh, and
/// its analysis nets (Figures 2–4) are tanh nets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    #[default]
    Relu,
    Tanh,
}

impl Activation {
    /// Every activation, in the order reports list them.
    pub const ALL: [Activation; 2] = [Activation::Relu, Activation::Tanh];

    pub fn apply<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Relu => activation::relu(x),
            Activation::Tanh => activation::tanh(x),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
        }
    }
}
