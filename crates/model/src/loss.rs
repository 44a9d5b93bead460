//! Softmax cross-entropy from class logits and integer labels.

use burn::tensor::{activation::log_softmax, Int, Tensor};

/// Mean over the batch of `−log softmax(logits)[label]`: the training loss the paper plots.
pub fn cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [n, _] = logits.dims();
    log_softmax(logits, 1)
        .gather(1, labels.reshape([n, 1]))
        .mean()
        .neg()
}

/// How many rows of `logits` have their largest entry at the label.
pub fn correct(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1, Int> {
    let [n, _] = logits.dims();
    logits.argmax(1).reshape([n]).equal(labels).int().sum()
}

/// Each trial's [`cross_entropy`] (`[K]`) from the logits of a stack of trials
/// (`[K, batch, classes]`) and the labels they share.
pub fn trial_cross_entropy(logits: Tensor<3>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [k, n, _] = logits.dims();
    let labels = labels.reshape([1, n, 1]).expand([k, n, 1]);
    log_softmax(logits, 2)
        .gather(2, labels)
        .reshape([k, n])
        .mean_dim(1)
        .reshape([k])
        .neg()
}

/// Each trial's [`correct`] (`[K]`) from the logits of a stack of trials.
pub fn trial_correct(logits: Tensor<3>, labels: Tensor<1, Int>) -> Tensor<1, Int> {
    let [k, n, _] = logits.dims();
    let labels = labels.reshape([1, n]).expand([k, n]);
    logits
        .argmax(2)
        .reshape([k, n])
        .equal(labels)
        .int()
        .sum_dim(1)
        .reshape([k])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn matches_a_hand_computation() {
        let d = Device::flex();
        let logits =
            Tensor::<2>::from_data(TensorData::from([[1.0f32, 2.0, 0.5], [0.0, 0.0, 3.0]]), &d);
        let labels = Tensor::<1, Int>::from_data(TensorData::from([1i64, 0]), &d);
        let lse = |r: [f64; 3]| r.iter().map(|v| v.exp()).sum::<f64>().ln();
        let want = ((lse([1.0, 2.0, 0.5]) - 2.0) + (lse([0.0, 0.0, 3.0]) - 0.0)) / 2.0;
        let got = cross_entropy(logits.clone(), labels.clone()).into_scalar::<f32>() as f64;
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        assert_eq!(correct(logits, labels).into_scalar::<i64>(), 1);
    }
}
