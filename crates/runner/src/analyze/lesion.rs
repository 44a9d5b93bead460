//! `highway analyze lesion`: the paper's Figure 4. One highway layer at a time has all its
//! transform gates forced shut (`T = 0`, so the layer copies its input); the net is evaluated
//! on the whole training set, and the layer restored. Layers whose lesion costs nothing are
//! layers the trained net does not use.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use burn::tensor::{Int, Tensor};
use highway_model::Mlp;

use crate::run::evaluate_lesioned;
use crate::store;
use crate::svg::plot::{self, Chart, Series};

/// The loss and accuracy of the intact net and of each lesion.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Lesions {
    pub intact: (f64, f64),
    /// `(loss, accuracy)` with highway layer `i` (0-based) shut.
    pub layers: Vec<(f64, f64)>,
}

/// Lesions every highway layer of `net` in turn, evaluating on `x`, `y`.
pub(super) fn lesion_all(net: &Mlp, x: &Tensor<2>, y: &Tensor<1, Int>) -> Lesions {
    Lesions {
        intact: evaluate_lesioned(net, x, y, None),
        layers: (0..net.highway.len())
            .map(|i| evaluate_lesioned(net, x, y, Some(i)))
            .collect(),
    }
}

/// Writes `lesion.csv` and `figure4-lesion.svg` to `out`; `split` names the evaluated split.
pub(super) fn write(out: &Path, lesions: &Lesions, split: &str) -> Result<Vec<PathBuf>> {
    let mut csv = String::from("lesioned_layer,loss,accuracy\n");
    let _ = writeln!(csv, "none,{},{}", lesions.intact.0, lesions.intact.1);
    for (i, (loss, acc)) in lesions.layers.iter().enumerate() {
        let _ = writeln!(csv, "{},{loss},{acc}", i + 1);
    }
    let n = lesions.layers.len().max(1) as f64;
    // A log axis only where the losses span more than a decade.
    let losses = lesions.layers.iter().chain([&lesions.intact]).map(|r| r.0);
    let (lo, hi) = losses.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let log_loss = lo > 0.0 && hi / lo > 10.0;
    let chart = |title: &str, y_label: &str, log_y, pick: fn(&(f64, f64)) -> f64| {
        let mut intact = Series::line(
            "no lesion",
            "#555",
            vec![(1.0, pick(&lesions.intact)), (n, pick(&lesions.intact))],
        );
        intact.dashed = true;
        let mut lesioned = Series::line(
            "layer lesioned",
            "hsl(5,70%,45%)",
            lesions
                .layers
                .iter()
                .enumerate()
                .map(|(i, r)| ((i + 1) as f64, pick(r)))
                .collect(),
        );
        lesioned.markers = true;
        Chart {
            title: title.into(),
            x_label: "lesioned highway layer".into(),
            y_label: y_label.into(),
            log_y,
            log_x: false,
            y_range: None,
            series: vec![lesioned, intact],
        }
    };
    let svg = plot::side_by_side(
        &[
            chart(
                &format!("Lesioning: mean cross-entropy ({split} set)"),
                "cross-entropy",
                log_loss,
                |r| r.0,
            ),
            chart(
                &format!("Lesioning: accuracy ({split} set)"),
                "accuracy",
                false,
                |r| r.1,
            ),
        ],
        2,
    );
    store::write_files(out, &[("lesion.csv", csv), ("figure4-lesion.svg", svg)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};
    use highway_model::{Activation, Kind, ModelConfig, WeightInit};

    /// Lesioning layer i gives exactly the loss of the net with layer i taken out and every
    /// other layer as it was.
    #[test]
    fn each_lesion_equals_the_net_without_that_layer() {
        let d = Device::flex();
        let config = ModelConfig {
            kind: Kind::Highway,
            depth: 5,
            width: 6,
            input_size: 8,
            classes: 3,
            activation: Activation::Tanh,
            // Open gates, so that every layer changes the loss.
            gate_bias: 1.0,
            residual_alpha: 0.0,
            init: WeightInit::Normalized,
        };
        let net = config.init(3, &d);
        let x = Tensor::<2>::from_data(
            TensorData::new(
                (0..40).map(|i| ((i * 7) % 11) as f32 / 5.0 - 1.0).collect(),
                [5, 8],
            ),
            &d,
        );
        let y = Tensor::<1, Int>::from_data(TensorData::from([0i64, 1, 2, 1, 0]), &d);
        let lesions = lesion_all(&net, &x, &y);
        assert_eq!(lesions.layers.len(), 4);
        assert_eq!(lesions.intact, crate::run::evaluate(&net, &x, &y));
        for i in 0..4 {
            let mut without = net.clone();
            without.highway.remove(i);
            assert_eq!(without.highway.len(), 3);
            assert_eq!(lesions.layers[i], crate::run::evaluate(&without, &x, &y));
            assert_ne!(
                lesions.layers[i].0, lesions.intact.0,
                "layer {i} should matter"
            );
        }
        // Every lesion is undone: a second pass sees the same net.
        assert_eq!(lesion_all(&net, &x, &y), lesions);
    }
}
