//! `fused.rs`'s checks with denormals flushed to zero, the mode the `highway` binary runs in by
//! default. Every test flushes its own thread first, so the thread team, started by whichever
//! test uses it first, inherits the same mode (this file is its own test process).

mod common;

use burn::tensor::Device;
use common::{check, PAPER, TINY};
use highway_model::denormals;

#[test]
fn fused_matches_autodiff_on_flex_flushed() {
    denormals::flush();
    check("flex, flushed", Device::flex(), TINY);
    check("flex at the paper's size, flushed", Device::flex(), PAPER);
}

#[test]
fn input_layer_matches_autodiff_on_flex_flushed() {
    denormals::flush();
    common::input_layer_matches_autodiff(Device::flex());
}

#[test]
fn fused_and_composed_nets_agree_flushed() {
    denormals::flush();
    common::fused_and_composed_nets_agree();
}
