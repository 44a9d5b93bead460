//! What a run's per-layer statistics (`layers.csv`) say about its start: at initialisation and
//! after its first epoch, how much of the weight gradient reaches the input layer, how many
//! units are dead and how large the signal leaving the last layer is. The mechanism tables set
//! these against the final loss (`mechanism.rs`).

use crate::store::LayerRow;

/// A run's statistics at initialisation (0) and after epoch 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Features {
    /// The input layer's weight gradient over the last layer's, at initialisation.
    pub(super) ratio0: f64,
    /// The same after epoch 1.
    pub(super) ratio1: f64,
    /// The mean share of dead units over the layers after epoch 1.
    pub(super) dead1: f64,
    /// The last layer's output std at initialisation.
    pub(super) out_std0: f64,
    /// The same after epoch 1.
    pub(super) out_std1: f64,
}

impl Features {
    /// From a run's `layers.csv` rows; `None` without both epoch 0 and epoch 1.
    pub(super) fn of(rows: &[LayerRow]) -> Option<Features> {
        let epoch = |e: usize| -> Option<Vec<&LayerRow>> {
            let mut layers: Vec<&LayerRow> = rows.iter().filter(|r| r.epoch == e).collect();
            layers.sort_by_key(|r| r.layer);
            (!layers.is_empty()).then_some(layers)
        };
        let (e0, e1) = (epoch(0)?, epoch(1)?);
        // The input layer's weight gradient over the last layer's.
        let ratio = |l: &[&LayerRow]| {
            let (first, last) = (l[0].stats.grad_w, l[l.len() - 1].stats.grad_w);
            if last > 0.0 {
                first / last
            } else {
                f64::INFINITY
            }
        };
        let out_std = |l: &[&LayerRow]| l[l.len() - 1].stats.out_std;
        Some(Features {
            ratio0: ratio(&e0),
            ratio1: ratio(&e1),
            dead1: e1.iter().map(|r| r.stats.dead).sum::<f64>() / e1.len() as f64,
            out_std0: out_std(&e0),
            out_std1: out_std(&e1),
        })
    }
}

#[cfg(test)]
mod tests {
    use highway_model::LayerStats;

    use super::*;

    /// A layer's row with the statistics the tables read.
    fn layer(epoch: usize, layer: usize, grad_w: f64, out_std: f64, dead: f64) -> LayerRow {
        LayerRow {
            epoch,
            layer,
            stats: LayerStats {
                grad_w,
                grad_w_h: None,
                grad_w_t: None,
                grad_out: 0.0,
                out_mean: 0.0,
                out_std,
                dead,
                gate: None,
                gate_bias: None,
            },
        }
    }

    #[test]
    fn features_need_initialisation_and_epoch_one() {
        // Out of order on purpose: the last layer is layer 3 whatever the rows' order.
        let rows = [
            layer(0, 3, 2.0, 0.5, 0.0),
            layer(0, 1, 4.0, 0.1, 0.0),
            layer(1, 1, 0.01, 0.2, 0.5),
            layer(1, 3, 2.0, 0.05, 0.1),
            layer(0, 2, 9.0, 0.3, 0.0),
            layer(1, 2, 1.0, 0.1, 0.3),
        ];
        let f = Features::of(&rows).unwrap();
        assert_eq!((f.ratio0, f.ratio1), (2.0, 0.005));
        assert_eq!((f.out_std0, f.out_std1), (0.5, 0.05));
        assert!((f.dead1 - 0.3).abs() < 1e-12);
        assert_eq!(
            Features::of(&rows[2..4]),
            None,
            "no epoch 0: resumed part-way"
        );
        let dead_top = [layer(0, 1, 1.0, 0.1, 0.0), layer(1, 1, 0.0, 0.1, 0.0)];
        let f = Features::of(&[
            dead_top[0].clone(),
            layer(0, 2, 0.0, 0.1, 0.0),
            dead_top[1].clone(),
            layer(1, 2, 0.0, 0.1, 0.0),
        ])
        .unwrap();
        assert_eq!(
            f.ratio0,
            f64::INFINITY,
            "no gradient at the top: nothing vanished"
        );
    }
}
