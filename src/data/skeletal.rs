//! The sagittal skeletal class of a cephalogram from its ANB angle, with the
//! thresholds of the ISBI 2015 challenge (Wang et al. 2016): Class I for
//! 3.2° ≤ ANB ≤ 5.7°, Class II above, Class III below. ANB = SNA − SNB, the
//! angles at nasion from sella to A point and to B point: positive when the
//! maxilla lies ahead of the mandible.
use super::geometry::angle_at;
use serde::{Deserialize, Serialize};

/// ANB range of Class I, degrees (ISBI 2015).
pub const CLASS_I_ANB_DEG: [f64; 2] = [3.2, 5.7];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SkeletalClass {
    /// Normal sagittal relation of maxilla and mandible.
    I,
    /// Maxilla ahead of the mandible (ANB above 5.7°).
    II,
    /// Mandible ahead (ANB below 3.2°).
    III,
}

impl SkeletalClass {
    /// The class of an ANB angle; `None` when it is not a number.
    pub fn from_anb(anb_deg: f64) -> Option<Self> {
        if !anb_deg.is_finite() {
            return None;
        }
        Some(if anb_deg > CLASS_I_ANB_DEG[1] {
            Self::II
        } else if anb_deg < CLASS_I_ANB_DEG[0] {
            Self::III
        } else {
            Self::I
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::I => "I",
            Self::II => "II",
            Self::III => "III",
        }
    }

    pub const ALL: [Self; 3] = [Self::I, Self::II, Self::III];
}

/// SNA − SNB in degrees from sella, nasion, A and B point; `None` when points
/// coincide.
pub fn anb_deg(s: [f64; 2], n: [f64; 2], a: [f64; 2], b: [f64; 2]) -> Option<f64> {
    Some(angle_at(n, s, a)? - angle_at(n, s, b)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_inclusive_for_class_i() {
        assert_eq!(SkeletalClass::from_anb(3.2), Some(SkeletalClass::I));
        assert_eq!(SkeletalClass::from_anb(5.7), Some(SkeletalClass::I));
        assert_eq!(SkeletalClass::from_anb(5.71), Some(SkeletalClass::II));
        assert_eq!(SkeletalClass::from_anb(3.19), Some(SkeletalClass::III));
        assert_eq!(SkeletalClass::from_anb(-2.0), Some(SkeletalClass::III));
        assert_eq!(SkeletalClass::from_anb(f64::NAN), None);
    }

    #[test]
    fn anb_by_hand() {
        // N at the origin, S straight back (−x): SNA is the angle of A from
        // the −x axis, measured through the upper half (y down, so A below).
        let (s, n) = ([-100.0, 0.0], [0.0, 0.0]);
        let a = [
            -(80f64.to_radians().cos()) * 50.0,
            80f64.to_radians().sin() * 50.0,
        ];
        let b = [
            -(76f64.to_radians().cos()) * 80.0,
            76f64.to_radians().sin() * 80.0,
        ];
        let anb = anb_deg(s, n, a, b).unwrap();
        assert!((anb - 4.0).abs() < 1e-9, "{anb}");
        assert_eq!(SkeletalClass::from_anb(anb), Some(SkeletalClass::I));
        assert_eq!(anb_deg(s, n, n, b), None);
    }
}
