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

    /// The device for `choice` (native). The note names the adapter wgpu
    /// took (name, API, kind, driver): on a machine with several Vulkan
    /// drivers (a GPU and lavapipe) it is how one knows which ran.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn select(choice: BackendChoice) -> Result<Self, BackendError> {
        let wgpu = |(device, adapter): (Device, String), why: &str| Self {
            device,
            backend: Backend::Wgpu,
            note: format!("wgpu ({why}): {adapter}"),
            gpu_letterbox: None,
        };
        match choice {
            BackendChoice::Cpu => Ok(Self::cpu("CPU (burn flex)")),
            BackendChoice::Gpu => try_wgpu()
                .map(|d| wgpu(d, "GPU adapter found"))
                .ok_or(BackendError::NoAdapter),
            BackendChoice::Auto => Ok(match try_gpu() {
                Some(d) => wgpu(d, "auto: a GPU adapter was found"),
                None => Self::cpu("CPU (burn flex; auto: no GPU adapter)"),
            }),
        }
    }
}

/// wgpu device (any adapter, CPU Vulkan included) if one starts and runs a
/// tiny kernel, with a description of its adapter.
#[cfg(not(target_arch = "wasm32"))]
pub fn try_wgpu() -> Option<(Device, String)> {
    try_wgpu_kind(burn::tensor::DeviceKind::DefaultDevice)
}

/// A real GPU (discrete, then integrated): `auto` skips CPU adapters such as
/// lavapipe, which are slower than burn's own CPU backend.
#[cfg(not(target_arch = "wasm32"))]
pub fn try_gpu() -> Option<(Device, String)> {
    use burn::tensor::DeviceKind;
    try_wgpu_kind(DeviceKind::DiscreteGpu(0))
        .or_else(|| try_wgpu_kind(DeviceKind::IntegratedGpu(0)))
}

/// "name (API, kind, driver …)" of a wgpu adapter.
#[cfg(not(target_arch = "wasm32"))]
fn describe(info: &burn::tensor::wgpu::wgpu::AdapterInfo) -> String {
    let driver = [info.driver.as_str(), info.driver_info.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let name = if info.name.is_empty() {
        "unnamed adapter"
    } else {
        &info.name
    };
    format!(
        "{name} ({:?}, {:?}{})",
        info.backend,
        info.device_type,
        if driver.is_empty() {
            String::new()
        } else {
            format!(", driver {driver}")
        }
    )
}

/// wgpu panics when the adapter does not exist, hence the unwind guard. A
/// runtime is started once per kind and process; later calls reuse it and
/// the adapter description remembered from the first.
#[cfg(not(target_arch = "wasm32"))]
fn try_wgpu_kind(kind: burn::tensor::DeviceKind) -> Option<(Device, String)> {
    use burn::tensor::Tensor;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static ADAPTERS: OnceLock<Mutex<HashMap<burn::tensor::DeviceKind, String>>> = OnceLock::new();
    let adapters = ADAPTERS.get_or_init(Default::default);
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| {
        let known = adapters.lock().ok()?.get(&kind).cloned();
        let (d, adapter) = match known {
            Some(adapter) => (Device::wgpu(kind.clone()), adapter),
            None => match Device::wgpu_options()
                .device_kind(kind.clone())
                .init_with_setup()
            {
                Ok((d, setup)) => (d, describe(&setup.adapter.get_info())),
                // Started elsewhere in this process (burn's own default
                // device, say): the device works, its adapter is not known.
                Err(_) => (Device::wgpu(kind.clone()), "adapter not described".into()),
            },
        };
        let v: f32 = Tensor::<1>::ones([4], &d).sum().into_scalar();
        if v != 4.0 {
            return None;
        }
        adapters
            .lock()
            .ok()?
            .entry(kind.clone())
            .or_insert_with(|| adapter.clone());
        Some((d, adapter))
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
