//! Choosing the compute device: wgpu (Vulkan/Metal/DX12 natively, WebGPU in the
//! browser) when an adapter exists, burn's flex CPU backend otherwise. What
//! was chosen travels as a [`Runtime`]: the device, the [`Backend`] enum the
//! detection document reports, a sentence saying why, and the GPU
//! preprocessing when the device is a GPU that has it.
use crate::detection::Backend;
use crate::gpu::GpuLetterbox;
use burn::tensor::Device;
use std::sync::Arc;

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    /// A real GPU if there is one, else the CPU (natively: CPU Vulkan such as
    /// lavapipe is skipped, it is slower than flex).
    Auto,
    /// wgpu natively, WebGPU in the browser; an error if none starts.
    Gpu,
    Cpu,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("backend {0:?}: expected auto, wgpu (webgpu in the browser) or cpu")]
    Unknown(String),
    #[error("no wgpu adapter could be started (no GPU or Vulkan driver; install mesa-vulkan-drivers for a CPU Vulkan)")]
    NoAdapter,
    #[error("WebGPU is not available: {0}")]
    NoWebGpu(String),
}

impl std::str::FromStr for BackendChoice {
    type Err = BackendError;
    fn from_str(s: &str) -> Result<Self, BackendError> {
        match s {
            "auto" => Ok(Self::Auto),
            "wgpu" | "gpu" | "webgpu" => Ok(Self::Gpu),
            "cpu" | "flex" => Ok(Self::Cpu),
            other => Err(BackendError::Unknown(other.into())),
        }
    }
}

/// A device to run models on, and what it is.
#[derive(Clone)]
pub struct Runtime {
    pub device: Device,
    pub backend: Backend,
    /// Why this backend (adapter found, or why the GPU was not used).
    pub note: String,
    /// The WGSL letterbox on this device's GPU (the browser's WebGPU path).
    pub gpu_letterbox: Option<Arc<GpuLetterbox>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("backend", &self.backend)
            .field("note", &self.note)
            .field("gpu_letterbox", &self.gpu_letterbox.is_some())
            .finish()
    }
}

impl Runtime {
    /// burn's flex backend on the CPU.
    pub fn cpu(note: impl Into<String>) -> Self {
        Self {
            device: Device::flex(),
            backend: Backend::Cpu,
            note: note.into(),
            gpu_letterbox: None,
        }
    }

    /// The device for `choice` (native).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn select(choice: BackendChoice) -> Result<Self, BackendError> {
        let wgpu = |device, note: &str| Self {
            device,
            backend: Backend::Wgpu,
            note: note.into(),
            gpu_letterbox: None,
        };
        match choice {
            BackendChoice::Cpu => Ok(Self::cpu("CPU (burn flex)")),
            BackendChoice::Gpu => try_wgpu()
                .map(|d| wgpu(d, "wgpu (GPU adapter found)"))
                .ok_or(BackendError::NoAdapter),
            BackendChoice::Auto => Ok(match try_gpu() {
                Some(d) => wgpu(d, "wgpu (auto: a GPU adapter was found)"),
                None => Self::cpu("CPU (burn flex; auto: no GPU adapter)"),
            }),
        }
    }
}

/// wgpu device (any adapter, CPU Vulkan included) if one starts and runs a
/// tiny kernel.
#[cfg(not(target_arch = "wasm32"))]
pub fn try_wgpu() -> Option<Device> {
    try_wgpu_kind(burn::tensor::DeviceKind::DefaultDevice)
}

/// A real GPU (discrete, then integrated): `auto` skips CPU adapters such as
/// lavapipe, which are slower than burn's own CPU backend.
#[cfg(not(target_arch = "wasm32"))]
pub fn try_gpu() -> Option<Device> {
    use burn::tensor::DeviceKind;
    try_wgpu_kind(DeviceKind::DiscreteGpu(0))
        .or_else(|| try_wgpu_kind(DeviceKind::IntegratedGpu(0)))
}

/// wgpu panics when the adapter does not exist, hence the unwind guard.
#[cfg(not(target_arch = "wasm32"))]
fn try_wgpu_kind(kind: burn::tensor::DeviceKind) -> Option<Device> {
    use burn::tensor::Tensor;
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(move || {
        let d = Device::wgpu(kind);
        let v: f32 = Tensor::<1>::ones([4], &d).sum().into_scalar();
        (v == 4.0).then_some(d)
    });
    std::panic::set_hook(prev);
    result.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_unknown_ones_are_named() {
        assert_eq!("auto".parse(), Ok(BackendChoice::Auto));
        assert_eq!("webgpu".parse(), Ok(BackendChoice::Gpu));
        assert_eq!("flex".parse(), Ok(BackendChoice::Cpu));
        let e = "cuda".parse::<BackendChoice>().unwrap_err().to_string();
        assert!(e.contains("\"cuda\"") && e.contains("auto, wgpu"), "{e}");
        assert_eq!(Runtime::cpu("x").backend, Backend::Cpu);
    }
}
