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
mod radiograph;

pub use audit::{audit, audit_chart_svg, predictions_csv};
pub use model::{check_order, relocate, Model};
pub use phantom::{mean_shape, measure, render_phantom};
pub use radiograph::decode_radiograph_js;

use wasm_bindgen::prelude::*;

/// Runs once when the module is instantiated: Rust panics (bugs, not bad
/// input) then show their message in the console instead of "unreachable".
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The most pixels (width × height) an image may have, in the page as in
/// `fairmark detect`: `Model.detect` and `renderPhantom` refuse larger ones,
/// and the page checks a file's size against it before drawing it to a
/// canvas. One definition: `data::formats::image_io::DEFAULT_MAX_PIXELS`.
#[wasm_bindgen(js_name = maxPixels)]
pub fn max_pixels() -> f64 {
    crate::data::formats::image_io::DEFAULT_MAX_PIXELS as f64
}

/// fairmark's version, as in the manifests and reports it writes.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
