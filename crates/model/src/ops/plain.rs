//! The plain layer `y = act(x W + b)` as one backend operation with a hand-written backward pass:
//!
//! ```text
//! dz = dy·act'(y)      dW = xᵀ dz      db = Σ dz      dx = dz Wᵀ
//! ```
//!
//! `dx` is computed only when the input needs it: the input layer's input is the data, and its
//! `dx` would be the largest matmul of the step (`[batch, width] × [width, 3072]` on CIFAR).

use std::ops::Range;

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Cube, Dispatch, Flex, NdArray};
use burn::tensor::{Shape, Tensor};

use super::flex::{column_sums, flex, relu, values, vector};
use super::matmul::{gemm_into, row_blocks, row_parts, transpose_into, View};
use super::product::{Operand, Product, Split, Task};
use super::simd::vectorised;
use super::team;
use super::{dims2, expect_dims, LayerActivation};
use crate::Activation;

/// The plain layer's forward and backward passes as backend operations.
#[backend_extension(Flex, NdArray, Cube, Autodiff)]
pub trait PlainOps: Backend {
    /// `act(x W + b)`.
    fn plain_forward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        act: LayerActivation,
    ) -> FloatTensor<Self> {
        let [_, n] = dims2(&w);
        let z = Self::float_add(
            Self::float_matmul(x, w),
            Self::float_reshape(b, Shape::new([1, n])),
        );
        match act {
            LayerActivation::Relu => Self::relu(z),
            LayerActivation::Tanh => Self::float_tanh(z),
            LayerActivation::Linear => z,
        }
    }

    /// `(dz, dW, db)` from the output gradient `dy` and the output `y`.
    fn plain_backward_params(
        dy: FloatTensor<Self>,
        x: FloatTensor<Self>,
        y: FloatTensor<Self>,
        act: LayerActivation,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let [_, n] = dims2(&y);
        let dz = match act {
            LayerActivation::Relu => Self::relu_backward(y, dy),
            LayerActivation::Tanh => {
                let slope = Self::float_add_scalar(
                    Self::float_neg(Self::float_mul(y.clone(), y)),
                    1.0.into(),
                );
                Self::float_mul(dy, slope)
            }
            LayerActivation::Linear => dy,
        };
        let dw = Self::float_matmul(Self::float_transpose(x), dz.clone());
        let db = Self::float_reshape(Self::float_sum_dim(dz.clone(), 0), Shape::new([n]));
        (dz, dw, db)
    }

    /// `dx = dz Wᵀ`.
    fn plain_backward_input(dz: FloatTensor<Self>, w: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::float_matmul(dz, Self::float_transpose(w))
    }

    /// The layer's output; on an autodiff backend, one node with the hand-written backward.
    fn plain(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        act: LayerActivation,
    ) -> FloatTensor<Self> {
        Self::plain_forward(x, w, b, act)
    }
}

/// `act(x W + b)` as one operation on whatever backend `x` lives on (`None`: linear).
pub fn plain(
    x: Tensor<2>,
    w: Tensor<2>,
    b: Tensor<1>,
    activation: Option<Activation>,
) -> Tensor<2> {
    let [_, k] = x.dims();
    let n = w.dims()[1];
    expect_dims("plain layer", "W", &w.dims(), &[k, n]);
    expect_dims("plain layer", "b", &b.dims(), &[n]);
    Tensor::from_dispatch(<Dispatch as PlainOps>::plain(
        x.into_dispatch(),
        w.into_dispatch(),
        b.into_dispatch(),
        activation.into(),
    ))
}

impl PlainOps for NdArray {}
impl PlainOps for Cube {}

/// Fan-in from which dW is computed transposed (see `plain_backward_params`).
const WIDE_INPUT: usize = 512;

/// Flex: each pass split over the team by rows, the matmul and the bias and activation of a
/// block of rows together; `dz` in one pass.
impl PlainOps for Flex {
    fn plain_forward(
        x: FlexTensor,
        w: FlexTensor,
        b: FlexTensor,
        act: LayerActivation,
    ) -> FlexTensor {
        let [rows, k] = dims2(&x);
        let [_, n] = dims2(&w);
        let (x, w, b) = (values(&x), values(&w), values(&b));
        let mut z = vec![0.0f32; rows * n];
        let net = Net { k, n, act, w: &w };
        net.forward(&x, &b, &mut z, &Net::output_blocks(rows, k, n));
        flex(z, [rows, n])
    }

    fn plain_backward_params(
        dy: FlexTensor,
        x: FlexTensor,
        y: FlexTensor,
        act: LayerActivation,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let [rows, n] = dims2(&y);
        let [_, k] = dims2(&x);
        let (dy, y, x) = (values(&dy), values(&y), values(&x));
        let (mut dz, mut dw) = (vec![0.0f32; rows * n], vec![0.0f32; k * n]);
        let net = Net { k, n, act, w: &[] };
        let blocks = Net::weight_blocks(rows, k, n);
        net.backward_params(&dy, &y, &x, &mut dz, &mut dw, &blocks);
        let db = vector(column_sums(&dz, n));
        (flex(dz, [rows, n]), flex(dw, [k, n]), db)
    }

    fn plain_backward_input(dz: FlexTensor, w: FlexTensor) -> FlexTensor {
        let [rows, n] = dims2(&dz);
        let [k, _] = dims2(&w);
        let (dz, w) = (values(&dz), values(&w));
        let mut dx = vec![0.0f32; rows * k];
        let net = Net {
            k,
            n,
            act: LayerActivation::Linear,
            w: &w,
        };
        net.backward_input(&dz, &mut dx, false, &Net::output_blocks(rows, k, n));
        flex(dx, [rows, k])
    }
}

/// One plain layer of one net on `f32` slices: `k` inputs, `n` units, activation `act` and the
/// weights `w` (`[k, n]`). The Flex operation runs one net with its work split over the team;
/// the operation on a stack of trials (`ops::trials`) runs each trial's net in one block on one
/// thread, through the same code, so that a trial trained in a stack computes the same numbers
/// as the trial trained alone on one thread.
pub(super) struct Net<'a> {
    pub k: usize,
    pub n: usize,
    pub act: LayerActivation,
    pub w: &'a [f32],
}

impl Net<'_> {
    /// `z = act(x W + b)` for the `[rows, k]` input `x`, a block of rows (of `blocks`) per part.
    pub fn forward(&self, x: &[f32], b: &[f32], z: &mut [f32], blocks: &[Range<usize>]) {
        let (k, n, act) = (self.k, self.n, self.act);
        let rows = x.len() / k;
        let (xv, wv) = (View::new(x, rows, k), View::new(self.w, k, n));
        let parts = row_parts(z, n, blocks);
        team::each(parts, &|(r, z)| {
            gemm_into(z, xv.rows(r), wv, false);
            vectorised(
                #[inline(always)]
                || {
                    for row in z.chunks_exact_mut(n) {
                        let pairs = row.iter_mut().zip(b);
                        match act {
                            LayerActivation::Relu => pairs.for_each(|(v, b)| *v = relu(*v + b)),
                            LayerActivation::Tanh => pairs.for_each(|(v, b)| *v = (*v + b).tanh()),
                            LayerActivation::Linear => pairs.for_each(|(v, b)| *v += b),
                        }
                    }
                },
            );
        });
    }

    /// How `forward` and `backward_input` split the rows of their outputs over the team, for
    /// `rows` examples.
    pub fn output_blocks(rows: usize, k: usize, n: usize) -> Vec<Range<usize>> {
        row_blocks(rows, k * n)
    }

    /// The product of `forward` on `rows` examples (for `ops::roofline`).
    pub fn forward_task(rows: usize, k: usize, n: usize) -> Task {
        Task {
            name: "x·W",
            split: Split::Rows,
            blocks: Net::output_blocks(rows, k, n),
            products: vec![Product::new(
                Operand::new(rows, k),
                Operand::new(k, n),
                false,
            )],
        }
    }

    /// The product of `backward_params` on `rows` examples: `dW = xᵀ dz`, or for a wide input
    /// `dWᵀ = dzᵀ x`, a block of columns of `x` per part.
    pub fn backward_params_task(rows: usize, k: usize, n: usize) -> Task {
        let blocks = Net::weight_blocks(rows, k, n);
        let (x, dz) = (Operand::new(rows, k), Operand::new(rows, n));
        if k >= WIDE_INPUT {
            Task {
                name: "dWᵀ = dzᵀ·x",
                split: Split::Cols,
                blocks,
                products: vec![Product::new(dz.t(), x, false)],
            }
        } else {
            Task {
                name: "dW = xᵀ·dz",
                split: Split::Rows,
                blocks,
                products: vec![Product::new(x.t(), dz, false)],
            }
        }
    }

    /// The product of `backward_input` on `rows` examples.
    pub fn backward_input_task(rows: usize, k: usize, n: usize, accumulate: bool) -> Task {
        Task {
            name: "dx = dz·Wᵀ",
            split: Split::Rows,
            blocks: Net::output_blocks(rows, k, n),
            products: vec![Product::new(
                Operand::new(rows, n),
                Operand::new(k, n).t(),
                accumulate,
            )],
        }
    }

    /// How `backward_params` splits the rows of `dW` over the team, for `rows` examples.
    pub fn weight_blocks(rows: usize, k: usize, n: usize) -> Vec<Range<usize>> {
        if k >= WIDE_INPUT {
            team::ranges(k, 256)
        } else {
            row_blocks(k, rows * n)
        }
    }

    /// `dz` and `dW` from the output gradient `dy`, the output `y` and the input `x`, the rows
    /// of `dW` split into `blocks`.
    pub fn backward_params(
        &self,
        dy: &[f32],
        y: &[f32],
        x: &[f32],
        dz: &mut [f32],
        dw: &mut [f32],
        blocks: &[Range<usize>],
    ) {
        let (k, n) = (self.k, self.n);
        let rows = y.len() / n;
        vectorised(
            #[inline(always)]
            || {
                let pairs = dz.iter_mut().zip(dy.iter().zip(y.iter()));
                match self.act {
                    LayerActivation::Relu => {
                        pairs.for_each(|(z, (g, y))| *z = if *y > 0.0 { *g } else { 0.0 })
                    }
                    LayerActivation::Tanh => pairs.for_each(|(z, (g, y))| *z = g * (1.0 - y * y)),
                    LayerActivation::Linear => dz.copy_from_slice(dy),
                }
            },
        );
        let dz = &*dz;
        let parts = row_parts(dw, n, blocks);
        if k >= WIDE_INPUT {
            // The input layer. `gemm` is much faster with the long side (fan-in) as the output's
            // unit stride, so each part computes its rows of dW transposed, `dzᵀ x[:, rows]`,
            // and transposes that block (in its own cache) into place.
            team::each(parts, &|(r, dw)| {
                let len = r.len();
                let mut block = vec![0.0f32; n * len];
                let x_cols = View::new(x, rows, k).cols(r);
                gemm_into(&mut block, View::new(dz, rows, n).t(), x_cols, false);
                transpose_into(&block, n, len, dw);
            });
        } else {
            let xt = View::new(x, rows, k).t();
            let dzv = View::new(dz, rows, n);
            team::each(parts, &|(r, dw)| gemm_into(dw, xt.rows(r), dzv, false));
        }
    }

    /// `dx = dz Wᵀ` (or, with `accumulate`, `dx += dz Wᵀ`), the rows of `dx` split into
    /// `blocks`.
    pub fn backward_input(
        &self,
        dz: &[f32],
        dx: &mut [f32],
        accumulate: bool,
        blocks: &[Range<usize>],
    ) {
        let (k, n) = (self.k, self.n);
        let rows = dz.len() / n;
        let (dzv, wt) = (View::new(dz, rows, n), View::new(self.w, k, n).t());
        let parts = row_parts(dx, k, blocks);
        team::each(parts, &|(r, dx)| gemm_into(dx, dzv.rows(r), wt, accumulate));
    }
}

impl<B: Backend + PlainOps, C: CheckpointStrategy> PlainOps for Autodiff<B, C> {
    fn plain(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        act: LayerActivation,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct PlainBackward;

        impl<B: Backend + PlainOps> Backward<B, 3> for PlainBackward {
            /// `x`, `y`, `W` and the activation.
            type State = (
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                LayerActivation,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let dy = grads.consume::<B>(&ops.node);
                let (x, y, w, act) = ops.state;
                let [x_node, w_node, b_node] = ops.parents;
                let (dz, dw, db) = B::plain_backward_params(dy, x, y, act);
                if let Some(node) = x_node {
                    grads.register::<B>(node.id, B::plain_backward_input(dz, w));
                }
                if let Some(node) = w_node {
                    grads.register::<B>(node.id, dw);
                }
                if let Some(node) = b_node {
                    grads.register::<B>(node.id, db);
                }
            }
        }

        let parents = [x.node(), w.node(), b.node()];
        let (x, w) = (x.into_primitive(), w.into_primitive());
        let y = B::plain_forward(x.clone(), w.clone(), b.into_primitive(), act);
        match PlainBackward
            .prepare::<C>(parents)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((x, y.clone(), w, act), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}
