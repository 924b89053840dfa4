//! The committed models in models/ load (sha256 checked) and still find
//! landmarks on fresh phantoms from their own generator: stale or corrupt
//! weights fail CI.
#![cfg(not(target_arch = "wasm32"))]
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use fairmark::data::phantom::{render, PhantomConfig};
use fairmark::data::preprocess::letterbox::letterbox;
use fairmark::data::GreyImage;
use fairmark::model::decode::{decode_batch, to_original};
use fairmark::train::inference::load_model;
use fairmark::train::trainer::attribute_tensor;
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
        let [h, w] = spec.detector.input_size;
        let k = spec.detector.n_landmarks;
        let mut errors = Vec::new();
        for i in 0..8 {
            let (img, sample) = render(&cfg, i).unwrap();
            let grey = GreyImage::new(
                img.width() as usize,
                img.height() as usize,
                img.pixels().map(|p| p.0[0] as f32 / 255.0).collect(),
            )
            .unwrap();
            let (input, lb) = letterbox(&grey, w, h).unwrap();
            let x = Tensor::<4>::from_data(TensorData::new(input.data, [1, 1, h, w]), &device);
            let attrs = spec.attributes.indices(&sample.attributes);
            let maps = model
                .forward(x, Some(attribute_tensor(&[attrs], &device)))
                .heatmaps;
            let probs: Vec<f32> = softmax(maps.reshape([1, k, h * w]), 2)
                .into_data()
                .try_to_vec()
                .unwrap();
            let pts = to_original(&decode_batch(&probs, 1, k, h, w)[0], &lb);
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
