//! Errors of training, evaluation and inference over data sets: the run
//! directory or file at fault, or the error of the layer below, kept as the
//! source.
use crate::data::DataError;
use crate::metrics::MetricsError;
use crate::model::config::ConfigError;
use crate::model::store::WeightsError;
use crate::model::ModelError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error("{}: {source}", path.display())]
    Weights {
        path: PathBuf,
        #[source]
        source: WeightsError,
    },
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {problem}", path.display())]
    RunFile { path: PathBuf, problem: String },
    /// A request that does not fit the data or the run (no images, an
    /// existing run without --resume, a landmark count that differs).
    #[error("{0}")]
    Invalid(String),
    /// A tensor read-back or optimizer record that burn refused.
    #[error("{0}")]
    Compute(String),
}

impl TrainError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub fn run_file(path: impl Into<PathBuf>, problem: impl std::fmt::Display) -> Self {
        Self::RunFile {
            path: path.into(),
            problem: problem.to_string(),
        }
    }
}

pub type Result<T, E = TrainError> = std::result::Result<T, E>;
