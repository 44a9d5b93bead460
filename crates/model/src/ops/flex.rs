//! Helpers for the Flex implementations: `f32` slices in and out of Flex tensors, column sums,
//! and a vectorisable sigmoid.

use std::borrow::Cow;

use burn::backend::flex::FlexTensor;
use burn::backend::TensorMetadata;
use burn::tensor::TensorData;

use super::simd::vectorised;

/// Contiguous `f32` values of a Flex tensor, copied only when the tensor is a strided view.
pub(super) fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(
            t.to_contiguous()
                .as_slice::<f32>()
                .expect("highway layer: f32 tensors only")
                .to_vec(),
        ),
    }
}

pub(super) fn flex<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// A rank-1 Flex tensor (a bias gradient).
pub(super) fn vector(values: Vec<f32>) -> FlexTensor {
    let n = values.len();
    FlexTensor::from_data(TensorData::new(values, [n]))
}

/// `t` as a tensor whose values this code owns and may overwrite: a contiguous tensor that
/// nothing else shares already is one; anything else is copied.
pub(super) fn owned(mut t: FlexTensor) -> FlexTensor {
    let fresh = t.is_contiguous() && t.layout().start_offset() == 0;
    if fresh && t.try_storage_mut::<f32>().is_some() {
        t
    } else {
        let shape = t.shape();
        FlexTensor::from_data(TensorData::new(values(&t).into_owned(), shape))
    }
}

/// The first `len` values of an [`owned`] tensor.
pub(super) fn values_mut(t: &mut FlexTensor, len: usize) -> &mut [f32] {
    &mut t
        .try_storage_mut::<f32>()
        .expect("owned() made the tensor unique")[..len]
}

/// Sums the rows of a `[rows, n]` slice.
pub(super) fn column_sums(v: &[f32], n: usize) -> Vec<f32> {
    let mut sums = vec![0.0f32; n];
    vectorised(
        #[inline(always)]
        || {
            for row in v.chunks_exact(n) {
                for (s, x) in sums.iter_mut().zip(row) {
                    *s += x;
                }
            }
        },
    );
    sums
}

/// `e^x` without a libm call: Cody–Waite reduction to `r ∈ [−ln2/2, ln2/2]` and a degree-6
/// polynomial (relative error below 5e-7), branch-free so the loops around it vectorise.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer.
    let x = x.clamp(-87.0, 88.0);
    let k = (x * std::f32::consts::LOG2_E + MAGIC) - MAGIC;
    let r = x - k * 0.693_145_75 - k * 1.428_606_8e-6;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // 2^k from bits alone (no float-to-int conversion, so the loop stays vectorised): adding
    // 2^23 + 127 puts the integer k + 127 (1…254 after the clamp) in the low mantissa bits, and
    // the shift moves it into the exponent field.
    p * f32::from_bits((k + 8_388_735.0).to_bits() << 23)
}

/// ReLU that keeps a NaN a NaN (`f32::max` would turn it into 0 and hide a diverged run).
#[inline(always)]
pub(super) fn relu(z: f32) -> f32 {
    if z < 0.0 {
        0.0
    } else {
        z
    }
}

#[inline(always)]
pub(super) fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + exp(-z))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_is_accurate() {
        for i in -800..=800 {
            let x = i as f32 * 0.1;
            let (got, want) = (exp(x), x.exp());
            assert!(
                ((got - want) / want).abs() < 5e-7,
                "exp({x}) = {got}, want {want}"
            );
        }
        assert_eq!(sigmoid(-200.0).max(0.0), sigmoid(-200.0));
        assert!(relu(f32::NAN).is_nan() && sigmoid(f32::NAN).is_nan());
        assert_eq!((relu(-1.0), relu(2.0)), (0.0, 2.0));
        assert!((sigmoid(200.0) - 1.0).abs() < 1e-7);
    }
}
