//! fairmark: fair anatomical landmark detection on X-ray images.
//!
//! One backend-agnostic core with thin shells: the `fairmark` CLI (native) and
//! the wasm-bindgen API in `web` (browser). See docs/ARCHITECTURE.md for the
//! layers and what each may import.
//!
//! Without the default feature `model` the crate has no burn: data readers,
//! metrics and the audit, results, measurements, the detection document and
//! the model format. That is what `fairmark-server` builds.
pub mod data;
pub mod detection;
#[cfg(feature = "model")]
pub mod gpu;
pub mod io;
pub mod measure;
pub mod metrics;
pub mod model;
pub mod publish;
pub mod registry;
pub mod results;
pub mod rng;
pub mod train;
#[cfg(all(target_arch = "wasm32", feature = "model"))]
pub mod web;
