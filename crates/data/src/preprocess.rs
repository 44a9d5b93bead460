//! Input scaling, with statistics taken from the training split only.

/// How raw values (0–255 pixels for the image datasets) are transformed.
/// Written in run records by its lower-case name (`"scale"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preprocess {
    None,
    /// Divide by 255, giving [0, 1].
    #[default]
    Scale,
    /// Subtract the mean and divide by the standard deviation, per channel (3 for CIFAR, 1 for
    /// the others), computed on the training split.
    Standardize,
}

/// What was applied, for the run's record.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalization {
    pub method: Preprocess,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

/// Applies `method` to the training features and, with the training statistics, to `others`.
/// `channels` splits each row into that many equal, contiguous planes.
pub fn apply(
    method: Preprocess,
    channels: usize,
    train: &mut [f32],
    dim: usize,
    others: &mut [&mut [f32]],
) -> Normalization {
    let (mean, std) = match method {
        Preprocess::None => (vec![0.0; channels], vec![1.0; channels]),
        Preprocess::Scale => (vec![0.0; channels], vec![255.0; channels]),
        Preprocess::Standardize => channel_stats(train, dim, channels),
    };
    if method != Preprocess::None {
        let plane = dim / channels;
        for data in std::iter::once(train).chain(others.iter_mut().map(|s| &mut **s)) {
            for row in data.chunks_exact_mut(dim) {
                for (c, chunk) in row.chunks_exact_mut(plane).enumerate() {
                    let (m, s) = (mean[c], std[c]);
                    chunk.iter_mut().for_each(|v| *v = (*v - m) / s);
                }
            }
        }
    }
    Normalization { method, mean, std }
}

fn channel_stats(data: &[f32], dim: usize, channels: usize) -> (Vec<f32>, Vec<f32>) {
    let plane = dim / channels;
    let mut sum = vec![0f64; channels];
    let mut sq = vec![0f64; channels];
    for row in data.chunks_exact(dim) {
        for (c, chunk) in row.chunks_exact(plane).enumerate() {
            for &v in chunk {
                sum[c] += v as f64;
                sq[c] += (v as f64) * (v as f64);
            }
        }
    }
    let n = (data.len() / dim * plane).max(1) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let std = sq
        .iter()
        .zip(&mean)
        .map(|(q, m)| ((q / n - m * m).max(0.0).sqrt().max(1e-6)) as f32)
        .collect();
    (mean.into_iter().map(|m| m as f32).collect(), std)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardize_uses_training_statistics_per_channel() {
        // two rows, two channels of two values each
        let mut train = vec![0.0, 2.0, 10.0, 10.0, 4.0, 6.0, 30.0, 30.0];
        let mut test = vec![2.0, 2.0, 20.0, 20.0];
        let n = apply(Preprocess::Standardize, 2, &mut train, 4, &mut [&mut test]);
        assert_eq!(n.mean, vec![3.0, 20.0]);
        assert!((n.std[0] - 5f32.sqrt()).abs() < 1e-6 && (n.std[1] - 10.0).abs() < 1e-6);
        assert_eq!(&test[2..], &[0.0, 0.0]);
        assert!((test[0] + 1.0 / 5f32.sqrt()).abs() < 1e-6);
        let mut s = vec![255.0, 0.0];
        apply(Preprocess::Scale, 1, &mut s, 2, &mut []);
        assert_eq!(s, vec![1.0, 0.0]);
    }
}
