//! Evaluation shared by training and the analyses: a split onto a device, and the loss and
//! accuracy of a net (or of a net with one highway layer shut) over a whole split.

use burn::tensor::{Device, Int, Tensor, TensorData};
use highway_data::Split;
use highway_model::loss::{correct, cross_entropy};
use highway_model::Mlp;

/// Examples per forward pass when evaluating.
const EVAL_BATCH: usize = 1_000;

/// A split as a `[n, dim]` feature tensor and a `[n]` label tensor on `device`.
pub(crate) fn to_device(split: &Split, device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let x = Tensor::<2>::from_data(
        TensorData::new(split.features.clone(), [split.len(), split.dim]),
        device,
    );
    let y = Tensor::<1, Int>::from_data(
        TensorData::new(
            split.labels.iter().map(|&l| l as i64).collect::<Vec<_>>(),
            [split.len()],
        ),
        device,
    );
    (x, y)
}

/// Mean cross-entropy and accuracy over a whole split, in batches.
pub fn evaluate(model: &Mlp, x: &Tensor<2>, y: &Tensor<1, Int>) -> (f64, f64) {
    evaluate_lesioned(model, x, y, None)
}

/// [`evaluate`] with highway layer `lesion` (0-based) forced shut.
pub(crate) fn evaluate_lesioned(
    model: &Mlp,
    x: &Tensor<2>,
    y: &Tensor<1, Int>,
    lesion: Option<usize>,
) -> (f64, f64) {
    let [n, _] = x.dims();
    let mut loss = 0.0;
    let mut hits = 0i64;
    for start in (0..n).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(n);
        let xb = x.clone().narrow(0, start, end - start);
        let yb = y.clone().narrow(0, start, end - start);
        let logits = model.forward_lesioned(xb, lesion);
        loss += cross_entropy(logits.clone(), yb.clone()).into_scalar::<f32>() as f64
            * (end - start) as f64;
        hits += correct(logits, yb).into_scalar::<i64>();
    }
    (loss / n as f64, hits as f64 / n as f64)
}
