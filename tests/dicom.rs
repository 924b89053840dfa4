//! DICOM input (`data::formats::dicom`): every transfer syntax this build
//! decodes, those it refuses by name, the spacing attributes and where the
//! document says the scale came from, the grey pipeline (rescale, window,
//! VOI LUT, MONOCHROME1, signed and 8/16-bit samples), refused objects
//! (multi-frame, colour, no pixels), malformed and truncated files (errors,
//! no panic), patient identifiers kept out of the document, and big images
//! (4000 × 5000, 16 bits, DICOM and PNG) detected within memory. The files
//! are made here with dicom-rs's writer (tests/common/dicom.rs).
#![cfg(all(feature = "model", not(target_arch = "wasm32")))]
use fairmark::data::formats::dicom::{decode_dicom, DicomError, Voi};
use fairmark::data::formats::image_io::{
    decode_image_named, decode_radiograph, load_radiograph, DEFAULT_MAX_PIXELS,
};
use fairmark::detection::pipeline::{DetectOptions, Pixels};
use fairmark::measure::{Spacing, SpacingSource};
use fairmark::model::{Landmarker, Runtime};
use std::path::Path;

mod common;
#[path = "common/dicom.rs"]
mod dicom_files;
use dicom_files::*;

fn decode(spec: &Spec) -> Result<fairmark::data::formats::dicom::DicomImage, DicomError> {
    decode_dicom(&spec.to_bytes(), DEFAULT_MAX_PIXELS)
}

fn ceph_model() -> Landmarker {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Landmarker::load_dir(&root.join("models/ceph-unet-phantom"), Runtime::cpu("test")).unwrap()
}

#[test]
fn every_lossless_transfer_syntax_gives_the_same_image() {
    let base = Spec::grey16(37, 23);
    let reference = decode(&base).unwrap();
    assert_eq!((reference.image.width, reference.image.height), (37, 23));
    assert_eq!(reference.info.transfer_syntax, "Explicit VR Little Endian");
    for ts in [IMPLICIT_LE, DEFLATED_LE, EXPLICIT_BE, RLE] {
        let mut s = base.clone();
        s.transfer_syntax = ts;
        let d = decode(&s).unwrap_or_else(|e| panic!("{ts}: {e}"));
        assert_eq!(d.image, reference.image, "{ts}");
        assert_eq!(d.info.transfer_syntax_uid, ts);
    }
    // 8-bit samples, native and RLE.
    let eight = Spec::grey8(37, 23);
    let r8 = decode(&eight).unwrap();
    let mut rle8 = eight.clone();
    rle8.transfer_syntax = RLE;
    assert_eq!(decode(&rle8).unwrap().image, r8.image);
}

#[test]
fn baseline_jpeg_decodes_close_to_the_original() {
    let mut s = Spec::grey8(64, 48);
    let plain = decode(&s).unwrap();
    s.transfer_syntax = JPEG_BASELINE;
    let d = decode(&s).unwrap();
    assert_eq!(d.info.transfer_syntax, "JPEG Baseline (Process 1)");
    let worst = plain
        .image
        .data
        .iter()
        .zip(&d.image.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 0.15, "JPEG differs by {worst}");
}

#[test]
fn other_transfer_syntaxes_are_refused_by_name() {
    for (ts, name) in [
        (JPEG_2000, "JPEG 2000 Image Compression (Lossless Only)"),
        (JPEG_LS, "JPEG-LS Lossless Image Compression"),
    ] {
        let mut s = Spec::grey16(8, 8);
        s.transfer_syntax = ts;
        let e = decode(&s).unwrap_err();
        assert!(
            matches!(&e, DicomError::UnsupportedTransferSyntax { uid, .. } if uid == ts),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(msg.contains(name) && msg.contains(ts), "{msg}");
        assert!(msg.contains("not supported"), "{msg}");
    }
}

#[test]
fn spacing_comes_from_pixel_spacing_else_imager_spacing_and_magnification() {
    let mut s = Spec::grey16(8, 8);
    assert_eq!(decode(&s).unwrap().spacing, None);
    s.imager_spacing = Some([0.143, 0.143]);
    assert_eq!(
        decode(&s).unwrap().spacing,
        Some(Spacing {
            mm_per_px: 0.143,
            source: SpacingSource::DicomImagerPixelSpacing
        })
    );
    s.magnification = Some(1.1);
    let d = decode(&s).unwrap().spacing.unwrap();
    assert_eq!(d.source, SpacingSource::DicomImagerPixelSpacingCorrected);
    assert!((d.mm_per_px - 0.13).abs() < 1e-12, "{d:?}");
    s.pixel_spacing = Some([0.1, 0.1]);
    assert_eq!(
        decode(&s).unwrap().spacing,
        Some(Spacing {
            mm_per_px: 0.1,
            source: SpacingSource::DicomPixelSpacing
        })
    );
    // Non-square pixels: no single scale, and the note says why.
    s.pixel_spacing = Some([0.1, 0.2]);
    let d = decode(&s).unwrap();
    assert_eq!(d.spacing, None);
    assert!(d.info.spacing_note.unwrap().contains("not square"));
    s.pixel_spacing = Some([0.0, 0.0]);
    let d = decode(&s).unwrap();
    assert_eq!(d.spacing, None);
    assert!(d.info.spacing_note.unwrap().contains("not a positive"));
}

#[test]
fn grey_pipeline_rescale_window_lut_and_monochrome1() {
    // Window 2000 ± 500 on values rescaled by 2x − 1000.
    let mut s = Spec::grey16(4, 1);
    s.values = vec![0, 1000, 1500, 4095];
    s.rescale = Some((2.0, -1000.0));
    s.window = Some((2000.0, 1001.0));
    let d = decode(&s).unwrap();
    // Modality: −1000, 1000, 2000, 7190 → below, below, centre, above.
    assert_eq!(d.image.data[0], 0.0);
    assert_eq!(d.image.data[1], 0.0);
    assert!((d.image.data[2] - 0.5).abs() < 1e-3, "{:?}", d.image.data);
    assert_eq!(d.image.data[3], 1.0);
    assert!(matches!(d.info.voi, Voi::Window { .. }));
    // MONOCHROME1: the same picture, inverted.
    s.photometric = "MONOCHROME1";
    let inv = decode(&s).unwrap();
    for (a, b) in d.image.data.iter().zip(&inv.image.data) {
        assert!((a + b - 1.0).abs() < 1e-6);
    }
    // Without a window: min–max of the modality values.
    let mut s = Spec::grey16(3, 1);
    s.values = vec![100, 200, 300];
    let d = decode(&s).unwrap();
    assert_eq!(d.image.data, vec![0.0, 0.5, 1.0]);
    assert!(matches!(d.info.voi, Voi::MinMax { .. }));
    // SIGMOID: the centre maps to one half.
    s.window = Some((200.0, 100.0));
    s.voi_function = Some("SIGMOID");
    assert!((decode(&s).unwrap().image.data[1] - 0.5).abs() < 1e-6);
    // A VOI LUT wins over the window: values 100.. map through the table.
    s.voi_lut = Some((100, 16, (0..=200).map(|i| (i * 300) as u16).collect()));
    let d = decode(&s).unwrap();
    assert!(matches!(d.info.voi, Voi::Lut { entries: 201 }));
    assert_eq!(d.image.data[0], 0.0);
    assert!((d.image.data[1] - (100.0 * 300.0 / 65535.0)).abs() < 1e-6);
    assert!((d.image.data[2] - (200.0 * 300.0 / 65535.0)).abs() < 1e-6);
}

#[test]
fn signed_samples_are_sign_extended_from_bits_stored() {
    let mut s = Spec::grey16(3, 1);
    s.signed = true;
    s.bits_stored = 12;
    // −2048, 0, 2047 in 12-bit two's complement.
    s.values = vec![0x800, 0, 0x7ff];
    let d = decode(&s).unwrap();
    let Voi::MinMax { min, max } = d.info.voi else {
        panic!("{:?}", d.info.voi)
    };
    assert_eq!((min, max), (-2048.0, 2047.0));
    assert_eq!(d.image.data[0], 0.0);
    assert_eq!(d.image.data[2], 1.0);
}

#[test]
fn multi_frame_colour_and_non_image_objects_are_refused() {
    let mut s = Spec::grey16(4, 4);
    s.frames = Some(2);
    s.values = [s.values.clone(), s.values.clone()].concat();
    let e = decode(&s).unwrap_err().to_string();
    assert!(e.contains("2 frames") && e.contains("multi-frame"), "{e}");

    let mut s = Spec::grey8(4, 4);
    s.photometric = "RGB";
    s.samples = 3;
    s.values = s.values.iter().flat_map(|&v| [v, v, v]).collect();
    let e = decode(&s).unwrap_err().to_string();
    assert!(e.contains("colour DICOM (RGB, 3 samples"), "{e}");

    let mut s = Spec::grey16(4, 4);
    s.pixel_data = false;
    let e = decode(&s).unwrap_err().to_string();
    assert!(
        e.contains("not an image") && e.contains("1.2.840.10008.5.1.4.1.1.1.1"),
        "{e}"
    );

    let mut s = Spec::grey16(4, 4);
    s.bits_allocated = 32;
    s.bits_stored = 32;
    let e = decode(&s).unwrap_err().to_string();
    assert!(e.contains("32 bits stored in 32 allocated"), "{e}");
}

#[test]
fn malformed_and_truncated_files_are_errors_not_panics() {
    let bytes = Spec::grey16(16, 16).to_bytes();
    // Every cut through the meta group and header, and a few in the pixels.
    let cuts: Vec<usize> = (0..bytes.len().min(700))
        .chain((700..bytes.len()).step_by(37))
        .collect();
    for cut in cuts {
        let r = std::panic::catch_unwind(|| decode_dicom(&bytes[..cut], DEFAULT_MAX_PIXELS));
        match r {
            Ok(Ok(_)) => panic!("a file cut at {cut} of {} decoded", bytes.len()),
            Ok(Err(_)) => {}
            Err(_) => panic!("panic on a file cut at {cut}"),
        }
    }
    // Flipped bytes after the preamble: an error or an image, never a panic.
    for at in (132..bytes.len().min(600)).step_by(3) {
        let mut b = bytes.clone();
        b[at] ^= 0xff;
        let r = std::panic::catch_unwind(|| decode_dicom(&b, DEFAULT_MAX_PIXELS));
        assert!(r.is_ok(), "panic with byte {at} flipped");
    }
    // RLE whose segments hold fewer pixels than the header declares, and
    // every cut of an RLE file: dicom-rs's RLE decoder would index past its
    // buffers, so these are checked first (errors, not panics or traps).
    let mut short = Spec::grey16(16, 16);
    short.transfer_syntax = RLE;
    short.values.truncate(64);
    let e = decode(&short).unwrap_err().to_string();
    assert!(e.contains("RLE: segment 1 unpacks to"), "{e}");
    let mut rle = Spec::grey16(16, 16);
    rle.transfer_syntax = RLE;
    let rle = rle.to_bytes();
    let mut jpeg = Spec::grey8(16, 16);
    jpeg.transfer_syntax = JPEG_BASELINE;
    let jpeg = jpeg.to_bytes();
    for file in [&rle, &jpeg] {
        for cut in (300..file.len()).step_by(3) {
            let r = std::panic::catch_unwind(|| decode_dicom(&file[..cut], DEFAULT_MAX_PIXELS));
            assert!(r.is_ok(), "panic on an encapsulated file cut at {cut}");
        }
    }
    let e = decode_dicom(b"not dicom at all", DEFAULT_MAX_PIXELS).unwrap_err();
    assert_eq!(e, DicomError::NotDicom);
    // Through the one image decoder: the error names the file.
    let mut garbage = vec![0u8; 128];
    garbage.extend_from_slice(b"DICM");
    garbage.extend_from_slice(&[0xff; 64]);
    let e = decode_image_named(&garbage, Path::new("scan.dcm"), DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("scan.dcm: cannot read DICOM image: malformed DICOM"),
        "{e}"
    );
}

#[test]
fn rows_times_columns_over_the_cap_are_refused_before_decoding() {
    let s = Spec::grey16(100, 100);
    let e = decode_dicom(&s.to_bytes(), 9_999).unwrap_err().to_string();
    assert_eq!(e, "image 100x100 = 10000 pixels exceeds the limit of 9999");
    // Pixel data shorter than the header says.
    let mut short = Spec::grey16(100, 100);
    short.values.truncate(50 * 100);
    let e = decode(&short).unwrap_err().to_string();
    assert!(e.contains("pixel data"), "{e}");
}

#[test]
fn the_document_says_where_the_scale_came_from_and_names_no_patient() {
    let model = ceph_model();
    let mut s = Spec::grey16(192, 240);
    s.imager_spacing = Some([0.55, 0.55]);
    s.magnification = Some(1.1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.dcm");
    std::fs::write(&path, s.to_bytes()).unwrap();
    let r = load_radiograph(&path).unwrap();
    let options = DetectOptions {
        image_name: Some("x.dcm".into()),
        file_spacing: r.spacing,
        ..Default::default()
    };
    let det =
        futures_lite::future::block_on(model.detect(Pixels::Grey(&r.image), &options)).unwrap();
    assert_eq!(
        det.spacing_source,
        Some(SpacingSource::DicomImagerPixelSpacingCorrected)
    );
    assert!((det.mm_per_px.unwrap() - 0.5).abs() < 1e-12);
    let text = serde_json::to_string(&det).unwrap();
    assert!(text.contains("\"spacing_source\":\"dicom_imager_pixel_spacing_corrected\""));
    for secret in [PATIENT_NAME, PATIENT_ID, "DOE", "19800101", "SECRET"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // A dragged point keeps the file's scale; a typed spacing overrides it.
    let moved = det.relocate(&det.points(), None).unwrap();
    assert_eq!(moved.spacing_source, det.spacing_source);
    assert_eq!(moved.mm_per_px, det.mm_per_px);
    let typed = det.relocate(&det.points(), Some(0.1)).unwrap();
    assert_eq!(typed.spacing_source, Some(SpacingSource::Given));
    assert_eq!(
        typed.relocate(&det.points(), None).unwrap().spacing_source,
        det.spacing_source
    );
}

/// Peak resident memory of this process so far (Linux), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Item 5 of issue 15: a 4000 × 5000 16-bit radiograph, as DICOM and as
/// PNG, is decoded once into the grey image the letterbox samples (80 MB of
/// f32) and detected; the process stays far below a gigabyte and a half.
#[test]
fn a_4000_by_5000_sixteen_bit_image_detects_within_memory() {
    let model = ceph_model();
    let (w, h) = (4000usize, 5000usize);
    let mut s = Spec::grey16(w, h);
    s.pixel_spacing = Some([0.1, 0.1]);
    let bytes = s.to_bytes();
    drop(s);
    let r = decode_radiograph(&bytes, Path::new("big.dcm"), DEFAULT_MAX_PIXELS).unwrap();
    drop(bytes);
    let options = DetectOptions {
        file_spacing: r.spacing,
        ..Default::default()
    };
    let det =
        futures_lite::future::block_on(model.detect(Pixels::Grey(&r.image), &options)).unwrap();
    assert_eq!((det.image.width, det.image.height), (w, h));
    assert_eq!(det.spacing_source, Some(SpacingSource::DicomPixelSpacing));
    drop(r);

    let png = {
        let buf = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_fn(
            w as u32,
            h as u32,
            |x, y| image::Luma([((x + y) * 7) as u16]),
        );
        let mut out = std::io::Cursor::new(Vec::new());
        buf.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let r = decode_radiograph(&png, Path::new("big.png"), DEFAULT_MAX_PIXELS).unwrap();
    drop(png);
    let det = futures_lite::future::block_on(
        model.detect(Pixels::Grey(&r.image), &DetectOptions::default()),
    )
    .unwrap();
    assert_eq!((det.image.width, det.image.height), (w, h));
    if let Some(peak) = peak_rss() {
        assert!(peak < 1536 << 20, "peak memory {} MiB", peak >> 20);
        eprintln!("peak resident memory: {} MiB", peak >> 20);
    }
}

/// The native detection of `fixture_file()` that tests/web.rs must
/// reproduce in the browser (`Model.detectFile`); FAIRMARK_BLESS=1 rewrites it.
#[test]
fn dicom_detection_fixture_is_current() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.dcm");
    std::fs::write(&path, fixture_file()).unwrap();
    let r = load_radiograph(&path).unwrap();
    let options = DetectOptions {
        image_name: Some("x.dcm".into()),
        file_spacing: r.spacing,
        ..Default::default()
    };
    let det = futures_lite::future::block_on(ceph_model().detect(Pixels::Grey(&r.image), &options))
        .unwrap();
    let kept = common::detection_without_timings(&det);
    assert_eq!(
        kept["spacing_source"],
        "dicom_imager_pixel_spacing_corrected"
    );
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/detect_dicom.json");
    if std::env::var("FAIRMARK_BLESS").is_ok() {
        std::fs::write(&file, serde_json::to_string_pretty(&kept).unwrap() + "\n").unwrap();
        return;
    }
    let expected: serde_json::Value = serde_json::from_str(common::DETECT_DICOM_FIXTURE).unwrap();
    common::assert_close_rel(&kept, &expected, "detect_dicom.json", common::NETWORK_REL);
}
