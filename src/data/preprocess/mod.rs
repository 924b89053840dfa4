//! Preprocessing between images and models, in pure Rust on
//! [`GreyImage`](crate::data::GreyImage) so it runs the same natively and in wasm.
//!
//! Coordinates everywhere are continuous pixel coordinates with pixel `(i, j)`
//! centred at `(i, j)` — the convention of landmark annotations and of
//! heatmap argmaxes — so points move between images, model inputs and
//! heatmaps without half-pixel shifts.
pub mod augment;
pub mod heatmap;
pub mod letterbox;
pub mod patch;
pub mod pixels;

pub use augment::{augment, AugmentConfig, AugmentParams, Augmented};
pub use heatmap::{argmax_subpixel, gaussian_heatmaps, one_hot_heatmaps};
pub use letterbox::{letterbox, Letterbox};
pub use pixels::{grey_from_bytes, luma709};
