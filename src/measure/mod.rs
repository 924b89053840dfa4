//! Clinical measurements from detected landmarks: the cephalometric angles
//! orthodontists read first (SNA, SNB, ANB and its skeletal class, FMA) and
//! two lengths, on the 10 phantom landmarks or the 19 ISBI ones; for hands,
//! finger lengths and a check of the 50 mm wrist convention.
//!
//! Points are in image pixels (y down), keypoint order as in
//! [`Anatomy::landmark_names`].
pub mod isbi2015;
pub mod spacing;

pub use spacing::{Spacing, SpacingSource};

use crate::data::anatomy::{Anatomy, HAND_WRIST_ENDPOINTS, HAND_WRIST_MM};
use crate::data::geometry::{dist, sub, vector_angle};
use crate::data::skeletal::SkeletalClass;
use serde::{Deserialize, Serialize};
use spacing::check_spacing;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MeasurementError {
    #[error("{anatomy} measurements need {expected} landmarks, got {got}")]
    WrongCount {
        anatomy: Anatomy,
        expected: usize,
        got: usize,
    },
    #[error("landmark KP{keypoint} ({name}) is not a finite point")]
    NonFinite { keypoint: usize, name: String },
    #[error("pixel spacing must be a positive number of mm per pixel, got {0}")]
    BadSpacing(f64),
    /// Coinciding landmarks: an angle or scale is undefined.
    #[error("{0}")]
    Degenerate(String),
}

pub type Result<T, E = MeasurementError> = std::result::Result<T, E>;

/// Cephalometric measurements of one image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CephMeasurements {
    /// Angle S–N–A in degrees (maxillary position relative to the skull base).
    pub sna_deg: f64,
    /// Angle S–N–B in degrees (mandibular position).
    pub snb_deg: f64,
    /// SNA − SNB, signed: positive when the maxilla lies ahead of the mandible.
    pub anb_deg: f64,
    /// Sagittal skeletal class from ANB (ISBI 2015 thresholds, see
    /// [`crate::data::skeletal`]).
    pub skeletal_class: Option<SkeletalClass>,
    /// Angle between the Frankfort horizontal (Po–Or) and the mandibular plane
    /// (Go–Me), 0–90°.
    pub fma_deg: f64,
    /// Anterior skull-base length S–N, in mm (null without a pixel spacing;
    /// the angles need none).
    pub s_n_mm: Option<f64>,
    /// Lower anterior face height ANS–Me, in mm.
    pub ans_me_mm: Option<f64>,
    pub mm_per_px: Option<f64>,
    /// With all 19 ISBI landmarks: the eight measurements of the ISBI 2015
    /// challenge and their classes ([`isbi2015`]); MW only with a spacing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub isbi2015: Vec<isbi2015::IsbiValue>,
}

// ISBI indices; `Anatomy::ceph_index` maps them into either landmark set.
use crate::data::anatomy::isbi_index::{A, ANS, B, GO, ME, N, OR, PO, S};

/// SNA, SNB, ANB (and its class), FMA and the S–N and ANS–Me lengths, from the
/// landmarks of `anatomy` (the 10 ceph ones or the 19 ISBI ones).
pub fn ceph_measurements(
    anatomy: Anatomy,
    points: &[[f64; 2]],
    mm_per_px: Option<f64>,
) -> Result<CephMeasurements> {
    check_points(anatomy, points)?;
    if let Some(m) = mm_per_px {
        check_spacing(m)?;
    }
    let index = |isbi: usize| {
        anatomy.ceph_index(isbi).ok_or_else(|| {
            MeasurementError::Degenerate(format!("{anatomy} has no cephalometric landmarks"))
        })
    };
    let [s, n, or, po, a, b, me, go, ans] = [S, N, OR, PO, A, B, ME, GO, ANS].map(index);
    let (s, n, or, po, a, b, me, go, ans) = (s?, n?, or?, po?, a?, b?, me?, go?, ans?);
    let p = |i: usize| points[i];
    let sna = angle_at(p(n), p(s), p(a), "S, N and A")?;
    let snb = angle_at(p(n), p(s), p(b), "S, N and B")?;
    let fma = line_angle(
        [p(po), p(or)],
        [p(go), p(me)],
        "Po–Or (Frankfort) and Go–Me (mandibular plane)",
    )?;
    Ok(CephMeasurements {
        sna_deg: sna,
        snb_deg: snb,
        anb_deg: sna - snb,
        skeletal_class: SkeletalClass::from_anb(sna - snb),
        fma_deg: fma,
        s_n_mm: mm_per_px.map(|m| dist(p(s), p(n)) * m),
        ans_me_mm: mm_per_px.map(|m| dist(p(ans), p(me)) * m),
        mm_per_px,
        isbi2015: match anatomy {
            Anatomy::Isbi => isbi2015::isbi2015_measurements(points, mm_per_px)?,
            _ => Vec::new(),
        },
    })
}

/// Length of one finger along its joints, MCP to tip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FingerLength {
    /// "thumb", "index", "middle", "ring", "little".
    pub finger: String,
    /// Landmark names of the chain, MCP first.
    pub landmarks: Vec<String>,
    pub length_px: f64,
    pub length_mm: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandMeasurements {
    pub mm_per_px: f64,
    pub spacing_source: SpacingSource,
    /// Distance between the wrist endpoints (KP2, KP6).
    pub wrist_width_px: f64,
    pub wrist_width_mm: f64,
    /// `wrist_width_mm − 50`; 0 by construction under the wrist convention.
    pub wrist_deviation_mm: f64,
    /// Whether the wrist width is within [`WRIST_TOLERANCE_MM`] of 50 mm, i.e.
    /// the given spacing and the convention agree.
    pub wrist_plausible: bool,
    pub fingers: Vec<FingerLength>,
}

/// How far a measured wrist width may stray from the 50 mm convention before
/// the spacing or the wrist landmarks are suspect. Real wrists vary by about
/// ±20 % with age and sex, so 10 mm flags gross errors (a spacing off by a
/// factor, a misplaced endpoint), not anatomy.
pub const WRIST_TOLERANCE_MM: f64 = 10.0;

const FINGERS: [&str; 5] = ["thumb", "index", "middle", "ring", "little"];

/// Finger lengths (MCP → … → tip) and the wrist check from the 37 hand
/// landmarks. Without `mm_per_px` the spacing follows the 50 mm wrist
/// convention.
pub fn hand_measurements(points: &[[f64; 2]], mm_per_px: Option<f64>) -> Result<HandMeasurements> {
    hand_measurements_with_file(points, mm_per_px, None)
}

/// [`hand_measurements`] of an image whose file states its spacing.
fn hand_measurements_with_file(
    points: &[[f64; 2]],
    mm_per_px: Option<f64>,
    file: Option<Spacing>,
) -> Result<HandMeasurements> {
    check_points(Anatomy::Hand, points)?;
    let (a, b) = HAND_WRIST_ENDPOINTS;
    let wrist_px = dist(points[a], points[b]);
    let Spacing {
        mm_per_px: spacing,
        source,
    } = spacing::resolve_with_file(Some(Anatomy::Hand), points, mm_per_px, file)?.ok_or_else(
        || MeasurementError::Degenerate("no pixel spacing for the hand measurements".into()),
    )?;
    let names = Anatomy::Hand.landmark_names();
    // The finger chains come from the landmark names (`thumb_mcp`, …,
    // `thumb_tip`), the one place the hand numbering is defined.
    let fingers = FINGERS
        .iter()
        .map(|finger| {
            let prefix = format!("{finger}_");
            let chain: Vec<usize> = names
                .iter()
                .enumerate()
                .filter(|(_, n)| n.starts_with(&prefix) && !n.ends_with("_mc_base"))
                .map(|(i, _)| i)
                .collect();
            let length_px: f64 = chain
                .windows(2)
                .map(|w| dist(points[w[0]], points[w[1]]))
                .sum();
            FingerLength {
                finger: finger.to_string(),
                landmarks: chain.iter().map(|&i| names[i].clone()).collect(),
                length_px,
                length_mm: length_px * spacing,
            }
        })
        .collect();
    let wrist_mm = wrist_px * spacing;
    Ok(HandMeasurements {
        mm_per_px: spacing,
        spacing_source: source,
        wrist_width_px: wrist_px,
        wrist_width_mm: wrist_mm,
        wrist_deviation_mm: wrist_mm - HAND_WRIST_MM,
        wrist_plausible: (wrist_mm - HAND_WRIST_MM).abs() <= WRIST_TOLERANCE_MM,
        fingers,
    })
}

fn check_points(anatomy: Anatomy, points: &[[f64; 2]]) -> Result<()> {
    if points.len() != anatomy.n_landmarks() {
        return Err(MeasurementError::WrongCount {
            anatomy,
            expected: anatomy.n_landmarks(),
            got: points.len(),
        });
    }
    if let Some(i) = points
        .iter()
        .position(|p| !(p[0].is_finite() && p[1].is_finite()))
    {
        return Err(MeasurementError::NonFinite {
            keypoint: i + 1,
            name: anatomy.landmark_names()[i].clone(),
        });
    }
    Ok(())
}

/// Angle at `vertex` between the rays to `p` and `q`, in degrees; an error
/// naming `what` when two points coincide.
fn angle_at(vertex: [f64; 2], p: [f64; 2], q: [f64; 2], what: &str) -> Result<f64> {
    vector_angle(sub(p, vertex), sub(q, vertex)).ok_or_else(|| {
        MeasurementError::Degenerate(format!("angle of {what}: two of the points coincide"))
    })
}

/// Acute angle between two lines given by point pairs, in degrees (0–90).
fn line_angle(l1: [[f64; 2]; 2], l2: [[f64; 2]; 2], what: &str) -> Result<f64> {
    let a = vector_angle(sub(l1[1], l1[0]), sub(l2[1], l2[0])).ok_or_else(|| {
        MeasurementError::Degenerate(format!(
            "angle between {what}: a line's two points coincide"
        ))
    })?;
    Ok(a.min(180.0 - a))
}

/// The measurements of either anatomy, serialised as the object of the one
/// that applies (what `fairmark detect` and the browser report).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Measurements {
    Ceph(CephMeasurements),
    Hand(HandMeasurements),
}

/// Measurements for `anatomy`. Without a pixel spacing, ceph gives its angles
/// (lengths null) and hands fall back on the wrist convention.
pub fn measure(
    anatomy: Anatomy,
    points: &[[f64; 2]],
    mm_per_px: Option<f64>,
) -> Result<Measurements> {
    measure_with_file(anatomy, points, mm_per_px, None)
}

/// [`measure`] of an image whose file states its own spacing (`file`, e.g.
/// a DICOM Pixel Spacing); `mm_per_px` given by the caller still wins.
pub fn measure_with_file(
    anatomy: Anatomy,
    points: &[[f64; 2]],
    mm_per_px: Option<f64>,
    file: Option<Spacing>,
) -> Result<Measurements> {
    Ok(match anatomy {
        Anatomy::Ceph | Anatomy::Isbi => {
            let mm = spacing::resolve_with_file(Some(anatomy), points, mm_per_px, file)?
                .map(|s| s.mm_per_px);
            Measurements::Ceph(ceph_measurements(anatomy, points, mm)?)
        }
        Anatomy::Hand => Measurements::Hand(hand_measurements_with_file(points, mm_per_px, file)?),
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::data::anatomy::CEPH_LANDMARKS;
    use crate::data::shape_model::ShapeModel;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    /// Slot of an ISBI landmark among the 10 ceph landmarks.
    fn c(isbi: usize) -> usize {
        Anatomy::Ceph.ceph_index(isbi).unwrap()
    }

    #[test]
    fn hand_computed_ceph_angles() {
        // N at the origin, S 10 px behind it: NS = (−10, 0).
        // A straight below N: NA = (0, 10) ⟂ NS → SNA = 90°.
        // B at (−10, 10): NB = (−10, 10), 45° from NS → SNB = 45°, ANB = 45°.
        // Frankfort Po(0,0)→Or(10,0) is horizontal; mandibular plane
        // Go(0,20)→Me(10,30) rises at 45° → FMA = 45°.
        // S–N = 10 px, ANS(7,26)→Me(10,30) = (3,4) = 5 px; at 0.5 mm/px: 5 and 2.5 mm.
        let mut p = [[0.0; 2]; 10];
        p[c(S)] = [-10.0, 0.0];
        p[c(N)] = [0.0, 0.0];
        p[c(A)] = [0.0, 10.0];
        p[c(B)] = [-10.0, 10.0];
        p[c(PO)] = [0.0, 0.0];
        p[c(OR)] = [10.0, 0.0];
        p[c(GO)] = [0.0, 20.0];
        p[c(ME)] = [10.0, 30.0];
        p[c(ANS)] = [7.0, 26.0];
        p[6] = [5.0, 30.0]; // Pog: not used
        let m = ceph_measurements(Anatomy::Ceph, &p, Some(0.5)).unwrap();
        close(m.sna_deg, 90.0, 1e-9);
        close(m.snb_deg, 45.0, 1e-9);
        close(m.anb_deg, 45.0, 1e-9);
        assert_eq!(m.skeletal_class, Some(SkeletalClass::II));
        close(m.fma_deg, 45.0, 1e-9);
        close(m.s_n_mm.unwrap(), 5.0, 1e-12);
        close(m.ans_me_mm.unwrap(), 2.5, 1e-12);
        // A mandibular plane drawn the other way round gives the same FMA.
        p.swap(c(GO), c(ME));
        close(
            ceph_measurements(Anatomy::Ceph, &p, Some(0.5))
                .unwrap()
                .fma_deg,
            45.0,
            1e-9,
        );
        // Angles need no spacing; lengths do.
        let bare = ceph_measurements(Anatomy::Ceph, &p, None).unwrap();
        close(bare.sna_deg, m.sna_deg, 1e-12);
        assert_eq!(
            (bare.s_n_mm, bare.ans_me_mm, bare.mm_per_px),
            (None, None, None)
        );
    }

    #[test]
    fn mean_shape_has_typical_values() {
        // Embedded mean shape (ISBI indices; unit centroid size):
        // S = (−0.21927, −0.28264), N = (0.08222, −0.31906), A = (0.08011, −0.03578).
        // NS = (−0.30149, 0.03642), |NS| = 0.30368; NA = (−0.00211, 0.28328), |NA| = 0.28329.
        // NS·NA = 0.000636 + 0.010317 = 0.010953; cos = 0.010953 / 0.086031 = 0.12732
        // → SNA = 82.69° (textbook norm 82 ± 2°). Likewise B = (0.05994, 0.14185)
        // gives SNB = 80.34° (norm 80 ± 2°), so ANB = 2.34° (norm 2 ± 2°).
        // Po→Or = (0.35527, 0.00150) and Go→Me = (0.28722, 0.16153): FMA = 29.35° − 0.24° = 29.11°.
        // S–N = 0.30368 × 194.41 mm (reference size) = 59.04 mm.
        let model = ShapeModel::embedded(Anatomy::Ceph);
        let mm_per_px = 0.1;
        let to_px = model.reference_size_mm / mm_per_px;
        let pts: Vec<[f64; 2]> = CEPH_LANDMARKS
            .iter()
            .map(|l| {
                let p = model.mean[l.2];
                [p[0] * to_px + 900.0, p[1] * to_px + 1100.0]
            })
            .collect();
        let m = ceph_measurements(Anatomy::Ceph, &pts, Some(mm_per_px)).unwrap();
        close(m.sna_deg, 82.69, 0.01);
        close(m.snb_deg, 80.34, 0.01);
        close(m.anb_deg, 2.34, 0.01);
        close(m.fma_deg, 29.11, 0.01);
        close(m.s_n_mm.unwrap(), 59.04, 0.01);
        assert_eq!(m.skeletal_class, Some(SkeletalClass::III)); // ANB 2.34° < 3.2°
                                                                // The same landmarks among all 19 give the same measurements.
        let all: Vec<[f64; 2]> = model
            .mean
            .iter()
            .map(|p| [p[0] * to_px + 900.0, p[1] * to_px + 1100.0])
            .collect();
        let mut m19 = ceph_measurements(Anatomy::Isbi, &all, Some(mm_per_px)).unwrap();
        // …and, with all 19, the challenge's eight, which agree on the shared three.
        let eight = std::mem::take(&mut m19.isbi2015);
        assert_eq!(m19, m);
        let names: Vec<&str> = eight.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            ["ANB", "SNB", "SNA", "ODI", "APDI", "FHI", "FMA", "MW"]
        );
        close(eight[0].value, m.anb_deg, 1e-9);
        close(eight[1].value, m.snb_deg, 1e-9);
        close(eight[2].value, m.sna_deg, 1e-9);
        assert!(ceph_measurements(Anatomy::Hand, &vec![[0.0, 0.0]; 37], None).is_err());
    }

    #[test]
    fn ceph_input_errors() {
        let p = vec![[1.0, 2.0]; 9];
        assert!(matches!(
            ceph_measurements(Anatomy::Ceph, &p, Some(0.1)),
            Err(MeasurementError::WrongCount {
                expected: 10,
                got: 9,
                ..
            })
        ));
        let mut p = vec![[0.0, 0.0]; 10];
        for (i, q) in p.iter_mut().enumerate() {
            *q = [i as f64, (i * i) as f64];
        }
        p[4][1] = f64::NAN;
        let e = ceph_measurements(Anatomy::Ceph, &p, Some(0.1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("KP5 (A)"), "{e}");
        p[4][1] = 3.0;
        assert!(ceph_measurements(Anatomy::Ceph, &p, Some(0.1)).is_ok());
        assert!(matches!(
            ceph_measurements(Anatomy::Ceph, &p, Some(0.0)),
            Err(MeasurementError::BadSpacing(_))
        ));
        p[c(S)] = p[c(N)];
        let e = ceph_measurements(Anatomy::Ceph, &p, Some(0.1))
            .unwrap_err()
            .to_string();
        assert!(e.contains("coincide"), "{e}");
    }

    #[test]
    fn hand_finger_lengths_and_wrist_check() {
        let names = Anatomy::Hand.landmark_names();
        let idx = |n: &str| names.iter().position(|x| x == n).unwrap();
        let mut p = vec![[0.0, 0.0]; 37];
        for (i, q) in p.iter_mut().enumerate() {
            *q = [i as f64, 0.0];
        }
        p[1] = [0.0, 500.0];
        p[5] = [100.0, 500.0]; // wrist: 100 px
        p[idx("thumb_mcp")] = [0.0, 0.0];
        p[idx("thumb_ip")] = [0.0, 10.0];
        p[idx("thumb_tip")] = [0.0, 20.0];
        // 100 px = 50 mm → 0.5 mm/px; thumb: 20 px = 10 mm.
        let m = hand_measurements(&p, None).unwrap();
        assert_eq!(m.spacing_source, SpacingSource::WristConvention);
        close(m.mm_per_px, 0.5, 1e-12);
        close(m.wrist_deviation_mm, 0.0, 1e-12);
        assert!(m.wrist_plausible);
        assert_eq!(m.fingers.len(), 5);
        assert_eq!(
            m.fingers[0].landmarks,
            ["thumb_mcp", "thumb_ip", "thumb_tip"]
        );
        close(m.fingers[0].length_mm, 10.0, 1e-12);
        assert_eq!(m.fingers[1].landmarks.len(), 4);
        assert_eq!(m.fingers[4].landmarks[3], "little_tip");

        // A given spacing of 0.3 mm/px makes the wrist 30 mm: implausible.
        let m = hand_measurements(&p, Some(0.3)).unwrap();
        assert_eq!(m.spacing_source, SpacingSource::Given);
        close(m.wrist_width_mm, 30.0, 1e-9);
        assert!(!m.wrist_plausible);
        close(m.fingers[0].length_mm, 6.0, 1e-12);

        p[5] = p[1];
        assert!(matches!(
            hand_measurements(&p, None),
            Err(MeasurementError::Degenerate(_))
        ));
        assert!(hand_measurements(&p[..36], None).is_err());
    }
}
