//! The layer operations and the SGD step on a stack of trials: K nets of one shape, each with
//! its own weights, activation and hyperparameters, every parameter stacked along a leading
//! trial axis (`[K, fan_in, fan_out]`), trained by one forward and one backward pass for all K.
//!
//! NdArray and the CubeCL backends compose the operations from their batched matmul and
//! broadcasting, so that a GPU runs K trials per kernel launch. Flex runs each trial through the
//! very code of the single-net operation (`ops::highway::Net`, `ops::plain::Net`) in one block
//! on one thread, the team splitting the trials, so that a trial's numbers are those of the
//! same net trained alone on one thread, whatever the number of threads.

pub mod adam;
pub mod highway;
pub mod plain;
pub mod residual;
pub mod sgd;

use std::sync::Arc;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, TensorMetadata};
use burn::tensor::TensorData;

use super::{team, LayerActivation};

/// Each trial's optimiser step (`S`: [`crate::ops::sgd::SgdStep`] or
/// [`crate::ops::adam::AdamStep`]), in trial order.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialSteps<S>(Arc<[S]>);

impl<S: Copy> TrialSteps<S> {
    pub fn new(steps: Vec<S>) -> Self {
        Self(steps.into())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Trial `k`'s step.
    pub fn get(&self, k: usize) -> &S {
        &self.0[k]
    }

    /// One value per trial as a `[K, 1]` tensor on `device`.
    fn column<B: Backend>(&self, device: &B::Device, f: fn(&S) -> f32) -> FloatTensor<B> {
        let data = TensorData::new(self.0.iter().map(f).collect::<Vec<_>>(), [self.len(), 1]);
        B::float_from_data(data, device)
    }
}

/// Each trial's activation, in trial order: a stack may mix ReLU and tanh trials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrialActivations(Arc<[LayerActivation]>);

impl TrialActivations {
    pub fn new(activations: Vec<LayerActivation>) -> Self {
        Self(activations.into())
    }

    /// `activation` for each of `trials` trials.
    pub fn uniform(activation: LayerActivation, trials: usize) -> Self {
        Self::new(vec![activation; trials])
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Trial `k`'s activation.
    pub fn get(&self, k: usize) -> LayerActivation {
        self.0[k]
    }

    /// The activation of every trial, when they all have the same.
    fn common(&self) -> Option<LayerActivation> {
        let first = *self.0.first()?;
        self.0.iter().all(|a| *a == first).then_some(first)
    }

    /// The activations present, each once, and for each a `[K, 1, 1]` mask of its trials.
    fn masks<B: Backend>(&self, like: &FloatTensor<B>) -> Vec<(LayerActivation, FloatTensor<B>)> {
        let device = like.device();
        let all = [
            LayerActivation::Relu,
            LayerActivation::Tanh,
            LayerActivation::Linear,
        ];
        all.into_iter()
            .filter(|a| self.0.contains(a))
            .map(|a| {
                let mask: Vec<f32> = self.0.iter().map(|b| f32::from(*b == a)).collect();
                let data = TensorData::new(mask, [self.len(), 1, 1]);
                (a, B::float_from_data(data, &device))
            })
            .collect()
    }

    /// Each trial's activation applied to its slice of the `[K, rows, n]` pre-activation `z`.
    fn apply<B: Backend>(&self, z: FloatTensor<B>) -> FloatTensor<B> {
        if let Some(a) = self.common() {
            return apply::<B>(a, z);
        }
        sum_masked::<B>(self.masks::<B>(&z), |a| apply::<B>(a, z.clone()))
    }

    /// `d · act'(z)` for each trial, from the activation's output `h` (`[K, rows, n]`).
    fn slope<B: Backend>(&self, d: FloatTensor<B>, h: FloatTensor<B>) -> FloatTensor<B> {
        if let Some(a) = self.common() {
            return slope::<B>(a, d, h);
        }
        sum_masked::<B>(self.masks::<B>(&h), |a| slope::<B>(a, d.clone(), h.clone()))
    }
}

/// `Σ_a f(a) · mask_a`: each trial's slice takes the value of its own activation.
fn sum_masked<B: Backend>(
    masks: Vec<(LayerActivation, FloatTensor<B>)>,
    f: impl Fn(LayerActivation) -> FloatTensor<B>,
) -> FloatTensor<B> {
    masks
        .into_iter()
        .map(|(a, mask)| B::float_mul(f(a), mask))
        .reduce(B::float_add)
        .expect("a stack has at least one trial")
}

fn apply<B: Backend>(a: LayerActivation, z: FloatTensor<B>) -> FloatTensor<B> {
    match a {
        LayerActivation::Relu => B::relu(z),
        LayerActivation::Tanh => B::float_tanh(z),
        LayerActivation::Linear => z,
    }
}

fn slope<B: Backend>(a: LayerActivation, d: FloatTensor<B>, h: FloatTensor<B>) -> FloatTensor<B> {
    match a {
        LayerActivation::Relu => B::relu_backward(h, d),
        LayerActivation::Tanh => {
            let one_minus_h2 =
                B::float_add_scalar(B::float_neg(B::float_mul(h.clone(), h)), 1.0.into());
            B::float_mul(d, one_minus_h2)
        }
        LayerActivation::Linear => d,
    }
}

/// The shape of a rank-3 operand.
fn dims3<T: TensorMetadata>(t: &T, what: &str) -> [usize; 3] {
    let shape = t.shape();
    assert_eq!(
        shape.num_dims(),
        3,
        "{what}: expected a [trials, rows, columns] tensor"
    );
    [shape[0], shape[1], shape[2]]
}

/// All of `0..n` as one block: how a one-thread process splits a pass.
fn one_block(n: usize) -> Vec<std::ops::Range<usize>> {
    std::iter::once(0..n).collect()
}

/// Runs `job` on each trial's item, spread over the team one run of consecutive trials per
/// thread; each trial runs whole on one thread.
fn each_trial<T: Send>(items: Vec<T>, job: &(dyn Fn(T) + Sync)) {
    let mut items = items.into_iter();
    let runs: Vec<Vec<T>> = team::ranges(items.len(), 1)
        .into_iter()
        .map(|r| items.by_ref().take(r.len()).collect())
        .collect();
    team::each(runs, &|run: Vec<T>| run.into_iter().for_each(job));
}
