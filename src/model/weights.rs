//! The weights file of a model, checked against its manifest: size first (free,
//! and it tells a truncated download apart), then SHA-256. Byte-level, so the
//! browser, the server and the CLI run the same checks.
use super::error::{ModelError, Result};
use super::manifest::{ModelManifest, MANIFEST_FILE};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Records file name, size and hash of `weights` in the manifest (the
/// precision is left as the caller set it).
pub fn fill_weights(manifest: &mut ModelManifest, weights: &[u8], weights_file_name: &str) {
    manifest.weights.file = weights_file_name.to_string();
    manifest.weights.sha256 = sha256_hex(weights);
    manifest.weights.bytes = weights.len() as u64;
}

/// Refuses weights whose size or hash differ from the manifest's.
pub fn verify_weights(manifest: &ModelManifest, bytes: &[u8]) -> Result<()> {
    let w = &manifest.weights;
    if bytes.len() as u64 != w.bytes {
        return Err(ModelError::SizeMismatch {
            file: w.file.clone(),
            expected: w.bytes,
            actual: bytes.len() as u64,
        });
    }
    let actual = sha256_hex(bytes);
    if !actual.eq_ignore_ascii_case(&w.sha256) {
        let short = |h: &str| h.chars().take(12).collect::<String>();
        return Err(ModelError::HashMismatch {
            file: w.file.clone(),
            expected: short(&w.sha256),
            actual: short(&actual),
        });
    }
    Ok(())
}

/// Parses and validates a manifest and checks the weights against it: what the
/// browser does with the two files it fetched.
pub fn load_from_parts(manifest_json: &str, weights: &[u8]) -> Result<ModelManifest> {
    let manifest = ModelManifest::from_json(Path::new(MANIFEST_FILE), manifest_json)?;
    verify_weights(&manifest, weights)?;
    Ok(manifest)
}

/// Reads a model directory, validates its manifest and verifies its weights.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_dir(dir: &Path) -> Result<(ModelManifest, Vec<u8>)> {
    let (manifest, weights) = read_dir(dir)?;
    verify_weights(&manifest, &weights)?;
    Ok((manifest, weights))
}

/// Reads a model directory and validates its manifest; the weights are not
/// yet checked against it (for callers that do, such as the `Landmarker`).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn read_dir(dir: &Path) -> Result<(ModelManifest, Vec<u8>)> {
    if !dir.is_dir() {
        return Err(ModelError::MissingModelDir {
            dir: dir.into(),
            available: dir
                .parent()
                .map(crate::registry::list_models)
                .unwrap_or_default(),
        });
    }
    let manifest_path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read_to_string(&manifest_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ModelError::MissingManifest { dir: dir.into() })
        }
        Err(e) => return Err(ModelError::io(&manifest_path, e)),
    };
    let manifest = ModelManifest::from_json(&manifest_path, &text)?;
    let weights_path = dir.join(&manifest.weights.file);
    let weights = match std::fs::read(&weights_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ModelError::MissingWeights {
                path: weights_path,
                file: manifest.weights.file.clone(),
            })
        }
        Err(e) => return Err(ModelError::io(&weights_path, e)),
    };
    Ok((manifest, weights))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod tests {
    use super::*;
    use crate::model::config::ModelConfig;
    use crate::model::manifest::{TrainingData, MODEL_CARD_FILE, MODEL_SCHEMA};
    use crate::publish::publish_dir;

    pub(crate) fn manifest() -> ModelManifest {
        let mut config = ModelConfig::unet(10, [256, 320]);
        let mut train = crate::train::TrainConfig::new(crate::train::Method::Unet);
        train.epochs = 30;
        config.train = Some(train);
        let mut m = ModelManifest::new(
            "ceph-unet",
            "unet",
            config,
            crate::data::Anatomy::Ceph.landmark_names(),
            TrainingData {
                description: "cephalometric phantoms, adult and adolescent".into(),
                n_train: 280,
                n_val: 40,
                n_test: 80,
                source: "fairmark synth dataset --kind ceph --n 400 --seed 1".into(),
                fine_tuned_from: None,
            },
            "2025-01-01T00:00:00Z",
        );
        m.anatomy = Some(crate::data::Anatomy::Ceph);
        m
    }

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn parts_round_trip_and_tampering_is_refused() {
        let weights = vec![7u8; 1000];
        let mut m = manifest();
        fill_weights(&mut m, &weights, "weights.bpk");
        let json = m.to_json();
        assert_eq!(load_from_parts(&json, &weights).unwrap(), m);

        let mut changed = weights.clone();
        changed[500] = 8;
        let e = load_from_parts(&json, &changed).unwrap_err().to_string();
        assert!(e.contains("weights.bpk"), "{e}");
        assert!(e.contains(&m.weights.sha256[..12]), "{e}");
        assert!(e.contains(&sha256_hex(&changed)[..12]), "{e}");
        assert!(e.contains("corrupt or was changed after publishing"), "{e}");

        let e = load_from_parts(&json, &weights[..999])
            .unwrap_err()
            .to_string();
        assert!(e.contains("999 bytes") && e.contains("1000"), "{e}");
    }

    #[test]
    fn bad_manifests_are_named() {
        let mut m = manifest();
        fill_weights(&mut m, b"w", "w.bpk");
        let json = m.to_json();

        let broken = json.replacen("\"name\"", "\"name\" oops", 1);
        let e = load_from_parts(&broken, b"w").unwrap_err();
        assert!(
            matches!(e, ModelError::InvalidManifest { line: 3, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("line 3"), "{e}");

        let other = json.replace(MODEL_SCHEMA, "fairmark.audit/1");
        let e = load_from_parts(&other, b"w").unwrap_err().to_string();
        assert!(
            e.contains("fairmark.audit/1") && e.contains(MODEL_SCHEMA),
            "{e}"
        );

        let escape = json.replace("\"w.bpk\"", "\"../secret\"");
        let e = load_from_parts(&escape, b"w").unwrap_err().to_string();
        assert!(e.contains("plain file name"), "{e}");

        let bad_precision = json.replace("\"f32\"", "\"f64\"");
        assert!(load_from_parts(&bad_precision, b"w").is_err());
    }

    /// Each field of a hostile manifest that would panic, trap or allocate
    /// gigabytes in `init` is refused with an error naming it.
    #[test]
    fn hostile_config_fields_are_refused_before_anything_is_built() {
        use serde_json::json;
        let mut m = manifest();
        fill_weights(&mut m, b"w", "w.bpk");
        let good: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
        let cases = [
            ("/config/detector/n_heads", json!(0), "n_heads is 0"),
            ("/config/detector/backbone/depth", json!(40), "depth is 40"),
            (
                "/config/detector/backbone/base_width",
                json!(1 << 20),
                "base_width",
            ),
            (
                "/config/detector/backbone/in_channels",
                json!(3),
                "in_channels",
            ),
            (
                "/config/detector/input_size",
                json!([100, 100]),
                "multiples of 2^depth",
            ),
            (
                "/config/detector/input_size",
                json!([65536, 65536]),
                "input width",
            ),
            (
                "/config/detector/input_size",
                json!([-1, 100]),
                "invalid value",
            ),
            (
                "/config/detector/n_landmarks",
                json!(11),
                "landmark_names has 10",
            ),
            ("/config/detector/n_landmarks", json!("ten"), "invalid type"),
            (
                "/config/detector/architecture",
                json!("resnet"),
                "unknown variant",
            ),
            (
                "/config/detector/groups_per_attribute",
                json!([2]),
                "attributes have [] groups",
            ),
            (
                "/input_size",
                json!([320, 256]),
                "differs from config.detector.input_size",
            ),
            (
                "/attributes",
                json!({"sex": ["F", "M"]}),
                "differ from config.attributes",
            ),
            ("/landmark_names", json!([]), "landmark_names"),
            ("/config", json!(null), "invalid type"),
        ];
        for (pointer, value, expected) in cases {
            let mut j = good.clone();
            *j.pointer_mut(pointer).unwrap() = value.clone();
            let e = load_from_parts(&j.to_string(), b"w")
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(expected),
                "{pointer} = {value}: {e:?} lacks {expected:?}"
            );
        }
        // The refinement stage of a coarse-to-fine model is bounded alike.
        let unet = json!({"in_channels": 1, "base_width": 8, "depth": 2});
        let refine_cases = [
            (
                json!({"patch_size": 0, "zoom": 4, "backbone": unet}),
                "refine.patch_size is 0",
            ),
            (
                json!({"patch_size": 30, "zoom": 4, "backbone": unet}),
                "multiples of 2^depth",
            ),
            (
                json!({"patch_size": 32, "zoom": 0, "backbone": unet}),
                "refine.zoom is 0",
            ),
            (
                json!({"patch_size": 512, "zoom": 4, "backbone": {"base_width": 256, "depth": 2}}),
                "activation values",
            ),
            (
                json!({"patch_size": 32, "zoom": 4, "backbone": {"depth": 30}}),
                "refine.backbone.depth is 30",
            ),
            (json!({"patch_size": 32}), "missing field"),
        ];
        for (refine, expected) in refine_cases {
            let mut j = good.clone();
            j["config"]["detector"]["refine"] = refine.clone();
            let e = load_from_parts(&j.to_string(), b"w")
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(expected),
                "refine = {refine}: {e:?} lacks {expected:?}"
            );
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn directory_round_trip_and_errors() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("ceph-unet");
        let weights: Vec<u8> = (0..=255).collect();
        let written = publish_dir(&dir, manifest(), &weights, "weights.bpk").unwrap();
        assert_eq!(written.weights.bytes, 256);
        for f in ["weights.bpk", MANIFEST_FILE, MODEL_CARD_FILE] {
            assert!(dir.join(f).is_file(), "{f}");
        }
        let (m, w) = load_dir(&dir).unwrap();
        assert_eq!((m, w), (written, weights.clone()));
        // Publishing again swaps the whole directory: nothing of the
        // previous version (here a stray file) survives next to the new one.
        std::fs::write(dir.join("stray.bpk"), b"old").unwrap();
        publish_dir(&dir, manifest(), &weights, "weights.bpk").unwrap();
        assert!(!dir.join("stray.bpk").exists());
        let e = publish_dir(
            &root.path().join("bad name"),
            manifest(),
            &weights,
            "weights.bpk",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not a model name"), "{e}");

        let e = load_dir(&root.path().join("ceph-unt"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ceph-unt") && e.contains("models there: ceph-unet"),
            "{e}"
        );

        std::fs::write(dir.join("weights.bpk"), [0u8; 256]).unwrap();
        let e = load_dir(&dir).unwrap_err().to_string();
        assert!(e.contains("weights.bpk") && e.contains("corrupt"), "{e}");

        std::fs::remove_file(dir.join("weights.bpk")).unwrap();
        let e = load_dir(&dir).unwrap_err();
        assert!(matches!(e, ModelError::MissingWeights { .. }), "{e}");

        std::fs::remove_file(dir.join(MANIFEST_FILE)).unwrap();
        let e = load_dir(&dir).unwrap_err();
        assert!(matches!(e, ModelError::MissingManifest { .. }), "{e}");

        let e = publish_dir(&dir, manifest(), &weights, "../x.bpk").unwrap_err();
        assert!(e.to_string().contains("plain file name"), "{e}");
    }
}
