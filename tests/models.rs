//! The committed models in models/ load (sha256 checked) and still find
//! landmarks: phantom models on fresh phantoms from their own generator, the
//! ISBI models on real Test1 cephalograms of `../shared/data` against the
//! senior annotation. Stale or corrupt weights fail CI.
#![cfg(all(feature = "model", not(target_arch = "wasm32")))]
use fairmark::data::anatomy::ISBI_LANDMARKS;
use fairmark::data::formats::image_io::load_image;
use fairmark::data::formats::payer_csv::read_payer_csv;
use fairmark::data::phantom::{render, PhantomConfig};
use fairmark::data::{shared_data_dir, Anatomy};
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
        let published = manifest.metrics.as_ref().unwrap().overall.mre_mm;
        if anatomy == Anatomy::Isbi {
            let mre = real_cephalogram_mre(&model);
            assert!(
                mre < 1.5 * published + 0.5,
                "{}: MRE {mre:.2} mm on real Test1 images, {published:.2} mm when published",
                path.display()
            );
            checked += 1;
            continue;
        }
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
        assert!(
            mre < 2.0 * published + 1.0,
            "{}: MRE {mre:.2} mm on fresh phantoms, {published:.2} mm when published",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 2, "expected the ceph and hand models in models/");
}

/// MRE in mm of `model` on four ISBI 2015 Test1 cephalograms (full size,
/// 0.1 mm/px) against the senior annotation, through `Landmarker::detect`.
fn real_cephalogram_mre(model: &Landmarker) -> f64 {
    let shared = shared_data_dir().expect("ISBI models are tested on ../shared/data (CI has it)");
    let senior = read_payer_csv(
        &shared.join("annotations/isbi2015_ceph_senior.csv"),
        ISBI_LANDMARKS,
        10.0,
    )
    .unwrap();
    let mut errors = Vec::new();
    for id in ["151", "198", "246", "300"] {
        let img = load_image(&shared.join(format!("isbi2015/images/{id}.jpg"))).unwrap();
        let truth = &senior.iter().find(|r| r.id == id).unwrap().points;
        let det = block_on(model.detect(Pixels::Grey(&img), &DetectOptions::default())).unwrap();
        for (p, t) in det.points().iter().zip(truth) {
            errors.push((p[0] - t[0]).hypot(p[1] - t[1]) * 0.1);
        }
    }
    errors.iter().sum::<f64>() / errors.len() as f64
}
