//! `highway analyze gates`: the paper's Figure 2 (per layer and block: the trained gate bias
//! `b_T`, the mean transform-gate output over the training set, and one sample's gate outputs
//! and block outputs) and Figure 3 (per-class mean gate output minus the overall mean).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use burn::tensor::Tensor;
use highway_model::Mlp;

use crate::store;
use crate::svg::heatmap::{self, Heatmap, Scale};

/// Examples per probing forward pass.
const BATCH: usize = 1_000;

/// Gate statistics of a highway net over a set of examples; every table is `[layer][block]`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct GateStats {
    /// The trained transform-gate biases `b_T`.
    pub bias: Vec<Vec<f64>>,
    /// The mean of `T(x)` over all examples.
    pub mean: Vec<Vec<f64>>,
    /// The mean of `T(x)` over the examples of each class (`[class][layer][block]`; NaN for a
    /// class without examples).
    pub class_mean: Vec<Vec<Vec<f64>>>,
    pub class_count: Vec<usize>,
}

/// One example's path through the net.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SampleView {
    pub gates: Vec<Vec<f64>>,
    pub outputs: Vec<Vec<f64>>,
}

/// A tensor's values, in order, as `f64`.
fn row<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    let v: Vec<f32> = t.into_data().convert::<f32>().try_into_vec().expect("f32");
    v.into_iter().map(f64::from).collect()
}

/// Sums the gate outputs over `x` (`[n, input]`) in batches, overall and per label.
pub(super) fn gate_stats(net: &Mlp, x: &Tensor<2>, labels: &[u32], classes: usize) -> GateStats {
    let layers = net.highway.len();
    let width = net.highway.first().map_or(0, |l| l.width());
    let [n, _] = x.dims();
    assert_eq!(n, labels.len(), "one label per example");
    let cells = layers * width;
    let mut sum = vec![0.0f64; cells];
    let mut class_sum = vec![vec![0.0f64; cells]; classes];
    let mut class_count = vec![0usize; classes];
    for start in (0..n).step_by(BATCH) {
        let len = BATCH.min(n - start);
        let probe = net.probe(x.clone().narrow(0, start, len));
        if layers == 0 {
            break;
        }
        // [len, layers · width]: example i's gates, layer by layer.
        let gates: Vec<f32> = Tensor::cat(probe.gates, 1)
            .into_data()
            .convert::<f32>()
            .try_into_vec()
            .expect("f32");
        for (row, &label) in gates.chunks(cells).zip(&labels[start..start + len]) {
            let c = label as usize;
            class_count[c] += 1;
            for ((s, cs), &g) in sum.iter_mut().zip(class_sum[c].iter_mut()).zip(row) {
                *s += g as f64;
                *cs += g as f64;
            }
        }
    }
    let table = |v: &[f64], count: usize| -> Vec<Vec<f64>> {
        v.chunks(width.max(1))
            .map(|r| r.iter().map(|s| s / count as f64).collect())
            .collect()
    };
    GateStats {
        bias: net.highway.iter().map(|l| row(l.b_t.val())).collect(),
        mean: table(&sum, n),
        class_mean: class_sum
            .iter()
            .zip(&class_count)
            .map(|(s, &c)| table(s, c))
            .collect(),
        class_count,
    }
}

/// The gate outputs and block outputs of the one example `x` (`[1, input]`).
pub(super) fn sample_view(net: &Mlp, x: Tensor<2>) -> SampleView {
    let probe = net.probe(x);
    let take = |ts: Vec<Tensor<2>>| ts.into_iter().map(row).collect();
    SampleView {
        gates: take(probe.gates),
        outputs: take(probe.outputs),
    }
}

/// Which sample and classes the figures show, and how to name the classes.
pub(super) struct Selection<'a> {
    pub sample: usize,
    pub sample_label: u32,
    pub classes: [usize; 2],
    pub class_names: &'a [String],
}

/// Writes `gates.csv`, `gates-by-class.csv`, `figure2-gates.svg` and `figure3-classes.svg` to
/// `out`; returns their paths. The selected classes must exist (`analyze` checks them first).
pub(super) fn write(
    out: &Path,
    stats: &GateStats,
    sample: &SampleView,
    sel: &Selection,
) -> Result<Vec<PathBuf>> {
    store::write_files(
        out,
        &[
            ("gates.csv", layer_csv(stats, sample)),
            ("gates-by-class.csv", class_csv(stats)),
            ("figure2-gates.svg", figure2(stats, sample, sel)),
            ("figure3-classes.svg", figure3(stats, sel)),
        ],
    )
}

/// Per layer and block: the bias, the mean gate, and the sample's gate and output.
fn layer_csv(stats: &GateStats, sample: &SampleView) -> String {
    let mut csv = String::from("layer,block,bias,mean_gate,sample_gate,sample_output\n");
    for (l, bias) in stats.bias.iter().enumerate() {
        for (b, bias) in bias.iter().enumerate() {
            let _ = writeln!(
                csv,
                "{},{},{bias},{},{},{}",
                l + 1,
                b + 1,
                stats.mean[l][b],
                sample.gates[l][b],
                sample.outputs[l][b]
            );
        }
    }
    csv
}

/// Per class, layer and block: the mean gate, and its difference from the overall mean.
fn class_csv(stats: &GateStats) -> String {
    let mut by_class = String::from("class,examples,layer,block,mean_gate,minus_overall\n");
    for (c, table) in stats.class_mean.iter().enumerate() {
        for (l, row) in table.iter().enumerate() {
            for (b, g) in row.iter().enumerate() {
                let _ = writeln!(
                    by_class,
                    "{c},{},{},{},{g},{}",
                    stats.class_count[c],
                    l + 1,
                    b + 1,
                    g - stats.mean[l][b]
                );
            }
        }
    }
    by_class
}

impl Selection<'_> {
    /// `class 3 (Dress)`, or `class 3` when the class has no name beyond its number.
    fn name(&self, c: usize) -> String {
        self.class_names
            .get(c)
            .filter(|n| **n != c.to_string() && **n != format!("class {c}"))
            .map(|n| format!("class {c} ({n})"))
            .unwrap_or_else(|| format!("class {c}"))
    }
}

/// A layer × block heat map.
fn map(title: String, values: Vec<Vec<f64>>, scale: Scale) -> Heatmap {
    Heatmap {
        title,
        x_label: "block".into(),
        y_label: "highway layer".into(),
        values,
        scale,
    }
}

/// The paper's Figure 2: biases, mean gates, and one sample's gates and block outputs.
fn figure2(stats: &GateStats, sample: &SampleView, sel: &Selection) -> String {
    heatmap::side_by_side(&[
        map(
            "Transform gate biases b_T".into(),
            stats.bias.clone(),
            // One sign throughout: a sequential scale shows the spread.
            Scale::Sequential,
        ),
        map(
            "Mean transform gate outputs".into(),
            stats.mean.clone(),
            Scale::Sequential,
        ),
        map(
            format!(
                "Gate outputs, sample {} ({})",
                sel.sample,
                sel.name(sel.sample_label as usize)
            ),
            sample.gates.clone(),
            Scale::Sequential,
        ),
        map(
            format!("Block outputs, sample {}", sel.sample),
            sample.outputs.clone(),
            Scale::Diverging,
        ),
    ])
}

/// The paper's Figure 3: per selected class, its mean gates minus the overall mean.
fn figure3(stats: &GateStats, sel: &Selection) -> String {
    heatmap::side_by_side(&sel.classes.map(|c| {
        map(
            format!("{}: mean gate − overall mean", sel.name(c)),
            stats.class_mean[c]
                .iter()
                .zip(&stats.mean)
                .map(|(cr, mr)| cr.iter().zip(mr).map(|(g, m)| g - m).collect())
                .collect(),
            Scale::Diverging,
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{Device, TensorData};
    use highway_model::{Activation, HighwayLayer, PlainLayer};

    fn sigmoid(z: f64) -> f64 {
        1.0 / (1.0 + (-z).exp())
    }

    /// Input layer = identity (ReLU of non-negative inputs), two highway layers of width 2.
    fn tiny_net(d: &Device) -> Mlp {
        let p2 = |v: [[f32; 2]; 2]| Param::from_data(TensorData::from(v), d);
        let p1 = |v: [f32; 2]| Param::from_data(TensorData::from(v), d);
        let layer = |w_h, b_h, w_t, b_t| HighwayLayer {
            w_h: p2(w_h),
            b_h: p1(b_h),
            w_t: p2(w_t),
            b_t: p1(b_t),
            activation: Activation::Relu,
        };
        Mlp {
            input: PlainLayer {
                weight: p2([[1.0, 0.0], [0.0, 1.0]]),
                bias: p1([0.0, 0.0]),
                activation: Some(Activation::Relu),
            },
            plain: Vec::new(),
            residual: Vec::new(),
            highway: vec![
                layer(
                    [[1.0, 0.0], [0.0, 1.0]],
                    [0.0, 0.0],
                    [[1.0, 0.0], [0.0, 1.0]],
                    [-1.0, -2.0],
                ),
                layer(
                    [[0.0, 1.0], [1.0, 0.0]],
                    [0.5, 0.0],
                    [[0.0, 1.0], [1.0, 0.0]],
                    [0.0, -3.0],
                ),
            ],
            output: PlainLayer {
                weight: p2([[1.0, 0.0], [0.0, 1.0]]),
                bias: p1([0.0, 0.0]),
                activation: None,
            },
            fused: true,
        }
    }

    /// The same net, by hand: returns per layer the gates and outputs of one example.
    fn by_hand(x: [f64; 2]) -> Vec<([f64; 2], [f64; 2])> {
        // Layer 1: H = relu(x), T = σ(x + b_T), y = x + T(H − x) = x (H = x for x ≥ 0).
        let t1 = [sigmoid(x[0] - 1.0), sigmoid(x[1] - 2.0)];
        let y1 = x;
        // Layer 2: H = relu(swap(y1) + [0.5, 0]), T = σ(swap(y1) + [0, −3]).
        let h2 = [(y1[1] + 0.5).max(0.0), y1[0].max(0.0)];
        let t2 = [sigmoid(y1[1]), sigmoid(y1[0] - 3.0)];
        let y2 = [
            y1[0] + t2[0] * (h2[0] - y1[0]),
            y1[1] + t2[1] * (h2[1] - y1[1]),
        ];
        vec![(t1, y1), (t2, y2)]
    }

    #[test]
    #[allow(clippy::needless_range_loop)] // (layer, block) indices read like the formulas
    fn gate_statistics_match_a_hand_computation() {
        let d = Device::flex();
        let net = tiny_net(&d);
        let xs = [[0.0, 1.0], [2.0, 0.5], [1.0, 3.0]];
        let labels = [1u32, 0, 1];
        let x = Tensor::<2>::from_data(
            TensorData::new(xs.iter().flatten().map(|&v| v as f32).collect(), [3, 2]),
            &d,
        );
        let stats = gate_stats(&net, &x, &labels, 3);
        let hand: Vec<_> = xs.iter().map(|&x| by_hand(x)).collect();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert_eq!(stats.bias, vec![vec![-1.0, -2.0], vec![0.0, -3.0]]);
        assert_eq!(stats.class_count, vec![1, 2, 0]);
        for l in 0..2 {
            for b in 0..2 {
                let g = |i: usize| hand[i][l].0[b];
                assert!(close(stats.mean[l][b], (g(0) + g(1) + g(2)) / 3.0));
                assert!(close(stats.class_mean[0][l][b], g(1)));
                assert!(close(stats.class_mean[1][l][b], (g(0) + g(2)) / 2.0));
                assert!(stats.class_mean[2][l][b].is_nan());
            }
        }
        let view = sample_view(&net, x.narrow(0, 2, 1));
        for l in 0..2 {
            for b in 0..2 {
                assert!(close(view.gates[l][b], hand[2][l].0[b]));
                assert!(close(view.outputs[l][b], hand[2][l].1[b]));
            }
        }
    }
}
