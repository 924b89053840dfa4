//! Training: configuration (plain data, everywhere: it is part of a model's
//! manifest), and natively with burn the data batches, losses, fairness-aware
//! optimisation, the loop with checkpoints, evaluation and inference over
//! data sets.
pub mod config;

#[cfg(all(feature = "model", not(target_arch = "wasm32")))]
pub mod batches;
#[cfg(all(feature = "model", not(target_arch = "wasm32")))]
pub mod error;
#[cfg(all(feature = "model", not(target_arch = "wasm32")))]
pub mod evaluate;
#[cfg(all(feature = "model", not(target_arch = "wasm32")))]
pub mod fairness;
#[cfg(all(feature = "model", not(target_arch = "wasm32")))]
pub mod faithful;
#[cfg(all(feature = "model", not(target_arch = "wasm32")))]
pub mod inference;
#[cfg(all(feature = "model", not(target_arch = "wasm32")))]
pub mod losses;
#[cfg(all(feature = "model", not(target_arch = "wasm32")))]
pub mod refine;
#[cfg(all(feature = "model", not(target_arch = "wasm32")))]
pub mod trainer;

pub use config::{IdfopnetVariant, Method, TrainConfig};
