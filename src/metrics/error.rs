//! Errors of the metrics layer: each names the source, line and problem.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// A problem in the predictions table, at a 1-based line when known.
    #[error("{source_name}{}: {problem}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Format {
        source_name: String,
        line: Option<usize>,
        problem: String,
    },
    /// A request the data cannot answer (unknown attribute, bad option…).
    #[error("{0}")]
    Invalid(String),
}

impl MetricsError {
    pub fn format(source_name: &str, line: Option<usize>, problem: impl Into<String>) -> Self {
        Self::Format {
            source_name: source_name.to_string(),
            line,
            problem: problem.into(),
        }
    }
}

pub type Result<T, E = MetricsError> = std::result::Result<T, E>;
