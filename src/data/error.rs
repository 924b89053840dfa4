//! Errors of the data layer: every one names the file (and line) at fault.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A problem in a text file, at a 1-based line when known.
    #[error("{path}{}: {problem}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Format {
        path: PathBuf,
        line: Option<usize>,
        problem: String,
    },
    #[error("{path}: cannot read image: {problem}")]
    Image { path: PathBuf, problem: String },
    #[error("{path}: cannot read DICOM image: {source}")]
    Dicom {
        path: PathBuf,
        #[source]
        source: crate::data::formats::dicom::DicomError,
    },
    #[error("{0}")]
    Invalid(String),
}

impl DataError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub fn format(
        path: impl Into<PathBuf>,
        line: Option<usize>,
        problem: impl Into<String>,
    ) -> Self {
        Self::Format {
            path: path.into(),
            line,
            problem: problem.into(),
        }
    }
}

pub type Result<T, E = DataError> = std::result::Result<T, E>;
