//! One Adam (or AdamW) step on a stacked parameter (`[K, len]`), each trial with its own
//! hyperparameters; the formula of [`crate::ops::adam`], per trial.

use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, Cube, Dispatch, Flex, NdArray, TensorMetadata};
use burn::tensor::Tensor;

use super::{each_trial, TrialSteps};
use crate::ops::adam::AdamStep;
use crate::ops::flex::{owned, values, values_mut};

/// Adam on a stack of trials as a backend operation.
#[backend_extension(Flex, NdArray, Cube)]
pub trait TrialAdamOps: Backend {
    /// `(p, m, v)` after one step, from the parameter `p`, its gradient `g` and moments `m` and
    /// `v` (all `[K, len]`), trial `k` stepping with `steps[k]`.
    fn trial_adam_step(
        p: FloatTensor<Self>,
        g: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        steps: TrialSteps<AdamStep>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let device = p.device();
        let column = |f: fn(&AdamStep) -> f32| steps.column::<Self>(&device, f);
        let g = Self::float_add(g, Self::float_mul(p.clone(), column(|s| s.l2())));
        let m = Self::float_add(
            Self::float_mul(m, column(|s| s.beta1)),
            Self::float_mul(g.clone(), column(|s| 1.0 - s.beta1)),
        );
        let v = Self::float_add(
            Self::float_mul(v, column(|s| s.beta2)),
            Self::float_mul(Self::float_mul(g.clone(), g), column(|s| 1.0 - s.beta2)),
        );
        let p = Self::float_mul(p, column(|s| s.keep()));
        let denom = Self::float_add(
            Self::float_sqrt(Self::float_div(v.clone(), column(|s| s.corrections().1))),
            column(|s| s.eps),
        );
        let update = Self::float_div(
            Self::float_div(m.clone(), column(|s| s.corrections().0)),
            denom,
        );
        let p = Self::float_sub(p, Self::float_mul(update, column(|s| s.lr)));
        (p, m, v)
    }
}

/// One step of every trial of a stacked parameter (`[K, len]`); the new parameter and moments.
pub fn trial_adam_step(
    p: Tensor<2>,
    g: Tensor<2>,
    m: Tensor<2>,
    v: Tensor<2>,
    steps: TrialSteps<AdamStep>,
) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
    let dims = p.dims();
    let op = "Adam step of a stack";
    crate::ops::expect_dims(op, "gradient", &g.dims(), &dims);
    crate::ops::expect_dims(op, "first moment", &m.dims(), &dims);
    crate::ops::expect_dims(op, "second moment", &v.dims(), &dims);
    assert_eq!(
        steps.len(),
        dims[0],
        "{op}: steps for {} trials, {} trials",
        steps.len(),
        dims[0]
    );
    let (p, m, v) = <Dispatch as TrialAdamOps>::trial_adam_step(
        p.into_dispatch(),
        g.into_dispatch(),
        m.into_dispatch(),
        v.into_dispatch(),
        steps,
    );
    (
        Tensor::from_dispatch(p),
        Tensor::from_dispatch(m),
        Tensor::from_dispatch(v),
    )
}

impl TrialAdamOps for NdArray {}
impl TrialAdamOps for Cube {}

/// Flex: in place, each trial's values with the loop of the single-net step.
impl TrialAdamOps for Flex {
    fn trial_adam_step(
        p: FlexTensor,
        g: FlexTensor,
        m: FlexTensor,
        v: FlexTensor,
        steps: TrialSteps<AdamStep>,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let (mut p, mut m, mut v) = (owned(p), owned(m), owned(v));
        let g = values(&g);
        let n = g.len();
        let len = n / steps.len().max(1);
        for (name, t) in [
            ("parameter", &p),
            ("first moment", &m),
            ("second moment", &v),
        ] {
            let have = t.shape().num_elements();
            assert!(
                have == n,
                "Adam step of a stack: {name} has {have} values, the gradient {n}"
            );
        }
        let (pv, mv, vv) = (
            values_mut(&mut p, n),
            values_mut(&mut m, n),
            values_mut(&mut v, n),
        );
        let trials = pv
            .chunks_exact_mut(len)
            .zip(mv.chunks_exact_mut(len))
            .zip(vv.chunks_exact_mut(len));
        each_trial(trials.enumerate().collect(), &|(k, ((p, m), v))| {
            let g = &g[k * len..][..len];
            crate::ops::adam::step_values(p, m, v, g, steps.get(k));
        });
        (p, m, v)
    }
}
