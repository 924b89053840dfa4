//! `manifest.json` of a published model (schema "fairmark.model/1"): everything
//! needed to reload the model, check its weights and say what it was trained
//! on and how fair it was on its test split.
use super::config::ModelConfig;
use super::error::{ModelError, Result};
use super::model_metrics::ModelMetrics;
use crate::data::Anatomy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const MODEL_SCHEMA: &str = "fairmark.model/1";
/// File name of the manifest inside a model directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// File name of the model card inside a model directory.
pub const MODEL_CARD_FILE: &str = "MODEL_CARD.md";
/// The extension every weights file has (burnpack).
pub const WEIGHTS_EXTENSION: &str = ".bpk";
/// Largest `evaluation` text of a manifest (a few tables fit many times over).
pub const MAX_EVALUATION_BYTES: usize = 64 * 1024;

/// Numeric precision of the stored weights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    F16,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
        }
    }
}

/// The weights file of a model and what its bytes must hash to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightsInfo {
    /// Plain file name inside the model directory, e.g. `weights.bpk`.
    pub file: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    pub bytes: u64,
    pub precision: Precision,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingData {
    pub description: String,
    pub n_train: usize,
    pub n_val: usize,
    pub n_test: usize,
    /// How the data was made or where it came from, e.g.
    /// `fairmark synth dataset --kind ceph --n 400 --seed 1`.
    pub source: String,
    /// The run (directory name) whose weights training started from, for
    /// fine-tuned models such as GroupDRO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fine_tuned_from: Option<String>,
}

impl TrainingData {
    /// Whether the training images are synthetic phantoms (the model card then
    /// warns that results on real radiographs may differ).
    pub fn is_synthetic(&self) -> bool {
        let text = format!("{} {}", self.source, self.description).to_ascii_lowercase();
        ["synth", "phantom", "simulated"]
            .iter()
            .any(|w| text.contains(w))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelManifest {
    pub schema: String,
    pub name: String,
    /// Training method, e.g. "unet", "idfopnet", "groupdro".
    pub method: String,
    /// The network (validated before anything is allocated), its attributes
    /// and how it was trained.
    pub config: ModelConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anatomy: Option<Anatomy>,
    /// Keypoint order (KP1 first).
    pub landmark_names: Vec<String>,
    /// Width and height of the model input, in pixels (equal to
    /// `config.detector.input_size`; kept at the top for readers of the file).
    pub input_size: [usize; 2],
    /// Attributes and their groups known from the training data.
    #[serde(default)]
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Typical pixel spacing of the training images, mm per pixel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mm_per_px: Option<f64>,
    pub training_data: TrainingData,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<ModelMetrics>,
    /// Further results the publisher measured (Markdown, e.g. the ISBI 2015
    /// Test1/Test2 tables next to the human floor), shown in the model card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<String>,
    pub weights: WeightsInfo,
    pub fairmark_version: String,
    /// Creation time as given by the caller (the library never reads the
    /// clock, so publishing twice gives the same files).
    pub created: String,
}

impl ModelManifest {
    /// A manifest with the required fields; the optional ones start empty and
    /// `weights` is filled in by [`super::publish_dir`] / [`super::fill_weights`].
    pub fn new(
        name: impl Into<String>,
        method: impl Into<String>,
        config: ModelConfig,
        landmark_names: Vec<String>,
        training_data: TrainingData,
        created: impl Into<String>,
    ) -> Self {
        let attributes = config
            .attributes
            .names
            .iter()
            .cloned()
            .zip(config.attributes.groups.iter().cloned())
            .collect();
        Self {
            schema: MODEL_SCHEMA.into(),
            name: name.into(),
            method: method.into(),
            input_size: config.detector.input_size,
            config,
            anatomy: None,
            landmark_names,
            attributes,
            mm_per_px: None,
            training_data,
            metrics: None,
            evaluation: None,
            weights: WeightsInfo::default(),
            fairmark_version: env!("CARGO_PKG_VERSION").into(),
            created: created.into(),
        }
    }

    /// Parses a manifest; `path` only names the source in errors.
    pub fn from_json(path: &Path, text: &str) -> Result<Self> {
        // Schema first, from a loose parse: a manifest of another schema should
        // be reported as such, not as a missing field of this one.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
        let found = value.get("schema").and_then(|s| s.as_str()).unwrap_or("");
        if found != MODEL_SCHEMA {
            return Err(ModelError::WrongSchema {
                path: path.into(),
                found: found.into(),
                expected: MODEL_SCHEMA.into(),
            });
        }
        // Parse the text again rather than the value, so errors carry a line.
        let manifest: Self = serde_json::from_str(text).map_err(|e| json_error(path, &e))?;
        manifest.validate(path)?;
        Ok(manifest)
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| unreachable!("a manifest always serialises: {e}"));
        s.push('\n');
        s
    }

    /// Checks what serde cannot: the config's bounds, sizes and names that
    /// agree with each other, and a weights file name that stays inside the
    /// model directory.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let bad = |m: String| Err(ModelError::invalid(path, m));
        self.config
            .validate()
            .map_err(|source| ModelError::Config {
                path: path.into(),
                source,
            })?;
        if self.name.trim().is_empty() {
            return bad("model name is empty".into());
        }
        if self.landmark_names.is_empty() {
            return bad("landmark_names is empty".into());
        }
        if let Some(a) = self.anatomy {
            if a.n_landmarks() != self.landmark_names.len() {
                return bad(format!(
                    "anatomy {a} has {} landmarks but landmark_names has {}",
                    a.n_landmarks(),
                    self.landmark_names.len()
                ));
            }
        }
        let n = self.config.detector.n_landmarks;
        if self.landmark_names.len() != n {
            return bad(format!(
                "landmark_names has {} names, the detector has {n} landmarks",
                self.landmark_names.len()
            ));
        }
        if self.input_size != self.config.detector.input_size {
            return bad(format!(
                "input_size {:?} differs from config.detector.input_size {:?}",
                self.input_size, self.config.detector.input_size
            ));
        }
        let declared: BTreeMap<String, Vec<String>> = self
            .config
            .attributes
            .names
            .iter()
            .cloned()
            .zip(self.config.attributes.groups.iter().cloned())
            .collect();
        if self.attributes != declared {
            return bad(format!(
                "attributes {:?} differ from config.attributes {declared:?}",
                self.attributes
            ));
        }
        if let Some(s) = self.mm_per_px {
            if !(s.is_finite() && s > 0.0) {
                return bad(format!("mm_per_px must be > 0, got {s}"));
            }
        }
        if let Some(text) = &self.evaluation {
            if text.len() > MAX_EVALUATION_BYTES {
                return bad(format!(
                    "evaluation is {} bytes, more than the limit of {MAX_EVALUATION_BYTES}",
                    text.len()
                ));
            }
        }
        check_file_name(path, &self.weights.file)?;
        let h = &self.weights.sha256;
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return bad(format!(
                "weights.sha256 must be 64 hex characters, got {h:?}"
            ));
        }
        Ok(())
    }
}

/// A weights file name must be a plain name: a manifest must not make the
/// loader read (or the publisher write) outside the model directory.
///
/// It must also end in [`WEIGHTS_EXTENSION`] and not be hidden: a server
/// gives a file its media type from its extension, so a manifest must not be
/// able to name its weights `index.html` or `app.js` and have them served as
/// a page or a script. Names Windows reads as a device (`NUL.bpk`) or a
/// drive (`C:w.bpk`) are refused too, so a model folder works everywhere.
pub(crate) fn check_file_name(path: &Path, file: &str) -> Result<()> {
    let plain = !file.is_empty()
        && !file.starts_with('.')
        && !file.contains(['/', '\\', ':', '\0'])
        && !crate::registry::windows_device_name(file)
        && file.len() > WEIGHTS_EXTENSION.len()
        && file.ends_with(WEIGHTS_EXTENSION);
    if plain {
        Ok(())
    } else {
        Err(ModelError::invalid(
            path,
            format!("weights file name {file:?} must be a plain file name inside the model directory, not hidden, not a Windows device name, ending in {WEIGHTS_EXTENSION}"),
        ))
    }
}

fn json_error(path: &Path, e: &serde_json::Error) -> ModelError {
    ModelError::InvalidManifest {
        path: path.into(),
        line: e.line(),
        column: e.column(),
        // serde_json appends "at line L column C"; the message already leads with it.
        problem: e
            .to_string()
            .rsplit_once(" at line ")
            .map(|(m, _)| m.to_string())
            .unwrap_or_else(|| e.to_string()),
    }
}
