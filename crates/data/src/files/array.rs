//! One array as a file held it: its shape, its element type as the file names it, and its
//! elements widened to one number type. Every format's reader produces one; the checks that
//! make features and labels of it (finite values, whole labels, one label per example) are
//! here, once for all formats.

use std::path::Path;

use crate::{DataError, Result};

/// The most bytes one array may take, as stored (decompressed): a header or archive entry
/// announcing more is refused before anything is read. Far above any dataset this harness
/// trains on in memory, far below what a hostile header can claim.
pub const MAX_ARRAY_BYTES: u64 = 1 << 34;

/// The most classes labels may name (one output unit per class).
pub const MAX_CLASSES: usize = 1_000_000;

/// An array's elements, in C order (a reader of a Fortran-order file reorders them).
#[derive(Debug, Clone, PartialEq)]
pub struct Array<O> {
    pub shape: Vec<usize>,
    /// The element type as the file names it (`<f4`, `U8`, `text`).
    pub dtype: String,
    pub values: Vec<O>,
}

/// What a reader widens each element to: `f32` for features (what training takes), `f64` for
/// labels (so that a fractional or huge label is seen as one, not rounded into range).
pub trait Out: Copy {
    fn from_f64(v: f64) -> Self;
    /// A decimal number in text (a CSV cell), read straight into this type: through `f64`
    /// first, a decimal could round twice.
    fn parse(text: &str) -> Option<Self>;
}

impl Out for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl Out for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

/// An element type a file may hold, widened without loss to `f64` (but for 64-bit integers
/// beyond 2^53, which no feature or label needs).
pub trait Widen: Copy {
    fn widen(self) -> f64;
}

macro_rules! widen_as {
    ($($t:ty),*) => {$(
        impl Widen for $t {
            fn widen(self) -> f64 {
                self as f64
            }
        }
    )*};
}
widen_as!(u8, i8, u16, i16, u32, i32, u64, i64, f32, f64);

impl Widen for bool {
    fn widen(self) -> f64 {
        f64::from(u8::from(self))
    }
}
impl Widen for half::f16 {
    fn widen(self) -> f64 {
        self.to_f64()
    }
}
impl Widen for half::bf16 {
    fn widen(self) -> f64 {
        self.to_f64()
    }
}

/// The number of elements of `shape`, and their bytes at `item` bytes each, when both fit
/// [`MAX_ARRAY_BYTES`]; `None` when the shape overflows or is larger.
pub fn sized(shape: &[usize], item: usize) -> Option<(usize, u64)> {
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
    let bytes = (n as u64).checked_mul(item as u64)?;
    (bytes <= MAX_ARRAY_BYTES).then_some((n, bytes))
}

/// Reorders the elements of a Fortran-order (column-major) array of `shape` into C order.
pub fn fortran_to_c<O: Copy>(shape: &[usize], values: &[O]) -> Vec<O> {
    if shape.len() < 2 {
        return values.to_vec();
    }
    // The stride of each axis in the Fortran layout: the first axis varies fastest.
    let mut strides = vec![1usize; shape.len()];
    for d in 1..shape.len() {
        strides[d] = strides[d - 1] * shape[d - 1];
    }
    let mut out = Vec::with_capacity(values.len());
    let mut index = vec![0usize; shape.len()];
    for _ in 0..values.len() {
        let at: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out.push(values[at]);
        // The next index in C order: the last axis varies fastest.
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    out
}

/// Examples as features: the first axis counts examples, the others are flattened into each
/// example's features. Every value must be finite (a NaN would silently poison training).
/// Returns the examples, the features per example, and the values.
pub fn features(path: &Path, name: &str, a: Array<f32>) -> Result<(usize, usize, Vec<f32>)> {
    let invalid = |detail: String| DataError::Invalid {
        path: path.to_path_buf(),
        detail: format!("{name}{detail}"),
    };
    let Some(&n) = a.shape.first() else {
        return Err(invalid(
            "is a single number (shape []), not an array of examples".into(),
        ));
    };
    let dim: usize = a.shape[1..].iter().product();
    if let Some(at) = a.values.iter().position(|v| !v.is_finite()) {
        let (example, feature) = (at / dim.max(1), at % dim.max(1));
        return Err(invalid(format!(
            "feature {feature} of example {example} is {} (as a 32-bit float): features must \
             be finite numbers",
            a.values[at]
        )));
    }
    Ok((n, dim, a.values))
}

/// Labels: one whole number from 0 per example, in an array of shape `[n]` or `[n, 1]`.
pub fn labels(path: &Path, name: &str, a: Array<f64>) -> Result<Vec<u32>> {
    let invalid = |detail: String| DataError::Invalid {
        path: path.to_path_buf(),
        detail: format!("{name}{detail}"),
    };
    if !matches!(a.shape.as_slice(), [_] | [_, 1]) {
        return Err(invalid(format!(
            "labels have shape {:?}: expected one label per example (shape [n] or [n, 1])",
            a.shape
        )));
    }
    a.values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.fract() != 0.0 || v.is_nan() {
                Err(invalid(format!(
                    "the label of example {i} is {v}: labels are whole numbers (class indices)"
                )))
            } else if v < 0.0 {
                Err(invalid(format!(
                    "the label of example {i} is {v}: labels are class indices from 0"
                )))
            } else if v >= MAX_CLASSES as f64 {
                Err(invalid(format!(
                    "the label of example {i} is {v}: at most {MAX_CLASSES} classes are supported"
                )))
            } else {
                Ok(v as u32)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_order_becomes_c_order() {
        // numpy.asfortranarray(numpy.arange(6).reshape(2, 3)) stores 0 3 1 4 2 5.
        let f = [0, 3, 1, 4, 2, 5];
        assert_eq!(fortran_to_c(&[2, 3], &f), vec![0, 1, 2, 3, 4, 5]);
        // arange(24).reshape(2, 3, 4) in Fortran order: element (i, j, k) at i + 2j + 6k.
        let mut f = vec![0; 24];
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    f[i + 2 * j + 6 * k] = i * 12 + j * 4 + k;
                }
            }
        }
        assert_eq!(fortran_to_c(&[2, 3, 4], &f), (0..24).collect::<Vec<_>>());
    }

    #[test]
    fn sizes_that_overflow_or_exceed_the_limit_are_none() {
        assert_eq!(sized(&[2, 3], 4), Some((6, 24)));
        assert_eq!(sized(&[usize::MAX, 2], 1), None);
        assert_eq!(sized(&[1 << 40], 1), None);
        assert_eq!(sized(&[0, 1 << 62], 8), Some((0, 0)));
    }
}
