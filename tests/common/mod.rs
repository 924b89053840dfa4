//! Fixtures shared by the native tests and the browser tests: the native
//! results they write (with FAIRMARK_BLESS=1) are what the browser must match.
#![allow(dead_code)]
use serde_json::Value;

/// Native detection of ceph phantom 0 with models/ceph-unet-phantom
/// (`mmPerPx` 0.1, image name "ceph0.png").
pub const DETECT_FIXTURE: &str = include_str!("../fixtures/detect_ceph0.json");
/// Native detection of the DICOM file `dicom::fixture_file()` (RLE, 16 bits,
/// Imager Pixel Spacing 0.55 over a magnification of 1.1) with
/// models/ceph-unet-phantom, image name "x.dcm", no spacing given.
pub const DETECT_DICOM_FIXTURE: &str = include_str!("../fixtures/detect_dicom.json");
/// Native detection of hand phantom 0 with models/hand-unet-phantom, no spacing given.
pub const DETECT_HAND_FIXTURE: &str = include_str!("../fixtures/detect_hand0.json");

/// Hostile edits of a committed model's manifest (JSON pointer, new value as
/// JSON, what the error must say): each bad field must be refused with a clear
/// error before anything is built, by the CLI and by the browser alike.
pub const HOSTILE_MANIFEST_CASES: [(&str, &str, &str); 9] = [
    ("/config/detector/n_heads", "0", "n_heads is 0"),
    ("/config/detector/backbone/depth", "40", "depth is 40"),
    (
        "/config/detector/backbone/base_width",
        "1048576",
        "base_width",
    ),
    (
        "/config/detector/input_size",
        "[100, 100]",
        "multiples of 2^depth",
    ),
    (
        "/config/detector/input_size",
        "[4096, 4096]",
        "activation values",
    ),
    (
        "/config/detector/n_landmarks",
        "11",
        "landmark_names has 10",
    ),
    (
        "/config/detector/architecture",
        r#""resnet""#,
        "unknown variant",
    ),
    ("/config/detector/groups_per_attribute", "[]", "groups"),
    ("/input_size", "[64, 64]", "differs"),
];

/// A detection document without what differs run to run or device to device
/// (timings, backend, where the letterbox ran): what both targets must agree on.
pub fn detection_without_timings<T: serde::Serialize>(det: &T) -> Value {
    let mut v = serde_json::to_value(det).unwrap();
    let obj = v.as_object_mut().unwrap();
    for key in ["timings_ms", "backend", "preprocess"] {
        assert!(obj.remove(key).is_some(), "detection lacks {key}");
    }
    v
}
/// A small predictions CSV (`fairmark synth predictions`) and its native audit
/// with `{"rounds": 200, "seed": 3}`.
pub const AUDIT_FIXTURE_CSV: &str = include_str!("../fixtures/predictions_small.csv");
pub const AUDIT_FIXTURE_REPORT: &str = include_str!("../fixtures/audit_small.json");

/// JSON equality with numbers equal to 1e-9 (relative): the same code on two
/// targets may round transcendental functions differently in the last bit.
pub fn assert_close(a: &Value, b: &Value, path: &str) {
    assert_close_rel(a, b, path, 1e-9);
}

/// Relative tolerance for what a network computes in f32 on the CPU: burn's
/// CPU backend picks its SIMD kernels by the processor's features (AVX2,
/// AVX-512), which sum in different orders, so the same weights give outputs
/// that differ in the last f32 bits from one machine to another (seen:
/// 1.6e-7 relative in an angle between an AVX-512 EPYC and the machine that
/// wrote the fixture). 1e-5 is far above that and far below any real change.
pub const NETWORK_REL: f64 = 1e-5;

/// [`assert_close`] with a chosen relative tolerance.
pub fn assert_close_rel(a: &Value, b: &Value, path: &str, rel: f64) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= rel * x.abs().max(y.abs()).max(1.0),
                "{path}: {x} vs {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: lengths differ");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                assert_close_rel(p, q, &format!("{path}[{i}]"), rel);
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            // As sets: JavaScript objects list integer-like keys ("2", "3")
            // before others ("2.5"), whatever order they were written in.
            let mut kx: Vec<_> = x.keys().collect();
            let mut ky: Vec<_> = y.keys().collect();
            kx.sort();
            ky.sort();
            assert_eq!(kx, ky, "{path}: keys differ");
            for (k, v) in x {
                assert_close_rel(v, &y[k], &format!("{path}.{k}"), rel);
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}
