//! Data: anatomies, the dataset format, real-data readers, synthetic phantoms,
//! preprocessing (letterbox, heatmaps, augmentation).
pub mod anatomy;
pub mod dataset;
pub mod error;

pub use anatomy::Anatomy;
pub use dataset::{Dataset, DatasetMeta, Sample, Split};
pub use error::DataError;
