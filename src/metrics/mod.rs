//! Metrics and the per-keypoint fairness audit. Plain Rust, no burn: the same
//! code runs in the CLI, in training and in the browser.
pub mod accuracy;
pub mod bootstrap;
pub mod chart;
pub mod confidence;
pub mod error;
pub mod grouping;
pub mod mcnemar;
pub mod options;
pub mod paired;
pub mod parity;
pub mod predictions;
pub mod privacy;
pub mod ren;
pub mod report;
pub mod significance;
pub mod simulate;
pub mod text_table;

pub use error::MetricsError;
pub use options::AuditOptions;
pub use predictions::PredictionTable;
pub use report::{audit, AuditConfig, AuditReport};
