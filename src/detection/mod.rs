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
pub mod table;

use crate::data::Anatomy;
use crate::measure::{measure_with_file, MeasurementError, Measurements, Spacing, SpacingSource};
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
    /// The spacing the image file itself states (a DICOM file's Pixel
    /// Spacing or Imager Pixel Spacing) and which attribute it came from;
    /// used when the caller gives none, also after [`Detection::relocate`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spacing: Option<Spacing>,
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
    /// How sure the model is of this landmark (absent in documents written
    /// before it existed, and for points placed without a model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<Uncertainty>,
}

/// A landmark whose uncertainty radius exceeds this many millimetres is
/// flagged `low`: the model's own spread is wider than the 2 mm radius the
/// literature counts a detection as successful within.
pub const LOW_CONFIDENCE_MM: f64 = 2.0;

/// The model's own uncertainty about one landmark, read off its heatmaps
/// (docs/METHOD.md, "Confidence per landmark"). All lengths in original
/// image pixels, and in mm where the spacing is known.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Uncertainty {
    /// The summary radius: [`Spreads::radius_px`].
    pub radius_px: f64,
    pub radius_mm: Option<f64>,
    /// Root-mean-square distance of the coarse stage's probability mass from
    /// its peak.
    pub coarse_spread_px: f64,
    /// The same on the refinement stage's patch (coarse-to-fine models).
    pub fine_spread_px: Option<f64>,
    /// How far the refinement stage moved the coarse point.
    pub stage_shift_px: Option<f64>,
    /// `radius_mm` above [`LOW_CONFIDENCE_MM`] (false without a spacing).
    pub low: bool,
}

/// What the pipeline measures per landmark, before the spacing is known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spreads {
    pub coarse_px: f64,
    pub fine_px: Option<f64>,
    pub shift_px: Option<f64>,
}

impl Spreads {
    /// The summary radius: the finest stage's spread (the coarse one for a
    /// one-stage model). Chosen on the ISBI validation images over the coarse
    /// spread, the stage shift and the larger of spread and shift
    /// (docs/RESULTS.md, "Confidence per landmark").
    pub fn radius_px(&self) -> f64 {
        self.fine_px.unwrap_or(self.coarse_px)
    }

    fn uncertainty(&self, mm_per_px: Option<f64>) -> Uncertainty {
        Uncertainty {
            radius_px: self.radius_px(),
            radius_mm: None,
            coarse_spread_px: self.coarse_px,
            fine_spread_px: self.fine_px,
            stage_shift_px: self.shift_px,
            low: false,
        }
        .at_spacing(mm_per_px)
    }
}

impl Uncertainty {
    /// The same with its mm and `low` flag for this spacing.
    fn at_spacing(&self, mm_per_px: Option<f64>) -> Self {
        let radius_mm = mm_per_px.map(|m| self.radius_px * m);
        Self {
            radius_mm,
            low: radius_mm.is_some_and(|r| r > LOW_CONFIDENCE_MM),
            ..self.clone()
        }
    }
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
    file_spacing: Option<Spacing>,
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
    let spacing =
        crate::measure::spacing::resolve_with_file(anatomy, points, given_mm_per_px, file_spacing)?;
    let mm = spacing.map(|s| s.mm_per_px);
    let measurements = match anatomy {
        // The given value, not the resolved one: `measure` applies the same
        // policy and so reports the same source.
        Some(a) => Some(measure_with_file(a, points, given_mm_per_px, file_spacing)?),
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
            uncertainty: None,
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
        let l = locate(
            context.model.anatomy,
            names,
            points,
            given_mm_per_px,
            context.image.spacing,
        )?;
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

    /// Attaches the model's uncertainty per landmark (in landmark order);
    /// a landmark whose maps gave no finite spread gets none (a JSON null
    /// would not read back as a number).
    pub fn with_spreads(mut self, spreads: &[Spreads]) -> Self {
        for (l, s) in self.landmarks.iter_mut().zip(spreads) {
            let finite = [Some(s.coarse_px), s.fine_px, s.shift_px]
                .iter()
                .flatten()
                .all(|v| v.is_finite());
            l.uncertainty = finite.then(|| s.uncertainty(self.mm_per_px));
        }
        self
    }

    /// Landmark indices, least certain first (those without an uncertainty
    /// last, in landmark order): the order to check them in by hand.
    pub fn check_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.landmarks.len()).collect();
        let radius = |i: usize| {
            self.landmarks[i]
                .uncertainty
                .as_ref()
                .map_or(f64::NEG_INFINITY, |u| u.radius_px)
        };
        order.sort_by(|&a, &b| radius(b).total_cmp(&radius(a)).then(a.cmp(&b)));
        order
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
        let mut l = locate(
            self.model.anatomy,
            &names,
            points,
            given_mm_per_px,
            self.image.spacing,
        )?;
        for (new, old) in l.landmarks.iter_mut().zip(&self.landmarks) {
            new.corrected = old.corrected || new.x != old.x || new.y != old.y;
            // The model's uncertainty stays with its landmark (a corrected
            // one says how unsure the model was); only its mm follow the spacing.
            new.uncertainty = old.uncertainty.as_ref().map(|u| u.at_spacing(l.mm_per_px));
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
                spacing: None,
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

    /// The summary radius, the `low` flag at 2 mm, the order to check in,
    /// and the mm following a spacing given later.
    #[test]
    fn uncertainty_ranks_and_flags_landmarks() {
        let shape = mean_landmarks_in_box(Anatomy::Ceph, 1935.0, 2400.0);
        let names = Anatomy::Ceph.landmark_names();
        let mut spreads = vec![
            Spreads {
                coarse_px: 40.0,
                fine_px: Some(5.0),
                shift_px: Some(3.0),
            };
            names.len()
        ];
        spreads[2].fine_px = Some(30.0); // 3 mm of spread on the patch
        spreads[6].fine_px = Some(12.0);
        spreads[7].coarse_px = f64::NAN;
        let d = Detection::new(context(Anatomy::Ceph), &names, &shape, Some(0.1))
            .unwrap()
            .with_spreads(&spreads);
        let u = |i: usize| d.landmarks[i].uncertainty.clone();
        assert_eq!(u(0).unwrap().radius_px, 5.0);
        assert_eq!(u(0).unwrap().radius_mm, Some(0.5));
        assert!(!u(0).unwrap().low);
        assert_eq!(u(2).unwrap().radius_px, 30.0);
        assert!(u(2).unwrap().low && !u(6).unwrap().low);
        assert_eq!(u(7), None, "NaN spread: no uncertainty rather than null");
        assert_eq!(&d.check_order()[..2], &[2, 6]);
        assert_eq!(*d.check_order().last().unwrap(), 7);
        let back = Detection::from_json_value(serde_json::to_value(&d).unwrap()).unwrap();
        assert_eq!(back, d);
        // A coarser spacing given later: 30 px is now 6 mm, 12 px 2.4 mm.
        let r = d.relocate(&d.points(), Some(0.2)).unwrap();
        assert!(r.landmarks[6].uncertainty.as_ref().unwrap().low);
        assert_eq!(
            r.landmarks[2].uncertainty.as_ref().unwrap().radius_mm,
            Some(6.0)
        );
        // The terminal table lists the least certain first and marks them.
        let text = table::render(&d);
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert!(
            rows[0].trim_start().starts_with("3 ") && rows[0].ends_with("check"),
            "{text}"
        );
        assert!(
            rows[1].trim_start().starts_with("7 ") && !rows[1].ends_with("check"),
            "{text}"
        );
        assert!(rows[names.len() - 1].contains(" -"), "{text}");
        // A one-stage model: the coarse spread is the radius.
        let one = Spreads {
            coarse_px: 7.0,
            fine_px: None,
            shift_px: None,
        };
        assert_eq!(one.radius_px(), 7.0);
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
