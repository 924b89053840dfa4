//! The committed models in models/ load (sha256 checked) and still find
//! landmarks on fresh phantoms from their own generator: stale or corrupt
//! weights fail CI.
#![cfg(all(feature = "model", not(target_arch = "wasm32")))]
use fairmark::data::phantom::{render, PhantomConfig};
use fairmark::detection::pipeline::{DetectOptions, Pixels};
use fairmark::model::{Landmarker, Runtime};
use futures_lite::future::block_on;
use std::path::Path;

#[test]
fn committed_models_still_detect_landmarks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.join("manifest.json").exists() {
            continue;
        }
        let model = Landmarker::load_dir(&path, Runtime::cpu("test")).unwrap();
        let manifest = model.manifest().unwrap();
        let anatomy = model.spec().anatomy.unwrap();
        let mut cfg = PhantomConfig::new(anatomy);
        cfg.n = 10_000;
        cfg.seed = 77; // unseen phantoms
        let mut errors = Vec::new();
        for i in 0..8 {
            let (img, sample) = render(&cfg, i).unwrap();
            // The same detection path as `fairmark detect` and the browser.
            let px = Pixels::Bytes {
                data: img.as_raw(),
                width: img.width() as usize,
                height: img.height() as usize,
            };
            let options = DetectOptions {
                attributes: sample.attributes.clone(),
                ..Default::default()
            };
            let det = block_on(model.detect(px, &options)).unwrap();
            for (p, t) in det.points().iter().zip(&sample.landmarks) {
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
