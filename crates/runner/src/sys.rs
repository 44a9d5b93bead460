//! Facts about the process and machine that a run records.

use std::process::Command;

/// Peak resident memory of this process so far, in MiB (Linux `VmHWM`; 0 elsewhere).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// The git revision of the working directory's repository, with `-dirty` when it has changes.
pub fn git_revision() -> String {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "--short=12", "HEAD"]) {
        Some(rev) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{rev}-dirty")
            } else {
                rev
            }
        }
        None => "unknown".into(),
    }
}

/// The text a panic carried (`panic!` with a message gives a `String` or a `&str`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Makes this thread, and the threads it starts from now on, flush denormal floats to zero.
///
/// Deep nets push activations and gradients below `f32`'s smallest normal number (a 900-layer
/// highway net with `b_T = −2` keeps about 0.79 of its signal's variance per layer); denormal
/// arithmetic is up to 100× slower on x86, which made a 900-layer step six times slower than a
/// 600-layer one. Values that small carry nothing a loss can see. New threads inherit the
/// floating-point environment of the thread that creates them, so call this first in `main`.
pub fn flush_denormals() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: reads and writes this thread's MXCSR register only; FTZ (bit 15) and DAZ (bit 6)
    // change how denormals round, nothing else.
    unsafe {
        let mut csr: u32 = 0;
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
        csr |= (1 << 15) | (1 << 6);
        std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly));
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: sets the FZ bit (24) of this thread's FPCR only.
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
    fn panic_messages_are_recovered() {
        let owned = std::panic::catch_unwind(|| panic!("lost device {}", 0)).unwrap_err();
        assert_eq!(super::panic_message(owned.as_ref()), "lost device 0");
        let fixed = std::panic::catch_unwind(|| panic!("no adapter")).unwrap_err();
        assert_eq!(super::panic_message(fixed.as_ref()), "no adapter");
    }

    #[test]
    fn denormals_flush_to_zero_after_the_call() {
        std::thread::spawn(|| {
            let tiny = std::hint::black_box(1e-30f32);
            assert!(tiny * 1e-10 > 0.0, "denormals are kept by default");
            super::flush_denormals();
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
