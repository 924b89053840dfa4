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
    let len = match regular_file_len(&manifest_path) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ModelError::MissingManifest { dir: dir.into() })
        }
        Err(e) => return Err(ModelError::io(&manifest_path, e)),
    };
    if len > MAX_MANIFEST_BYTES {
        return Err(ModelError::invalid(
            &manifest_path,
            format!("the manifest is {len} bytes, more than the limit of {MAX_MANIFEST_BYTES}"),
        ));
    }
    let bytes = read_at_most(&manifest_path, MAX_MANIFEST_BYTES)
        .map_err(|e| ModelError::io(&manifest_path, e))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ModelError::invalid(&manifest_path, "the manifest is not UTF-8 text"))?;
    let manifest = ModelManifest::from_json(&manifest_path, &text)?;
    let weights_path = dir.join(&manifest.weights.file);
    let size_mismatch = |actual| ModelError::SizeMismatch {
        file: manifest.weights.file.clone(),
        expected: manifest.weights.bytes,
        actual,
    };
    // The size is compared before a byte is read, so a huge or endless file
    // (a link to /dev/zero) costs nothing; the read stops one byte past the
    // declared size in case the file grows meanwhile.
    match regular_file_len(&weights_path) {
        Ok(n) if n != manifest.weights.bytes => return Err(size_mismatch(n)),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ModelError::MissingWeights {
                path: weights_path,
                file: manifest.weights.file.clone(),
            })
        }
        Err(e) => return Err(ModelError::io(&weights_path, e)),
    }
    let weights = read_at_most(&weights_path, manifest.weights.bytes)
        .map_err(|e| ModelError::io(&weights_path, e))?;
    if weights.len() as u64 > manifest.weights.bytes {
        return Err(size_mismatch(weights.len() as u64));
    }
    Ok((manifest, weights))
}

/// Largest `manifest.json` read. The committed manifests are under 50 KB
/// (a 37-landmark hand model with its metrics); the evaluation text alone is
/// capped at [`super::manifest::MAX_EVALUATION_BYTES`].
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// The length of a regular file; anything else (a directory, a device, a
/// FIFO that would block the open) is an error, links followed.
#[cfg(not(target_arch = "wasm32"))]
fn regular_file_len(path: &Path) -> std::io::Result<u64> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        Ok(meta.len())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ))
    }
}

/// The file's bytes, but no more than `limit + 1` of them.
#[cfg(not(target_arch = "wasm32"))]
fn read_at_most(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)?;
    Ok(out)
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

    /// Files that are not what they say are refused by their metadata
    /// before they are read: a manifest over the limit, weights longer than
    /// the manifest says, and weights that are a device (reading /dev/zero
    /// would never end).
    #[cfg(unix)]
    #[test]
    fn oversized_and_endless_files_are_refused_unread() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("m");
        let weights: Vec<u8> = (0..=255).collect();
        publish_dir(&dir, manifest(), &weights, "weights.bpk").unwrap();

        let w = dir.join("weights.bpk");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&w)
            .unwrap()
            .set_len(1 << 40) // sparse: no disk is used
            .unwrap();
        let e = load_dir(&dir).unwrap_err().to_string();
        assert!(
            e.contains("1099511627776 bytes, the manifest says 256"),
            "{e}"
        );

        std::fs::remove_file(&w).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &w).unwrap();
        let e = load_dir(&dir).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");

        let m = dir.join(MANIFEST_FILE);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&m)
            .unwrap()
            .set_len(MAX_MANIFEST_BYTES + 1)
            .unwrap();
        let e = load_dir(&dir).unwrap_err().to_string();
        assert!(e.contains("more than the limit of 4194304"), "{e}");
        std::fs::remove_file(&m).unwrap();
        std::fs::create_dir(&m).unwrap();
        let e = load_dir(&dir).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
