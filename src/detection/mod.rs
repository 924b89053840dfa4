//! The detection document (`fairmark.detect/2`): one image's landmarks in
//! original pixels and mm, the spacing and where it came from, the
//! measurements, what ran and how long it took. Rust builds it, natively and
//! in the browser; the CLI writes it and the page renders it as it is.
//!
//! [`Detection::relocate`] is the one way landmarks change after detection
//! (a clinician drags a point, or gives the spacing later): it re-applies the
//! spacing policy and the measurements, so the page never re-derives them.
pub mod overlay;
#[cfg(feature = "model")]
pub mod pipeline;

use crate::data::Anatomy;
use crate::measure::{measure, MeasurementError, Measurements, SpacingSource};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const DETECT_SCHEMA: &str = "fairmark.detect/2";

/// What the landmarks were found on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// File name or path as the caller named it (none for a bare pixel buffer).
    pub name: Option<String>,
    pub width: usize,
    pub height: usize,
}

/// Which model found them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Published name (none for a training run).
    pub name: Option<String>,
    pub method: String,
    pub anatomy: Option<Anatomy>,
    /// SHA-256 of the weights, for a published model.
    pub sha256: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Landmark {
    /// 1-based, in the model's landmark order.
    pub keypoint: usize,
    pub name: String,
    /// Original image pixels (pixel centres at integers).
    pub x: f64,
    pub y: f64,
    pub x_mm: Option<f64>,
    pub y_mm: Option<f64>,
    /// Moved by hand after detection (see [`Detection::relocate`]).
    #[serde(default)]
    pub corrected: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Grey conversion and letterbox (WGSL shader on the GPU path).
    pub preprocess: f64,
    /// Network forward pass, softmax and read-back of the heatmaps.
    pub forward: f64,
    /// Sub-pixel argmax and mapping back to original pixels.
    pub decode: f64,
    pub total: f64,
}

/// The device that ran the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// wgpu natively (Vulkan, Metal, DX12; lavapipe counts).
    Wgpu,
    /// wgpu on the browser's WebGPU.
    Webgpu,
    /// burn's flex CPU backend (natively or in wasm).
    Cpu,
}

impl Backend {
    /// The name in the document (as serialised).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wgpu => "wgpu",
            Self::Webgpu => "webgpu",
            Self::Cpu => "cpu",
        }
    }
}

/// Where the image was letterboxed into the model input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preprocess {
    /// The WGSL shader (`shaders/letterbox.wgsl`) on the model's GPU.
    GpuShader,
    Cpu,
}

/// The result of one detection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub schema: String,
    pub image: ImageInfo,
    pub model: ModelInfo,
    pub backend: Backend,
    pub preprocess: Preprocess,
    /// The attributes the model was told (name → group); unknown ones are absent.
    pub attributes: BTreeMap<String, String>,
    /// Spacing of the mm values; none where the policy gives no scale.
    pub mm_per_px: Option<f64>,
    pub spacing_source: Option<SpacingSource>,
    pub landmarks: Vec<Landmark>,
    pub measurements: Option<Measurements>,
    pub timings_ms: Timings,
}

/// A detection document that cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("not a detection document: schema {0:?}, expected {DETECT_SCHEMA:?}")]
    Schema(String),
    #[error("detection document: {0}")]
    Invalid(#[from] serde_json::Error),
}

/// The part of a detection that follows from the points and the spacing.
struct Located {
    landmarks: Vec<Landmark>,
    mm_per_px: Option<f64>,
    spacing_source: Option<SpacingSource>,
    measurements: Option<Measurements>,
}

fn locate(
    anatomy: Option<Anatomy>,
    names: &[String],
    points: &[[f64; 2]],
    given_mm_per_px: Option<f64>,
) -> Result<Located, MeasurementError> {
    if points.len() != names.len() {
        return Err(MeasurementError::Degenerate(format!(
            "{} points given for {} landmarks",
            points.len(),
            names.len()
        )));
    }
    if let Some(i) = points
        .iter()
        .position(|p| !(p[0].is_finite() && p[1].is_finite()))
    {
        return Err(MeasurementError::NonFinite {
            keypoint: i + 1,
            name: names[i].clone(),
        });
    }
    let spacing = crate::measure::spacing::resolve(anatomy, points, given_mm_per_px)?;
    let mm = spacing.map(|s| s.mm_per_px);
    let measurements = match anatomy {
        // The given value, not the resolved one: `measure` applies the same
        // policy and so reports the same source.
        Some(a) => Some(measure(a, points, given_mm_per_px)?),
        None => None,
    };
    let landmarks = points
        .iter()
        .zip(names)
        .enumerate()
        .map(|(i, (p, name))| Landmark {
            keypoint: i + 1,
            name: name.clone(),
            x: p[0],
            y: p[1],
            x_mm: mm.map(|m| p[0] * m),
            y_mm: mm.map(|m| p[1] * m),
            corrected: false,
        })
        .collect();
    Ok(Located {
        landmarks,
        mm_per_px: mm,
        spacing_source: spacing.map(|s| s.source),
        measurements,
    })
}

/// Everything of a detection but the located landmarks.
pub struct DetectionContext {
    pub image: ImageInfo,
    pub model: ModelInfo,
    pub backend: Backend,
    pub preprocess: Preprocess,
    pub attributes: BTreeMap<String, String>,
    pub timings_ms: Timings,
}

impl Detection {
    /// A detection of `points` (original pixels, in the model's landmark order).
    pub fn new(
        context: DetectionContext,
        names: &[String],
        points: &[[f64; 2]],
        given_mm_per_px: Option<f64>,
    ) -> Result<Self, MeasurementError> {
        let l = locate(context.model.anatomy, names, points, given_mm_per_px)?;
        Ok(Self {
            schema: DETECT_SCHEMA.into(),
            image: context.image,
            model: context.model,
            backend: context.backend,
            preprocess: context.preprocess,
            attributes: context.attributes,
            mm_per_px: l.mm_per_px,
            spacing_source: l.spacing_source,
            landmarks: l.landmarks,
            measurements: l.measurements,
            timings_ms: context.timings_ms,
        })
    }

    /// The same detection with its landmarks moved to `points` (a clinician's
    /// corrections) and the spacing given again (`None`: as the policy says):
    /// mm values and measurements follow, and a landmark that moved is marked
    /// `corrected` (it stays so).
    pub fn relocate(
        &self,
        points: &[[f64; 2]],
        given_mm_per_px: Option<f64>,
    ) -> Result<Self, MeasurementError> {
        let names: Vec<String> = self.landmarks.iter().map(|l| l.name.clone()).collect();
        let mut l = locate(self.model.anatomy, &names, points, given_mm_per_px)?;
        for (new, old) in l.landmarks.iter_mut().zip(&self.landmarks) {
            new.corrected = old.corrected || new.x != old.x || new.y != old.y;
        }
        Ok(Self {
            mm_per_px: l.mm_per_px,
            spacing_source: l.spacing_source,
            landmarks: l.landmarks,
            measurements: l.measurements,
            ..self.clone()
        })
    }

    /// The landmarks as `[x, y]` in original pixels.
    pub fn points(&self) -> Vec<[f64; 2]> {
        self.landmarks.iter().map(|l| [l.x, l.y]).collect()
    }

    /// Parses a detection document (e.g. one a page sends back), checking its schema.
    pub fn from_json_value(value: serde_json::Value) -> Result<Self, DocumentError> {
        let found = value
            .get("schema")
            .and_then(|s| s.as_str())
            .unwrap_or("")
            .to_string();
        if found != DETECT_SCHEMA {
            return Err(DocumentError::Schema(found));
        }
        Ok(serde_json::from_value(value)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::shape_model::mean_landmarks_in_box;

    fn context(anatomy: Anatomy) -> DetectionContext {
        DetectionContext {
            image: ImageInfo {
                name: Some("x.png".into()),
                width: 2000,
                height: 2400,
            },
            model: ModelInfo {
                name: Some("m".into()),
                method: "unet".into(),
                anatomy: Some(anatomy),
                sha256: None,
            },
            backend: Backend::Cpu,
            preprocess: Preprocess::Cpu,
            attributes: BTreeMap::new(),
            timings_ms: Timings::default(),
        }
    }

    #[test]
    fn hand_without_spacing_says_wrist_convention_everywhere() {
        let shape = mean_landmarks_in_box(Anatomy::Hand, 1000.0, 1200.0);
        let names = Anatomy::Hand.landmark_names();
        let d = Detection::new(context(Anatomy::Hand), &names, &shape, None).unwrap();
        assert_eq!(d.spacing_source, Some(SpacingSource::WristConvention));
        let Some(Measurements::Hand(h)) = &d.measurements else {
            panic!("hand measurements expected")
        };
        assert_eq!(h.spacing_source, SpacingSource::WristConvention);
        assert_eq!(Some(h.mm_per_px), d.mm_per_px);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["spacing_source"], "wrist_convention");
        assert_eq!(json["schema"], DETECT_SCHEMA);
        assert_eq!(json["backend"], "cpu");
        assert_eq!(json["preprocess"], "cpu");
        let back = Detection::from_json_value(json).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn relocation_recomputes_mm_and_measurements() {
        let shape = mean_landmarks_in_box(Anatomy::Ceph, 1935.0, 2400.0);
        let names = Anatomy::Ceph.landmark_names();
        let d = Detection::new(context(Anatomy::Ceph), &names, &shape, None).unwrap();
        assert_eq!(d.mm_per_px, None);
        assert_eq!(d.spacing_source, None);
        assert!(d.landmarks.iter().all(|l| l.x_mm.is_none()));
        let mut moved = d.points();
        moved[4][0] += 10.0; // A point forward: SNA grows
        let r = d.relocate(&moved, Some(0.1)).unwrap();
        assert_eq!(r.spacing_source, Some(SpacingSource::Given));
        assert!((r.landmarks[4].x_mm.unwrap() - moved[4][0] * 0.1).abs() < 1e-12);
        let corrected: Vec<bool> = r.landmarks.iter().map(|l| l.corrected).collect();
        assert_eq!(corrected.iter().filter(|c| **c).count(), 1);
        assert!(corrected[4]);
        // Moving it back keeps the mark: the clinician touched it.
        assert!(r.relocate(&d.points(), None).unwrap().landmarks[4].corrected);
        let (Some(Measurements::Ceph(a)), Some(Measurements::Ceph(b))) =
            (&d.measurements, &r.measurements)
        else {
            panic!("ceph measurements expected")
        };
        assert!(b.sna_deg != a.sna_deg && b.s_n_mm.is_some() && a.s_n_mm.is_none());
        assert_eq!((&r.image, &r.model), (&d.image, &d.model));
        assert!(d.relocate(&moved[..3], None).is_err());
        moved[0][1] = f64::NAN;
        let e = d.relocate(&moved, None).unwrap_err().to_string();
        assert!(e.contains("KP1"), "{e}");
        assert!(d.relocate(&d.points(), Some(-1.0)).is_err());
    }

    #[test]
    fn documents_of_another_schema_are_refused() {
        let e = Detection::from_json_value(serde_json::json!({"schema": "fairmark.detect/1"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("fairmark.detect/2"), "{e}");
    }
}
