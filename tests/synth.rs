//! `fairmark synth dataset` end to end: phantoms on disk load back as a dataset
//! with the requested groups, and bad options give clear errors.
#![cfg(not(target_arch = "wasm32"))]
use fairmark::data::formats::image_io::load_image;
use fairmark::data::{Dataset, Split};
use std::process::Command;

fn fairmark() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fairmark"))
}

/// 40 hand phantoms, a quarter of them young, seed 2.
fn synth_hands(out: &std::path::Path) -> std::process::Output {
    fairmark()
        .args([
            "synth", "dataset", "--kind", "hand", "--n", "40", "--seed", "2",
        ])
        .args(["--groups", "young:0.25,old:0.75", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn hand_phantoms_with_imbalanced_groups() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hands");
    let o = synth_hands(&out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ds = Dataset::load(&out).unwrap();
    assert_eq!(ds.samples.len(), 40);
    assert_eq!(ds.n_landmarks(), 37);
    let young = ds
        .samples
        .iter()
        .filter(|s| s.attributes["age_group"] == "young")
        .count();
    assert!((6..=14).contains(&young), "{young} young of 40");
    assert!(ds.samples.iter().all(|s| s.attributes.contains_key("sex")));
    assert!(ds.split(Split::Test).count() > 0 && ds.split(Split::Train).count() > 0);
    let s = &ds.samples[0];
    let img = load_image(&out.join(&s.image)).unwrap();
    assert_eq!((img.width, img.height), (384, 480));
    // Hand spacing follows the 50 mm wrist convention (landmarks are stored to 0.001 px).
    let (a, b) = (s.landmarks[1], s.landmarks[5]);
    assert!(((a[0] - b[0]).hypot(a[1] - b[1]) * s.mm_per_px - 50.0).abs() < 1e-2);

    // Same seed, same bytes.
    let again = dir.path().join("again");
    let o = synth_hands(&again);
    assert!(o.status.success());
    for f in ["landmarks.csv", "attributes.csv", "images/hand_00007.png"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn bad_options_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--kind", "knee"], "expected ceph or hand"),
        (&["--kind", "ceph", "--groups", "old:1"], "old"),
        (&["--kind", "ceph", "--split", "0.5,0.5"], "three fractions"),
        (&["--kind", "ceph", "--n", "0"], "n must be at least 1"),
    ];
    for (args, expected) in cases {
        let o = fairmark()
            .args(["synth", "dataset"])
            .args(args)
            .arg("--out")
            .arg(dir.path().join("x"))
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(expected) && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}
