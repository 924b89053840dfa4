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

/// wgpu device if one starts and runs a tiny kernel (wgpu panics when no
/// adapter exists, hence the unwind guard).
#[cfg(not(target_arch = "wasm32"))]
pub fn try_wgpu() -> Option<Device> {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| {
        let d = Device::wgpu(DeviceKind::DefaultDevice);
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
        BackendChoice::Auto => Ok(match try_wgpu() {
            Some(d) => (d, "wgpu (auto: an adapter was found)".into()),
            None => (Device::flex(), "CPU (burn flex; auto: no wgpu adapter)".into()),
        }),
    }
}
