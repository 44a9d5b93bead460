//! Spearman's rank correlation: whether one quantity tends to rise with another, whatever the
//! shape of the relation. The mechanism tables rank a statistic of the first epoch against the
//! final loss, whose scale (from 1e-3 to chance, diverged at the top) no linear fit would suit.

/// Spearman's rho of `x` and `y` (paired): Pearson's correlation of their ranks, ties given the
/// mean of their ranks. `None` for fewer than three pairs or when either side is constant.
pub(super) fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    assert_eq!(x.len(), y.len(), "spearman: paired values");
    if x.len() < 3 {
        return None;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let sxy: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sx = rx.iter().map(|a| (a - mx).powi(2)).sum::<f64>().sqrt();
    let sy = ry.iter().map(|b| (b - my).powi(2)).sum::<f64>().sqrt();
    (sx != 0.0 && sy != 0.0).then(|| sxy / (sx * sy))
}

/// Each value's rank from 0, equal values sharing the mean of the ranks they span.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            out[k] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_their_mean_rank() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![2.5, 0.0, 2.5, 1.0]);
    }

    #[test]
    fn rho_of_monotone_opposite_and_tied_pairs() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let near = |rho: Option<f64>, want: f64| (rho.unwrap() - want).abs() < 1e-12;
        assert!(near(spearman(&x, &[10.0, 20.0, 1e6, f64::INFINITY]), 1.0));
        assert!(near(spearman(&x, &[4.0, 3.0, 2.0, 1.0]), -1.0));
        // Ranks 0, 1, 2, 3 against 0.5, 0.5, 2, 3: Pearson's r of the ranks.
        let rho = spearman(&x, &[5.0, 5.0, 6.0, 7.0]).unwrap();
        assert!((rho - 0.948_683_298).abs() < 1e-8, "{rho}");
        assert_eq!(spearman(&x, &[1.0, 1.0, 1.0, 1.0]), None);
        assert_eq!(spearman(&[1.0, 2.0], &[1.0, 2.0]), None);
    }
}
