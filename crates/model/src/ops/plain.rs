//! The plain layer `y = act(x W + b)` as one backend operation with a hand-written backward pass:
//!
//! ```text
//! dz = dy·act'(y)      dW = xᵀ dz      db = Σ dz      dx = dz Wᵀ
//! ```
//!
//! `dx` is computed only when the input needs it: the input layer's input is the data, and its
//! `dx` would be the largest matmul of the step (`[batch, width] × [width, 3072]` on CIFAR).

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Cube, Dispatch, Flex, NdArray};
use burn::tensor::{Shape, Tensor};

use super::flex::{column_sums, flex, relu, values, vector};
use super::matmul::{gemm_into, par_gemm, row_blocks, row_parts, transpose_into, View};
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
        let (xv, wv, b) = (values(&x), values(&w), values(&b));
        let (xv, wv) = (View::new(&xv, rows, k), View::new(&wv, k, n));
        let mut z = vec![0.0f32; rows * n];
        let parts = row_parts(&mut z, n, &row_blocks(rows, k * n));
        team::each(parts, &|(r, z)| {
            gemm_into(z, xv.rows(r), wv, false);
            for row in z.chunks_exact_mut(n) {
                let pairs = row.iter_mut().zip(&*b);
                match act {
                    LayerActivation::Relu => pairs.for_each(|(v, b)| *v = relu(*v + b)),
                    LayerActivation::Tanh => pairs.for_each(|(v, b)| *v = (*v + b).tanh()),
                    LayerActivation::Linear => pairs.for_each(|(v, b)| *v += b),
                }
            }
        });
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
        let (dyv, yv) = (values(&dy), values(&y));
        let pairs = dyv.iter().zip(yv.iter());
        let dz: Vec<f32> = match act {
            LayerActivation::Relu => pairs
                .map(|(g, y)| if *y > 0.0 { *g } else { 0.0 })
                .collect(),
            LayerActivation::Tanh => pairs.map(|(g, y)| g * (1.0 - y * y)).collect(),
            LayerActivation::Linear => dyv.to_vec(),
        };
        let db = vector(column_sums(&dz, n));
        let xv = values(&x);
        let mut dw = vec![0.0f32; k * n];
        if k >= WIDE_INPUT {
            // The input layer. `gemm` is much faster with the long side (fan-in) as the output's
            // unit stride, so each thread computes its rows of dW transposed, `dzᵀ x[:, rows]`,
            // and transposes that block (in its own cache) into place.
            let parts = row_parts(&mut dw, n, &team::ranges(k, 256));
            team::each(parts, &|(r, dw)| {
                let mut block = vec![0.0f32; n * r.len()];
                let x_cols = View::strided(&xv[r.start..], rows, r.len(), k, 1);
                gemm_into(&mut block, View::new(&dz, rows, n).t(), x_cols, false);
                transpose_into(&block, n, r.len(), dw);
            });
        } else {
            par_gemm(
                &mut dw,
                View::new(&xv, rows, k).t(),
                View::new(&dz, rows, n),
                false,
            );
        }
        (flex(dz, [rows, n]), flex(dw, [k, n]), db)
    }

    fn plain_backward_input(dz: FlexTensor, w: FlexTensor) -> FlexTensor {
        let [rows, n] = dims2(&dz);
        let [k, _] = dims2(&w);
        let (dzv, wv) = (values(&dz), values(&w));
        let mut dx = vec![0.0f32; rows * k];
        par_gemm(
            &mut dx,
            View::new(&dzv, rows, n),
            View::new(&wv, k, n).t(),
            false,
        );
        flex(dx, [rows, k])
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
