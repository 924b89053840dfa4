//! The anatomies fairmark knows, their landmark names and demographic attributes.
use serde::{Deserialize, Serialize};

/// Which anatomy (and landmark set) a data set or model is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Anatomy {
    /// Lateral cephalogram, the 10 landmarks of the phantoms (CephAdoAdu /
    /// IdFOPNet set, a subset of the ISBI 2015 19).
    Ceph,
    /// Left-hand radiograph, 37 landmarks (Digital Hand Atlas, Payer et al. 2019).
    Hand,
    /// Real lateral cephalogram with all 19 landmarks of the ISBI 2015
    /// challenge (Wang et al. 2016), in the challenge's order.
    Isbi,
}

/// 0-based indices of the 19 ISBI 2015 landmarks, in the order of
/// [`ISBI_LANDMARK_TABLE`] (a test checks that the two agree).
pub mod isbi_index {
    pub const S: usize = 0;
    pub const N: usize = 1;
    pub const OR: usize = 2;
    pub const PO: usize = 3;
    pub const A: usize = 4;
    pub const B: usize = 5;
    pub const POG: usize = 6;
    pub const ME: usize = 7;
    pub const GN: usize = 8;
    pub const GO: usize = 9;
    pub const L1: usize = 10;
    pub const U1: usize = 11;
    pub const UL: usize = 12;
    pub const LL: usize = 13;
    pub const SN: usize = 14;
    pub const SPOG: usize = 15;
    pub const PNS: usize = 16;
    pub const ANS: usize = 17;
    pub const AR: usize = 18;
}

/// The 19 ISBI 2015 landmarks in the challenge's order: short name, full name.
pub const ISBI_LANDMARK_TABLE: [(&str, &str); ISBI_LANDMARKS] = [
    ("S", "sella"),
    ("N", "nasion"),
    ("Or", "orbitale"),
    ("Po", "porion"),
    ("A", "subspinale (A point)"),
    ("B", "supramentale (B point)"),
    ("Pog", "pogonion"),
    ("Me", "menton"),
    ("Gn", "gnathion"),
    ("Go", "gonion"),
    ("LIT", "lower incisal incision"),
    ("UIT", "upper incisal incision"),
    ("UL", "upper lip"),
    ("LL", "lower lip"),
    ("Sn", "subnasale"),
    ("PogS", "soft tissue pogonion"),
    ("PNS", "posterior nasal spine"),
    ("ANS", "anterior nasal spine"),
    ("Ar", "articulare"),
];

/// The 10 cephalometric landmarks (CephAdoAdu / IdFOPNet set) and their 0-based
/// index among the 19 ISBI 2015 landmarks.
pub const CEPH_LANDMARKS: [(&str, &str, usize); 10] = [
    ("S", "sella", 0),
    ("N", "nasion", 1),
    ("Or", "orbitale", 2),
    ("Po", "porion", 3),
    ("A", "subspinale (A point)", 4),
    ("B", "supramentale (B point)", 5),
    ("Pog", "pogonion", 6),
    ("Me", "menton", 7),
    ("Go", "gonion", 9),
    ("ANS", "anterior nasal spine", 17),
];

/// Number of ISBI 2015 landmarks.
pub const ISBI_LANDMARKS: usize = 19;

/// 0-based indices of the two wrist endpoints (1-based KP2 and KP6) whose distance
/// defines 50 mm on hand radiographs (Payer et al. 2019).
pub const HAND_WRIST_ENDPOINTS: (usize, usize) = (1, 5);
/// Distance between the wrist endpoints by convention, in millimetres.
pub const HAND_WRIST_MM: f64 = 50.0;
/// Number of hand landmarks.
pub const HAND_LANDMARKS: usize = 37;

fn hand_landmark_name(kp: usize) -> String {
    // 1-based numbering as in the DHA figure of the fairness paper:
    // KP1–KP13 distal radius/ulna and carpals, KP14–KP18 metacarpal bases
    // (little → thumb), KP19–KP37 finger joints and tips (thumb, index, middle,
    // ring, little).
    const FINGERS: [(&str, usize, &[&str]); 5] = [
        ("thumb", 19, &["mcp", "ip", "tip"]),
        ("index", 22, &["mcp", "pip", "dip", "tip"]),
        ("middle", 26, &["mcp", "pip", "dip", "tip"]),
        ("ring", 30, &["mcp", "pip", "dip", "tip"]),
        ("little", 34, &["mcp", "pip", "dip", "tip"]),
    ];
    const MC_BASES: [&str; 5] = ["little", "ring", "middle", "index", "thumb"];
    match kp {
        2 => "wrist_ulnar_endpoint".into(),
        6 => "wrist_radial_endpoint".into(),
        1..=13 => format!("wrist_kp{kp}"),
        14..=18 => format!("{}_mc_base", MC_BASES[kp - 14]),
        _ => FINGERS
            .iter()
            .find_map(|(finger, first, joints)| {
                (kp >= *first && kp < first + joints.len())
                    .then(|| format!("{finger}_{}", joints[kp - first]))
            })
            .unwrap_or_else(|| format!("kp{kp}")),
    }
}

impl Anatomy {
    /// Parses "ceph", "hand" or "isbi".
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "ceph" | "cephalogram" => Some(Self::Ceph),
            "hand" => Some(Self::Hand),
            "isbi" | "isbi2015" => Some(Self::Isbi),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ceph => "ceph",
            Self::Hand => "hand",
            Self::Isbi => "isbi",
        }
    }

    pub fn n_landmarks(self) -> usize {
        match self {
            Self::Ceph => CEPH_LANDMARKS.len(),
            Self::Hand => HAND_LANDMARKS,
            Self::Isbi => ISBI_LANDMARKS,
        }
    }

    /// Short landmark names, in keypoint order (KP1 first).
    pub fn landmark_names(self) -> Vec<String> {
        match self {
            Self::Ceph => CEPH_LANDMARKS.iter().map(|l| l.0.to_string()).collect(),
            Self::Hand => (1..=HAND_LANDMARKS).map(hand_landmark_name).collect(),
            Self::Isbi => ISBI_LANDMARK_TABLE
                .iter()
                .map(|l| l.0.to_string())
                .collect(),
        }
    }

    /// Whether fairmark renders phantoms of this anatomy (not of the 19 ISBI
    /// landmarks: the phantoms draw the structures of the 10 ceph ones only).
    pub fn has_phantoms(self) -> bool {
        self != Self::Isbi
    }

    /// The landmark set's index of each ceph measurement landmark among this
    /// anatomy's landmarks (`None` for hands).
    pub fn ceph_index(self, isbi_index: usize) -> Option<usize> {
        match self {
            Self::Isbi => (isbi_index < ISBI_LANDMARKS).then_some(isbi_index),
            Self::Ceph => CEPH_LANDMARKS.iter().position(|l| l.2 == isbi_index),
            Self::Hand => None,
        }
    }

    /// Demographic attributes of this anatomy's phantoms and their groups
    /// (none for the real ISBI images, which carry no demographics).
    pub fn attributes(self) -> Vec<(&'static str, Vec<&'static str>)> {
        match self {
            Self::Ceph => vec![("age_group", vec!["adult", "adolescent"])],
            Self::Hand => vec![("sex", vec!["F", "M"]), ("age_group", vec!["young", "old"])],
            Self::Isbi => Vec::new(),
        }
    }

    /// Success radii conventionally reported for this anatomy, in mm.
    pub fn default_thresholds_mm(self) -> Vec<f64> {
        match self {
            Self::Ceph | Self::Isbi => CEPH_THRESHOLDS_MM.to_vec(),
            Self::Hand => HAND_THRESHOLDS_MM.to_vec(),
        }
    }

    /// [`Anatomy::default_thresholds_mm`] of an optional anatomy; the
    /// cephalometric radii when none is known (the literature's default).
    pub fn thresholds_mm_or_default(anatomy: Option<Self>) -> Vec<f64> {
        anatomy.map_or_else(|| CEPH_THRESHOLDS_MM.to_vec(), Self::default_thresholds_mm)
    }
}

/// SDR radii of the ISBI 2015 challenge (and the default for unknown anatomy).
pub const CEPH_THRESHOLDS_MM: [f64; 4] = [2.0, 2.5, 3.0, 4.0];
/// SDR radii of the hand literature (Payer et al.).
pub const HAND_THRESHOLDS_MM: [f64; 3] = [2.0, 4.0, 10.0];

impl std::fmt::Display for Anatomy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Pixel spacing of a hand radiograph under the 50 mm wrist convention.
/// Returns `None` when the two wrist endpoints coincide (no scale can be derived).
pub fn hand_mm_per_px(landmarks: &[[f64; 2]]) -> Option<f64> {
    let (a, b) = HAND_WRIST_ENDPOINTS;
    let (p, q) = (landmarks.get(a)?, landmarks.get(b)?);
    let d = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt();
    (d.is_finite() && d > 1e-9).then(|| HAND_WRIST_MM / d)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn hand_names_follow_the_dha_numbering() {
        let names = Anatomy::Hand.landmark_names();
        assert_eq!(names.len(), 37);
        assert_eq!(names[1], "wrist_ulnar_endpoint");
        assert_eq!(names[5], "wrist_radial_endpoint");
        assert_eq!(names[13], "little_mc_base");
        assert_eq!(names[17], "thumb_mc_base");
        assert_eq!(names[18], "thumb_mcp");
        assert_eq!(names[20], "thumb_tip");
        assert_eq!(names[21], "index_mcp");
        assert_eq!(names[36], "little_tip");
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), 37);
    }

    #[test]
    fn ceph_subset_maps_into_isbi() {
        assert_eq!(Anatomy::Ceph.n_landmarks(), 10);
        assert!(CEPH_LANDMARKS.iter().all(|l| l.2 < ISBI_LANDMARKS));
        assert_eq!(CEPH_LANDMARKS[9].2, 17); // ANS is ISBI landmark 18
                                             // The ceph set's names are the ISBI names of the same landmarks.
        for (short, long, isbi) in CEPH_LANDMARKS {
            assert_eq!(ISBI_LANDMARK_TABLE[isbi].0, short);
            assert_eq!(ISBI_LANDMARK_TABLE[isbi].1, long);
            assert_eq!(
                Anatomy::Ceph.ceph_index(isbi).map(|i| CEPH_LANDMARKS[i].0),
                Some(short)
            );
            assert_eq!(Anatomy::Isbi.ceph_index(isbi), Some(isbi));
        }
        assert_eq!(Anatomy::Ceph.ceph_index(10), None); // LIT is not in the ceph set
        assert_eq!(Anatomy::Isbi.landmark_names().len(), 19);
        use isbi_index::*;
        let named = [
            (S, "S"),
            (N, "N"),
            (OR, "Or"),
            (PO, "Po"),
            (A, "A"),
            (B, "B"),
            (POG, "Pog"),
            (ME, "Me"),
            (GN, "Gn"),
            (GO, "Go"),
            (L1, "LIT"),
            (U1, "UIT"),
            (UL, "UL"),
            (LL, "LL"),
            (SN, "Sn"),
            (SPOG, "PogS"),
            (PNS, "PNS"),
            (ANS, "ANS"),
            (AR, "Ar"),
        ];
        for (i, short) in named {
            assert_eq!(ISBI_LANDMARK_TABLE[i].0, short);
        }
        assert_eq!(Anatomy::parse("isbi"), Some(Anatomy::Isbi));
        assert!(!Anatomy::Isbi.has_phantoms());
    }

    #[test]
    fn wrist_convention_scales_to_50mm() {
        let mut lm = vec![[0.0, 0.0]; 37];
        lm[1] = [100.0, 200.0];
        lm[5] = [350.0, 200.0];
        assert!((hand_mm_per_px(&lm).unwrap() - 0.2).abs() < 1e-12);
        lm[5] = lm[1];
        assert!(hand_mm_per_px(&lm).is_none());
    }
}
