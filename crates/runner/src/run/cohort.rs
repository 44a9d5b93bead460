//! The [`Trainable`] of a cohort: one net for one trial, a stack of nets for several.

use anyhow::{bail, Result};
use burn::tensor::Device;

use super::net::Net;
use super::stacked::Stacked;
use super::trainable::{Layers, Trainable, TrialStart};

/// The cohort of `trials` on `inner` (the backend's device, without autodiff): one net for
/// one trial, a stack for several.
pub(crate) fn cohort(
    trials: &[TrialStart],
    layers: Layers,
    inner: &Device,
) -> Result<Box<dyn Trainable>> {
    match trials {
        [] => bail!("a cohort needs at least one trial"),
        [one] => Ok(Box::new(Net::new(one, layers, inner)?)),
        _ if layers.gradient_checkpointing || !layers.fused => {
            bail!("trials trained as one stack run fused layers without gradient checkpointing")
        }
        _ => Ok(Box::new(Stacked::new(trials, inner)?)),
    }
}
