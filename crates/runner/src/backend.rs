//! The `--backend` flag: a name to a Burn [`Device`], and whether that device can start here.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Result};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Every backend the harness knows, compiled in or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum BackendName {
    /// Burn's pure-Rust CPU backend (SIMD, multi-threaded): the fastest CPU backend measured here.
    #[default]
    Flex,
    /// The deprecated NdArray CPU backend.
    Ndarray,
    /// wgpu: Vulkan, Metal or DX12 GPUs, or a software Vulkan device such as lavapipe.
    Wgpu,
    /// CUDA GPUs (cargo feature `cuda`).
    Cuda,
    /// CubeCL's CPU backend (cargo feature `cpu`; its build fetches LLVM).
    Cpu,
}

impl BackendName {
    pub const ALL: [BackendName; 5] = [
        BackendName::Flex,
        BackendName::Ndarray,
        BackendName::Wgpu,
        BackendName::Cuda,
        BackendName::Cpu,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BackendName::Flex => "flex",
            BackendName::Ndarray => "ndarray",
            BackendName::Wgpu => "wgpu",
            BackendName::Cuda => "cuda",
            BackendName::Cpu => "cpu",
        }
    }

    /// Whether the backend runs on a GPU runtime (wgpu, CUDA, or CubeCL's cpu runtime, which
    /// shares its start-up).
    pub fn is_gpu(self) -> bool {
        !matches!(self, BackendName::Flex | BackendName::Ndarray)
    }

    /// Trials per stack when a config does not say (`execution.batch_trials`), from the
    /// measurements in docs/performance.md ("Trials together").
    pub fn batch_trials(self) -> usize {
        match self {
            BackendName::Flex | BackendName::Ndarray => 8,
            BackendName::Wgpu | BackendName::Cuda | BackendName::Cpu => 40,
        }
    }

    /// Whether this build has the backend.
    pub fn compiled(self) -> bool {
        match self {
            BackendName::Flex | BackendName::Ndarray | BackendName::Wgpu => true,
            BackendName::Cuda => cfg!(feature = "cuda"),
            BackendName::Cpu => cfg!(feature = "cpu"),
        }
    }

    fn available_list() -> String {
        let on: Vec<_> = Self::ALL
            .iter()
            .filter(|b| b.compiled())
            .map(|b| b.as_str())
            .collect();
        let off: Vec<_> = Self::ALL
            .iter()
            .filter(|b| !b.compiled())
            .map(|b| b.as_str())
            .collect();
        let mut s = format!("available: {}", on.join(", "));
        if !off.is_empty() {
            s += &format!(
                "; {} need a rebuild with `cargo build --release --features {}`",
                off.join(", "),
                off.join(",")
            );
        }
        s
    }

    /// The device for evaluation (no autodiff). Training wraps it with `.autodiff()`.
    #[allow(deprecated)] // NdArray is deprecated upstream; users asked for it.
    pub fn device(self) -> Result<Device> {
        Ok(match self {
            BackendName::Flex => Device::flex(),
            BackendName::Ndarray => Device::ndarray(),
            BackendName::Wgpu => Device::wgpu(Default::default()),
            #[cfg(feature = "cuda")]
            BackendName::Cuda => Device::cuda(0),
            #[cfg(feature = "cpu")]
            BackendName::Cpu => Device::cpu(),
            #[allow(unreachable_patterns)]
            other => bail!(
                "backend '{other}' is not in this build ({})",
                Self::available_list()
            ),
        })
    }

    /// One line for `highway backends`: the device when it starts, why not when it cannot, or
    /// what enabling a backend that is not compiled in takes.
    pub fn describe(self) -> String {
        if !self.compiled() {
            return match self {
                BackendName::Cuda => {
                    "not compiled: rebuild with `--features cuda` on a machine that \
                    reaches the internet (Burn 0.22.1's CUDA backend builds cubecl-llvm, which \
                    downloads an LLVM bundle into ~/.local/share/tracel/); see docs/backends.md, \
                    \"CUDA\""
                        .into()
                }
                BackendName::Cpu => {
                    "not compiled: rebuild with `--features cpu` on a machine that \
                    reaches the internet (its build downloads LLVM, as CUDA's does)"
                        .into()
                }
                other => format!("not compiled (rebuild with --features {other})"),
            };
        }
        match self.probe() {
            Ok(device) => format!("ok: {device}"),
            Err(e) => format!("cannot start: {e}"),
        }
    }

    /// Tries to start the device and run one small operation on it. Devices that cannot start
    /// (no GPU adapter, no driver) panic inside Burn; that panic becomes the reason.
    pub fn probe(self) -> Result<String> {
        let device = self.device()?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let outcome = std::panic::catch_unwind(move || {
            let x = Tensor::<2>::from_data(
                TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]),
                &device,
            );
            let sum: f32 = x.clone().matmul(x).sum().into_scalar();
            (sum, format!("{device:?}{}", adapter(&device)))
        });
        std::panic::set_hook(previous);
        match outcome {
            Ok((sum, name)) if (sum - 54.0).abs() < 1e-3 => Ok(name),
            Ok((sum, _)) => bail!("a 2×2 matmul gave {sum}, expected 54"),
            Err(panic) => {
                let msg = crate::sys::panic_message(panic.as_ref());
                bail!("{}", msg.lines().next().unwrap_or_default())
            }
        }
    }
}

/// The adapter a GPU device runs on, as its driver names it (`, adapter NVIDIA H100 80GB HBM3`),
/// and whether it is a software one that runs on the CPU (Mesa's lavapipe, `llvmpipe`):
/// such an adapter stands in for a GPU's correctness, not its speed. Empty for the CPU
/// backends, which have no adapter.
fn adapter(device: &Device) -> String {
    let Some(identity) = device.identity() else {
        return String::new();
    };
    let name = identity.name;
    let software = ["llvmpipe", "lavapipe", "SwiftShader", "softpipe"]
        .iter()
        .any(|s| name.to_ascii_lowercase().contains(&s.to_ascii_lowercase()));
    match software {
        true => format!(", adapter {name}: a software adapter on the CPU, slow"),
        false => format!(", adapter {name}"),
    }
}

impl fmt::Display for BackendName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BackendName {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match Self::ALL
            .into_iter()
            .find(|b| b.as_str() == s.to_ascii_lowercase())
        {
            Some(b) => Ok(b),
            None => bail!("unknown backend '{s}' ({})", Self::available_list()),
        }
    }
}

impl TryFrom<String> for BackendName {
    type Error = anyhow::Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<BackendName> for String {
    fn from(b: BackendName) -> String {
        b.as_str().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_devices_and_unknown_names_are_clear() {
        assert_eq!("flex".parse::<BackendName>().unwrap(), BackendName::Flex);
        assert_eq!(
            "NdArray".parse::<BackendName>().unwrap(),
            BackendName::Ndarray
        );
        assert_eq!("wgpu".parse::<BackendName>().unwrap(), BackendName::Wgpu);
        assert_eq!(
            format!("{:?}", BackendName::Flex.device().unwrap()),
            format!("{:?}", Device::flex())
        );
        let err = "tpu".parse::<BackendName>().unwrap_err().to_string();
        assert!(
            err.contains("unknown backend 'tpu'") && err.contains("flex, ndarray, wgpu"),
            "{err}"
        );
        if !BackendName::Cuda.compiled() {
            let err = BackendName::Cuda.device().unwrap_err().to_string();
            assert!(err.contains("--features cuda"), "{err}");
        }
        assert!(BackendName::Flex.probe().is_ok());
        assert!(BackendName::Ndarray.probe().is_ok());
    }
}
