//! The plain layer of K trials as one backend operation: `W` is `[K, fan_in, n]`, `b` is
//! `[K, n]`, and the input `x` is `[K, rows, fan_in]`, or `[1, rows, fan_in]` for an input
//! that every trial shares (the data, at the input layer); the formulas are those of
//! [`crate::ops::plain`], per trial.

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Cube, Dispatch, Flex, NdArray};
use burn::tensor::{Shape, Tensor};

use super::{dims3, each_trial, one_block, TrialActivations};
use crate::ops::expect_dims;
use crate::ops::flex::{column_sums, flex, values};
use crate::ops::plain::Net;
use crate::ops::LayerActivation;

/// The plain layer of a stack of trials, forward and backward.
#[backend_extension(Flex, NdArray, Cube, Autodiff)]
pub trait TrialPlainOps: Backend {
    /// `act(x W + b)`, `[K, rows, n]`.
    fn trial_plain_forward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        acts: TrialActivations,
    ) -> FloatTensor<Self> {
        let [k, _, n] = dims3(&w, "plain layer");
        let bias = Self::float_reshape(b, Shape::new([k, 1, n]));
        acts.apply::<Self>(Self::float_add(Self::float_matmul(x, w), bias))
    }

    /// `(dz, dW, db)` from the output gradient `dy` and the output `y`.
    fn trial_plain_backward_params(
        dy: FloatTensor<Self>,
        x: FloatTensor<Self>,
        y: FloatTensor<Self>,
        acts: TrialActivations,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let [k, _, n] = dims3(&y, "plain layer");
        let dz = acts.slope::<Self>(dy, y);
        let dw = Self::float_matmul(Self::float_transpose(x), dz.clone());
        let db = Self::float_reshape(Self::float_sum_dim(dz.clone(), 1), Shape::new([k, n]));
        (dz, dw, db)
    }

    /// `dx = dz Wᵀ`, summed over the trials when they share the input (`shared`).
    fn trial_plain_backward_input(
        dz: FloatTensor<Self>,
        w: FloatTensor<Self>,
        shared: bool,
    ) -> FloatTensor<Self> {
        let dx = Self::float_matmul(dz, Self::float_transpose(w));
        if shared {
            Self::float_sum_dim(dx, 0)
        } else {
            dx
        }
    }

    /// The layer's output; on an autodiff backend, one node with the hand-written backward.
    fn trial_plain(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        acts: TrialActivations,
    ) -> FloatTensor<Self> {
        Self::trial_plain_forward(x, w, b, acts)
    }
}

/// The plain layer of K trials, each `act(x W + b)` with its own weights and activation
/// (`None` in `acts`: linear): `W` is `[K, fan_in, n]`, `b` is `[K, n]`, `x` is
/// `[K, rows, fan_in]` or, shared by every trial, `[1, rows, fan_in]`.
pub fn trial_plain(x: Tensor<3>, w: Tensor<3>, b: Tensor<2>, acts: TrialActivations) -> Tensor<3> {
    let [k, fan_in, n] = w.dims();
    let [kx, rows, _] = x.dims();
    let op = "plain layer of a stack";
    assert!(kx == k || kx == 1, "{op}: an input of {kx} trials for {k}");
    expect_dims(op, "x", &x.dims(), &[kx, rows, fan_in]);
    expect_dims(op, "b", &b.dims(), &[k, n]);
    assert_eq!(
        acts.len(),
        k,
        "{op}: {} activations for {k} trials",
        acts.len()
    );
    Tensor::from_dispatch(<Dispatch as TrialPlainOps>::trial_plain(
        x.into_dispatch(),
        w.into_dispatch(),
        b.into_dispatch(),
        acts,
    ))
}

impl TrialPlainOps for NdArray {}
impl TrialPlainOps for Cube {}

/// Flex: each trial through the single net's code, in one block on one thread.
impl TrialPlainOps for Flex {
    fn trial_plain_forward(
        x: FlexTensor,
        w: FlexTensor,
        b: FlexTensor,
        acts: TrialActivations,
    ) -> FlexTensor {
        let [k, fan_in, n] = dims3(&w, "plain layer");
        let [kx, rows, _] = dims3(&x, "plain layer");
        let (x, w, b) = (values(&x), values(&w), values(&b));
        let (xs, ws) = (rows * fan_in, fan_in * n);
        let mut z = vec![0.0f32; k * rows * n];
        each_trial(
            z.chunks_exact_mut(rows * n).enumerate().collect(),
            &|(i, z)| {
                let net = Net {
                    k: fan_in,
                    n,
                    act: acts.get(i),
                    w: &w[i * ws..][..ws],
                };
                let xi = if kx == 1 { 0 } else { i };
                net.forward(&x[xi * xs..][..xs], &b[i * n..][..n], z, &one_block(rows));
            },
        );
        flex(z, [k, rows, n])
    }

    fn trial_plain_backward_params(
        dy: FlexTensor,
        x: FlexTensor,
        y: FlexTensor,
        acts: TrialActivations,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let [k, rows, n] = dims3(&y, "plain layer");
        let [kx, _, fan_in] = dims3(&x, "plain layer");
        let (dy, y, x) = (values(&dy), values(&y), values(&x));
        let (xs, ys, ws) = (rows * fan_in, rows * n, fan_in * n);
        let mut dz = vec![0.0f32; k * ys];
        let mut dw = vec![0.0f32; k * ws];
        let mut db = vec![0.0f32; k * n];
        let trials = dz
            .chunks_exact_mut(ys)
            .zip(dw.chunks_exact_mut(ws))
            .zip(db.chunks_exact_mut(n));
        each_trial(trials.enumerate().collect(), &|(i, ((dz, dw), db))| {
            let net = Net {
                k: fan_in,
                n,
                act: acts.get(i),
                w: &[],
            };
            let xi = if kx == 1 { 0 } else { i };
            let (dy, y) = (&dy[i * ys..][..ys], &y[i * ys..][..ys]);
            net.backward_params(dy, y, &x[xi * xs..][..xs], dz, dw, &one_block(fan_in));
            db.copy_from_slice(&column_sums(dz, n));
        });
        (
            flex(dz, [k, rows, n]),
            flex(dw, [k, fan_in, n]),
            flex(db, [k, n]),
        )
    }

    fn trial_plain_backward_input(dz: FlexTensor, w: FlexTensor, shared: bool) -> FlexTensor {
        let [k, rows, n] = dims3(&dz, "plain layer");
        let [_, fan_in, _] = dims3(&w, "plain layer");
        let (dz, w) = (values(&dz), values(&w));
        let (xs, ys, ws) = (rows * fan_in, rows * n, fan_in * n);
        let mut dx = vec![0.0f32; k * xs];
        each_trial(dx.chunks_exact_mut(xs).enumerate().collect(), &|(i, dx)| {
            let net = Net {
                k: fan_in,
                n,
                act: LayerActivation::Linear, // not used by `backward_input`
                w: &w[i * ws..][..ws],
            };
            net.backward_input(&dz[i * ys..][..ys], dx, false, &one_block(rows));
        });
        if !shared {
            return flex(dx, [k, rows, fan_in]);
        }
        // The trials' contributions to the shared input, added in trial order.
        let mut sum = vec![0.0f32; xs];
        for part in dx.chunks_exact(xs) {
            sum.iter_mut().zip(part).for_each(|(s, v)| *s += v);
        }
        flex(sum, [1, rows, fan_in])
    }
}

impl<B: Backend + TrialPlainOps, C: CheckpointStrategy> TrialPlainOps for Autodiff<B, C> {
    fn trial_plain(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        acts: TrialActivations,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct TrialPlainBackward;

        impl<B: Backend + TrialPlainOps> Backward<B, 3> for TrialPlainBackward {
            /// `x`, `y`, `W` and the activations.
            type State = (
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                TrialActivations,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let dy = grads.consume::<B>(&ops.node);
                let (x, y, w, acts) = ops.state;
                let [x_node, w_node, b_node] = ops.parents;
                let shared = dims3(&x, "plain layer")[0] == 1 && dims3(&w, "plain layer")[0] > 1;
                let (dz, dw, db) = B::trial_plain_backward_params(dy, x, y, acts);
                if let Some(node) = x_node {
                    let dx = B::trial_plain_backward_input(dz, w, shared);
                    grads.register::<B>(node.id, dx);
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
        let y = B::trial_plain_forward(x.clone(), w.clone(), b.into_primitive(), acts.clone());
        match TrialPlainBackward
            .prepare::<C>(parents)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((x, y.clone(), w, acts), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}
