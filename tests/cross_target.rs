//! The native results the browser tests (tests/web.rs) must reproduce:
//! detection through the same core function the wasm API calls, and the
//! audit through the same options. FAIRMARK_BLESS=1 rewrites the fixtures
//! after an intended change.
#![cfg(not(target_arch = "wasm32"))]
use burn::tensor::Device;
use fairmark::data::phantom::{render, PhantomConfig};
use fairmark::data::Anatomy;
use fairmark::detect::{detect, Engine, Pixels};
use fairmark::metrics::{audit, AuditOptions, PredictionTable};
use fairmark::train::inference::load_model;
use serde_json::Value;
use std::path::Path;

mod common;

fn check_or_bless(file: &str, actual: &Value, committed: &str) {
    if std::env::var("FAIRMARK_BLESS").is_ok() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(file);
        std::fs::write(&path, serde_json::to_string_pretty(actual).unwrap() + "\n").unwrap();
        return;
    }
    let expected: Value = serde_json::from_str(committed).unwrap();
    common::assert_close(actual, &expected, file);
}

#[test]
fn detection_fixture_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let device = Device::flex();
    let (spec, model, _) = load_model(&root.join("models/ceph-unet-phantom"), &device).unwrap();
    let (img, _) = render(&PhantomConfig::new(Anatomy::Ceph), 0).unwrap();
    let rgba: Vec<u8> = img.as_raw().iter().flat_map(|&v| [v, v, v, 255]).collect();
    let engine = Engine {
        model: &model,
        spec: &spec,
        device: &device,
        backend: "cpu",
        gpu: None,
    };
    let px = Pixels::Bytes {
        data: &rgba,
        width: img.width() as usize,
        height: img.height() as usize,
    };
    let det = futures_lite::future::block_on(detect(&engine, px, &[2], Some(0.1))).unwrap();
    // Timings differ run to run; the fixture keeps what must not.
    let kept = serde_json::json!({
        "width": det.width,
        "height": det.height,
        "mm_per_px": det.mm_per_px,
        "landmarks": det.landmarks,
        "measurements": det.measurements,
    });
    check_or_bless("detect_ceph0.json", &kept, common::DETECT_FIXTURE);
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
    );
}
