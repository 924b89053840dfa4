//! What a model needs besides its weights to be rebuilt and used: stored in a
//! run's `run.json` and in a published model's `manifest.json` (`config`).
use super::attributes::AttributeSpace;
use super::detector::DetectorConfig;
use crate::data::Anatomy;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelSpec {
    pub method: String,
    pub detector: DetectorConfig,
    pub attributes: AttributeSpace,
    pub landmark_names: Vec<String>,
    pub anatomy: Option<Anatomy>,
}

impl ModelSpec {
    /// From a published manifest's `config` object (`detector`, `attributes`).
    pub fn from_manifest(m: &crate::publish::ModelManifest) -> Result<Self, String> {
        let get = |k: &str| {
            m.config
                .get(k)
                .cloned()
                .ok_or_else(|| format!("manifest config has no {k:?}"))
        };
        Ok(Self {
            method: m.method.clone(),
            detector: serde_json::from_value(get("detector")?)
                .map_err(|e| format!("manifest config.detector: {e}"))?,
            attributes: serde_json::from_value(get("attributes")?)
                .map_err(|e| format!("manifest config.attributes: {e}"))?,
            landmark_names: m.landmark_names.clone(),
            anatomy: m.anatomy,
        })
    }
}
