//! One SGD step on a stacked parameter (`[K, len]`), each trial with its own hyperparameters;
//! the formula of [`crate::ops::sgd`], per trial.

use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, Cube, Dispatch, Flex, NdArray, TensorMetadata};
use burn::tensor::Tensor;

pub use super::TrialSteps;

use super::each_trial;
use crate::ops::flex::{owned, values, values_mut};
use crate::ops::sgd::SgdStep;

/// SGD with momentum on a stack of trials as a backend operation.
#[backend_extension(Flex, NdArray, Cube)]
pub trait TrialSgdOps: Backend {
    /// `(p, v)` after one step, from the parameter `p`, its gradient `g` and velocity `v`
    /// (all `[K, len]`), trial `k` stepping with `steps[k]`.
    fn trial_sgd_step(
        p: FloatTensor<Self>,
        g: FloatTensor<Self>,
        v: FloatTensor<Self>,
        steps: TrialSteps<SgdStep>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let device = p.device();
        let column = |f: fn(&SgdStep) -> f32| steps.column::<Self>(&device, f);
        let g = Self::float_add(g, Self::float_mul(p.clone(), column(|s| s.weight_decay)));
        let v = Self::float_add(
            Self::float_mul(v, column(|s| s.momentum)),
            Self::float_mul(g.clone(), column(|s| 1.0 - s.dampening)),
        );
        // nesterov ? g + μ·v : v, as v + nesterov·(g + μ·v − v).
        let ahead = Self::float_add(g, Self::float_mul(v.clone(), column(|s| s.momentum)));
        let nesterov = column(|s| f32::from(u8::from(s.nesterov)));
        let update = Self::float_add(
            v.clone(),
            Self::float_mul(Self::float_sub(ahead, v.clone()), nesterov),
        );
        let p = Self::float_sub(p, Self::float_mul(update, column(|s| s.lr)));
        (p, v)
    }
}

/// One step of every trial of a stacked parameter (`[K, len]`); the new parameter and
/// velocity.
pub fn trial_sgd_step(
    p: Tensor<2>,
    g: Tensor<2>,
    v: Tensor<2>,
    steps: TrialSteps<SgdStep>,
) -> (Tensor<2>, Tensor<2>) {
    let dims = p.dims();
    crate::ops::expect_dims("SGD step of a stack", "gradient", &g.dims(), &dims);
    crate::ops::expect_dims("SGD step of a stack", "velocity", &v.dims(), &dims);
    assert_eq!(
        steps.len(),
        dims[0],
        "SGD step of a stack: steps for {} trials, {} trials",
        steps.len(),
        dims[0]
    );
    let (p, v) = <Dispatch as TrialSgdOps>::trial_sgd_step(
        p.into_dispatch(),
        g.into_dispatch(),
        v.into_dispatch(),
        steps,
    );
    (Tensor::from_dispatch(p), Tensor::from_dispatch(v))
}

impl TrialSgdOps for NdArray {}
impl TrialSgdOps for Cube {}

/// Flex: in place, each trial's values with the loop of the single-net step.
impl TrialSgdOps for Flex {
    fn trial_sgd_step(
        p: FlexTensor,
        g: FlexTensor,
        v: FlexTensor,
        steps: TrialSteps<SgdStep>,
    ) -> (FlexTensor, FlexTensor) {
        let (mut p, mut v) = (owned(p), owned(v));
        let g = values(&g);
        let n = g.len();
        let len = n / steps.len().max(1);
        for (name, t) in [("parameter", &p), ("velocity", &v)] {
            let have = t.shape().num_elements();
            assert!(
                have == n,
                "SGD step of a stack: {name} has {have} values, the gradient {n}"
            );
        }
        let (pv, vv) = (values_mut(&mut p, n), values_mut(&mut v, n));
        let trials = pv.chunks_exact_mut(len).zip(vv.chunks_exact_mut(len));
        each_trial(trials.enumerate().collect(), &|(k, (p, v))| {
            crate::ops::sgd::step_values(p, v, &g[k * len..][..len], steps.get(k));
        });
        (p, v)
    }
}
