//! Plain and highway multilayer perceptrons, as in Srivastava, Greff & Schmidhuber (2015), and
//! residual ones to compare them with.
//!
//! A highway layer computes `y = H(x)·T(x) + x·(1 − T(x))` with `H = act(W_H x + b_H)` and the
//! transform gate `T = σ(W_T x + b_T)`, one gate per unit. The modules take a runtime Burn
//! [`Device`](burn::tensor::Device), so the same model runs on Flex, NdArray, wgpu or CUDA.
//!
//! This crate knows nothing of files, configs or command lines: it builds networks and runs them.

mod activation;
pub mod denormals;
mod diagnostics;
mod highway;
mod init;
pub mod loss;
mod mlp;
pub mod ops;
mod plain;
mod residual;
mod stack;
mod weights;

pub use activation::Activation;
pub use diagnostics::LayerStats;
pub use highway::HighwayLayer;
use highway_rng::SplitMix64;
pub use init::WeightInit;
pub use mlp::{Kind, Mlp, ModelConfig, Probe};
pub use plain::PlainLayer;
pub use residual::ResidualLayer;
pub use stack::{unstack, HighwayStack, PlainStack, ResidualStack, Stack};
pub use weights::{NamedTensor, WeightsError};
