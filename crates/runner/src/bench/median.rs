//! The statistic every bench time is reported by: the median, which a few steps slowed by a
//! busy neighbour do not move.

/// The median of `values` (the upper one of an even count); NaN when there are none.
pub(super) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}
