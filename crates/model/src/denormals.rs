//! The floating-point mode of the harness: denormal floats flushed to zero, or kept.

/// Makes this thread, and the threads it starts from now on, flush denormal floats to zero
/// (x86 FTZ and DAZ, AArch64 FZ). The `highway` binary calls it first in `main` unless
/// `--keep-denormals` (or `HIGHWAY_KEEP_DENORMALS=1`) is given.
///
/// Why: deep nets push activations and gradients below `f32`'s smallest normal number (a
/// 900-layer highway net with `b_T = −2` keeps about 0.79 of its signal's variance per layer),
/// and denormal arithmetic is many times slower on x86 (docs/performance.md).
///
/// What it costs, plainly: this leaves IEEE 754 arithmetic. Every value below 1.2e-38 becomes
/// zero, in our code and in every library the process runs (Burn, `gemm`, libm, the parsers of
/// config and data files). Rust and LLVM assume the default floating-point environment: they
/// may constant-fold at compile time what the flushed hardware computes differently at run
/// time, so code can see two answers for one expression involving a denormal. The harness
/// accepts this because values that small carry nothing a cross-entropy loss can see; the
/// fused-layer tests run in both modes and agree within their tolerance. A run that needs
/// strict IEEE results (a numerical study of tiny gradients, say) turns it off.
pub fn flush() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the two instructions read and write this thread's MXCSR register and the local
    // `csr`, nothing else in memory. Setting FTZ (bit 15) and DAZ (bit 6) is memory-safe; what
    // it changes in the arithmetic is the trade described above.
    unsafe {
        let mut csr: u32 = 0;
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
        csr |= (1 << 15) | (1 << 6);
        std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly));
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: reads and writes this thread's FPCR register only (no memory); setting FZ (bit
    // 24) is memory-safe, and its effect on the arithmetic is the trade described above.
    unsafe {
        let mut fpcr: u64;
        std::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack));
        fpcr |= 1 << 24;
        std::arch::asm!("msr fpcr, {}", in(reg) fpcr, options(nomem, nostack));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn denormals_flush_to_zero_after_the_call() {
        std::thread::spawn(|| {
            let tiny = std::hint::black_box(1e-30f32);
            assert!(tiny * 1e-10 > 0.0, "denormals are kept by default");
            super::flush();
            assert_eq!(std::hint::black_box(tiny) * 1e-10, 0.0);
            // Threads started afterwards inherit the setting.
            let child = std::thread::spawn(move || std::hint::black_box(tiny) * 1e-10)
                .join()
                .unwrap();
            assert_eq!(child, 0.0);
        })
        .join()
        .unwrap();
    }
}
