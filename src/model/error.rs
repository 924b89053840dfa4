//! Errors of the model format and of loading a model: each names the
//! directory, file or field at fault and says what to do about it.
use super::config::ConfigError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model directory {} does not exist{}", dir.display(), available_hint(available))]
    MissingModelDir {
        dir: PathBuf,
        /// Sub-directories of the parent that do hold a `manifest.json`.
        available: Vec<String>,
    },
    #[error("{}: no manifest.json, so this is not a published fairmark model directory", dir.display())]
    MissingManifest { dir: PathBuf },
    #[error("{}, line {line}, column {column}: invalid manifest JSON: {problem}", path.display())]
    InvalidManifest {
        path: PathBuf,
        line: usize,
        column: usize,
        problem: String,
    },
    #[error("{}: schema is {found:?}, expected {expected:?} (not a fairmark model manifest, or one from an incompatible version)", path.display())]
    WrongSchema {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("{}: weights file missing (the manifest names {file:?})", path.display())]
    MissingWeights { path: PathBuf, file: String },
    #[error("{file}: sha256 is {actual}…, the manifest says {expected}…: the weights file is corrupt or was changed after publishing")]
    HashMismatch {
        file: String,
        /// First 12 hex characters of each hash: enough to tell them apart.
        expected: String,
        actual: String,
    },
    #[error("{file}: {actual} bytes, the manifest says {expected}: the weights file is truncated, corrupt or was changed after publishing")]
    SizeMismatch {
        file: String,
        expected: u64,
        actual: u64,
    },
    /// A manifest that parses but contradicts itself (or a bad argument).
    #[error("{}: {problem}", path.display())]
    Invalid { path: PathBuf, problem: String },
    /// A model configuration that cannot be built (bounds, divisibility).
    #[error("{}: config: {source}", path.display())]
    Config {
        path: PathBuf,
        #[source]
        source: ConfigError,
    },
    /// Weights that are not burnpack, or do not fit the configuration.
    #[cfg(feature = "model")]
    #[error("{file}: {source}")]
    Weights {
        file: String,
        #[source]
        source: super::store::WeightsError,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Failures of the shared file helpers (`crate::io::write_atomic`).
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
}

fn available_hint(available: &[String]) -> String {
    if available.is_empty() {
        String::new()
    } else {
        format!("; models there: {}", available.join(", "))
    }
}

impl ModelError {
    pub fn invalid(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.into(),
            problem: problem.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;
