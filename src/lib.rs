//! fairmark: fair anatomical landmark detection on X-ray images.
//!
//! The library is one backend-agnostic core (`data`, `metrics`, `publish`) with thin shells:
//! the `fairmark` CLI (native) and the wasm-bindgen API in `web` (browser).
#[cfg(not(target_arch = "wasm32"))]
pub mod backend;
pub mod data;
pub mod detect;
pub mod gpu;
pub mod io;
pub mod metrics;
pub mod model;
pub mod publish;
pub mod results;
pub mod rng;
#[cfg(not(target_arch = "wasm32"))]
pub mod train;
#[cfg(target_arch = "wasm32")]
pub mod web;
