//! The browser API (wasm-bindgen): a thin shell over the core. Every function
//! checks what JavaScript passed and throws an `Error` naming the problem,
//! never traps; results are plain JS objects (maps as objects).
//!
//! JavaScript names are camelCase (`renderPhantom`, `Model.load`); the objects
//! returned keep the snake_case field names of the JSON files fairmark
//! writes natively, so the same report reads the same everywhere.
mod audit;
mod convert;
mod model;
mod phantom;

pub use audit::{audit, audit_chart_svg, predictions_csv};
pub use model::{relocate, Model};
pub use phantom::{mean_shape, measure, render_phantom};

use wasm_bindgen::prelude::*;

/// Runs once when the module is instantiated: Rust panics (bugs, not bad
/// input) then show their message in the console instead of "unreachable".
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// fairmark's version, as in the manifests and reports it writes.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
