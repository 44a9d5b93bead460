//! One step of SGD with momentum on a flat parameter, as one backend operation:
//!
//! ```text
//! g ← g + λ·p            (weight decay λ)
//! v ← μ·v + (1 − d)·g    (momentum μ, dampening d)
//! p ← p − η·(nesterov ? g + μ·v : v)
//! ```
//!
//! Burn's optimiser spends five tensor operations on this, each allocating its output, which is
//! a large share of a deep thin net's step. Flex does it in one pass, in place where the
//! parameter and velocity buffers are not shared, split over the team for large parameters.

use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, Cube, Dispatch, Flex, NdArray, TensorMetadata};
use burn::tensor::Tensor;

use super::flex::{owned, values, values_mut};
use super::matmul::row_parts2;
use super::simd::vectorised;
use super::team;

/// The step's hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdStep {
    pub lr: f32,
    pub momentum: f32,
    pub dampening: f32,
    pub weight_decay: f32,
    pub nesterov: bool,
}

/// SGD with momentum as a backend operation.
#[backend_extension(Flex, NdArray, Cube)]
pub trait SgdOps: Backend {
    /// `(p, v)` after one step, from the parameter `p`, its gradient `g` and velocity `v`
    /// (all rank 1, the same length).
    #[allow(clippy::too_many_arguments)]
    fn sgd_step(
        p: FloatTensor<Self>,
        g: FloatTensor<Self>,
        v: FloatTensor<Self>,
        lr: f32,
        momentum: f32,
        dampening: f32,
        weight_decay: f32,
        nesterov: bool,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let g = if weight_decay != 0.0 {
            Self::float_add(g, Self::float_mul_scalar(p.clone(), weight_decay.into()))
        } else {
            g
        };
        let v = Self::float_add(
            Self::float_mul_scalar(v, momentum.into()),
            Self::float_mul_scalar(g.clone(), (1.0 - dampening).into()),
        );
        let update = if nesterov {
            Self::float_add(g, Self::float_mul_scalar(v.clone(), momentum.into()))
        } else {
            v.clone()
        };
        let p = Self::float_sub(p, Self::float_mul_scalar(update, lr.into()));
        (p, v)
    }
}

/// One step on whatever backend `p` lives on; returns the new parameter and velocity.
/// `p`, `g` and `v` must have the same length.
pub fn sgd_step(p: Tensor<1>, g: Tensor<1>, v: Tensor<1>, s: SgdStep) -> (Tensor<1>, Tensor<1>) {
    let n = p.dims();
    super::expect_dims("SGD step", "gradient", &g.dims(), &n);
    super::expect_dims("SGD step", "velocity", &v.dims(), &n);
    let (p, v) = <Dispatch as SgdOps>::sgd_step(
        p.into_dispatch(),
        g.into_dispatch(),
        v.into_dispatch(),
        s.lr,
        s.momentum,
        s.dampening,
        s.weight_decay,
        s.nesterov,
    );
    (Tensor::from_dispatch(p), Tensor::from_dispatch(v))
}

impl SgdOps for NdArray {}
impl SgdOps for Cube {}

/// Values per part below which a second thread does not pay for the hand-off.
const MIN_PART: usize = 16 * 1024;

impl SgdOps for Flex {
    fn sgd_step(
        p: FlexTensor,
        g: FlexTensor,
        v: FlexTensor,
        lr: f32,
        momentum: f32,
        dampening: f32,
        weight_decay: f32,
        nesterov: bool,
    ) -> (FlexTensor, FlexTensor) {
        let (mut p, mut v) = (owned(p), owned(v));
        let g = values(&g);
        let n = g.len();
        for (name, t) in [("parameter", &p), ("velocity", &v)] {
            let len = t.shape().num_elements();
            assert!(
                len == n,
                "SGD step: {name} has {len} values, the gradient {n}"
            );
        }
        let (pv, vv) = (values_mut(&mut p, n), values_mut(&mut v, n));
        let parts = row_parts2(pv, 1, vv, 1, &team::ranges(n, MIN_PART));
        let step = SgdStep {
            lr,
            momentum,
            dampening,
            weight_decay,
            nesterov,
        };
        team::each(parts, &|(r, p, v)| step_values(p, v, &g[r], &step));
        (p, v)
    }
}

/// The step on `f32` slices, in place; also each trial's step in a stack (`ops::trials::sgd`).
pub(super) fn step_values(p: &mut [f32], v: &mut [f32], g: &[f32], s: &SgdStep) {
    let keep = 1.0 - s.dampening;
    vectorised(
        #[inline(always)]
        || {
            for ((p, v), g) in p.iter_mut().zip(v.iter_mut()).zip(g) {
                let g = g + s.weight_decay * *p;
                *v = s.momentum * *v + keep * g;
                let update = if s.nesterov { g + s.momentum * *v } else { *v };
                *p -= s.lr * update;
            }
        },
    );
}
