//! The browser API in headless Chromium (wasm-bindgen-test): detection on
//! WebGPU and on the CPU fallback gives the same landmarks as each other and
//! as native `fairmark detect`; the audit gives the native report; wrong
//! input throws an Error with a message, never traps.
//!
//! Run: `CHROMEDRIVER=$(which chromedriver) cargo test --release -p fairmark
//! --target wasm32-unknown-unknown --test web` (or `wasm-pack test --headless --chrome
//! --release -- -p fairmark --test web`); scripts/test.sh does it.
#![cfg(all(feature = "model", target_arch = "wasm32"))]

use fairmark::web::{
    audit, check_order, decode_radiograph_js, measure, predictions_csv, relocate, render_phantom,
    Model,
};
use js_sys::{Reflect, Uint8Array};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
#[path = "common/dicom.rs"]
mod dicom_files;
use common::{
    assert_close, detection_without_timings, AUDIT_FIXTURE_CSV, AUDIT_FIXTURE_REPORT,
    DETECT_FIXTURE, DETECT_HAND_FIXTURE,
};

const WEIGHTS: &[u8] = include_bytes!("../models/ceph-unet-phantom/weights.bpk");
const MANIFEST: &str = include_str!("../models/ceph-unet-phantom/manifest.json");
const HAND_WEIGHTS: &[u8] = include_bytes!("../models/hand-unet-phantom/weights.bpk");
const HAND_MANIFEST: &str = include_str!("../models/hand-unet-phantom/manifest.json");

fn json(v: &JsValue) -> Value {
    serde_wasm_bindgen::from_value(v.clone()).unwrap()
}

fn message(e: JsError) -> String {
    let v: JsValue = e.into();
    Reflect::get(&v, &"message".into())
        .unwrap()
        .as_string()
        .unwrap()
}

async fn load(backend: &str) -> Model {
    Model::load(
        Uint8Array::from(WEIGHTS).into(),
        MANIFEST.into(),
        backend.into(),
    )
    .await
    .map_err(message)
    .unwrap()
}

/// Phantom 0 of the default set of `anatomy` as RGBA, as a canvas would give it.
fn phantom_rgba(anatomy: &str) -> (JsValue, u32, u32) {
    let p = render_phantom(anatomy.into(), 0.into(), JsValue::UNDEFINED).unwrap();
    let grey = Uint8Array::new(&Reflect::get(&p, &"pixels".into()).unwrap()).to_vec();
    let rgba: Vec<u8> = grey.iter().flat_map(|&v| [v, v, v, 255]).collect();
    let w = Reflect::get(&p, &"width".into()).unwrap().as_f64().unwrap() as u32;
    let h = Reflect::get(&p, &"height".into())
        .unwrap()
        .as_f64()
        .unwrap() as u32;
    (Uint8Array::from(rgba.as_slice()).into(), w, h)
}

async fn detect(model: &Model) -> Value {
    let (px, w, h) = phantom_rgba("ceph");
    let opts = json_to_js(r#"{"mmPerPx": 0.1, "imageName": "ceph0.png"}"#);
    json(
        &model
            .detect(px, w.into(), h.into(), opts)
            .await
            .map_err(message)
            .unwrap(),
    )
}

fn json_to_js(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap()
}

fn points(det: &Value) -> Vec<[f64; 2]> {
    det["landmarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| [l["x"].as_f64().unwrap(), l["y"].as_f64().unwrap()])
        .collect()
}

fn max_distance(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(p, q)| (p[0] - q[0]).hypot(p[1] - q[1]))
        .fold(0.0, f64::max)
}

/// Everything but the landmark coordinates and what follows from them (which
/// may differ in the last digits between devices) equals the native document.
fn same_document_as_native(browser: &Value, native: &Value) {
    let mut b = detection_without_timings(browser);
    let mut n = native.clone();
    let spacing = |d: &Value| d["mm_per_px"].as_f64();
    match (spacing(&b), spacing(&n)) {
        (Some(x), Some(y)) => assert!((x - y).abs() <= 1e-3 * y, "spacing {x} vs {y}"),
        (x, y) => assert_eq!(x, y),
    }
    for doc in [&mut b, &mut n] {
        for key in ["landmarks", "measurements", "mm_per_px"] {
            doc.as_object_mut().unwrap().remove(key);
        }
    }
    assert_eq!(b, n);
    let d = max_distance(&points(browser), &points(native));
    assert!(d < 0.05, "browser vs native: {d} px");
}

#[wasm_bindgen_test]
async fn webgpu_and_cpu_find_the_native_landmarks() {
    let native_doc: Value = serde_json::from_str(DETECT_FIXTURE).unwrap();
    let native = points(&native_doc);
    let cpu = load("cpu").await;
    assert_eq!(cpu.backend(), "cpu");
    let on_cpu = detect(&cpu).await;
    assert_eq!(on_cpu["preprocess"], "cpu");
    same_document_as_native(&on_cpu, &native_doc);

    // Headless Chromium with --enable-unsafe-webgpu has an adapter (SwiftShader).
    let gpu = load("webgpu").await;
    assert_eq!(gpu.backend(), "webgpu", "{}", gpu.backend_note());
    let on_gpu = detect(&gpu).await;
    assert_eq!(on_gpu["preprocess"], "gpu-shader");
    same_document_as_native(&on_gpu, &native_doc);
    let d = max_distance(&points(&on_gpu), &native);
    assert!(d < 0.05, "WebGPU vs native: {d} px");
    // Timings are reported and add up.
    let t = &on_gpu["timings_ms"];
    assert!(t["total"].as_f64().unwrap() >= t["forward"].as_f64().unwrap());
    assert!(on_gpu["measurements"]["sna_deg"]
        .as_f64()
        .unwrap()
        .is_finite());
}

/// No spacing given for a hand: the wrist convention, in the document and in
/// its measurements, exactly as natively.
#[wasm_bindgen_test]
async fn hand_spacing_follows_the_one_policy() {
    let model = Model::load(
        Uint8Array::from(HAND_WEIGHTS).into(),
        HAND_MANIFEST.into(),
        "cpu".into(),
    )
    .await
    .map_err(message)
    .unwrap();
    let (px, w, h) = phantom_rgba("hand");
    let det = json(
        &model
            .detect(px, w.into(), h.into(), JsValue::UNDEFINED)
            .await
            .map_err(message)
            .unwrap(),
    );
    assert_eq!(det["spacing_source"], "wrist_convention");
    assert_eq!(det["measurements"]["spacing_source"], "wrist_convention");
    let native: Value = serde_json::from_str(DETECT_HAND_FIXTURE).unwrap();
    same_document_as_native(&det, &native);
}

/// A corrected point and a spacing given later: the core recomputes mm and
/// measurements; the page renders what it gets.
#[wasm_bindgen_test]
async fn relocation_recomputes_in_rust() {
    let det = detect(&load("cpu").await).await;
    let mut pts = points(&det);
    pts[4][0] += 20.0;
    let js_det = json_to_js(&det.to_string());
    let js_pts = json_to_js(&serde_json::to_string(&pts).unwrap());
    let moved = json(&relocate(js_det.clone(), js_pts.clone(), JsValue::NULL).unwrap());
    assert_eq!(moved["mm_per_px"], Value::Null);
    assert_eq!(moved["landmarks"][4]["x"].as_f64().unwrap(), pts[4][0]);
    assert!(
        moved["measurements"]["sna_deg"].as_f64().unwrap()
            != det["measurements"]["sna_deg"].as_f64().unwrap()
    );
    let scaled = json(&relocate(js_det.clone(), js_pts, 0.2.into()).unwrap());
    assert_eq!(scaled["spacing_source"], "given");
    let e = relocate(js_det.clone(), json_to_js("[[1, 2]]"), JsValue::NULL);
    assert!(message(e.err().unwrap()).contains("1 points given for 10 landmarks"));
    let e = relocate(JsValue::from(3), json_to_js("[]"), JsValue::NULL);
    assert!(message(e.err().unwrap()).contains("detection"));
    let e = relocate(js_det.clone(), json_to_js(r#""x""#), JsValue::NULL);
    assert!(message(e.err().unwrap()).contains("points"));
    // Every landmark has the model's uncertainty, and the check order puts
    // the largest radius first, as natively.
    let radius = |i: usize| {
        det["landmarks"][i]["uncertainty"]["radius_px"]
            .as_f64()
            .unwrap()
    };
    let order = check_order(js_det).unwrap();
    assert_eq!(order.len(), 10);
    assert!(order
        .windows(2)
        .all(|w| radius(w[0] as usize) >= radius(w[1] as usize)));
    assert!(check_order(JsValue::from(3)).is_err());
}

/// Each hostile manifest field throws a JS Error naming it; none traps or
/// allocates (the weights' hash matches, so only the config can fail).
#[wasm_bindgen_test]
async fn hostile_manifests_throw_errors() {
    let good: Value = serde_json::from_str(MANIFEST).unwrap();
    for (pointer, value, expected) in common::HOSTILE_MANIFEST_CASES {
        let mut m = good.clone();
        *m.pointer_mut(pointer).unwrap() = serde_json::from_str(value).unwrap();
        let e = Model::load(
            Uint8Array::from(WEIGHTS).into(),
            m.to_string().into(),
            "cpu".into(),
        )
        .await;
        let msg = message(e.err().unwrap());
        assert!(msg.contains(expected), "{pointer} = {value}: {msg}");
    }
}

#[wasm_bindgen_test]
fn audit_gives_the_native_report() {
    let opts = json_to_js(r#"{"rounds": 200, "seed": 3}"#);
    let report = json(
        &audit(AUDIT_FIXTURE_CSV.into(), opts)
            .map_err(message)
            .unwrap(),
    );
    let native: Value = serde_json::from_str(AUDIT_FIXTURE_REPORT).unwrap();
    assert_close(&report, &native, "report");
}

#[wasm_bindgen_test]
async fn bad_input_throws_clear_errors() {
    // Wrong types and corrupt files.
    let e = Model::load("not bytes".into(), MANIFEST.into(), "cpu".into()).await;
    assert!(message(e.err().unwrap()).contains("weights must be a Uint8Array"));
    let mut corrupt = WEIGHTS.to_vec();
    corrupt[100] ^= 0xff;
    let e = Model::load(
        Uint8Array::from(corrupt.as_slice()).into(),
        MANIFEST.into(),
        "cpu".into(),
    )
    .await;
    assert!(
        message(e.err().unwrap()).contains("sha256"),
        "corrupt weights must fail the hash"
    );
    let e = Model::load(Uint8Array::from(WEIGHTS).into(), "{".into(), "cpu".into()).await;
    assert!(message(e.err().unwrap()).contains("manifest"));
    let e = Model::load(
        Uint8Array::from(WEIGHTS).into(),
        MANIFEST.into(),
        "tpu".into(),
    )
    .await;
    assert!(message(e.err().unwrap()).contains("expected \"auto\""));

    let model = load("cpu").await;
    let px: JsValue = Uint8Array::from(&[0u8; 12][..]).into();
    let e = model
        .detect(px.clone(), 5.into(), 2.into(), JsValue::UNDEFINED)
        .await;
    assert!(message(e.err().unwrap()).contains("do not fit a 5x2 image"));
    let e = model
        .detect(px.clone(), "3".into(), 1.into(), JsValue::UNDEFINED)
        .await;
    assert!(message(e.err().unwrap()).contains("width must be a number"));
    let e = model
        .detect(
            px.clone(),
            3.into(),
            1.into(),
            json_to_js(r#"{"attributes": {"sex": "F"}}"#),
        )
        .await;
    assert!(message(e.err().unwrap()).contains("unknown attribute \"sex\""));
    let e = model
        .detect(px, 3.into(), 1.into(), json_to_js(r#"{"mmPerPx": -1}"#))
        .await;
    assert!(message(e.err().unwrap()).contains("positive"));

    let e = audit(JsValue::from(5), JsValue::UNDEFINED);
    assert!(message(e.err().unwrap()).contains("must be a string"));
    let e = audit("image,keypoint\n".into(), JsValue::UNDEFINED);
    assert!(message(e.err().unwrap()).contains("missing column"));
    let e = audit(AUDIT_FIXTURE_CSV.into(), json_to_js(r#"{"round": 5}"#));
    assert!(message(e.err().unwrap()).contains("round"));
    let e = predictions_csv(json_to_js(
        r#"[{"image": "a", "truth": [[1, 2]], "pred": [], "mm_per_px": 0.1}]"#,
    ));
    assert!(message(e.err().unwrap()).contains("1 true and 0 predicted"));
    let e = measure("ceph".into(), json_to_js("[[1, 2]]"), 0.1.into());
    assert!(message(e.err().unwrap()).contains("10 landmarks"));
    let e = render_phantom("knee".into(), 0.into(), JsValue::UNDEFINED);
    assert!(message(e.err().unwrap()).contains("expected \"ceph\" or \"hand\""));
}

#[path = "hostile/corpus.rs"]
mod corpus;

/// One corpus entry through the browser API: its result as text, or the
/// message of the JS Error it threw.
async fn run_hostile(entry: &corpus::Entry, model: &Model) -> Result<String, String> {
    use corpus::{Input, Pixels};
    let text = |v: Result<JsValue, JsError>| -> Result<String, String> {
        let v = v.map_err(message)?;
        Ok(v.as_string().unwrap_or_else(|| {
            js_sys::JSON::stringify(&v)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default()
        }))
    };
    match &entry.input {
        Input::Audit { csv, options } => text(audit(csv.text().into(), json_to_js(options))),
        // The page decodes files with the browser's own decoder; the core's
        // decoder still runs in wasm (32-bit sizes) and must refuse alike.
        Input::Image(data) => fairmark::data::formats::image_io::decode_image_named(
            &data.bytes(),
            std::path::Path::new("hostile.png"),
            fairmark::data::formats::image_io::DEFAULT_MAX_PIXELS,
        )
        .map(|g| format!("{}x{}", g.width, g.height))
        .map_err(|e| e.to_string()),
        Input::Model { manifest, weights } => {
            let (manifest, weights) = corpus::model_parts(manifest, weights);
            Model::load(
                Uint8Array::from(weights.as_slice()).into(),
                manifest.into(),
                "cpu".into(),
            )
            .await
            .map(|m| m.method())
            .map_err(message)
        }
        Input::Detect {
            pixels,
            width,
            height,
            options,
        } => {
            let pixels: JsValue = match pixels {
                Pixels::Zeros(n) => Uint8Array::new_with_length(*n as u32).into(),
                Pixels::Json(j) => json_to_js(j),
            };
            text(
                model
                    .detect(
                        pixels,
                        json_to_js(width),
                        json_to_js(height),
                        json_to_js(options),
                    )
                    .await,
            )
        }
        Input::Relocate {
            edit,
            points,
            mm_per_px,
        } => text(relocate(
            json_to_js(&corpus::detection(edit)),
            json_to_js(points),
            json_to_js(mm_per_px),
        )),
        Input::Measure {
            anatomy,
            points,
            mm_per_px,
        } => text(measure(
            (*anatomy).into(),
            json_to_js(points),
            json_to_js(mm_per_px),
        )),
        Input::PredictionsCsv(data) => predictions_csv(json_to_js(&data.text())).map_err(message),
        Input::RenderPhantom {
            anatomy,
            index,
            options,
        } => render_phantom((*anatomy).into(), json_to_js(index), json_to_js(options))
            .map(|_| "rendered".to_string())
            .map_err(message),
        Input::AuditChart(report) => {
            fairmark::web::audit_chart_svg(json_to_js(report)).map_err(message)
        }
        Input::ImageFileOfLen(_) | Input::ModelDir(_) => {
            panic!("{}: native only, mark it Native", entry.name)
        }
    }
}

/// The hostile corpus of `tests/hostile.rs`, through the browser API: every
/// entry throws a JS Error with its phrase (or gives its output), none traps
/// (a trap ends the test: the last "hostile:" line logged names the entry),
/// each within a few seconds, and wasm memory stays under 1 GiB.
#[wasm_bindgen_test]
async fn every_hostile_input_throws_a_clear_error() {
    use wasm_bindgen::JsCast;
    assert!(corpus::ENTRIES.len() >= 40);
    let model = load("cpu").await;
    let mut failures = Vec::new();
    let mut ran = 0;
    for entry in corpus::ENTRIES
        .iter()
        .filter(|e| e.target != corpus::Target::Native)
    {
        ran += 1;
        console_log!("hostile: {}", entry.name);
        let t0 = js_sys::Date::now();
        let got = run_hostile(entry, &model).await;
        let seconds = (js_sys::Date::now() - t0) / 1000.0;
        if let Err(why) = corpus::check(entry, got) {
            failures.push(why);
        }
        if seconds > 5.0 {
            failures.push(format!("{}: took {seconds:.1} s", entry.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} entries failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    let bytes = memory
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length();
    assert!(bytes < 1 << 30, "wasm memory grew to {} MiB", bytes >> 20);
    console_log!("{ran} hostile inputs refused in the browser");
}

/// The same DICOM file (RLE, MONOCHROME1, Imager Pixel Spacing over a
/// magnification factor) gives the native document in the browser: the
/// same landmarks, the same spacing and its source; `decodeRadiograph`
/// gives the page the picture and the spacing, and no patient attribute.
#[wasm_bindgen_test]
async fn dicom_in_the_browser_equals_native() {
    let file = Uint8Array::from(&dicom_files::fixture_file()[..]);
    let model = load("cpu").await;
    let options = js_sys::JSON::parse(r#"{"imageName": "x.dcm"}"#).unwrap();
    let det = model
        .detect_file(file.clone().into(), options)
        .await
        .map_err(message)
        .unwrap();
    let native: Value = serde_json::from_str(common::DETECT_DICOM_FIXTURE).unwrap();
    let got = detection_without_timings(&json(&det));
    common::assert_close_rel(&got, &native, "dicom", common::NETWORK_REL);
    assert_eq!(
        got["spacing_source"],
        "dicom_imager_pixel_spacing_corrected"
    );
    let text = serde_json::to_string(&json(&det)).unwrap();
    assert!(!text.contains("DOE") && !text.contains("SECRET"), "{text}");

    let r = decode_radiograph_js(file.into(), "x.dcm".into())
        .map_err(message)
        .unwrap();
    let meta = json(&Reflect::get(&r, &"dicom".into()).unwrap());
    assert_eq!(meta["photometric"], "MONOCHROME1");
    assert_eq!(meta["transfer_syntax"], "RLE Lossless");
    let spacing = json(&Reflect::get(&r, &"spacing".into()).unwrap());
    assert_eq!(spacing["source"], "dicom_imager_pixel_spacing_corrected");
    let px = Uint8Array::new(&Reflect::get(&r, &"pixels".into()).unwrap());
    assert_eq!(px.length(), 192 * 240);
    assert!(!serde_json::to_string(&meta).unwrap().contains("SECRET"));

    // Refused and broken files throw an Error saying why, never trap.
    let mut s = dicom_files::Spec::grey16(8, 8);
    s.transfer_syntax = dicom_files::JPEG_2000;
    let e = message(
        decode_radiograph_js(Uint8Array::from(&s.to_bytes()[..]).into(), "j2k.dcm".into())
            .unwrap_err(),
    );
    assert!(
        e.contains("JPEG 2000") && e.contains("not supported"),
        "{e}"
    );
    let bytes = dicom_files::fixture_file();
    // (A cut inside the final sequence delimiter still holds every pixel,
    // and dicom-rs reads it; these cuts lose part of the header or pixels.)
    for cut in [130, 200, 400, bytes.len() / 2, bytes.len() - 200] {
        let cut_file = Uint8Array::from(&bytes[..cut]);
        assert!(decode_radiograph_js(cut_file.clone().into(), "cut.dcm".into()).is_err());
        assert!(model
            .detect_file(cut_file.into(), JsValue::UNDEFINED)
            .await
            .is_err());
    }
}
