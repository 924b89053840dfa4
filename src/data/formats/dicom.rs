//! DICOM radiographs: one grey image in [0, 1], its pixel spacing and where
//! that came from, decoded from the bytes of a DICOM Part 10 file with
//! dicom-rs (pure Rust; builds for wasm32, so the page decodes the same way
//! as `fairmark detect`).
//!
//! The display pipeline of PS3.3 C.11 and C.7.6.3.1.2, in this order:
//! stored value (8 to 16 bits, signed or not) → Rescale Slope/Intercept →
//! the first VOI LUT of the VOI LUT Sequence, else the first Window
//! Center/Width (VOI LUT Function LINEAR, LINEAR_EXACT or SIGMOID), else the
//! image's own min–max → [0, 1] → MONOCHROME1 inverted (bright bone, as in
//! MONOCHROME2 and the PNG/JPEG the models were trained on).
//!
//! Supported transfer syntaxes ([`SUPPORTED_TRANSFER_SYNTAXES`]):
//! implicit and explicit VR little endian, explicit VR big endian (retired),
//! deflated explicit VR little endian, RLE Lossless, JPEG baseline, extended
//! and lossless (jpeg-decoder), and deflated image frame compression. The
//! others (JPEG-LS, JPEG 2000, HTJ2K, JPEG XL, MPEG/HEVC video, …) are refused
//! by name. Multi-frame, colour and non-image objects are refused too.
//!
//! Patient identifiers are never read: nothing here looks at a patient,
//! study or institution attribute, so nothing of them can reach a document.
use crate::data::formats::image_io::{check_pixel_count, GreyImage};
use crate::measure::{Spacing, SpacingSource};
use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, InMemDicomObject, OpenFileOptions};
use dicom_pixeldata::PixelDecoder;
use dicom_transfer_syntax_registry::{TransferSyntaxIndex, TransferSyntaxRegistry};
use serde::{Deserialize, Serialize};

/// Transfer syntaxes whose pixel data this build decodes: UID and name.
pub const SUPPORTED_TRANSFER_SYNTAXES: [(&str, &str); 10] = [
    ("1.2.840.10008.1.2", "Implicit VR Little Endian"),
    ("1.2.840.10008.1.2.1", "Explicit VR Little Endian"),
    (
        "1.2.840.10008.1.2.1.99",
        "Deflated Explicit VR Little Endian",
    ),
    ("1.2.840.10008.1.2.2", "Explicit VR Big Endian (retired)"),
    ("1.2.840.10008.1.2.5", "RLE Lossless"),
    ("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"),
    ("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)"),
    (
        "1.2.840.10008.1.2.4.57",
        "JPEG Lossless, Non-Hierarchical (Process 14)",
    ),
    (
        "1.2.840.10008.1.2.4.70",
        "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
    ),
    ("1.2.840.10008.1.2.8.1", "Deflated Image Frame Compression"),
];

/// Why a DICOM file gives no image.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DicomError {
    #[error("not a DICOM file (no \"DICM\" after the 128-byte preamble)")]
    NotDicom,
    #[error("malformed DICOM: {0}")]
    Malformed(String),
    #[error(
        "transfer syntax {name} ({uid}) is not supported; supported are uncompressed \
         (implicit/explicit VR little endian, explicit big endian), deflated, RLE Lossless \
         and JPEG baseline/extended/lossless: export the image uncompressed"
    )]
    UnsupportedTransferSyntax { uid: String, name: String },
    #[error("not an image: the DICOM object has no Pixel Data (SOP class {sop_class})")]
    NotAnImage { sop_class: String },
    #[error("{0} frames: multi-frame DICOM is not supported; export the one radiograph as a single frame")]
    MultiFrame(u32),
    #[error("colour DICOM ({photometric}, {samples} samples per pixel) is not supported: a radiograph is MONOCHROME1 or MONOCHROME2")]
    Colour { photometric: String, samples: u16 },
    #[error("{0}")]
    Unsupported(String),
    #[error("image {0}")]
    TooLarge(String),
    #[error("pixel data: {0}")]
    PixelData(String),
}

/// How the stored values were mapped to grey ([`DicomInfo::voi`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Voi {
    /// Window Center/Width with its VOI LUT Function.
    Window {
        center: f64,
        width: f64,
        function: String,
    },
    /// The first item of the VOI LUT Sequence.
    Lut { entries: usize },
    /// No VOI in the file: the image's own minimum and maximum.
    MinMax { min: f64, max: f64 },
}

/// What the file said about its pixels (no patient, study or institution
/// attribute: these are never read).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DicomInfo {
    pub transfer_syntax_uid: String,
    pub transfer_syntax: String,
    /// Modality (0008,0060), e.g. "DX", "CR".
    pub modality: Option<String>,
    pub photometric: String,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub signed: bool,
    pub rescale_slope: f64,
    pub rescale_intercept: f64,
    pub voi: Voi,
    /// Why the file's spacing was not used, when it has one that is unusable
    /// (non-square pixels, a zero or negative value).
    pub spacing_note: Option<String>,
}

/// A decoded DICOM radiograph.
#[derive(Clone, Debug, PartialEq)]
pub struct DicomImage {
    pub image: GreyImage,
    /// From Pixel Spacing, else Imager Pixel Spacing (corrected by the
    /// Estimated Radiographic Magnification Factor when present).
    pub spacing: Option<Spacing>,
    pub info: DicomInfo,
}

/// Whether `bytes` are a DICOM Part 10 file ("DICM" after the preamble).
pub fn is_dicom(bytes: &[u8]) -> bool {
    bytes.get(128..132) == Some(b"DICM")
}

/// Decodes a DICOM file's bytes, refusing images over `max_pixels` by their
/// declared Rows × Columns before any pixel is decoded.
pub fn decode_dicom(bytes: &[u8], max_pixels: u64) -> Result<DicomImage, DicomError> {
    if !is_dicom(bytes) {
        return Err(DicomError::NotDicom);
    }
    // The meta group first: the transfer syntax decides whether the rest is
    // worth parsing at all.
    let meta = dicom_object::meta::FileMetaTable::from_reader(&bytes[128..])
        .map_err(|e| DicomError::Malformed(format!("file meta group: {e}")))?;
    let uid = meta.transfer_syntax().to_string();
    let name = SUPPORTED_TRANSFER_SYNTAXES
        .iter()
        .find(|(u, _)| *u == uid)
        .map(|(_, n)| n.to_string());
    let Some(ts_name) = name else {
        let name = TransferSyntaxRegistry
            .get(&uid)
            .map(|ts| ts.name().to_string())
            .unwrap_or_else(|| "unknown".into());
        return Err(DicomError::UnsupportedTransferSyntax { uid, name });
    };
    let obj: DefaultDicomObject = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Never)
        .from_reader(&bytes[128..])
        .map_err(|e| DicomError::Malformed(e.to_string()))?;

    let text = |tag| -> Option<String> {
        obj.element_opt(tag)
            .ok()
            .flatten()
            .and_then(|e| e.to_str().ok())
            .map(|s| {
                s.trim_matches(|c: char| c.is_whitespace() || c == '\0')
                    .to_string()
            })
            .filter(|s| !s.is_empty())
    };
    let int = |tag, what: &str| -> Result<Option<i64>, DicomError> {
        match obj.element_opt(tag) {
            Ok(Some(e)) => e
                .to_int::<i64>()
                .map(Some)
                .map_err(|_| DicomError::Malformed(format!("{what} is not a number"))),
            _ => Ok(None),
        }
    };
    if obj.element_opt(tags::PIXEL_DATA).ok().flatten().is_none() {
        return Err(DicomError::NotAnImage {
            sop_class: text(tags::SOP_CLASS_UID)
                .unwrap_or_else(|| meta.media_storage_sop_class_uid().to_string()),
        });
    }
    let frames = int(tags::NUMBER_OF_FRAMES, "Number of Frames")?.unwrap_or(1);
    if frames != 1 {
        return Err(DicomError::MultiFrame(
            frames.clamp(0, u32::MAX as i64) as u32
        ));
    }
    let samples = int(tags::SAMPLES_PER_PIXEL, "Samples per Pixel")?.unwrap_or(1);
    let photometric = text(tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_default();
    if samples != 1 || !matches!(photometric.as_str(), "MONOCHROME1" | "MONOCHROME2") {
        return Err(DicomError::Colour {
            photometric: if photometric.is_empty() {
                "no Photometric Interpretation".into()
            } else {
                photometric
            },
            samples: samples.clamp(0, u16::MAX as i64) as u16,
        });
    }
    let rows = int(tags::ROWS, "Rows")?.ok_or_else(|| DicomError::Malformed("no Rows".into()))?;
    let cols =
        int(tags::COLUMNS, "Columns")?.ok_or_else(|| DicomError::Malformed("no Columns".into()))?;
    if rows <= 0 || cols <= 0 {
        return Err(DicomError::Malformed(format!(
            "image {cols}x{rows} has no pixels"
        )));
    }
    check_pixel_count(cols as u64, rows as u64, max_pixels).map_err(DicomError::TooLarge)?;
    let bits_allocated = int(tags::BITS_ALLOCATED, "Bits Allocated")?.unwrap_or(0);
    let bits_stored = int(tags::BITS_STORED, "Bits Stored")?.unwrap_or(bits_allocated);
    if !matches!(bits_allocated, 8 | 16) || !(1..=bits_allocated).contains(&bits_stored) {
        return Err(DicomError::Unsupported(format!(
            "{bits_stored} bits stored in {bits_allocated} allocated: supported are 8 or 16 bits \
             allocated with 1 to 16 stored"
        )));
    }
    let signed = int(tags::PIXEL_REPRESENTATION, "Pixel Representation")?.unwrap_or(0) == 1;
    let float = |tag, what: &str| -> Result<Option<f64>, DicomError> {
        match obj.element_opt(tag) {
            Ok(Some(e)) => match e.to_multi_float64() {
                Ok(v) if v.first().is_some_and(|x| x.is_finite()) => Ok(Some(v[0])),
                Ok(v) if v.is_empty() => Ok(None),
                _ => Err(DicomError::Malformed(format!("{what} is not a number"))),
            },
            _ => Ok(None),
        }
    };
    let slope = float(tags::RESCALE_SLOPE, "Rescale Slope")?.unwrap_or(1.0);
    let intercept = float(tags::RESCALE_INTERCEPT, "Rescale Intercept")?.unwrap_or(0.0);
    if slope == 0.0 {
        return Err(DicomError::Malformed("Rescale Slope is 0".into()));
    }

    let (w, h) = (cols as usize, rows as usize);
    let n = w * h;
    let bytes_per = (bits_allocated / 8) as usize;
    if uid == RLE_LOSSLESS {
        let fragments = obj
            .element(tags::PIXEL_DATA)
            .ok()
            .and_then(|e| e.fragments())
            .ok_or_else(|| DicomError::PixelData("RLE pixel data is not encapsulated".into()))?;
        let [fragment] = fragments else {
            return Err(DicomError::PixelData(format!(
                "{} RLE fragments for one frame; expected one",
                fragments.len()
            )));
        };
        check_rle(fragment, n, bytes_per)?;
    }
    // Decode (RLE, JPEG, …) only now that the size is known to be allowed.
    let decoded = obj
        .decode_pixel_data()
        .map_err(|e| DicomError::PixelData(e.to_string()))?;
    let data = decoded.data();
    if data.len() < n * bytes_per {
        return Err(DicomError::PixelData(format!(
            "{} bytes of pixel data for a {w}x{h} image of {bits_allocated}-bit samples, \
             which needs {}",
            data.len(),
            n * bytes_per
        )));
    }
    // Stored values: the low `bits_stored` bits, sign-extended when signed.
    let shift = 32 - bits_stored as u32;
    let stored = |i: usize| -> f64 {
        let raw = if bytes_per == 1 {
            data[i] as u32
        } else {
            u16::from_le_bytes([data[2 * i], data[2 * i + 1]]) as u32
        };
        if signed {
            (((raw << shift) as i32) >> shift) as f64
        } else {
            ((raw << shift) >> shift) as f64
        }
    };
    // Modality values, computed where needed rather than stored: a
    // 4000 × 5000 image would need 160 MB as f64.
    let modality = |i: usize| slope * stored(i) + intercept;
    let (voi, lut) = voi_of(&obj, || (0..n).map(modality))?;
    let invert = photometric == "MONOCHROME1";
    let out: Vec<f32> = (0..n)
        .map(|i| {
            let x = modality(i);
            let v = match (&voi, &lut) {
                (_, Some(l)) => l.apply(x),
                (
                    Voi::Window {
                        center,
                        width,
                        function,
                    },
                    _,
                ) => window(x, *center, *width, function),
                (Voi::MinMax { min, max }, _) if max > min => (x - min) / (max - min),
                _ => 0.0,
            };
            let v = v.clamp(0.0, 1.0) as f32;
            if invert {
                1.0 - v
            } else {
                v
            }
        })
        .collect();
    drop(decoded);
    let (spacing, spacing_note) = spacing_of(&obj);
    Ok(DicomImage {
        image: GreyImage::new(w, h, out).map_err(|e| DicomError::PixelData(e.to_string()))?,
        spacing,
        info: DicomInfo {
            transfer_syntax_uid: uid,
            transfer_syntax: ts_name,
            modality: text(tags::MODALITY),
            photometric,
            bits_allocated: bits_allocated as u16,
            bits_stored: bits_stored as u16,
            signed,
            rescale_slope: slope,
            rescale_intercept: intercept,
            voi,
            spacing_note,
        },
    })
}

const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";

/// Checks an RLE Lossless fragment (PS3.5 G) before dicom-rs decodes it:
/// its decoder indexes the header and the decoded segments without bounds
/// checks, so a short or lying fragment would panic (a trap in wasm). The
/// header must list a segment per byte of the sample at offsets inside the
/// fragment, and each segment must unpack to at least `pixels` bytes.
fn check_rle(fragment: &[u8], pixels: usize, bytes_per: usize) -> Result<(), DicomError> {
    let bad = |what: String| DicomError::PixelData(format!("RLE: {what}"));
    let u32_at = |at: usize| {
        fragment
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    if fragment.len() < 64 {
        return Err(bad(format!(
            "a fragment of {} bytes has no 64-byte header",
            fragment.len()
        )));
    }
    let segments = u32_at(0).unwrap_or(0);
    if segments != bytes_per {
        return Err(bad(format!(
            "{segments} segments for samples of {bytes_per} byte(s)"
        )));
    }
    let mut offsets: Vec<usize> = (0..segments)
        .map(|i| u32_at(4 + 4 * i).unwrap_or(usize::MAX))
        .collect();
    offsets.push(fragment.len());
    for (i, pair) in offsets.windows(2).enumerate() {
        let (start, end) = (pair[0], pair[1]);
        if !(64 <= start && start <= end && end <= fragment.len()) {
            return Err(bad(format!("segment {} lies outside the fragment", i + 1)));
        }
        let unpacked = packbits_len(&fragment[start..end]);
        if unpacked < pixels {
            return Err(bad(format!(
                "segment {} unpacks to {unpacked} bytes for {pixels} pixels",
                i + 1
            )));
        }
    }
    Ok(())
}

/// How many bytes a PackBits segment unpacks to (a cut run counts what is
/// there, as dicom-rs's reader does; a repeat run without its byte, none).
fn packbits_len(seg: &[u8]) -> usize {
    let (mut i, mut out) = (0usize, 0usize);
    while i < seg.len() {
        let h = seg[i] as i8;
        i += 1;
        if h >= 0 {
            let n = (h as usize + 1).min(seg.len() - i);
            out += n;
            i += n;
        } else if h != -128 {
            if i >= seg.len() {
                break;
            }
            out += (1 - h as isize) as usize;
            i += 1;
        }
    }
    out
}

/// The VOI transform the file asks for, else min–max of the values.
fn voi_of<I: Iterator<Item = f64>>(
    obj: &InMemDicomObject,
    values: impl FnOnce() -> I,
) -> Result<(Voi, Option<Lut>), DicomError> {
    if let Ok(Some(seq)) = obj.element_opt(tags::VOILUT_SEQUENCE) {
        if let Some(item) = seq.items().and_then(|i| i.first()) {
            let lut = lut_from(item)?;
            return Ok((
                Voi::Lut {
                    entries: lut.data.len(),
                },
                Some(lut),
            ));
        }
    }
    let first = |tag| -> Option<f64> {
        obj.element_opt(tag)
            .ok()
            .flatten()
            .and_then(|e| e.to_multi_float64().ok())
            .and_then(|v| v.first().copied())
            .filter(|v| v.is_finite())
    };
    if let (Some(center), Some(width)) = (first(tags::WINDOW_CENTER), first(tags::WINDOW_WIDTH)) {
        let function = obj
            .element_opt(tags::VOILUT_FUNCTION)
            .ok()
            .flatten()
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim().to_uppercase())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "LINEAR".into());
        if !matches!(function.as_str(), "LINEAR" | "LINEAR_EXACT" | "SIGMOID") {
            return Err(DicomError::Unsupported(format!(
                "VOI LUT Function {function:?} (known are LINEAR, LINEAR_EXACT, SIGMOID)"
            )));
        }
        let min_width = if function == "LINEAR" { 1.0 } else { 0.0 };
        if width >= min_width && width > 0.0 {
            return Ok((
                Voi::Window {
                    center,
                    width,
                    function,
                },
                None,
            ));
        }
    }
    let (min, max) = values().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    Ok((Voi::MinMax { min, max }, None))
}

/// PS3.3 C.11.2.1.2 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT) and C.11.2.1.3.1
/// (SIGMOID), to [0, 1].
fn window(x: f64, c: f64, w: f64, function: &str) -> f64 {
    match function {
        "LINEAR_EXACT" => (x - c) / w + 0.5,
        "SIGMOID" => 1.0 / (1.0 + (-4.0 * (x - c) / w).exp()),
        _ => {
            if x <= c - 0.5 - (w - 1.0) / 2.0 {
                0.0
            } else if x > c - 0.5 + (w - 1.0) / 2.0 {
                1.0
            } else {
                ((x - (c - 0.5)) / (w - 1.0)) + 0.5
            }
        }
    }
}

/// One VOI LUT: values from `first` on map to `data[value - first]`, clamped
/// at both ends, out of `2^bits − 1`.
struct Lut {
    first: f64,
    data: Vec<f64>,
    max: f64,
}

impl Lut {
    fn apply(&self, x: f64) -> f64 {
        let i = (x - self.first)
            .round()
            .clamp(0.0, (self.data.len() - 1) as f64) as usize;
        self.data[i] / self.max
    }
}

fn lut_from(item: &InMemDicomObject) -> Result<Lut, DicomError> {
    let bad = |what: &str| DicomError::Malformed(format!("VOI LUT Sequence: {what}"));
    let desc: Vec<i64> = item
        .element_opt(tags::LUT_DESCRIPTOR)
        .ok()
        .flatten()
        .and_then(|e| e.to_multi_int::<i64>().ok())
        .ok_or_else(|| bad("no LUT Descriptor"))?;
    let [n, first, bits] = desc[..] else {
        return Err(bad("the LUT Descriptor needs three values"));
    };
    // PS3.3 C.11.2.1.1: 0 entries means 65536; the first value mapped is
    // signed when the pixels are (read here as given).
    let n = if n == 0 { 65536 } else { n as usize };
    if !(8..=16).contains(&bits) {
        return Err(bad("LUT Descriptor bits must be 8 to 16"));
    }
    let data: Vec<f64> = match item.element_opt(tags::LUT_DATA).ok().flatten() {
        Some(e) => {
            if let Ok(v) = e.to_multi_int::<u16>() {
                v.into_iter().map(f64::from).collect()
            } else {
                let b = e.to_bytes().map_err(|_| bad("unreadable LUT Data"))?;
                b.chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]) as f64)
                    .collect()
            }
        }
        None => return Err(bad("no LUT Data")),
    };
    if data.len() < n || n == 0 {
        return Err(bad(&format!(
            "{} LUT Data entries for {n} in the descriptor",
            data.len()
        )));
    }
    Ok(Lut {
        first: first as f64,
        data: data[..n].to_vec(),
        max: ((1u32 << bits) - 1) as f64,
    })
}

/// Relative difference up to which the row and column spacing count as
/// square pixels.
const SQUARE_TOLERANCE: f64 = 1e-3;

/// Pixel Spacing (0028,0030), else Imager Pixel Spacing (0018,1164) divided
/// by the Estimated Radiographic Magnification Factor (0018,5101) when it is
/// there; with a note when a spacing is present but unusable.
fn spacing_of(obj: &InMemDicomObject) -> (Option<Spacing>, Option<String>) {
    let pair = |tag| -> Option<Vec<f64>> {
        obj.element_opt(tag)
            .ok()
            .flatten()
            .and_then(|e| e.to_multi_float64().ok())
    };
    let square = |v: &[f64], what: &str| -> Result<f64, String> {
        let (r, c) = match v {
            [r, c, ..] => (*r, *c),
            [s] => (*s, *s),
            [] => return Err(format!("{what} is empty")),
        };
        if !(r.is_finite() && c.is_finite() && r > 0.0 && c > 0.0) {
            return Err(format!("{what} {r}\\{c} is not a positive spacing"));
        }
        if (r - c).abs() > SQUARE_TOLERANCE * r.max(c) {
            return Err(format!(
                "{what} {r}\\{c} mm: the pixels are not square, so no one scale applies; \
                 give the spacing"
            ));
        }
        Ok((r + c) / 2.0)
    };
    if let Some(v) = pair(tags::PIXEL_SPACING) {
        return match square(&v, "Pixel Spacing") {
            Ok(mm) => (
                Some(Spacing {
                    mm_per_px: mm,
                    source: SpacingSource::DicomPixelSpacing,
                }),
                None,
            ),
            Err(note) => (None, Some(note)),
        };
    }
    if let Some(v) = pair(tags::IMAGER_PIXEL_SPACING) {
        let mm = match square(&v, "Imager Pixel Spacing") {
            Ok(mm) => mm,
            Err(note) => return (None, Some(note)),
        };
        let factor = pair(tags::ESTIMATED_RADIOGRAPHIC_MAGNIFICATION_FACTOR)
            .and_then(|v| v.first().copied());
        return match factor {
            Some(f) if f.is_finite() && f > 0.0 => (
                Some(Spacing {
                    mm_per_px: mm / f,
                    source: SpacingSource::DicomImagerPixelSpacingCorrected,
                }),
                None,
            ),
            Some(f) => (
                Some(Spacing {
                    mm_per_px: mm,
                    source: SpacingSource::DicomImagerPixelSpacing,
                }),
                Some(format!(
                    "Estimated Radiographic Magnification Factor {f} is not positive: \
                     the Imager Pixel Spacing is used uncorrected"
                )),
            ),
            None => (
                Some(Spacing {
                    mm_per_px: mm,
                    source: SpacingSource::DicomImagerPixelSpacing,
                }),
                None,
            ),
        };
    }
    (None, None)
}
