//! Landmark models. Two layers:
//! - the **model format**, plain data that builds without burn (what the
//!   server and the audit need): the typed, bounded [`config`], the
//!   [`manifest`] of a published model, the [`weights`] check, [`spec`] and
//!   the [`error`]s;
//! - the **networks** (feature `model`), written once with burn, where the
//!   `Device` chooses flex (CPU), wgpu/Vulkan (native GPU) or WebGPU
//!   (browser), and the [`Landmarker`] that owns a loaded one.
pub mod attributes;
pub mod config;
pub mod decode;
pub mod error;
pub mod manifest;
pub mod model_metrics;
pub mod spec;
pub mod weights;

#[cfg(feature = "model")]
pub mod attribute_head;
#[cfg(feature = "model")]
pub mod backend;
#[cfg(feature = "model")]
pub mod blocks;
#[cfg(feature = "model")]
pub mod detector;
#[cfg(feature = "model")]
pub mod identity_attention;
#[cfg(feature = "model")]
pub mod landmarker;
#[cfg(feature = "model")]
pub mod mining;
#[cfg(feature = "model")]
pub mod prototypes;
#[cfg(feature = "model")]
pub mod refiner;
#[cfg(feature = "model")]
pub mod store;
#[cfg(feature = "model")]
pub mod unet;

pub use config::{Architecture, DetectorConfig, ModelConfig, RefineConfig, UNetConfig};
pub use error::ModelError;
pub use manifest::ModelManifest;
pub use spec::ModelSpec;

#[cfg(feature = "model")]
pub use backend::{BackendChoice, Runtime};
#[cfg(feature = "model")]
pub use detector::{Detector, DetectorOutput};
#[cfg(feature = "model")]
pub use landmarker::Landmarker;
