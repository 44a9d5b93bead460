//! Facts about the process and machine that a run records.

use std::path::Path;

/// Peak resident memory of this process so far, in MiB (Linux `VmHWM`; 0 elsewhere).
pub(crate) fn peak_rss_mib() -> f64 {
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

/// Page faults this process has taken so far that needed no disk (Linux `/proc/self/stat`'s
/// `minflt`: mostly fresh pages the kernel zeroes on first touch); `None` elsewhere.
pub(crate) fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    minflt(&stat)
}

/// The `minflt` field of a `/proc/<pid>/stat` line: the 10th, the 8th after the command name
/// (which is in parentheses and may hold spaces and parentheses itself).
fn minflt(stat: &str) -> Option<u64> {
    let (_, after) = stat.rsplit_once(')')?;
    after.split_whitespace().nth(7)?.parse().ok()
}

/// The CPU's model name (Linux `/proc/cpuinfo`, its first "model name"), or `unknown`.
pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(key, _)| key.trim() == "model name")
                .map(|(_, name)| name.trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

pub(crate) fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// The git revision this binary was built from (`-dirty` for uncommitted changes; `unknown`
/// without git), embedded at build time by `build.rs`.
pub(crate) fn git_revision() -> String {
    env!("HIGHWAY_GIT_REVISION").to_string()
}

/// Sets `XDG_RUNTIME_DIR` to a private folder (`$TMPDIR/highway-runtime-<uid>`, created
/// without its parents) when it is missing or unusable, before a GPU backend starts. wgpu's
/// Vulkan and GL probes load the Wayland client library, which prints "XDG_RUNTIME_DIR is
/// invalid or not set in the environment" on a headless server (a cluster node, a container,
/// CI) on every start; with a valid folder there is no Wayland socket to find and nothing is
/// printed. Call it before any other thread starts: it edits the environment of the process.
pub fn headless_gpu_env() {
    let usable = std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| Path::new(&d).is_dir());
    if usable {
        return;
    }
    // Only the folder itself, in a temporary folder that exists: never its parents.
    let dir = std::env::temp_dir().join(format!("highway-runtime-{}", user_id()));
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let made = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    let usable = match made {
        Ok(()) => true,
        // Made earlier: used only if it is a folder (not a link) of this user's alone.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::symlink_metadata(&dir)
            .is_ok_and(|m| m.is_dir() && m.mode() & 0o077 == 0 && m.uid().to_string() == user_id()),
        Err(_) => false,
    };
    if usable {
        std::env::set_var("XDG_RUNTIME_DIR", &dir);
    }
}

/// The real user id (Linux `/proc/self/status`), to keep users' runtime folders apart.
fn user_id() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .unwrap_or_else(|| "0".into())
}

/// The text a panic carried (`panic!` with a message gives a `String` or a `&str`).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Flushes denormals to zero in this thread and the threads it starts (see
/// [`highway_model::denormals::flush`]: why, and what it costs).
pub fn flush_denormals() {
    highway_model::denormals::flush();
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
    fn minor_faults_are_read_past_the_command_name() {
        let line = "4242 (a b) c) S 1 4242 4242 0 -1 4194560 1234 0 7 0 12 3 0 0 20 0 1 0";
        assert_eq!(super::minflt(line), Some(1234));
        assert_eq!(super::minflt("4242 (cut"), None);
        if cfg!(target_os = "linux") {
            assert!(super::minor_faults().is_some_and(|n| n > 0));
        }
    }
}
