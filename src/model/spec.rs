//! What a model needs besides its weights to be rebuilt and used, whether it
//! comes from a published manifest or from a training run.
use super::config::{ConfigError, ModelConfig};
use super::manifest::ModelManifest;
use crate::data::Anatomy;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Published name; none for a training run.
    pub name: Option<String>,
    pub method: String,
    pub config: ModelConfig,
    /// Keypoint order (KP1 first).
    pub landmark_names: Vec<String>,
    pub anatomy: Option<Anatomy>,
    /// SHA-256 of the published weights.
    pub sha256: Option<String>,
}

impl ModelSpec {
    pub fn from_manifest(m: &ModelManifest) -> Self {
        Self {
            name: Some(m.name.clone()),
            method: m.method.clone(),
            config: m.config.clone(),
            landmark_names: m.landmark_names.clone(),
            anatomy: m.anatomy,
            sha256: Some(m.weights.sha256.clone()),
        }
    }

    /// The config's bounds, and names that fit it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.config.validate()?;
        let n = self.config.detector.n_landmarks;
        if self.landmark_names.len() != n {
            return Err(ConfigError::Inconsistent(format!(
                "{} landmark names for {n} landmarks",
                self.landmark_names.len()
            )));
        }
        if let Some(a) = self.anatomy {
            if a.n_landmarks() != n {
                return Err(ConfigError::Inconsistent(format!(
                    "anatomy {a} has {} landmarks, the detector {n}",
                    a.n_landmarks()
                )));
            }
        }
        Ok(())
    }
}
