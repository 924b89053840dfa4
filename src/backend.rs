//! Choosing the compute device: wgpu (Vulkan/Metal/DX12 natively, WebGPU in the
//! browser) when an adapter exists, burn's flex CPU backend otherwise.
use burn::tensor::{Device, DeviceKind, Tensor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    Auto,
    Wgpu,
    Cpu,
}

impl BackendChoice {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "wgpu" | "gpu" => Some(Self::Wgpu),
            "cpu" | "flex" => Some(Self::Cpu),
            _ => None,
        }
    }
}

/// wgpu device (any adapter, CPU Vulkan included) if one starts and runs a
/// tiny kernel.
#[cfg(not(target_arch = "wasm32"))]
pub fn try_wgpu() -> Option<Device> {
    try_wgpu_kind(DeviceKind::DefaultDevice)
}

/// A real GPU (discrete, then integrated): `auto` skips CPU adapters such as
/// lavapipe, which are slower than burn's own CPU backend.
#[cfg(not(target_arch = "wasm32"))]
pub fn try_gpu() -> Option<Device> {
    try_wgpu_kind(DeviceKind::DiscreteGpu(0))
        .or_else(|| try_wgpu_kind(DeviceKind::IntegratedGpu(0)))
}

/// wgpu panics when the adapter does not exist, hence the unwind guard.
#[cfg(not(target_arch = "wasm32"))]
fn try_wgpu_kind(kind: DeviceKind) -> Option<Device> {
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

/// The device for a choice, and a sentence saying which was taken.
#[cfg(not(target_arch = "wasm32"))]
pub fn select(choice: BackendChoice) -> Result<(Device, String), String> {
    match choice {
        BackendChoice::Cpu => Ok((Device::flex(), "CPU (burn flex)".into())),
        BackendChoice::Wgpu => try_wgpu()
            .map(|d| (d, "wgpu (GPU adapter found)".into()))
            .ok_or_else(|| "--backend wgpu: no wgpu adapter could be started (no GPU or Vulkan driver; install mesa-vulkan-drivers for a CPU Vulkan)".into()),
        BackendChoice::Auto => Ok(match try_gpu() {
            Some(d) => (d, "wgpu (auto: a GPU adapter was found)".into()),
            None => (Device::flex(), "CPU (burn flex; auto: no GPU adapter)".into()),
        }),
    }
}
