//! The highway layer as one backend operation with a hand-written backward pass:
//!
//! ```text
//! y   = x + T·(H − x)          H = act(x W_H + b_H)      T = σ(x W_T + b_T)
//! dH  = T·dy                    dz_H = dH·act'(H)
//! dT  = (H − x)·dy              dz_T = dT·T·(1 − T)
//! dW_H = xᵀ dz_H   db_H = Σ dz_H   dW_T = xᵀ dz_T   db_T = Σ dz_T
//! dx  = (1 − T)·dy + dz_H W_Hᵀ + dz_T W_Tᵀ
//! ```
//!
//! On Flex, `H` and `T` come from one matmul with `[W_H | W_T]` (and `dx` from one with its
//! transpose), each split over the CPU threads by rows, and the sigmoid uses a polynomial `exp`
//! instead of a libm call per element.

use std::ops::Range;

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Cube, Dispatch, Flex, NdArray, Slice};
use burn::tensor::{Shape, Tensor};

use super::flex::{column_sums, flex, relu, sigmoid, values, vector};
use super::matmul::{gemm_into, row_blocks, row_parts2, View};
use super::product::{Operand, Product, Split, Task};
use super::simd::vectorised;
use super::team;
use super::{dims2, expect_dims, LayerActivation};

/// The highway layer's forward and backward passes as backend operations.
#[backend_extension(Flex, NdArray, Cube, Autodiff)]
pub trait HighwayOps: Backend {
    /// `y` for a `[batch, n]` input, and `[H | T]` (`[batch, 2n]`) for the backward pass.
    fn highway_forward(
        x: FloatTensor<Self>,
        w_h: FloatTensor<Self>,
        b_h: FloatTensor<Self>,
        w_t: FloatTensor<Self>,
        b_t: FloatTensor<Self>,
        act: LayerActivation,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [_, n] = dims2(&x);
        let bias = |b| Self::float_reshape(b, Shape::new([1, n]));
        let z_h = Self::float_add(Self::float_matmul(x.clone(), w_h), bias(b_h));
        let h = match act {
            LayerActivation::Tanh => Self::float_tanh(z_h),
            LayerActivation::Relu => Self::relu(z_h),
            LayerActivation::Linear => z_h,
        };
        let z_t = Self::float_add(Self::float_matmul(x.clone(), w_t), bias(b_t));
        let t = Self::sigmoid(z_t);
        let carry = Self::float_sub(h.clone(), x.clone());
        let y = Self::float_add(x, Self::float_mul(t.clone(), carry));
        (y, Self::float_cat(vec![h, t], 1))
    }

    /// Gradients `(dx, dW_H, db_H, dW_T, db_T)` from the output gradient `dy`.
    #[allow(clippy::type_complexity)]
    fn highway_backward(
        dy: FloatTensor<Self>,
        x: FloatTensor<Self>,
        ht: FloatTensor<Self>,
        w_h: FloatTensor<Self>,
        w_t: FloatTensor<Self>,
        act: LayerActivation,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let [rows, n] = dims2(&x);
        let half = |k: usize| {
            let cols = Slice::from(k * n..(k + 1) * n);
            Self::float_slice(ht.clone(), &[Slice::from(0..rows), cols])
        };
        let (h, t) = (half(0), half(1));
        let one_minus =
            |v: FloatTensor<Self>| Self::float_add_scalar(Self::float_neg(v), 1.0.into());
        let d_t = Self::float_mul(dy.clone(), Self::float_sub(h.clone(), x.clone()));
        let d_zt = Self::float_mul(d_t, Self::float_mul(t.clone(), one_minus(t.clone())));
        let d_h = Self::float_mul(dy.clone(), t.clone());
        let d_zh = match act {
            LayerActivation::Tanh => Self::float_mul(d_h, one_minus(Self::float_mul(h.clone(), h))),
            LayerActivation::Relu => Self::relu_backward(h, d_h),
            LayerActivation::Linear => d_h,
        };
        let x_t = Self::float_transpose(x);
        let sum =
            |g: FloatTensor<Self>| Self::float_reshape(Self::float_sum_dim(g, 0), Shape::new([n]));
        let dx = Self::float_add(
            Self::float_mul(dy, one_minus(t)),
            Self::float_add(
                Self::float_matmul(d_zh.clone(), Self::float_transpose(w_h)),
                Self::float_matmul(d_zt.clone(), Self::float_transpose(w_t)),
            ),
        );
        (
            dx,
            Self::float_matmul(x_t.clone(), d_zh.clone()),
            sum(d_zh),
            Self::float_matmul(x_t, d_zt.clone()),
            sum(d_zt),
        )
    }

    /// The layer's output; on an autodiff backend, one node with the hand-written backward.
    fn highway(
        x: FloatTensor<Self>,
        w_h: FloatTensor<Self>,
        b_h: FloatTensor<Self>,
        w_t: FloatTensor<Self>,
        b_t: FloatTensor<Self>,
        act: LayerActivation,
    ) -> FloatTensor<Self> {
        Self::highway_forward(x, w_h, b_h, w_t, b_t, act).0
    }
}

/// `y = x + T·(H − x)` as one operation on whatever backend `x` lives on, `H` with `activation`.
pub fn highway(
    x: Tensor<2>,
    w_h: Tensor<2>,
    b_h: Tensor<1>,
    w_t: Tensor<2>,
    b_t: Tensor<1>,
    activation: crate::Activation,
) -> Tensor<2> {
    let [_, n] = x.dims();
    expect_dims("highway layer", "W_H", &w_h.dims(), &[n, n]);
    expect_dims("highway layer", "b_H", &b_h.dims(), &[n]);
    expect_dims("highway layer", "W_T", &w_t.dims(), &[n, n]);
    expect_dims("highway layer", "b_T", &b_t.dims(), &[n]);
    Tensor::from_dispatch(<Dispatch as HighwayOps>::highway(
        x.into_dispatch(),
        w_h.into_dispatch(),
        b_h.into_dispatch(),
        w_t.into_dispatch(),
        b_t.into_dispatch(),
        Some(activation).into(),
    ))
}

impl HighwayOps for NdArray {}
impl HighwayOps for Cube {}

/// `[W_H | W_T]`, `[n, 2n]`: one matmul computes both pre-activations.
fn side_by_side(w_h: &FlexTensor, w_t: &FlexTensor) -> FlexTensor {
    let [n, m] = dims2(w_h);
    flex(join_columns(&values(w_h), &values(w_t), m), [n, 2 * m])
}

/// The rows of two row-major matrices of `m` columns each, side by side.
pub(super) fn join_columns(a: &[f32], b: &[f32], m: usize) -> Vec<f32> {
    let mut w = Vec::with_capacity(a.len() + b.len());
    for (ra, rb) in a.chunks_exact(m).zip(b.chunks_exact(m)) {
        w.extend_from_slice(ra);
        w.extend_from_slice(rb);
    }
    w
}

/// Flex: one matmul forward and two backward on `[W_H | W_T]`, each pass split over the team by
/// rows, and the element-wise work of a block of rows done right after its matmul, in loops the
/// compiler vectorises.
impl HighwayOps for Flex {
    fn highway_forward(
        x: FlexTensor,
        w_h: FlexTensor,
        b_h: FlexTensor,
        w_t: FlexTensor,
        b_t: FlexTensor,
        act: LayerActivation,
    ) -> (FlexTensor, FlexTensor) {
        let [rows, n] = dims2(&x);
        let w = side_by_side(&w_h, &w_t);
        let (x, w, b_h, b_t) = (values(&x), values(&w), values(&b_h), values(&b_t));
        let mut ht = vec![0.0f32; rows * 2 * n];
        let mut y = vec![0.0f32; rows * n];
        let net = Net { n, act, w: &w };
        let (blocks, _) = Net::blocks(rows, n);
        net.forward(&x, &b_h, &b_t, &mut ht, &mut y, &blocks);
        (flex(y, [rows, n]), flex(ht, [rows, 2 * n]))
    }

    fn highway_backward(
        dy: FlexTensor,
        x: FlexTensor,
        ht: FlexTensor,
        w_h: FlexTensor,
        w_t: FlexTensor,
        act: LayerActivation,
    ) -> (FlexTensor, FlexTensor, FlexTensor, FlexTensor, FlexTensor) {
        let [rows, n] = dims2(&x);
        let w = side_by_side(&w_h, &w_t);
        let (dy, x, ht, w) = (values(&dy), values(&x), values(&ht), values(&w));
        let (mut dz, mut dx) = (vec![0.0f32; rows * 2 * n], vec![0.0f32; rows * n]);
        let (mut dw_h, mut dw_t) = (vec![0.0f32; n * n], vec![0.0f32; n * n]);
        let mut g = Grads {
            dz: &mut dz,
            dx: &mut dx,
            dw_h: &mut dw_h,
            dw_t: &mut dw_t,
        };
        Net { n, act, w: &w }.backward(&dy, &x, &ht, &mut g, &Net::blocks(rows, n));
        let db = column_sums(&dz, 2 * n);
        (
            flex(dx, [rows, n]),
            flex(dw_h, [n, n]),
            vector(db[..n].to_vec()),
            flex(dw_t, [n, n]),
            vector(db[n..].to_vec()),
        )
    }
}

/// One highway layer of one net on `f32` slices: width `n`, activation `act` and the weights
/// `w = [W_H | W_T]` (`[n, 2n]`). The Flex operation runs one net with its rows split over the
/// team; the operation on a stack of trials (`ops::trials`) runs each trial's net in one block
/// on one thread, through the same code, so that a trial trained in a stack computes the same
/// numbers as the trial trained alone on one thread.
pub(super) struct Net<'a> {
    pub n: usize,
    pub act: LayerActivation,
    pub w: &'a [f32],
}

/// A layer's gradients for one net: `dz = [dz_H | dz_T]` (`[rows, 2n]`), `dx`, `dW_H`, `dW_T`.
pub(super) struct Grads<'a> {
    pub dz: &'a mut [f32],
    pub dx: &'a mut [f32],
    pub dw_h: &'a mut [f32],
    pub dw_t: &'a mut [f32],
}

impl Net<'_> {
    /// How the passes split their work over the team for `rows` examples: the rows of `[H | T]`,
    /// `y`, `dz` and `dx`; and the rows of `dW_H` and `dW_T` (`n`).
    pub fn blocks(rows: usize, n: usize) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
        (row_blocks(rows, n * 2 * n), row_blocks(n, 2 * rows * n))
    }

    /// The products of `forward` and of `backward` on `rows` examples (for `ops::roofline`).
    pub fn tasks(rows: usize, n: usize) -> (Vec<Task>, Vec<Task>) {
        let (row_blocks, unit_blocks) = Net::blocks(rows, n);
        let (x, w) = (Operand::new(rows, n), Operand::new(n, 2 * n));
        let half = |k: usize| Operand::strided(k * n, rows, n, 2 * n, 1);
        let forward = Task {
            name: "[H|T] = x·[W_H|W_T]",
            split: Split::Rows,
            blocks: row_blocks.clone(),
            products: vec![Product::new(x, w, false)],
        };
        let dx = Task {
            name: "dx += dz·[W_H|W_T]ᵀ",
            split: Split::Rows,
            blocks: row_blocks,
            products: vec![Product::new(Operand::new(rows, 2 * n), w.t(), true)],
        };
        let dw = Task {
            name: "dW_H, dW_T = xᵀ·dz",
            split: Split::Rows,
            blocks: unit_blocks,
            products: vec![
                Product::new(x.t(), half(0), false),
                Product::new(x.t(), half(1), false),
            ],
        };
        (vec![forward], vec![dx, dw])
    }

    /// `y` and `[H | T]` of the `[rows, n]` input `x`, a block of rows (of `blocks`) per part.
    pub fn forward(
        &self,
        x: &[f32],
        b_h: &[f32],
        b_t: &[f32],
        ht: &mut [f32],
        y: &mut [f32],
        blocks: &[Range<usize>],
    ) {
        let (n, act) = (self.n, self.act);
        let rows = x.len() / n;
        let (xm, wm) = (View::new(x, rows, n), View::new(self.w, n, 2 * n));
        let parts = row_parts2(ht, 2 * n, y, n, blocks);
        team::each(parts, &|(r, ht, y)| {
            let xr = &x[r.start * n..r.end * n];
            gemm_into(ht, xm.rows(r), wm, false);
            vectorised(
                #[inline(always)]
                || gates(n, act, xr, b_h, b_t, ht, y),
            );
        });
    }

    /// The gradients `g` from the output gradient `dy`, the input `x` and `[H | T]`; the
    /// blocks split the rows of `dx` and the rows of `dW` (`n`) into parts.
    pub fn backward(
        &self,
        dy: &[f32],
        x: &[f32],
        ht: &[f32],
        g: &mut Grads<'_>,
        (row_blocks, unit_blocks): &(Vec<Range<usize>>, Vec<Range<usize>>),
    ) {
        let (n, act) = (self.n, self.act);
        let rows = x.len() / n;
        let wm = View::new(self.w, n, 2 * n);
        // dz = [dz_H | dz_T]; dx = (1 − T)·dy + dz [W_H | W_T]ᵀ, a block of rows at a time.
        let parts = row_parts2(g.dz, 2 * n, g.dx, n, row_blocks);
        team::each(parts, &|(r, dz, dx)| {
            let g = &dy[r.start * n..r.end * n];
            let x = &x[r.start * n..r.end * n];
            let ht = &ht[r.start * 2 * n..r.end * 2 * n];
            // One loop per activation, so that none branches on it per element.
            vectorised(
                #[inline(always)]
                || match act {
                    LayerActivation::Tanh => {
                        gate_grads(n, g, x, ht, dz, dx, |d, h| d * (1.0 - h * h))
                    }
                    LayerActivation::Relu => {
                        gate_grads(n, g, x, ht, dz, dx, |d, h| if h > 0.0 { d } else { 0.0 })
                    }
                    LayerActivation::Linear => gate_grads(n, g, x, ht, dz, dx, |d, _| d),
                },
            );
            gemm_into(dx, View::new(dz, r.len(), 2 * n), wm.t(), true);
        });
        // dW_H = xᵀ dz_H and dW_T = xᵀ dz_T, straight from the halves of dz.
        let xt = View::new(x, rows, n).t();
        let dz = &*g.dz;
        let parts = row_parts2(g.dw_h, n, g.dw_t, n, unit_blocks);
        team::each(parts, &|(r, dw_h, dw_t)| {
            let half = |k: usize| View::strided(&dz[k * n..], rows, n, 2 * n, 1);
            gemm_into(dw_h, xt.rows(r.clone()), half(0), false);
            gemm_into(dw_t, xt.rows(r), half(1), false);
        });
    }
}

/// For a block of rows, from the input `x` and `[H | T]` before their biases and nonlinearities:
/// `[H | T]` and `y = x + T·(H − x)`.
#[inline(always)]
fn gates(
    n: usize,
    act: LayerActivation,
    x: &[f32],
    b_h: &[f32],
    b_t: &[f32],
    ht: &mut [f32],
    y: &mut [f32],
) {
    let rows_of = ht.chunks_exact_mut(2 * n).zip(x.chunks_exact(n));
    for ((row, x), y) in rows_of.zip(y.chunks_exact_mut(n)) {
        let (h, t) = row.split_at_mut(n);
        let pairs = h.iter_mut().zip(b_h);
        match act {
            LayerActivation::Tanh => pairs.for_each(|(v, b)| *v = (*v + b).tanh()),
            LayerActivation::Relu => pairs.for_each(|(v, b)| *v = relu(*v + b)),
            LayerActivation::Linear => pairs.for_each(|(v, b)| *v += b),
        }
        t.iter_mut()
            .zip(b_t)
            .for_each(|(v, b)| *v = sigmoid(*v + b));
        for (y, (x, (h, t))) in y.iter_mut().zip(x.iter().zip(h.iter().zip(t.iter()))) {
            *y = x + t * (h - x);
        }
    }
}

/// For a block of rows: `dz = [dz_H | dz_T]` and the carry part of `dx`, `(1 − T)·dy`, from the
/// output gradient `g`, the input `x` and `[H | T]`; `slope(dH, H)` is `dH·act'(H)`.
#[inline(always)]
fn gate_grads(
    n: usize,
    g: &[f32],
    x: &[f32],
    ht: &[f32],
    dz: &mut [f32],
    dx: &mut [f32],
    slope: impl Fn(f32, f32) -> f32,
) {
    let rows_of = g
        .chunks_exact(n)
        .zip(x.chunks_exact(n))
        .zip(ht.chunks_exact(2 * n))
        .zip(dz.chunks_exact_mut(2 * n).zip(dx.chunks_exact_mut(n)));
    for (((g, x), ht), (dz, dx)) in rows_of {
        let (h, t) = ht.split_at(n);
        let (dz_h, dz_t) = dz.split_at_mut(n);
        for j in 0..n {
            dz_h[j] = slope(g[j] * t[j], h[j]);
            dz_t[j] = g[j] * (h[j] - x[j]) * t[j] * (1.0 - t[j]);
            dx[j] = g[j] * (1.0 - t[j]);
        }
    }
}

impl<B: Backend + HighwayOps, C: CheckpointStrategy> HighwayOps for Autodiff<B, C> {
    fn highway(
        x: FloatTensor<Self>,
        w_h: FloatTensor<Self>,
        b_h: FloatTensor<Self>,
        w_t: FloatTensor<Self>,
        b_t: FloatTensor<Self>,
        act: LayerActivation,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct HighwayBackward;

        impl<B: Backend + HighwayOps> Backward<B, 5> for HighwayBackward {
            /// `x`, `[H | T]`, `W_H`, `W_T` and the activation.
            type State = (
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                LayerActivation,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 5>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let dy = grads.consume::<B>(&ops.node);
                let (x, ht, w_h, w_t, act) = ops.state;
                let (dx, dw_h, db_h, dw_t, db_t) = B::highway_backward(dy, x, ht, w_h, w_t, act);
                for (parent, grad) in ops.parents.into_iter().zip([dx, dw_h, db_h, dw_t, db_t]) {
                    if let Some(node) = parent {
                        grads.register::<B>(node.id, grad);
                    }
                }
            }
        }

        let parents = [x.node(), w_h.node(), b_h.node(), w_t.node(), b_t.node()];
        let (x, w_h, w_t) = (
            x.into_primitive(),
            w_h.into_primitive(),
            w_t.into_primitive(),
        );
        let (y, ht) = B::highway_forward(
            x.clone(),
            w_h.clone(),
            b_h.into_primitive(),
            w_t.clone(),
            b_t.into_primitive(),
            act,
        );
        match HighwayBackward
            .prepare::<C>(parents)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((x, ht, w_h, w_t, act), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}
