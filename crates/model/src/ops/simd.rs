//! The element-wise loops of the Flex operations, compiled for the CPU's widest vector unit.
//!
//! The crates are compiled for baseline x86-64, whose vectors hold four `f32`. [`vectorised`]
//! runs a closure inside a function compiled for AVX2 (or AVX-512), chosen at run time where
//! the CPU has it (`pulp`, which `gemm` uses for its kernels), so that the loops inlined into
//! it run eight (or sixteen) lanes wide. Each lane does what the scalar code says: Rust never
//! fuses a multiply and an add into one rounding, nor reorders a sum, whatever the target, so
//! the numbers are bit for bit those of the baseline code (the tests below, and the recorded
//! curves). The closure, and the functions of its loops, must be `#[inline(always)]`: compiled
//! inside the dispatched function, not called from it (a call runs the baseline code).

/// The vector instructions that [`vectorised`] and `gemm`'s kernels use on this CPU: `avx512`,
/// `avx2` or `baseline`. A build without the `avx512` feature says `avx2` where the CPU has
/// AVX-512 too.
pub fn level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    match pulp::Arch::new() {
        #[cfg(feature = "avx512")]
        pulp::Arch::V4(_) => "avx512",
        pulp::Arch::V3(_) => "avx2",
        #[allow(unreachable_patterns)]
        _ => "baseline",
    }
    #[cfg(not(target_arch = "x86_64"))]
    "baseline"
}

/// Runs `f` compiled for the widest vector instructions this CPU has.
#[inline(always)]
pub(super) fn vectorised<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::flex::sigmoid;

    /// A CPU with AVX2 and no AVX-512 runs the AVX2 code; any CPU names one of the three.
    #[test]
    fn level_names_the_code_this_cpu_runs() {
        let level = level();
        assert!(["avx512", "avx2", "baseline"].contains(&level), "{level}");
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") && !has!("avx512f") {
                assert_eq!(level, "avx2");
            }
            if !has!("avx2") {
                assert_eq!(level, "baseline");
            }
        }
    }

    /// The same loop, dispatched and not, gives the same bits, on values that reach every
    /// branch of `sigmoid`'s `exp` (its clamps, denormal results, NaN, infinities).
    #[test]
    fn dispatched_loops_give_the_same_bits() {
        let mut z: Vec<f32> = (-2000..2000).map(|i| i as f32 * 0.0537).collect();
        z.extend([
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e-40,
            -1e-40,
            0.0,
            -0.0,
        ]);
        #[inline(always)]
        fn pass(z: &[f32], out: &mut [f32]) {
            for (o, z) in out.iter_mut().zip(z) {
                *o = sigmoid(*z) * (z - 0.25) + z * 0.5;
            }
        }
        let (mut plain, mut wide) = (vec![0.0f32; z.len()], vec![0.0f32; z.len()]);
        pass(&z, &mut plain);
        vectorised(
            #[inline(always)]
            || pass(&z, &mut wide),
        );
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&plain), bits(&wide));
    }
}
