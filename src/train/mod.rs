//! Training (native only): configuration, data batches, losses, fairness-aware
//! optimisation, the loop with checkpoints, and evaluation.
pub mod batches;
pub mod config;
pub mod evaluate;
pub mod fairness;
pub mod inference;
pub mod losses;
pub mod trainer;

pub use config::{Method, TrainConfig};
