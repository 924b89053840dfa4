//! The committed models in models/ load (sha256 checked) and still find
//! landmarks on fresh phantoms from their own generator: stale or corrupt
//! weights fail CI.
#![cfg(not(target_arch = "wasm32"))]
use burn::tensor::Device;
use fairmark::data::phantom::{render, PhantomConfig};
use fairmark::detect::{detect, Engine, Pixels};
use fairmark::train::inference::load_model;
use futures_lite::future::block_on;
use std::path::Path;

#[test]
fn committed_models_still_detect_landmarks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let device = Device::flex();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.join("manifest.json").exists() {
            continue;
        }
        let (spec, model, manifest) = load_model(&path, &device).unwrap();
        let manifest = manifest.unwrap();
        let anatomy = spec.anatomy.unwrap();
        let mut cfg = PhantomConfig::new(anatomy);
        cfg.n = 10_000;
        cfg.seed = 77; // unseen phantoms
        let mut errors = Vec::new();
        for i in 0..8 {
            let (img, sample) = render(&cfg, i).unwrap();
            // The same detection path as `fairmark detect` and the browser.
            let engine = Engine {
                model: &model,
                spec: &spec,
                device: &device,
                backend: "cpu",
                gpu: None,
            };
            let px = Pixels::Bytes {
                data: img.as_raw(),
                width: img.width() as usize,
                height: img.height() as usize,
            };
            let attrs = spec.attributes.indices(&sample.attributes);
            let det = block_on(detect(&engine, px, &attrs, None)).unwrap();
            let pts: Vec<[f64; 2]> = det.landmarks.iter().map(|l| [l.x, l.y]).collect();
            for (p, t) in pts.iter().zip(&sample.landmarks) {
                errors.push((p[0] - t[0]).hypot(p[1] - t[1]) * sample.mm_per_px);
            }
        }
        let mre = errors.iter().sum::<f64>() / errors.len() as f64;
        let published = manifest.metrics.as_ref().unwrap().overall.mre_mm;
        assert!(
            mre < 2.0 * published + 1.0,
            "{}: MRE {mre:.2} mm on fresh phantoms, {published:.2} mm when published",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 2, "expected the ceph and hand models in models/");
}
