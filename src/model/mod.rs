//! Landmark detectors written once with burn: the `Device` chooses flex (CPU),
//! wgpu/Vulkan (native GPU) or WebGPU (browser).
pub mod attribute_head;
pub mod attributes;
pub mod blocks;
pub mod decode;
pub mod detector;
pub mod identity_attention;
pub mod mining;
pub mod prototypes;
pub mod spec;
pub mod store;
pub mod unet;

pub use detector::{Architecture, Detector, DetectorConfig, DetectorOutput};
