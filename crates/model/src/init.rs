//! Weight initialisation, drawn on the host so every backend starts from the same numbers.

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::{Activation, SplitMix64};

/// How weight matrices are drawn. Biases start at zero (as in the authors' code), except the
/// transform-gate bias `b_T`, which the highway layer sets to its configured constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightInit {
    /// The paper's "normalized initialization": He et al. (2015) normal, std `sqrt(2 / fan_in)`,
    /// for ReLU; Glorot & Bengio (2010) uniform, `±sqrt(6 / (fan_in + fan_out))`, for tanh.
    #[default]
    Normalized,
    /// LeCun normal, std `sqrt(1 / fan_in)`: Chainer's default, for comparison.
    LecunNormal,
}

impl WeightInit {
    /// A `[fan_in, fan_out]` matrix (Burn's row layout: `y = x W + b`).
    pub(crate) fn matrix(
        self,
        fan_in: usize,
        fan_out: usize,
        act: Activation,
        rng: &mut SplitMix64,
        device: &Device,
    ) -> Param<Tensor<2>> {
        let n = fan_in * fan_out;
        let values: Vec<f32> = match (self, act) {
            (WeightInit::Normalized, Activation::Relu) => {
                let std = (2.0 / fan_in as f64).sqrt();
                (0..n).map(|_| (rng.normal() * std) as f32).collect()
            }
            (WeightInit::Normalized, Activation::Tanh) => {
                let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
                (0..n)
                    .map(|_| ((rng.next_f64() * 2.0 - 1.0) * a) as f32)
                    .collect()
            }
            (WeightInit::LecunNormal, _) => {
                let std = (1.0 / fan_in as f64).sqrt();
                (0..n).map(|_| (rng.normal() * std) as f32).collect()
            }
        };
        Param::from_data(TensorData::new(values, [fan_in, fan_out]), device)
    }
}

/// A bias vector filled with one constant.
pub(crate) fn constant(len: usize, value: f32, device: &Device) -> Param<Tensor<1>> {
    Param::from_data(TensorData::new(vec![value; len], [len]), device)
}
