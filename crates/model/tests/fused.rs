//! The fused layer operations against the autodiff of the composed layers, on every backend of
//! the default build, in IEEE arithmetic (denormals kept: `highway --keep-denormals`): the same
//! output and the same gradients for the input and every parameter, within a relative tolerance
//! of 1e-4. On Flex also at the paper's sizes, where the operations split their work over
//! threads, and at MNIST's input layer. `fused_flushed.rs` runs the same checks in the mode the
//! binary runs in by default.

mod common;

use burn::tensor::Device;
use common::{check, PAPER, TINY};

#[test]
fn fused_matches_autodiff_on_flex() {
    check("flex", Device::flex(), TINY);
    check("flex at the paper's size", Device::flex(), PAPER);
}

#[test]
fn input_layer_matches_autodiff_on_flex() {
    common::input_layer_matches_autodiff(Device::flex());
}

#[test]
#[allow(deprecated)]
fn fused_matches_autodiff_on_ndarray() {
    check("ndarray", Device::ndarray(), TINY);
}

#[test]
fn fused_matches_autodiff_on_wgpu() {
    check("wgpu", Device::wgpu(Default::default()), TINY);
}

#[test]
fn sgd_step_matches_the_formula_on_every_backend() {
    common::sgd_step_matches_the_formula_on_every_backend();
}

#[test]
fn adam_step_matches_the_formula_on_every_backend() {
    common::adam_step_matches_the_formula_on_every_backend();
}

#[test]
fn fused_and_composed_nets_agree() {
    common::fused_and_composed_nets_agree();
}
