//! One step of Adam (Kingma & Ba) or AdamW (Loshchilov & Hutter: decoupled weight decay) on a
//! flat parameter, as one backend operation:
//!
//! ```text
//! g ← g + λ·p                         (Adam's weight decay λ, an L2 term)
//! m ← β₁·m + (1 − β₁)·g
//! v ← β₂·v + (1 − β₂)·g²
//! p ← (1 − η·λ)·p                     (AdamW's weight decay instead)
//! p ← p − η · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
//! ```
//!
//! with `t` the step's number (1 for the first). Burn's `Adam` and `AdamW` compute the same (the
//! tests compare); as with [`super::sgd`], Flex does it in one pass, in place, split over the
//! team for large parameters, and the other backends compose it from tensor operations.

use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, Cube, Dispatch, Flex, NdArray, TensorMetadata};
use burn::tensor::Tensor;

use super::flex::{owned, values, values_mut};
use super::matmul::row_parts;
use super::simd::vectorised;
use super::team;

/// The step's hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    /// AdamW: the weight decay shrinks the parameter instead of joining the gradient.
    pub decoupled: bool,
    /// The step's number, 1 for the first: the moments' bias correction.
    pub t: u32,
}

impl AdamStep {
    /// `1 − β₁ᵗ` and `1 − β₂ᵗ`, the divisors of the bias correction (in `f32`, as Burn's).
    pub fn corrections(&self) -> (f32, f32) {
        let t = self.t.min(i32::MAX as u32) as i32;
        (1.0 - self.beta1.powi(t), 1.0 - self.beta2.powi(t))
    }

    /// The factor the parameter is multiplied by before the update: `1 − η·λ` for AdamW, 1
    /// for Adam.
    pub fn keep(&self) -> f32 {
        match self.decoupled {
            true => 1.0 - self.lr * self.weight_decay,
            false => 1.0,
        }
    }

    /// The weight decay added to the gradient: λ for Adam, 0 for AdamW.
    pub fn l2(&self) -> f32 {
        match self.decoupled {
            true => 0.0,
            false => self.weight_decay,
        }
    }
}

/// Adam as a backend operation.
#[backend_extension(Flex, NdArray, Cube)]
pub trait AdamOps: Backend {
    /// `(p, m, v)` after one step, from the parameter `p`, its gradient `g` and the first and
    /// second moments `m` and `v` (all rank 1, the same length).
    fn adam_step(
        p: FloatTensor<Self>,
        g: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        s: AdamStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (c1, c2) = s.corrections();
        let l2 = s.l2();
        let g = if l2 != 0.0 {
            Self::float_add(g, Self::float_mul_scalar(p.clone(), l2.into()))
        } else {
            g
        };
        let m = Self::float_add(
            Self::float_mul_scalar(m, s.beta1.into()),
            Self::float_mul_scalar(g.clone(), (1.0 - s.beta1).into()),
        );
        let v = Self::float_add(
            Self::float_mul_scalar(v, s.beta2.into()),
            Self::float_mul_scalar(Self::float_mul(g.clone(), g), (1.0 - s.beta2).into()),
        );
        let keep = s.keep();
        let p = if keep != 1.0 {
            Self::float_mul_scalar(p, keep.into())
        } else {
            p
        };
        let denom = Self::float_add_scalar(
            Self::float_sqrt(Self::float_div_scalar(v.clone(), c2.into())),
            s.eps.into(),
        );
        let update = Self::float_div(Self::float_div_scalar(m.clone(), c1.into()), denom);
        let p = Self::float_sub(p, Self::float_mul_scalar(update, s.lr.into()));
        (p, m, v)
    }
}

/// One step on whatever backend `p` lives on; returns the new parameter and moments. `p`, `g`,
/// `m` and `v` must have the same length.
pub fn adam_step(
    p: Tensor<1>,
    g: Tensor<1>,
    m: Tensor<1>,
    v: Tensor<1>,
    s: AdamStep,
) -> (Tensor<1>, Tensor<1>, Tensor<1>) {
    let n = p.dims();
    super::expect_dims("Adam step", "gradient", &g.dims(), &n);
    super::expect_dims("Adam step", "first moment", &m.dims(), &n);
    super::expect_dims("Adam step", "second moment", &v.dims(), &n);
    let (p, m, v) = <Dispatch as AdamOps>::adam_step(
        p.into_dispatch(),
        g.into_dispatch(),
        m.into_dispatch(),
        v.into_dispatch(),
        s,
    );
    (
        Tensor::from_dispatch(p),
        Tensor::from_dispatch(m),
        Tensor::from_dispatch(v),
    )
}

impl AdamOps for NdArray {}
impl AdamOps for Cube {}

/// Values per part below which a second thread does not pay for the hand-off.
const MIN_PART: usize = 16 * 1024;

impl AdamOps for Flex {
    fn adam_step(
        p: FlexTensor,
        g: FlexTensor,
        m: FlexTensor,
        v: FlexTensor,
        s: AdamStep,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let (mut p, mut m, mut v) = (owned(p), owned(m), owned(v));
        let g = values(&g);
        let n = g.len();
        for (name, t) in [
            ("parameter", &p),
            ("first moment", &m),
            ("second moment", &v),
        ] {
            let len = t.shape().num_elements();
            assert!(
                len == n,
                "Adam step: {name} has {len} values, the gradient {n}"
            );
        }
        let blocks = team::ranges(n, MIN_PART);
        let parts = row_parts(values_mut(&mut p, n), 1, &blocks)
            .into_iter()
            .zip(row_parts(values_mut(&mut m, n), 1, &blocks))
            .zip(row_parts(values_mut(&mut v, n), 1, &blocks))
            .map(|(((r, p), (_, m)), (_, v))| (r, p, m, v))
            .collect();
        team::each(parts, &|(r, p, m, v)| step_values(p, m, v, &g[r], &s));
        (p, m, v)
    }
}

/// The step on `f32` slices, in place, in the composed operations' order of rounding; also each
/// trial's step in a stack (`ops::trials::adam`).
pub(super) fn step_values(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], s: &AdamStep) {
    let (c1, c2) = s.corrections();
    let (l2, keep) = (s.l2(), s.keep());
    let (b1, b2) = (s.beta1, s.beta2);
    let (k1, k2) = (1.0 - b1, 1.0 - b2);
    vectorised(
        #[inline(always)]
        || {
            for (((p, m), v), g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
                let g = if l2 != 0.0 { g + *p * l2 } else { *g };
                *m = *m * b1 + g * k1;
                *v = *v * b2 + (g * g) * k2;
                if keep != 1.0 {
                    *p *= keep;
                }
                let update = (*m / c1) / ((*v / c2).sqrt() + s.eps);
                *p -= update * s.lr;
            }
        },
    );
}
