//! The one pixel-spacing policy, used by detection (native and browser) and by
//! the measurements: a spacing the caller gives wins; else the image file's
//! own (a DICOM file's Pixel Spacing or Imager Pixel Spacing, see
//! `data::formats::dicom`); a hand without either gets the 50 mm wrist
//! convention of Payer et al. (2019); a cephalogram without one gets none (its
//! angles need no scale, its lengths stay empty). A scale is never guessed
//! from the model's training data.
use super::{MeasurementError, Result};
use crate::data::anatomy::{hand_mm_per_px, Anatomy};
use serde::{Deserialize, Serialize};

/// Where the pixel spacing of a detection or measurement came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpacingSource {
    /// Given by the caller (the user, or the image's metadata).
    Given,
    /// Derived from the 50 mm wrist convention (Payer et al. 2019).
    WristConvention,
    /// A DICOM file's Pixel Spacing (0028,0030): calibrated at the patient.
    DicomPixelSpacing,
    /// A DICOM file's Imager Pixel Spacing (0018,1164), at the detector: the
    /// file gives no magnification factor, so lengths include the
    /// projection's magnification (typically 5–15 % for a cephalogram).
    DicomImagerPixelSpacing,
    /// Imager Pixel Spacing divided by the Estimated Radiographic
    /// Magnification Factor (0018,5101): at the patient's midplane.
    DicomImagerPixelSpacingCorrected,
}

impl SpacingSource {
    /// Whether the spacing came from the image file rather than the caller
    /// or a convention.
    pub fn is_from_file(self) -> bool {
        matches!(
            self,
            Self::DicomPixelSpacing
                | Self::DicomImagerPixelSpacing
                | Self::DicomImagerPixelSpacingCorrected
        )
    }
}

/// A pixel spacing in mm per pixel and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spacing {
    pub mm_per_px: f64,
    pub source: SpacingSource,
}

/// Refuses a spacing that is not a positive finite number.
pub fn check_spacing(s: f64) -> Result<()> {
    if s.is_finite() && s > 0.0 {
        Ok(())
    } else {
        Err(MeasurementError::BadSpacing(s))
    }
}

/// The spacing for landmarks `points` of `anatomy` (`None` when the model has
/// no anatomy) when the caller gave `given`; `None` where the policy gives no
/// scale.
pub fn resolve(
    anatomy: Option<Anatomy>,
    points: &[[f64; 2]],
    given: Option<f64>,
) -> Result<Option<Spacing>> {
    resolve_with_file(anatomy, points, given, None)
}

/// [`resolve`] for an image whose file states its own spacing (`file`): the
/// caller's `given` still wins, the file's comes next, then the conventions.
pub fn resolve_with_file(
    anatomy: Option<Anatomy>,
    points: &[[f64; 2]],
    given: Option<f64>,
    file: Option<Spacing>,
) -> Result<Option<Spacing>> {
    if let Some(s) = given {
        check_spacing(s)?;
        return Ok(Some(Spacing {
            mm_per_px: s,
            source: SpacingSource::Given,
        }));
    }
    if let Some(f) = file {
        check_spacing(f.mm_per_px)?;
        return Ok(Some(f));
    }
    if anatomy != Some(Anatomy::Hand) {
        return Ok(None);
    }
    match hand_mm_per_px(points) {
        Some(s) => Ok(Some(Spacing {
            mm_per_px: s,
            source: SpacingSource::WristConvention,
        })),
        None => Err(MeasurementError::Degenerate(
            "the wrist endpoints KP2 and KP6 coincide (or are missing), so the 50 mm convention gives no scale; pass the pixel spacing".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_wins_hands_fall_back_ceph_stays_unscaled() {
        let mut hand = vec![[0.0, 0.0]; 37];
        hand[1] = [0.0, 0.0];
        hand[5] = [250.0, 0.0];
        let wrist = resolve(Some(Anatomy::Hand), &hand, None).unwrap().unwrap();
        assert_eq!(wrist.source, SpacingSource::WristConvention);
        assert!((wrist.mm_per_px - 0.2).abs() < 1e-12);
        let given = resolve(Some(Anatomy::Hand), &hand, Some(0.1))
            .unwrap()
            .unwrap();
        assert_eq!(
            given,
            Spacing {
                mm_per_px: 0.1,
                source: SpacingSource::Given
            }
        );
        assert_eq!(resolve(Some(Anatomy::Ceph), &hand, None).unwrap(), None);
        assert_eq!(resolve(None, &hand, None).unwrap(), None);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(resolve(None, &hand, Some(bad)).is_err(), "{bad}");
        }
        // A file's own spacing comes after the caller's, before the wrist.
        let file = Spacing {
            mm_per_px: 0.15,
            source: SpacingSource::DicomPixelSpacing,
        };
        assert_eq!(
            resolve_with_file(Some(Anatomy::Hand), &hand, None, Some(file)).unwrap(),
            Some(file)
        );
        assert_eq!(
            resolve_with_file(Some(Anatomy::Ceph), &hand, Some(0.1), Some(file))
                .unwrap()
                .unwrap()
                .source,
            SpacingSource::Given
        );
        assert_eq!(
            serde_json::to_value(SpacingSource::DicomImagerPixelSpacingCorrected).unwrap(),
            "dicom_imager_pixel_spacing_corrected"
        );
        hand[5] = hand[1];
        let e = resolve(Some(Anatomy::Hand), &hand, None).unwrap_err();
        assert!(e.to_string().contains("coincide"), "{e}");
    }
}
