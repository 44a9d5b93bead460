//! The residual layer `y = x + α·act(x W + b)` as one backend operation with a hand-written
//! backward pass, on top of the plain layer's:
//!
//! ```text
//! a  = act(x W + b)      y  = x + α·a
//! dα = Σ dy·a            da = α·dy
//! dz, dW, db: the plain layer's, from da and a
//! dx = dy + dz Wᵀ
//! ```
//!
//! On Flex the branch is the plain layer's own code (`ops::plain::Net`), the shortcut and `dα`
//! one pass each, and `dz Wᵀ` is accumulated onto `dy` by the matmul itself.

use std::ops::Range;

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Cube, Dispatch, Flex, NdArray};
use burn::tensor::{Shape, Tensor};

use super::flex::{column_sums, flex, values, vector};
use super::plain::{self, PlainOps};
use super::product::Task;
use super::simd::vectorised;
use super::{dims2, expect_dims, LayerActivation};

/// The residual layer's forward and backward passes as backend operations.
#[backend_extension(Flex, NdArray, Cube, Autodiff)]
pub trait ResidualOps: PlainOps {
    /// `(y, a)`: the output `x + α·a` and the branch `a = act(x W + b)` that the backward pass
    /// needs; `α` is a one-element tensor.
    fn residual_forward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        alpha: FloatTensor<Self>,
        act: LayerActivation,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let a = Self::plain_forward(x.clone(), w, b, act);
        let alpha = Self::float_reshape(alpha, Shape::new([1, 1]));
        (Self::float_add(x, Self::float_mul(a.clone(), alpha)), a)
    }

    /// `(dx, dW, db, dα)` from the output gradient `dy`, the input `x` and the branch `a`.
    #[allow(clippy::type_complexity)]
    fn residual_backward(
        dy: FloatTensor<Self>,
        x: FloatTensor<Self>,
        a: FloatTensor<Self>,
        w: FloatTensor<Self>,
        alpha: FloatTensor<Self>,
        act: LayerActivation,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let d_alpha = Self::float_reshape(
            Self::float_sum(Self::float_mul(dy.clone(), a.clone())),
            Shape::new([1]),
        );
        let da = Self::float_mul(dy.clone(), Self::float_reshape(alpha, Shape::new([1, 1])));
        let (dz, dw, db) = Self::plain_backward_params(da, x, a, act);
        let dx = Self::float_add(dy, Self::plain_backward_input(dz, w));
        (dx, dw, db, d_alpha)
    }

    /// The layer's output; on an autodiff backend, one node with the hand-written backward.
    fn residual(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        alpha: FloatTensor<Self>,
        act: LayerActivation,
    ) -> FloatTensor<Self> {
        Self::residual_forward(x, w, b, alpha, act).0
    }
}

/// `x + α·act(x W + b)` as one operation on whatever backend `x` lives on.
pub fn residual(
    x: Tensor<2>,
    w: Tensor<2>,
    b: Tensor<1>,
    alpha: Tensor<1>,
    activation: crate::Activation,
) -> Tensor<2> {
    let [_, n] = x.dims();
    expect_dims("residual layer", "W", &w.dims(), &[n, n]);
    expect_dims("residual layer", "b", &b.dims(), &[n]);
    expect_dims("residual layer", "α", &alpha.dims(), &[1]);
    Tensor::from_dispatch(<Dispatch as ResidualOps>::residual(
        x.into_dispatch(),
        w.into_dispatch(),
        b.into_dispatch(),
        alpha.into_dispatch(),
        Some(activation).into(),
    ))
}

impl ResidualOps for NdArray {}
impl ResidualOps for Cube {}

/// Flex: the passes of [`Net`], split over the team by rows.
impl ResidualOps for Flex {
    fn residual_forward(
        x: FlexTensor,
        w: FlexTensor,
        b: FlexTensor,
        alpha: FlexTensor,
        act: LayerActivation,
    ) -> (FlexTensor, FlexTensor) {
        let [rows, n] = dims2(&x);
        let (x, w, b) = (values(&x), values(&w), values(&b));
        let net = Net::new(n, act, &w, values(&alpha)[0]);
        let (mut y, mut a) = (vec![0.0f32; rows * n], vec![0.0f32; rows * n]);
        let blocks = plain::Net::output_blocks(rows, n, n);
        net.forward(&x, &b, &mut y, &mut a, &blocks);
        (flex(y, [rows, n]), flex(a, [rows, n]))
    }

    fn residual_backward(
        dy: FlexTensor,
        x: FlexTensor,
        a: FlexTensor,
        w: FlexTensor,
        alpha: FlexTensor,
        act: LayerActivation,
    ) -> (FlexTensor, FlexTensor, FlexTensor, FlexTensor) {
        let [rows, n] = dims2(&x);
        let (dy, x, a, w) = (values(&dy), values(&x), values(&a), values(&w));
        let net = Net::new(n, act, &w, values(&alpha)[0]);
        let (mut dx, mut dz) = (vec![0.0f32; rows * n], vec![0.0f32; rows * n]);
        let (mut dw, mut db) = (vec![0.0f32; n * n], vec![0.0f32; n]);
        let grads = Grads {
            dx: &mut dx,
            dz: &mut dz,
            dw: &mut dw,
            db: &mut db,
        };
        let blocks = Blocks {
            weight: plain::Net::weight_blocks(rows, n, n),
            rows: plain::Net::output_blocks(rows, n, n),
        };
        let d_alpha = net.backward(&dy, &x, &a, grads, &blocks);
        (
            flex(dx, [rows, n]),
            flex(dw, [n, n]),
            vector(db),
            vector(vec![d_alpha]),
        )
    }
}

/// One residual layer of one net on `f32` slices: the plain branch of width `n` with weights
/// `w` (`[n, n]`) and the scale `alpha`. A trial of a stack (`ops::trials::residual`) runs
/// through the same code in one block, so that it computes the numbers of the net trained
/// alone on one thread.
pub(super) struct Net<'a> {
    branch: plain::Net<'a>,
    alpha: f32,
}

/// Where the backward pass writes one layer's gradients: `dx` and `dz` (`[rows, n]`), `dW`
/// (`[n, n]`) and `db`.
pub(super) struct Grads<'a> {
    pub dx: &'a mut [f32],
    pub dz: &'a mut [f32],
    pub dw: &'a mut [f32],
    pub db: &'a mut [f32],
}

/// How the backward pass splits its matmuls: the rows of `dW`, and the rows of `dx`.
pub(super) struct Blocks {
    pub weight: Vec<Range<usize>>,
    pub rows: Vec<Range<usize>>,
}

impl<'a> Net<'a> {
    pub fn new(n: usize, act: LayerActivation, w: &'a [f32], alpha: f32) -> Net<'a> {
        Net {
            branch: plain::Net { k: n, n, act, w },
            alpha,
        }
    }

    /// The products of `forward` and of `backward` on `rows` examples (for `ops::roofline`): the
    /// branch's, with `dz Wᵀ` accumulated onto `dy`.
    pub fn tasks(rows: usize, n: usize) -> (Vec<Task>, Vec<Task>) {
        (
            vec![plain::Net::forward_task(rows, n, n)],
            vec![
                plain::Net::backward_params_task(rows, n, n),
                plain::Net::backward_input_task(rows, n, n, true),
            ],
        )
    }

    /// `y = x + α·a` and the branch `a = act(x W + b)`.
    pub fn forward(
        &self,
        x: &[f32],
        b: &[f32],
        y: &mut [f32],
        a: &mut [f32],
        rows: &[Range<usize>],
    ) {
        self.branch.forward(x, b, a, rows);
        let alpha = self.alpha;
        vectorised(
            #[inline(always)]
            || {
                y.iter_mut()
                    .zip(x.iter().zip(a.iter()))
                    .for_each(|(y, (x, a))| *y = x + alpha * a)
            },
        );
    }

    /// Every gradient of the layer from the output gradient `dy`, the input `x` and the
    /// branch `a`, written into `g`; returns `dα`.
    pub fn backward(&self, dy: &[f32], x: &[f32], a: &[f32], g: Grads, blocks: &Blocks) -> f32 {
        // `dx` holds `da = α·dy` until the branch's gradients are taken from it.
        let alpha = self.alpha;
        vectorised(
            #[inline(always)]
            || {
                g.dx.iter_mut()
                    .zip(dy)
                    .for_each(|(da, dy)| *da = alpha * dy)
            },
        );
        self.branch
            .backward_params(g.dx, a, x, g.dz, g.dw, &blocks.weight);
        g.db.copy_from_slice(&column_sums(g.dz, self.branch.n));
        g.dx.copy_from_slice(dy);
        self.branch.backward_input(g.dz, g.dx, true, &blocks.rows);
        vectorised(
            #[inline(always)]
            || dot(dy, a),
        )
    }
}

/// `Σ aᵢ·bᵢ` in eight lanes, added in a fixed order: vectorised, and the same sum on every run.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut lanes = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

impl<B: Backend + ResidualOps, C: CheckpointStrategy> ResidualOps for Autodiff<B, C> {
    fn residual(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        alpha: FloatTensor<Self>,
        act: LayerActivation,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct ResidualBackward;

        impl<B: Backend + ResidualOps> Backward<B, 4> for ResidualBackward {
            /// `x`, the branch `a`, `W`, `α` and the activation.
            type State = (
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                LayerActivation,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 4>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let dy = grads.consume::<B>(&ops.node);
                let (x, a, w, alpha, act) = ops.state;
                let (dx, dw, db, d_alpha) = B::residual_backward(dy, x, a, w, alpha, act);
                let [x_node, w_node, b_node, alpha_node] = ops.parents;
                for (node, grad) in [
                    (x_node, dx),
                    (w_node, dw),
                    (b_node, db),
                    (alpha_node, d_alpha),
                ] {
                    if let Some(node) = node {
                        grads.register::<B>(node.id, grad);
                    }
                }
            }
        }

        let parents = [x.node(), w.node(), b.node(), alpha.node()];
        let (x, w, alpha) = (
            x.into_primitive(),
            w.into_primitive(),
            alpha.into_primitive(),
        );
        let (y, a) =
            B::residual_forward(x.clone(), w.clone(), b.into_primitive(), alpha.clone(), act);
        match ResidualBackward
            .prepare::<C>(parents)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((x, a, w, alpha, act), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dot;

    #[test]
    fn dot_adds_lanes_and_tail() {
        let a: Vec<f32> = (0..19).map(|i| i as f32).collect();
        let b = vec![2.0f32; 19];
        assert_eq!(dot(&a, &b), 2.0 * (0..19).sum::<i32>() as f32);
        assert_eq!(dot(&[], &[]), 0.0);
    }
}
