//! The eight measurements of the ISBI 2015 challenge's second task and their
//! classes (Wang et al., "A benchmark for comparison of dental radiography
//! analysis algorithms", Medical Image Analysis 31, 2016, Table 2): ANB, SNB,
//! SNA, ODI, APDI, FHI, FMA and MW, on the 19 ISBI landmarks.
//!
//! Definitions as the challenge states them (`L1`…`L19` are the ISBI
//! landmarks, 1-based; docs/METHOD.md, "The ISBI 2015 measurements", lists
//! where they differ from the textbook versions and how the undefined cases
//! are read):
//! - ANB = ∠L1L2L5 − ∠L1L2L6; SNB = ∠L1L2L6; SNA = ∠L1L2L5.
//! - ODI = ∠(AB plane L5L6, mandibular plane L8L10) + the signed angle of the
//!   palatal plane L17L18 to the Frankfort horizontal L4L3.
//! - APDI = ∠(Frankfort L3L4, facial plane L2L7) + the signed angles of the
//!   facial plane to the AB plane and of the Frankfort horizontal to the
//!   palatal plane.
//! - FHI = |L1L10| / |L2L8| (posterior over anterior face height).
//! - FMA = ∠(S–N line L1L2, Go–Gn line L10L9): the challenge's "FMA" is an
//!   S–N to mandibular plane angle, not Tweed's Frankfort–mandibular angle
//!   ([`super::CephMeasurements::fma_deg`]).
//! - MW = |L12L11| in mm, positive when the upper incisal tip L12 lies
//!   ahead of the lower one L11.
//!
//! The signs follow the challenge's images, which face right (nasion ahead
//! of sella along +x, y down). A radiograph facing left is mirrored first, so
//! that a signed angle means the same anatomy either way.
use super::{MeasurementError, Result};
use crate::data::anatomy::isbi_index::{A, ANS, B, GN, GO, L1, ME, N, OR, PNS, PO, POG, S, U1};
use crate::data::geometry::{dist, sub, vector_angle};
use crate::data::skeletal::CLASS_I_ANB_DEG;
use serde::{Deserialize, Serialize};

/// One of the challenge's eight measurements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IsbiMeasure {
    Anb,
    Snb,
    Sna,
    Odi,
    Apdi,
    Fhi,
    Fma,
    Mw,
}

/// How a value becomes a class (1-based, the paper's C1…C4): C1 on the
/// closed `normal` range, `below` under it and `above` over it; MW also
/// splits what lies below its normal range at `floor`.
struct ClassRule {
    normal: [f64; 2],
    normal_meaning: &'static str,
    below: (u8, &'static str),
    above: (u8, &'static str),
    floor: Option<(f64, u8, &'static str)>,
}

impl IsbiMeasure {
    pub const ALL: [Self; 8] = [
        Self::Anb,
        Self::Snb,
        Self::Sna,
        Self::Odi,
        Self::Apdi,
        Self::Fhi,
        Self::Fma,
        Self::Mw,
    ];

    /// The challenge's abbreviation.
    pub fn name(self) -> &'static str {
        match self {
            Self::Anb => "ANB",
            Self::Snb => "SNB",
            Self::Sna => "SNA",
            Self::Odi => "ODI",
            Self::Apdi => "APDI",
            Self::Fhi => "FHI",
            Self::Fma => "FMA",
            Self::Mw => "MW",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }

    /// "°", "mm" or "" (FHI is a ratio).
    pub fn unit(self) -> &'static str {
        match self {
            Self::Fhi => "",
            Self::Mw => "mm",
            _ => "°",
        }
    }

    /// Number of classes: 3, or 4 for MW.
    pub fn n_classes(self) -> usize {
        if self == Self::Mw {
            4
        } else {
            3
        }
    }

    fn rule(self) -> ClassRule {
        let r = |normal, normal_meaning, below, above| ClassRule {
            normal,
            normal_meaning,
            below,
            above,
            floor: None,
        };
        match self {
            Self::Anb => r(
                CLASS_I_ANB_DEG,
                "skeletal Class I",
                (3, "skeletal Class III"),
                (2, "skeletal Class II"),
            ),
            Self::Snb => r(
                [74.6, 78.7],
                "normal mandible",
                (2, "retrognathic mandible"),
                (3, "prognathic mandible"),
            ),
            Self::Sna => r(
                [79.4, 83.2],
                "normal maxilla",
                (3, "retrognathic maxilla"),
                (2, "prognathic maxilla"),
            ),
            Self::Odi => r(
                [68.4, 80.5],
                "normal",
                (3, "open bite tendency"),
                (2, "deep bite tendency"),
            ),
            Self::Apdi => r(
                [77.6, 85.2],
                "normal",
                (2, "Class II tendency"),
                (3, "Class III tendency"),
            ),
            Self::Fhi => r(
                [0.65, 0.75],
                "normal",
                (3, "long face tendency"),
                (2, "short face tendency"),
            ),
            Self::Fma => r(
                [26.8, 31.4],
                "normal",
                (3, "low angle tendency"),
                (2, "high angle tendency"),
            ),
            // The paper gives C2 as "MW = 0 mm" and C3 as "MW < 0 mm", which
            // leaves 0–2 mm without a class; it is read as edge to edge
            // (docs/METHOD.md).
            Self::Mw => ClassRule {
                normal: [2.0, 4.5],
                normal_meaning: "normal overjet",
                below: (2, "edge to edge"),
                above: (4, "large overjet"),
                floor: Some((0.0, 3, "anterior crossbite")),
            },
        }
    }

    /// The class (1-based) of a value and what it means; `None` when the
    /// value is not a finite number.
    pub fn classify(self, value: f64) -> Option<(u8, &'static str)> {
        if !value.is_finite() {
            return None;
        }
        let rule = self.rule();
        Some(if value > rule.normal[1] {
            rule.above
        } else if value >= rule.normal[0] {
            (1, rule.normal_meaning)
        } else {
            match rule.floor {
                Some((floor, class, meaning)) if value < floor => (class, meaning),
                _ => rule.below,
            }
        })
    }

    /// The normal (C1) range, for display.
    pub fn normal_range(self) -> [f64; 2] {
        self.rule().normal
    }
}

impl std::fmt::Display for IsbiMeasure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One measurement of one image, as the detection document and exports carry it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IsbiValue {
    /// "ANB", "SNB", …, "MW".
    pub name: String,
    pub value: f64,
    /// "°", "mm" or "" (a ratio).
    pub unit: String,
    /// The paper's class, 1 = normal.
    pub class: u8,
    pub meaning: String,
    /// C1's range, for the reader.
    pub normal: [f64; 2],
}

/// The eight measurements of 19 ISBI landmarks (any unit of length, y down;
/// `mm_per_unit` converts lengths to mm). Without a spacing MW, the one
/// length, is left out. Coinciding landmarks give an error naming them.
pub fn isbi2015_measurements(
    points: &[[f64; 2]],
    mm_per_unit: Option<f64>,
) -> Result<Vec<IsbiValue>> {
    let values = isbi2015_values(points, mm_per_unit)?;
    Ok(values
        .into_iter()
        .filter_map(|(m, v)| {
            let (class, meaning) = m.classify(v?)?;
            Some(IsbiValue {
                name: m.name().to_string(),
                value: v?,
                unit: m.unit().to_string(),
                class,
                meaning: meaning.to_string(),
                normal: m.normal_range(),
            })
        })
        .collect())
}

/// The raw values in [`IsbiMeasure::ALL`] order (MW `None` without a spacing).
pub fn isbi2015_values(
    points: &[[f64; 2]],
    mm_per_unit: Option<f64>,
) -> Result<Vec<(IsbiMeasure, Option<f64>)>> {
    if points.len() != crate::data::anatomy::ISBI_LANDMARKS {
        return Err(MeasurementError::WrongCount {
            anatomy: crate::data::anatomy::Anatomy::Isbi,
            expected: crate::data::anatomy::ISBI_LANDMARKS,
            got: points.len(),
        });
    }
    if let Some(i) = points
        .iter()
        .position(|p| !(p[0].is_finite() && p[1].is_finite()))
    {
        return Err(MeasurementError::NonFinite {
            keypoint: i + 1,
            name: crate::data::anatomy::Anatomy::Isbi.landmark_names()[i].clone(),
        });
    }
    if let Some(m) = mm_per_unit {
        super::spacing::check_spacing(m)?;
    }
    // Mirror a left-facing radiograph so that +x is anterior.
    let flip = if points[N][0] < points[S][0] {
        -1.0
    } else {
        1.0
    };
    let p = |i: usize| [flip * points[i][0], points[i][1]];
    let v = |from: usize, to: usize| sub(p(to), p(from));
    let ang = |a: [f64; 2], b: [f64; 2], what: &str| {
        vector_angle(a, b).ok_or_else(|| {
            MeasurementError::Degenerate(format!("{what}: two of its landmarks coincide"))
        })
    };
    let cross = |a: [f64; 2], b: [f64; 2]| a[0] * b[1] - a[1] * b[0];
    // The angle from a to b with the sign of their cross product (y down:
    // positive when b turns clockwise on screen from a).
    let signed = |a: [f64; 2], b: [f64; 2], what: &str| -> Result<f64> {
        let t = ang(a, b, what)?;
        Ok(if cross(a, b) < 0.0 { -t } else { t })
    };

    let sna = ang(v(N, S), v(N, A), "SNA")?;
    let snb = ang(v(N, S), v(N, B), "SNB")?;
    let frankfort = v(PO, OR);
    let palatal = v(PNS, ANS);
    let odi = ang(v(ME, GO), v(B, A), "ODI (AB and mandibular planes)")?
        + signed(frankfort, palatal, "ODI (palatal plane and Frankfort)")?;
    let facial = v(N, POG);
    let apdi = ang(v(OR, PO), facial, "APDI (Frankfort and facial plane)")?
        - signed(facial, v(A, B), "APDI (facial and AB planes)")?
        + signed(frankfort, palatal, "APDI (Frankfort and palatal plane)")?;
    let anterior = dist(p(N), p(ME));
    if anterior <= 1e-12 {
        return Err(MeasurementError::Degenerate(
            "FHI: nasion and menton coincide".into(),
        ));
    }
    let fhi = dist(p(S), p(GO)) / anterior;
    let fma = ang(v(S, N), v(GO, GN), "FMA (S–N and Go–Gn)")?;
    let mw = mm_per_unit.map(|m| {
        let overjet = dist(p(U1), p(L1)) * m;
        if p(U1)[0] > p(L1)[0] {
            overjet
        } else {
            -overjet
        }
    });
    Ok(vec![
        (IsbiMeasure::Anb, Some(sna - snb)),
        (IsbiMeasure::Snb, Some(snb)),
        (IsbiMeasure::Sna, Some(sna)),
        (IsbiMeasure::Odi, Some(odi)),
        (IsbiMeasure::Apdi, Some(apdi)),
        (IsbiMeasure::Fhi, Some(fhi)),
        (IsbiMeasure::Fma, Some(fma)),
        (IsbiMeasure::Mw, mw),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    /// A right-facing face on a grid where every angle is easy by hand
    /// (pixels, y down).
    fn face() -> Vec<[f64; 2]> {
        let mut p = vec![[0.0, 0.0]; 19];
        p[S] = [-100.0, 0.0];
        p[N] = [0.0, 0.0];
        // A straight below N: SNA = 90°. B at 45° behind: SNB = 45°.
        p[A] = [0.0, 50.0];
        p[B] = [-60.0, 60.0];
        p[OR] = [-10.0, 20.0];
        p[PO] = [-110.0, 20.0]; // Frankfort horizontal
        p[PNS] = [-80.0, 40.0];
        p[ANS] = [20.0, 40.0]; // palatal plane parallel to Frankfort
        p[ME] = [-50.0, 150.0];
        p[GO] = [-150.0, 50.0]; // mandibular plane at 45°
        p[GN] = [-40.0, 140.0];
        p[POG] = [0.0, 120.0]; // facial plane vertical
        p[U1] = [13.0, 80.0];
        p[L1] = [10.0, 84.0]; // 5 units apart, upper ahead
        for (i, q) in p.iter_mut().enumerate() {
            if *q == [0.0, 0.0] && i != N {
                *q = [i as f64, 200.0 + i as f64];
            }
        }
        p
    }

    fn value(v: &[(IsbiMeasure, Option<f64>)], m: IsbiMeasure) -> f64 {
        v.iter().find(|x| x.0 == m).unwrap().1.unwrap()
    }

    #[test]
    fn hand_computed_values() {
        let v = isbi2015_values(&face(), Some(0.5)).unwrap();
        close(value(&v, IsbiMeasure::Sna), 90.0);
        close(value(&v, IsbiMeasure::Snb), 45.0);
        close(value(&v, IsbiMeasure::Anb), 45.0);
        // ODI: Me→Go = (−100, −100), B→A = (60, −10): angle between them
        // = 180° − 45° − atan(10/60) = 135° − 9.4623° = 125.5377°; palatal
        // plane parallel to Frankfort adds 0.
        close(
            value(&v, IsbiMeasure::Odi),
            135.0 - (10.0f64 / 60.0).atan().to_degrees(),
        );
        // APDI: Or→Po = (−100, 0) against the vertical facial plane: 90°;
        // facial (0, 120) to A→B (−60, 10): 90° − atan(10/60) = 80.5377°,
        // cross = 0·10 − 120·(−60) > 0, so it is subtracted; palatal 0.
        close(
            value(&v, IsbiMeasure::Apdi),
            90.0 - (90.0 - (10.0f64 / 60.0).atan().to_degrees()),
        );
        // FHI: |S Go| = hypot(50, 50), |N Me| = hypot(50, 150).
        close(
            value(&v, IsbiMeasure::Fhi),
            50f64.hypot(50.0) / 50f64.hypot(150.0),
        );
        // FMA: S→N = (100, 0), Go→Gn = (110, 90): atan(90/110).
        close(
            value(&v, IsbiMeasure::Fma),
            (90.0f64 / 110.0).atan().to_degrees(),
        );
        // MW: 5 units × 0.5 mm, upper ahead: +2.5 mm.
        close(value(&v, IsbiMeasure::Mw), 2.5);
    }

    #[test]
    fn a_tilted_palatal_plane_enters_odi_and_apdi_with_its_sign() {
        let base = isbi2015_values(&face(), None).unwrap();
        let mut p = face();
        // ANS 10 units lower than PNS over 100: the palatal plane turns
        // clockwise from Frankfort by atan(0.1) = 5.7106°.
        p[ANS] = [20.0, 50.0];
        let tilted = isbi2015_values(&p, None).unwrap();
        let t = (0.1f64).atan().to_degrees();
        close(
            value(&tilted, IsbiMeasure::Odi) - value(&base, IsbiMeasure::Odi),
            t,
        );
        close(
            value(&tilted, IsbiMeasure::Apdi) - value(&base, IsbiMeasure::Apdi),
            t,
        );
        assert_eq!(tilted.last().unwrap(), &(IsbiMeasure::Mw, None));
    }

    #[test]
    fn a_mirrored_radiograph_measures_the_same() {
        let right = isbi2015_values(&face(), Some(0.1)).unwrap();
        let left: Vec<[f64; 2]> = face().iter().map(|q| [500.0 - q[0], q[1]]).collect();
        let left = isbi2015_values(&left, Some(0.1)).unwrap();
        for (a, b) in right.iter().zip(&left) {
            close(a.1.unwrap(), b.1.unwrap());
        }
    }

    #[test]
    fn classes_follow_the_papers_table() {
        use IsbiMeasure::*;
        let c = |m: IsbiMeasure, v: f64| m.classify(v).unwrap().0;
        assert_eq!(
            [c(Anb, 3.2), c(Anb, 5.7), c(Anb, 5.71), c(Anb, 3.19)],
            [1, 1, 2, 3]
        );
        assert_eq!([c(Snb, 74.5), c(Snb, 78.8)], [2, 3]);
        assert_eq!([c(Sna, 79.3), c(Sna, 83.3)], [3, 2]);
        assert_eq!([c(Odi, 68.3), c(Odi, 80.6), c(Odi, 74.5)], [3, 2, 1]);
        assert_eq!([c(Apdi, 77.5), c(Apdi, 85.3)], [2, 3]);
        assert_eq!([c(Fhi, 0.64), c(Fhi, 0.76), c(Fhi, 0.7)], [3, 2, 1]);
        assert_eq!([c(Fma, 26.7), c(Fma, 31.5)], [3, 2]);
        assert_eq!(
            [c(Mw, -0.1), c(Mw, 0.0), c(Mw, 1.9), c(Mw, 2.0), c(Mw, 4.6)],
            [3, 2, 2, 1, 4]
        );
        assert_eq!(Mw.classify(f64::NAN), None);
        // The ANB rule and the audit's skeletal class are one definition.
        for anb in [-3.0, 3.2, 4.0, 5.7, 6.0] {
            let class = crate::data::skeletal::SkeletalClass::from_anb(anb).unwrap();
            let expected = match class {
                crate::data::skeletal::SkeletalClass::I => 1,
                crate::data::skeletal::SkeletalClass::II => 2,
                crate::data::skeletal::SkeletalClass::III => 3,
            };
            assert_eq!(c(Anb, anb), expected);
        }
        assert_eq!(IsbiMeasure::from_name("apdi"), Some(Apdi));
    }

    /// Senior landmarks (mm) of ISBI images 001–003 against an independent
    /// implementation of the definitions (Python, acos of normalised dot
    /// products and the challenge's cross-product signs, written apart from
    /// this code): values to 1e-5.
    #[test]
    fn real_annotations_match_an_independent_implementation() {
        let rows: [(&str, [f64; 38], [f64; 8]); 3] = [
            (
                "001",
                [
                    83.5, 99.6, 147.3, 102.9, 128.9, 127.9, 60.4, 122.8, 137.5, 165.4, 138.6,
                    201.9, 133.3, 220.0, 126.3, 227.2, 130.5, 225.2, 69.4, 180.5, 146.0, 187.0,
                    145.0, 186.4, 158.8, 175.3, 156.9, 201.3, 151.4, 162.0, 138.2, 231.0, 94.4,
                    150.6, 143.6, 156.9, 66.4, 134.0,
                ],
                [
                    -3.889236, 87.938754, 84.049518, 51.935754, 99.023146, 0.651425, 33.227802,
                    -1.166190,
                ],
            ),
            (
                "002",
                [
                    81.0, 105.2, 139.5, 98.5, 128.1, 123.8, 60.2, 125.8, 139.3, 158.8, 134.9,
                    185.6, 138.1, 200.5, 132.0, 209.1, 136.3, 206.3, 68.7, 175.6, 140.7, 171.8,
                    142.6, 173.4, 151.9, 166.9, 151.2, 183.5, 146.2, 151.5, 145.9, 210.3, 97.8,
                    143.3, 139.9, 144.5, 64.3, 135.3,
                ],
                [
                    2.833110, 80.443242, 83.276352, 74.754495, 82.309100, 0.644690, 30.958407,
                    2.483948,
                ],
            ),
            (
                "003",
                [
                    76.1, 110.5, 132.9, 91.1, 125.0, 118.1, 62.2, 127.9, 143.6, 141.5, 143.9,
                    174.4, 146.0, 188.2, 140.6, 193.5, 144.8, 192.0, 81.5, 171.0, 145.1, 157.5,
                    149.5, 160.8, 158.1, 144.9, 159.6, 168.7, 152.4, 136.9, 152.6, 192.3, 100.8,
                    140.4, 142.0, 135.0, 71.2, 134.8,
                ],
                [
                    4.463477, 78.664979, 83.128456, 70.037647, 83.055363, 0.591499, 37.211013, 5.5,
                ],
            ),
        ];
        for (id, xy, expected) in rows {
            let points: Vec<[f64; 2]> = xy.chunks(2).map(|c| [c[0], c[1]]).collect();
            let got = isbi2015_values(&points, Some(1.0)).unwrap();
            for ((m, v), e) in got.iter().zip(expected) {
                let v = v.unwrap();
                assert!((v - e).abs() < 1e-5, "image {id}, {m}: {v} vs {e}");
            }
        }
    }

    #[test]
    fn bad_landmarks_are_refused_with_their_name() {
        let mut p = face();
        p[ME] = p[GO];
        let e = isbi2015_values(&p, None).unwrap_err().to_string();
        assert!(e.contains("ODI"), "{e}");
        let mut p = face();
        p[U1][0] = f64::INFINITY;
        let e = isbi2015_values(&p, None).unwrap_err().to_string();
        assert!(e.contains("KP12"), "{e}");
        assert!(isbi2015_values(&p[..18], None).is_err());
        assert!(isbi2015_values(&face(), Some(-1.0)).is_err());
        let m = isbi2015_measurements(&face(), None).unwrap();
        assert_eq!(m.len(), 7);
        assert_eq!(m[0].name, "ANB");
        assert_eq!(
            (m[0].class, m[0].meaning.as_str()),
            (2, "skeletal Class II")
        );
    }
}
