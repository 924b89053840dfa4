//! `fairmark import hand` on the real Digital Hand Atlas annotations and the four
//! real radiographs in ../shared/data: the imported dataset loads, its images
//! decode, and its landmarks lie inside them.
#![cfg(not(target_arch = "wasm32"))]
use fairmark::data::formats::image_io::load_image;
use fairmark::data::{shared_data_dir, Dataset};
use std::process::Command;

#[test]
fn imports_the_real_hand_radiographs() {
    let Some(shared) = shared_data_dir() else {
        eprintln!("../shared/data not found: set FAIRMARK_SHARED_DATA to run this test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dha");
    let status = Command::new(env!("CARGO_BIN_EXE_fairmark"))
        .args(["import", "hand", "--annotations"])
        .arg(shared.join("annotations/dha_hand_all.csv"))
        .arg("--images")
        .arg(shared.join("real-hand"))
        .arg("--skip-missing-images")
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let ds = Dataset::load(&out).unwrap();
    assert_eq!(ds.samples.len(), 4);
    for s in &ds.samples {
        let img = load_image(&out.join(&s.image)).unwrap();
        assert!(s.landmarks.iter().all(|p| p[0] >= 0.0
            && p[1] >= 0.0
            && p[0] < img.width as f64
            && p[1] < img.height as f64));
        assert!(s.mm_per_px > 0.05 && s.mm_per_px < 0.3, "{}", s.mm_per_px);
    }
    // Without --skip-missing-images the 906 ids without a picture are an error.
    let output = Command::new(env!("CARGO_BIN_EXE_fairmark"))
        .args(["import", "hand", "--annotations"])
        .arg(shared.join("annotations/dha_hand_all.csv"))
        .arg("--images")
        .arg(shared.join("real-hand"))
        .arg("--out")
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("906"));
}
