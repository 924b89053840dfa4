//! The native results the browser tests (tests/web.rs) must reproduce:
//! detection through the same core function the wasm API calls, and the
//! audit through the same options. FAIRMARK_BLESS=1 rewrites the fixtures
//! after an intended change.
#![cfg(all(feature = "model", not(target_arch = "wasm32")))]
use fairmark::data::phantom::{render, PhantomConfig};
use fairmark::data::Anatomy;
use fairmark::detection::pipeline::{DetectOptions, Pixels};
use fairmark::metrics::{audit, AuditOptions, PredictionTable};
use fairmark::model::{Landmarker, Runtime};
use serde_json::Value;
use std::path::Path;

mod common;

/// Compares with the committed fixture to `rel` (relative), or rewrites it.
fn check_or_bless(file: &str, actual: &Value, committed: &str, rel: f64) {
    if std::env::var("FAIRMARK_BLESS").is_ok() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(file);
        std::fs::write(&path, serde_json::to_string_pretty(actual).unwrap() + "\n").unwrap();
        return;
    }
    let expected: Value = serde_json::from_str(committed).unwrap();
    common::assert_close_rel(actual, &expected, file, rel);
}

#[test]
fn detection_fixture_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model =
        Landmarker::load_dir(&root.join("models/ceph-unet-phantom"), Runtime::cpu("test")).unwrap();
    let (img, _) = render(&PhantomConfig::new(Anatomy::Ceph), 0).unwrap();
    let rgba: Vec<u8> = img.as_raw().iter().flat_map(|&v| [v, v, v, 255]).collect();
    let px = Pixels::Bytes {
        data: &rgba,
        width: img.width() as usize,
        height: img.height() as usize,
    };
    let options = DetectOptions {
        mm_per_px: Some(0.1),
        image_name: Some("ceph0.png".into()),
        ..Default::default()
    };
    let det = futures_lite::future::block_on(model.detect(px, &options)).unwrap();
    check_or_bless(
        "detect_ceph0.json",
        &common::detection_without_timings(&det),
        common::DETECT_FIXTURE,
        common::NETWORK_REL,
    );
}

/// A hand detection with no spacing given: the wrist convention, named as
/// such in the document and in its measurements (the browser reproduces it).
#[test]
fn hand_detection_fixture_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model =
        Landmarker::load_dir(&root.join("models/hand-unet-phantom"), Runtime::cpu("test")).unwrap();
    let (img, _) = render(&PhantomConfig::new(Anatomy::Hand), 0).unwrap();
    let px = Pixels::Bytes {
        data: img.as_raw(),
        width: img.width() as usize,
        height: img.height() as usize,
    };
    let det = futures_lite::future::block_on(model.detect(px, &DetectOptions::default())).unwrap();
    let kept = common::detection_without_timings(&det);
    assert_eq!(kept["spacing_source"], "wrist_convention");
    assert_eq!(kept["measurements"]["spacing_source"], "wrist_convention");
    check_or_bless(
        "detect_hand0.json",
        &kept,
        common::DETECT_HAND_FIXTURE,
        common::NETWORK_REL,
    );
}

#[test]
fn audit_fixture_is_current() {
    let table = PredictionTable::parse_csv("predictions", common::AUDIT_FIXTURE_CSV).unwrap();
    let options: AuditOptions = serde_json::from_str(r#"{"rounds": 200, "seed": 3}"#).unwrap();
    let report = audit(&table, &options.config(&table).unwrap()).unwrap();
    check_or_bless(
        "audit_small.json",
        &serde_json::to_value(&report).unwrap(),
        common::AUDIT_FIXTURE_REPORT,
        1e-9, // f64 and seeded: the same everywhere
    );
}
