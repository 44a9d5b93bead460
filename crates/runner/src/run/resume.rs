//! From a run's state to a checkpoint and back: the net and the optimiser's velocity by
//! parameter name.

use anyhow::{Context, Result};
use burn::tensor::{Device, Tensor, TensorData};
use highway_model::{Mlp, ModelConfig, NamedTensor};

use super::sgd::Sgd;
use crate::store::{Checkpoint, Position};

/// The checkpoint of `model` trained by `optim`, standing at `position`.
pub(super) fn snapshot(model: &Mlp, optim: &Sgd, position: Position) -> Checkpoint {
    let velocity = model
        .param_ids()
        .into_iter()
        .filter_map(|(name, id)| {
            let v = optim.velocity(&id)?;
            Some(NamedTensor {
                name,
                shape: v.dims().to_vec(),
                values: v.clone().into_data().convert::<f32>().try_into_vec().ok()?,
            })
        })
        .collect();
    Checkpoint {
        position,
        params: model.tensors(),
        velocity,
    }
}

/// The net of checkpoint `c` on the training device `device` (fused layers or not, as
/// `fused` says), its velocities set in `optim` on `device`'s inner device `inner`, where the
/// optimiser keeps them.
pub(super) fn restore(
    c: &Checkpoint,
    config: &ModelConfig,
    (device, inner): (&Device, &Device),
    fused: bool,
    optim: &mut Sgd,
) -> Result<Mlp> {
    let model = config
        .load(c.params.clone(), device)
        .context("the checkpoint's parameters do not fit the net")?
        .with_fused(fused);
    let ids = model.param_ids();
    for v in &c.velocity {
        let (_, id) = ids
            .iter()
            .find(|(name, _)| *name == v.name)
            .with_context(|| {
                format!(
                    "the checkpoint has a velocity for '{}', which the net does not have",
                    v.name
                )
            })?;
        let values =
            Tensor::<1>::from_data(TensorData::new(v.values.clone(), [v.values.len()]), inner);
        optim.set_velocity(*id, values);
    }
    Ok(model)
}
