//! fairmark: fair anatomical landmark detection on X-ray images.
//!
//! The library is one backend-agnostic core (`data`, `metrics`, `publish`) with thin shells:
//! the `fairmark` CLI (native) and, later, the wasm-bindgen API (browser).
pub mod data;
pub mod io;
pub mod metrics;
pub mod model;
pub mod publish;
pub mod rng;
