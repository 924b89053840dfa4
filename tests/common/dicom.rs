//! DICOM files made by the tests with dicom-rs's own writer (no binary
//! fixtures): a grey radiograph with the attributes each case needs, in any
//! transfer syntax; encapsulated ones (RLE, JPEG) are encoded here.
//! Included with `#[path]` by tests/dicom.rs, tests/web.rs and the hostile
//! corpus.
#![allow(dead_code)]
use dicom_core::value::{DataSetSequence, PixelFragmentSequence};
use dicom_core::{DataElement, Length, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

pub const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
pub const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
pub const DEFLATED_LE: &str = "1.2.840.10008.1.2.1.99";
pub const EXPLICIT_BE: &str = "1.2.840.10008.1.2.2";
pub const RLE: &str = "1.2.840.10008.1.2.5";
pub const JPEG_BASELINE: &str = "1.2.840.10008.1.2.4.50";
pub const JPEG_2000: &str = "1.2.840.10008.1.2.4.90";
pub const JPEG_LS: &str = "1.2.840.10008.1.2.4.80";

/// The patient a test file names: no export may contain these.
pub const PATIENT_NAME: &str = "DOE^JANE^SECRET";
pub const PATIENT_ID: &str = "PID-0042-SECRET";

/// What one test file holds.
#[derive(Clone, Debug)]
pub struct Spec {
    pub width: usize,
    pub height: usize,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub signed: bool,
    pub photometric: &'static str,
    pub samples: u16,
    pub frames: Option<u32>,
    /// Stored values, row-major (`width × height × samples × frames`).
    pub values: Vec<i32>,
    pub transfer_syntax: &'static str,
    pub pixel_spacing: Option<[f64; 2]>,
    pub imager_spacing: Option<[f64; 2]>,
    pub magnification: Option<f64>,
    pub window: Option<(f64, f64)>,
    pub voi_function: Option<&'static str>,
    pub rescale: Option<(f64, f64)>,
    /// VOI LUT Sequence item: first value mapped, bits, data.
    pub voi_lut: Option<(i32, u16, Vec<u16>)>,
    pub pixel_data: bool,
}

impl Spec {
    /// A 16-bit (12 stored) MONOCHROME2 gradient with a bright square.
    pub fn grey16(width: usize, height: usize) -> Self {
        let values = (0..width * height)
            .map(|i| {
                let (x, y) = (i % width, i / width);
                let inside = x > width / 3 && x < width / 2 && y > height / 3 && y < height / 2;
                if inside {
                    4000
                } else {
                    ((x + y) * 3000 / (width + height)) as i32
                }
            })
            .collect();
        Self {
            width,
            height,
            bits_allocated: 16,
            bits_stored: 12,
            signed: false,
            photometric: "MONOCHROME2",
            samples: 1,
            frames: None,
            values,
            transfer_syntax: EXPLICIT_LE,
            pixel_spacing: None,
            imager_spacing: None,
            magnification: None,
            window: None,
            voi_function: None,
            rescale: None,
            voi_lut: None,
            pixel_data: true,
        }
    }

    /// The same picture in 8 bits.
    pub fn grey8(width: usize, height: usize) -> Self {
        let mut s = Self::grey16(width, height);
        s.bits_allocated = 8;
        s.bits_stored = 8;
        s.values = s.values.iter().map(|v| v * 255 / 4000).collect();
        s
    }

    /// Stored values as the bytes of native pixel data (little endian).
    fn native_bytes(&self) -> Vec<u8> {
        if self.bits_allocated == 8 {
            self.values.iter().map(|&v| v as u8).collect()
        } else {
            self.values
                .iter()
                .flat_map(|&v| (v as u16).to_le_bytes())
                .collect()
        }
    }

    /// The DICOM file's bytes (preamble, meta group, data set).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut obj = InMemDicomObject::new_empty();
        let s = |obj: &mut InMemDicomObject, tag, vr, v: &str| {
            obj.put(DataElement::new(tag, vr, PrimitiveValue::from(v)));
        };
        let us = |obj: &mut InMemDicomObject, tag, v: u16| {
            obj.put(DataElement::new(tag, VR::US, PrimitiveValue::from(v)));
        };
        let ds = |obj: &mut InMemDicomObject, tag, v: &[f64]| {
            let text: Vec<String> = v.iter().map(|x| format!("{x}")).collect();
            obj.put(DataElement::new(
                tag,
                VR::DS,
                PrimitiveValue::from(text.join("\\").as_str()),
            ));
        };
        // Digital X-Ray Image Storage - For Presentation.
        s(
            &mut obj,
            tags::SOP_CLASS_UID,
            VR::UI,
            "1.2.840.10008.5.1.4.1.1.1.1",
        );
        s(
            &mut obj,
            tags::SOP_INSTANCE_UID,
            VR::UI,
            "1.2.826.0.1.3680043.2.1125.1.42",
        );
        s(&mut obj, tags::MODALITY, VR::CS, "DX");
        s(&mut obj, tags::PATIENT_NAME, VR::PN, PATIENT_NAME);
        s(&mut obj, tags::PATIENT_ID, VR::LO, PATIENT_ID);
        s(&mut obj, tags::PATIENT_BIRTH_DATE, VR::DA, "19800101");
        s(&mut obj, tags::INSTITUTION_NAME, VR::LO, "SECRET HOSPITAL");
        us(&mut obj, tags::SAMPLES_PER_PIXEL, self.samples);
        s(
            &mut obj,
            tags::PHOTOMETRIC_INTERPRETATION,
            VR::CS,
            self.photometric,
        );
        us(&mut obj, tags::ROWS, self.height as u16);
        us(&mut obj, tags::COLUMNS, self.width as u16);
        us(&mut obj, tags::BITS_ALLOCATED, self.bits_allocated);
        us(&mut obj, tags::BITS_STORED, self.bits_stored);
        us(&mut obj, tags::HIGH_BIT, self.bits_stored.saturating_sub(1));
        us(&mut obj, tags::PIXEL_REPRESENTATION, self.signed as u16);
        if self.samples > 1 {
            us(&mut obj, tags::PLANAR_CONFIGURATION, 0);
        }
        if let Some(f) = self.frames {
            s(&mut obj, tags::NUMBER_OF_FRAMES, VR::IS, &f.to_string());
        }
        if let Some(p) = self.pixel_spacing {
            ds(&mut obj, tags::PIXEL_SPACING, &p);
        }
        if let Some(p) = self.imager_spacing {
            ds(&mut obj, tags::IMAGER_PIXEL_SPACING, &p);
        }
        if let Some(m) = self.magnification {
            ds(
                &mut obj,
                tags::ESTIMATED_RADIOGRAPHIC_MAGNIFICATION_FACTOR,
                &[m],
            );
        }
        if let Some((c, w)) = self.window {
            ds(&mut obj, tags::WINDOW_CENTER, &[c]);
            ds(&mut obj, tags::WINDOW_WIDTH, &[w]);
        }
        if let Some(f) = self.voi_function {
            s(&mut obj, tags::VOILUT_FUNCTION, VR::CS, f);
        }
        if let Some((slope, intercept)) = self.rescale {
            ds(&mut obj, tags::RESCALE_SLOPE, &[slope]);
            ds(&mut obj, tags::RESCALE_INTERCEPT, &[intercept]);
        }
        if let Some((first, bits, data)) = &self.voi_lut {
            let mut item = InMemDicomObject::new_empty();
            item.put(DataElement::new(
                tags::LUT_DESCRIPTOR,
                VR::US,
                PrimitiveValue::U16(
                    [data.len() as u16, *first as u16, *bits]
                        .into_iter()
                        .collect(),
                ),
            ));
            item.put(DataElement::new(
                tags::LUT_DATA,
                VR::US,
                PrimitiveValue::U16(data.iter().copied().collect()),
            ));
            obj.put(DataElement::new(
                tags::VOILUT_SEQUENCE,
                VR::SQ,
                DataSetSequence::new(vec![item], Length::UNDEFINED),
            ));
        }
        if self.pixel_data {
            match self.transfer_syntax {
                RLE => obj.put(DataElement::new(
                    tags::PIXEL_DATA,
                    VR::OB,
                    PixelFragmentSequence::new(vec![], vec![self.rle()]),
                )),
                JPEG_BASELINE => obj.put(DataElement::new(
                    tags::PIXEL_DATA,
                    VR::OB,
                    PixelFragmentSequence::new(vec![], vec![self.jpeg()]),
                )),
                _ if self.bits_allocated == 16 => obj.put(DataElement::new(
                    tags::PIXEL_DATA,
                    VR::OW,
                    PrimitiveValue::U16(self.values.iter().map(|&v| v as u16).collect()),
                )),
                _ => obj.put(DataElement::new(
                    tags::PIXEL_DATA,
                    VR::OB,
                    PrimitiveValue::U8(self.native_bytes().into_iter().collect()),
                )),
            };
        }
        let file = obj
            .with_meta(FileMetaTableBuilder::new().transfer_syntax(self.transfer_syntax))
            .expect("meta group");
        let mut out = Vec::new();
        file.write_all(&mut out).expect("write DICOM");
        out
    }

    /// RLE Lossless (PS3.5 G): one segment per byte of the sample, most
    /// significant first, each row as literal runs of up to 128 bytes.
    fn rle(&self) -> Vec<u8> {
        let bytes_per = (self.bits_allocated / 8) as usize;
        let native = self.native_bytes();
        let mut segments: Vec<Vec<u8>> = Vec::new();
        for b in (0..bytes_per).rev() {
            let plane: Vec<u8> = native.chunks(bytes_per).map(|px| px[b]).collect();
            let mut seg = Vec::new();
            for row in plane.chunks(self.width) {
                for run in row.chunks(128) {
                    seg.push((run.len() - 1) as u8);
                    seg.extend_from_slice(run);
                }
            }
            if seg.len() % 2 == 1 {
                seg.push(0);
            }
            segments.push(seg);
        }
        let mut header = vec![0u8; 64];
        header[..4].copy_from_slice(&(segments.len() as u32).to_le_bytes());
        let mut offset = 64u32;
        for (i, seg) in segments.iter().enumerate() {
            header[4 + 4 * i..8 + 4 * i].copy_from_slice(&offset.to_le_bytes());
            offset += seg.len() as u32;
        }
        let mut out = header;
        for seg in segments {
            out.extend(seg);
        }
        out
    }

    /// Baseline JPEG of 8-bit grey values (image's encoder, quality 95).
    fn jpeg(&self) -> Vec<u8> {
        assert_eq!(self.bits_allocated, 8, "baseline JPEG holds 8 bits");
        let buf =
            image::GrayImage::from_raw(self.width as u32, self.height as u32, self.native_bytes())
                .unwrap();
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
            .encode_image(&buf)
            .unwrap();
        if out.len() % 2 == 1 {
            out.push(0);
        }
        out
    }
}

/// The file of the DICOM detection fixture (native and browser detect it).
pub fn fixture_file() -> Vec<u8> {
    let mut s = Spec::grey16(192, 240);
    s.transfer_syntax = RLE;
    s.photometric = "MONOCHROME1";
    s.imager_spacing = Some([0.55, 0.55]);
    s.magnification = Some(1.1);
    s.window = Some((2000.0, 4000.0));
    s.to_bytes()
}
