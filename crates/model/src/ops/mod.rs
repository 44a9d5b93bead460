//! Layers as single backend operations with hand-written backward passes.
//!
//! Composed from tensor operations, a layer of these thin nets is a dozen small operations
//! forward and twice that backward, each recorded by autodiff and each allocating its output;
//! at 50–71 units that bookkeeping costs more than the arithmetic. Each layer here is one
//! operation: autodiff records one node, and the backward pass is written out. Flex runs them
//! as matmuls plus one pass of vectorised loops; NdArray and the CubeCL backends (wgpu, CUDA)
//! compose the same formulas from their own primitives. `tests/fused.rs` checks every backend
//! against the autodiff of the composed layers.

#![allow(deprecated)] // NdArray is deprecated in favour of Flex, but users still ask for it.

pub mod adam;
mod flex;
pub mod highway;
mod matmul;
pub mod plain;
mod product;
pub mod residual;
pub mod roofline;
pub mod sgd;
mod simd;
pub(crate) mod team;
pub mod trials;

use burn::backend::TensorMetadata;

pub use simd::level as simd_level;
pub use team::set_threads;

use crate::Activation;

/// Runs `f` with the Flex operations it starts on this thread in one block each, on this thread:
/// the numbers of a process with one thread. A trial of a stack evaluated this way gives the
/// numbers of the same net trained alone on one thread.
pub fn on_one_thread<R>(f: impl FnOnce() -> R) -> R {
    team::alone(f)
}

/// The nonlinearity of a fused layer, as the operations' argument: one encoding for the plain
/// and the highway operation (a highway layer's `H`, a plain layer's output; the output layer
/// is linear).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerActivation {
    Linear,
    Relu,
    Tanh,
}

impl From<Option<Activation>> for LayerActivation {
    fn from(activation: Option<Activation>) -> Self {
        match activation {
            None => LayerActivation::Linear,
            Some(Activation::Relu) => LayerActivation::Relu,
            Some(Activation::Tanh) => LayerActivation::Tanh,
        }
    }
}

/// Panics, naming the operation and the operand, unless `dims` is `want`. The fused operations
/// check every operand at their entry: their loops zip slices, and a bias of the wrong length
/// would otherwise be cut short without a word.
pub(crate) fn expect_dims(op: &str, operand: &str, dims: &[usize], want: &[usize]) {
    assert!(
        dims == want,
        "{op}: {operand} has shape {dims:?}, expected {want:?}"
    );
}

fn dims2<T: TensorMetadata>(t: &T) -> [usize; 2] {
    let shape = t.shape();
    assert_eq!(
        shape.num_dims(),
        2,
        "highway layer: expected a [batch, width] tensor"
    );
    [shape[0], shape[1]]
}
