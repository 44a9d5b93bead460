//! The residual layer of K trials as one backend operation: `W` is `[K, n, n]`, `b` is
//! `[K, n]`, `α` is `[K, 1]` and the input `x` is `[K, rows, n]`; the formulas are those of
//! [`crate::ops::residual`], per trial.

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Cube, Dispatch, Flex, NdArray};
use burn::tensor::{Shape, Tensor};

use super::plain::TrialPlainOps;
use super::{dims3, each_trial, one_block, TrialActivations};
use crate::ops::expect_dims;
use crate::ops::flex::{flex, values};
use crate::ops::residual::{Blocks, Grads, Net};

/// The residual layer of a stack of trials, forward and backward.
#[backend_extension(Flex, NdArray, Cube, Autodiff)]
pub trait TrialResidualOps: TrialPlainOps {
    /// `(y, a)`: the output `x + α·a` and the branch `a = act(x W + b)`, each `[K, rows, n]`.
    fn trial_residual_forward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        alpha: FloatTensor<Self>,
        acts: TrialActivations,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [k, _, _] = dims3(&w, "residual layer");
        let a = Self::trial_plain_forward(x.clone(), w, b, acts);
        let alpha = Self::float_reshape(alpha, Shape::new([k, 1, 1]));
        (Self::float_add(x, Self::float_mul(a.clone(), alpha)), a)
    }

    /// `(dx, dW, db, dα)` from the output gradient `dy`, the input `x` and the branch `a`.
    #[allow(clippy::type_complexity)]
    fn trial_residual_backward(
        dy: FloatTensor<Self>,
        x: FloatTensor<Self>,
        a: FloatTensor<Self>,
        w: FloatTensor<Self>,
        alpha: FloatTensor<Self>,
        acts: TrialActivations,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let [k, _, _] = dims3(&w, "residual layer");
        let per_trial = Self::float_sum_dim(Self::float_mul(dy.clone(), a.clone()), 2);
        let d_alpha = Self::float_reshape(Self::float_sum_dim(per_trial, 1), Shape::new([k, 1]));
        let da = Self::float_mul(
            dy.clone(),
            Self::float_reshape(alpha, Shape::new([k, 1, 1])),
        );
        let (dz, dw, db) = Self::trial_plain_backward_params(da, x, a, acts);
        let dx = Self::float_add(dy, Self::trial_plain_backward_input(dz, w, false));
        (dx, dw, db, d_alpha)
    }

    /// The layer's output; on an autodiff backend, one node with the hand-written backward.
    fn trial_residual(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        alpha: FloatTensor<Self>,
        acts: TrialActivations,
    ) -> FloatTensor<Self> {
        Self::trial_residual_forward(x, w, b, alpha, acts).0
    }
}

/// The residual layer of K trials, each `x + α·act(x W + b)` with its own weights, scale and
/// activation.
pub fn trial_residual(
    x: Tensor<3>,
    w: Tensor<3>,
    b: Tensor<2>,
    alpha: Tensor<2>,
    acts: TrialActivations,
) -> Tensor<3> {
    let [k, _, n] = x.dims();
    let op = "residual layer of a stack";
    expect_dims(op, "W", &w.dims(), &[k, n, n]);
    expect_dims(op, "b", &b.dims(), &[k, n]);
    expect_dims(op, "α", &alpha.dims(), &[k, 1]);
    assert_eq!(
        acts.len(),
        k,
        "{op}: {} activations for {k} trials",
        acts.len()
    );
    Tensor::from_dispatch(<Dispatch as TrialResidualOps>::trial_residual(
        x.into_dispatch(),
        w.into_dispatch(),
        b.into_dispatch(),
        alpha.into_dispatch(),
        acts,
    ))
}

impl TrialResidualOps for NdArray {}
impl TrialResidualOps for Cube {}

/// Flex: each trial through the single net's code, in one block on one thread.
impl TrialResidualOps for Flex {
    fn trial_residual_forward(
        x: FlexTensor,
        w: FlexTensor,
        b: FlexTensor,
        alpha: FlexTensor,
        acts: TrialActivations,
    ) -> (FlexTensor, FlexTensor) {
        let [k, rows, n] = dims3(&x, "residual layer");
        let (x, w, b, alpha) = (values(&x), values(&w), values(&b), values(&alpha));
        let (ys, ws) = (rows * n, n * n);
        let (mut y, mut a) = (vec![0.0f32; k * ys], vec![0.0f32; k * ys]);
        let trials = y.chunks_exact_mut(ys).zip(a.chunks_exact_mut(ys));
        each_trial(trials.enumerate().collect(), &|(i, (y, a))| {
            let net = Net::new(n, acts.get(i), &w[i * ws..][..ws], alpha[i]);
            let (x, b) = (&x[i * ys..][..ys], &b[i * n..][..n]);
            net.forward(x, b, y, a, &one_block(rows));
        });
        (flex(y, [k, rows, n]), flex(a, [k, rows, n]))
    }

    fn trial_residual_backward(
        dy: FlexTensor,
        x: FlexTensor,
        a: FlexTensor,
        w: FlexTensor,
        alpha: FlexTensor,
        acts: TrialActivations,
    ) -> (FlexTensor, FlexTensor, FlexTensor, FlexTensor) {
        let [k, rows, n] = dims3(&x, "residual layer");
        let (dy, x, a) = (values(&dy), values(&x), values(&a));
        let (w, alpha) = (values(&w), values(&alpha));
        let (ys, ws) = (rows * n, n * n);
        let (mut dx, mut dz) = (vec![0.0f32; k * ys], vec![0.0f32; k * ys]);
        let (mut dw, mut db) = (vec![0.0f32; k * ws], vec![0.0f32; k * n]);
        let mut d_alpha = vec![0.0f32; k];
        let trials = (dx.chunks_exact_mut(ys).zip(dz.chunks_exact_mut(ys)))
            .zip(dw.chunks_exact_mut(ws).zip(db.chunks_exact_mut(n)))
            .zip(d_alpha.iter_mut());
        each_trial(trials.enumerate().collect(), &|(
            i,
            (((dx, dz), (dw, db)), d_alpha),
        )| {
            let net = Net::new(n, acts.get(i), &w[i * ws..][..ws], alpha[i]);
            let blocks = Blocks {
                weight: one_block(n),
                rows: one_block(rows),
            };
            let (dy, x, a) = (&dy[i * ys..][..ys], &x[i * ys..][..ys], &a[i * ys..][..ys]);
            *d_alpha = net.backward(dy, x, a, Grads { dx, dz, dw, db }, &blocks);
        });
        (
            flex(dx, [k, rows, n]),
            flex(dw, [k, n, n]),
            flex(db, [k, n]),
            flex(d_alpha, [k, 1]),
        )
    }
}

impl<B: Backend + TrialResidualOps, C: CheckpointStrategy> TrialResidualOps for Autodiff<B, C> {
    fn trial_residual(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        alpha: FloatTensor<Self>,
        acts: TrialActivations,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct TrialResidualBackward;

        impl<B: Backend + TrialResidualOps> Backward<B, 4> for TrialResidualBackward {
            /// `x`, the branch `a`, `W`, `α` and the activations.
            type State = (
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                TrialActivations,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 4>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let dy = grads.consume::<B>(&ops.node);
                let (x, a, w, alpha, acts) = ops.state;
                let (dx, dw, db, d_alpha) = B::trial_residual_backward(dy, x, a, w, alpha, acts);
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
        let (y, a) = B::trial_residual_forward(
            x.clone(),
            w.clone(),
            b.into_primitive(),
            alpha.clone(),
            acts.clone(),
        );
        match TrialResidualBackward
            .prepare::<C>(parents)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((x, a, w, alpha, acts), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}
