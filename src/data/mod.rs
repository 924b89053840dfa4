//! Data: anatomies, the dataset format, real-data readers, synthetic phantoms,
//! preprocessing (letterbox, heatmaps, augmentation).
pub mod anatomy;
pub mod dataset;
pub mod error;
pub mod formats;
pub mod geometry;
pub mod phantom;
pub mod preprocess;
#[cfg(not(target_arch = "wasm32"))]
pub mod reduce;
pub mod shape_model;
pub mod skeletal;

pub use anatomy::Anatomy;
pub use dataset::{Dataset, DatasetMeta, Sample, Split};
pub use error::DataError;
pub use formats::image_io::GreyImage;

/// Where the project's shared real data lives when it is checked out beside the
/// repository (`../shared/data`), or `FAIRMARK_SHARED_DATA` when set.
#[cfg(not(target_arch = "wasm32"))]
pub fn shared_data_dir() -> Option<std::path::PathBuf> {
    let p = match std::env::var_os("FAIRMARK_SHARED_DATA") {
        Some(p) => std::path::PathBuf::from(p),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
    };
    p.join("annotations").is_dir().then_some(p)
}
