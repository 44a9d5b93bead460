//! The highway layer of K trials as one backend operation: `x` is `[K, rows, n]`, `W_H` and
//! `W_T` are `[K, n, n]`, `b_H` and `b_T` are `[K, n]`; the formulas are those of
//! [`crate::ops::highway`], per trial.

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Cube, Dispatch, Flex, NdArray, Slice};
use burn::tensor::{Shape, Tensor};

use super::{dims3, each_trial, one_block, TrialActivations};
use crate::ops::expect_dims;
use crate::ops::flex::{column_sums, flex, values};
use crate::ops::highway::{join_columns, Grads, Net};

/// The highway layer of a stack of trials, forward and backward.
#[backend_extension(Flex, NdArray, Cube, Autodiff)]
pub trait TrialHighwayOps: Backend {
    /// `y` (`[K, rows, n]`) and `[H | T]` (`[K, rows, 2n]`) for the backward pass.
    fn trial_highway_forward(
        x: FloatTensor<Self>,
        w_h: FloatTensor<Self>,
        b_h: FloatTensor<Self>,
        w_t: FloatTensor<Self>,
        b_t: FloatTensor<Self>,
        acts: TrialActivations,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [k, _, n] = dims3(&x, "highway layer");
        let bias = |b| Self::float_reshape(b, Shape::new([k, 1, n]));
        let z_h = Self::float_add(Self::float_matmul(x.clone(), w_h), bias(b_h));
        let h = acts.apply::<Self>(z_h);
        let z_t = Self::float_add(Self::float_matmul(x.clone(), w_t), bias(b_t));
        let t = Self::sigmoid(z_t);
        let carry = Self::float_sub(h.clone(), x.clone());
        let y = Self::float_add(x, Self::float_mul(t.clone(), carry));
        (y, Self::float_cat(vec![h, t], 2))
    }

    /// Gradients `(dx, dW_H, db_H, dW_T, db_T)` from the output gradient `dy`.
    #[allow(clippy::type_complexity)]
    fn trial_highway_backward(
        dy: FloatTensor<Self>,
        x: FloatTensor<Self>,
        ht: FloatTensor<Self>,
        w_h: FloatTensor<Self>,
        w_t: FloatTensor<Self>,
        acts: TrialActivations,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let [k, rows, n] = dims3(&x, "highway layer");
        let half = |i: usize| {
            let cols = Slice::from(i * n..(i + 1) * n);
            Self::float_slice(ht.clone(), &[Slice::from(0..k), Slice::from(0..rows), cols])
        };
        let (h, t) = (half(0), half(1));
        let one_minus =
            |v: FloatTensor<Self>| Self::float_add_scalar(Self::float_neg(v), 1.0.into());
        let d_t = Self::float_mul(dy.clone(), Self::float_sub(h.clone(), x.clone()));
        let d_zt = Self::float_mul(d_t, Self::float_mul(t.clone(), one_minus(t.clone())));
        let d_zh = acts.slope::<Self>(Self::float_mul(dy.clone(), t.clone()), h);
        let x_t = Self::float_transpose(x);
        let sum = |g: FloatTensor<Self>| {
            Self::float_reshape(Self::float_sum_dim(g, 1), Shape::new([k, n]))
        };
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
    fn trial_highway(
        x: FloatTensor<Self>,
        w_h: FloatTensor<Self>,
        b_h: FloatTensor<Self>,
        w_t: FloatTensor<Self>,
        b_t: FloatTensor<Self>,
        acts: TrialActivations,
    ) -> FloatTensor<Self> {
        Self::trial_highway_forward(x, w_h, b_h, w_t, b_t, acts).0
    }
}

/// The highway layer of K trials, each `y = x + T·(H − x)` with its own weights and
/// activation: `x` is `[K, rows, n]`, the weights `[K, n, n]`, the biases `[K, n]`.
pub fn trial_highway(
    x: Tensor<3>,
    w_h: Tensor<3>,
    b_h: Tensor<2>,
    w_t: Tensor<3>,
    b_t: Tensor<2>,
    acts: TrialActivations,
) -> Tensor<3> {
    let [k, _, n] = x.dims();
    let op = "highway layer of a stack";
    expect_dims(op, "W_H", &w_h.dims(), &[k, n, n]);
    expect_dims(op, "b_H", &b_h.dims(), &[k, n]);
    expect_dims(op, "W_T", &w_t.dims(), &[k, n, n]);
    expect_dims(op, "b_T", &b_t.dims(), &[k, n]);
    assert_eq!(
        acts.len(),
        k,
        "{op}: {} activations for {k} trials",
        acts.len()
    );
    Tensor::from_dispatch(<Dispatch as TrialHighwayOps>::trial_highway(
        x.into_dispatch(),
        w_h.into_dispatch(),
        b_h.into_dispatch(),
        w_t.into_dispatch(),
        b_t.into_dispatch(),
        acts,
    ))
}

impl TrialHighwayOps for NdArray {}
impl TrialHighwayOps for Cube {}

/// Flex: each trial through the single net's code, in one block on one thread.
impl TrialHighwayOps for Flex {
    fn trial_highway_forward(
        x: FlexTensor,
        w_h: FlexTensor,
        b_h: FlexTensor,
        w_t: FlexTensor,
        b_t: FlexTensor,
        acts: TrialActivations,
    ) -> (FlexTensor, FlexTensor) {
        let [k, rows, n] = dims3(&x, "highway layer");
        let (x, w_h, b_h) = (values(&x), values(&w_h), values(&b_h));
        let (w_t, b_t) = (values(&w_t), values(&b_t));
        let mut y = vec![0.0f32; k * rows * n];
        let mut ht = vec![0.0f32; k * rows * 2 * n];
        let (nn, xs) = (n * n, rows * n);
        let trials = y.chunks_exact_mut(xs).zip(ht.chunks_exact_mut(2 * xs));
        each_trial(trials.enumerate().collect(), &|(i, (y, ht))| {
            let w = join_columns(&w_h[i * nn..][..nn], &w_t[i * nn..][..nn], n);
            let net = Net {
                n,
                act: acts.get(i),
                w: &w,
            };
            let (b_h, b_t) = (&b_h[i * n..][..n], &b_t[i * n..][..n]);
            net.forward(&x[i * xs..][..xs], b_h, b_t, ht, y, &one_block(rows));
        });
        (flex(y, [k, rows, n]), flex(ht, [k, rows, 2 * n]))
    }

    fn trial_highway_backward(
        dy: FlexTensor,
        x: FlexTensor,
        ht: FlexTensor,
        w_h: FlexTensor,
        w_t: FlexTensor,
        acts: TrialActivations,
    ) -> (FlexTensor, FlexTensor, FlexTensor, FlexTensor, FlexTensor) {
        let [k, rows, n] = dims3(&x, "highway layer");
        let (dy, x, ht) = (values(&dy), values(&x), values(&ht));
        let (w_h, w_t) = (values(&w_h), values(&w_t));
        let (nn, xs) = (n * n, rows * n);
        let mut dz = vec![0.0f32; k * 2 * xs];
        let mut dx = vec![0.0f32; k * xs];
        let (mut dw_h, mut dw_t) = (vec![0.0f32; k * nn], vec![0.0f32; k * nn]);
        let (mut db_h, mut db_t) = (vec![0.0f32; k * n], vec![0.0f32; k * n]);
        let trials = dz
            .chunks_exact_mut(2 * xs)
            .zip(dx.chunks_exact_mut(xs))
            .zip(dw_h.chunks_exact_mut(nn).zip(dw_t.chunks_exact_mut(nn)))
            .zip(db_h.chunks_exact_mut(n).zip(db_t.chunks_exact_mut(n)));
        let blocks = (one_block(rows), one_block(n));
        each_trial(trials.enumerate().collect(), &|(
            i,
            (((dz, dx), (dw_h, dw_t)), (db_h, db_t)),
        )| {
            let w = join_columns(&w_h[i * nn..][..nn], &w_t[i * nn..][..nn], n);
            let net = Net {
                n,
                act: acts.get(i),
                w: &w,
            };
            let mut g = Grads { dz, dx, dw_h, dw_t };
            let (dy, x) = (&dy[i * xs..][..xs], &x[i * xs..][..xs]);
            net.backward(dy, x, &ht[i * 2 * xs..][..2 * xs], &mut g, &blocks);
            let db = column_sums(g.dz, 2 * n);
            db_h.copy_from_slice(&db[..n]);
            db_t.copy_from_slice(&db[n..]);
        });
        (
            flex(dx, [k, rows, n]),
            flex(dw_h, [k, n, n]),
            flex(db_h, [k, n]),
            flex(dw_t, [k, n, n]),
            flex(db_t, [k, n]),
        )
    }
}

impl<B: Backend + TrialHighwayOps, C: CheckpointStrategy> TrialHighwayOps for Autodiff<B, C> {
    fn trial_highway(
        x: FloatTensor<Self>,
        w_h: FloatTensor<Self>,
        b_h: FloatTensor<Self>,
        w_t: FloatTensor<Self>,
        b_t: FloatTensor<Self>,
        acts: TrialActivations,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct TrialHighwayBackward;

        impl<B: Backend + TrialHighwayOps> Backward<B, 5> for TrialHighwayBackward {
            /// `x`, `[H | T]`, `W_H`, `W_T` and the activations.
            type State = (
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                TrialActivations,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 5>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let dy = grads.consume::<B>(&ops.node);
                let (x, ht, w_h, w_t, acts) = ops.state;
                let (dx, dw_h, db_h, dw_t, db_t) =
                    B::trial_highway_backward(dy, x, ht, w_h, w_t, acts);
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
        let (y, ht) = B::trial_highway_forward(
            x.clone(),
            w_h.clone(),
            b_h.into_primitive(),
            w_t.clone(),
            b_t.into_primitive(),
            acts.clone(),
        );
        match TrialHighwayBackward
            .prepare::<C>(parents)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((x, ht, w_h, w_t, acts), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}
