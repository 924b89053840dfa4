//! Published models: a directory `models/<name>/` with the weights file (opaque
//! bytes here: the model code serialises them), `manifest.json` (schema
//! "fairmark.model/1", with the SHA-256 of the weights) and `MODEL_CARD.md`.
//!
//! The byte-level functions ([`fill_weights`], [`verify_weights`],
//! [`load_from_parts`]) work in the browser too; only [`publish_dir`] and
//! [`load_dir`] touch the file system.
pub mod error;
pub mod manifest;
pub mod measurements;
pub mod model_card;
pub mod overlay;
/// Upload to a fairmark server (native only: it needs sockets).
#[cfg(not(target_arch = "wasm32"))]
pub mod remote;

pub use error::{PublishError, Result};
pub use manifest::{
    ModelManifest, ModelMetrics, Precision, TrainingData, WeightsInfo, MANIFEST_FILE,
    MODEL_CARD_FILE, MODEL_SCHEMA,
};
pub use model_card::render_model_card;

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
    // Size first: it is free and tells a truncated download apart.
    if bytes.len() as u64 != w.bytes {
        return Err(PublishError::SizeMismatch {
            file: w.file.clone(),
            expected: w.bytes,
            actual: bytes.len() as u64,
        });
    }
    let actual = sha256_hex(bytes);
    if !actual.eq_ignore_ascii_case(&w.sha256) {
        let short = |h: &str| h.chars().take(12).collect::<String>();
        return Err(PublishError::HashMismatch {
            file: w.file.clone(),
            expected: short(&w.sha256),
            actual: short(&actual),
        });
    }
    Ok(())
}

/// Parses a manifest and checks the weights against it: what the browser does
/// with the two files it fetched.
pub fn load_from_parts(manifest_json: &str, weights: &[u8]) -> Result<ModelManifest> {
    let manifest = ModelManifest::from_json(Path::new(MANIFEST_FILE), manifest_json)?;
    verify_weights(&manifest, weights)?;
    Ok(manifest)
}

/// Writes a model directory: weights, model card, then the manifest, each
/// atomically. The manifest goes last so that a crash never leaves a manifest
/// pointing at weights that are missing or half-written. Returns the manifest
/// as written (with `weights` filled in).
#[cfg(not(target_arch = "wasm32"))]
pub fn publish_dir(
    out_dir: &Path,
    mut manifest: ModelManifest,
    weights: &[u8],
    weights_file_name: &str,
) -> Result<ModelManifest> {
    use crate::io::write_atomic;
    fill_weights(&mut manifest, weights, weights_file_name);
    manifest.validate(&out_dir.join(MANIFEST_FILE))?;
    std::fs::create_dir_all(out_dir).map_err(|e| PublishError::io(out_dir, e))?;
    write_atomic(&out_dir.join(weights_file_name), weights)?;
    write_atomic(
        &out_dir.join(MODEL_CARD_FILE),
        render_model_card(&manifest).as_bytes(),
    )?;
    write_atomic(&out_dir.join(MANIFEST_FILE), manifest.to_json().as_bytes())?;
    Ok(manifest)
}

/// Reads a model directory and verifies its weights.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_dir(dir: &Path) -> Result<(ModelManifest, Vec<u8>)> {
    if !dir.is_dir() {
        return Err(PublishError::MissingModelDir {
            dir: dir.into(),
            available: dir.parent().map(list_models).unwrap_or_default(),
        });
    }
    let manifest_path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read_to_string(&manifest_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PublishError::MissingManifest { dir: dir.into() })
        }
        Err(e) => return Err(PublishError::io(&manifest_path, e)),
    };
    let manifest = ModelManifest::from_json(&manifest_path, &text)?;
    let weights_path = dir.join(&manifest.weights.file);
    let weights = match std::fs::read(&weights_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PublishError::MissingWeights {
                path: weights_path,
                file: manifest.weights.file.clone(),
            })
        }
        Err(e) => return Err(PublishError::io(&weights_path, e)),
    };
    verify_weights(&manifest, &weights)?;
    Ok((manifest, weights))
}

/// Names of the sub-directories of `parent` that hold a manifest, sorted (for
/// "did you mean" messages and model registries).
#[cfg(not(target_arch = "wasm32"))]
pub fn list_models(parent: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    }) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join(MANIFEST_FILE).is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    pub(crate) fn manifest() -> ModelManifest {
        ModelManifest::new(
            "ceph-unet",
            "unet",
            serde_json::json!({"model": {"channels": 16}, "train": {"epochs": 30, "lr": 0.001}}),
            crate::data::Anatomy::Ceph.landmark_names(),
            [256, 320],
            TrainingData {
                description: "cephalometric phantoms, adult and adolescent".into(),
                n_train: 280,
                n_val: 40,
                n_test: 80,
                source: "fairmark synth dataset --kind ceph --n 400 --seed 1".into(),
                fine_tuned_from: None,
            },
            "2025-01-01T00:00:00Z",
        )
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
        fill_weights(&mut m, b"w", "w.bin");
        let json = m.to_json();

        let broken = json.replacen("\"name\"", "\"name\" oops", 1);
        let e = load_from_parts(&broken, b"w").unwrap_err();
        assert!(
            matches!(e, PublishError::InvalidManifest { line: 3, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("line 3"), "{e}");

        let other = json.replace(MODEL_SCHEMA, "fairmark.audit/1");
        let e = load_from_parts(&other, b"w").unwrap_err().to_string();
        assert!(
            e.contains("fairmark.audit/1") && e.contains(MODEL_SCHEMA),
            "{e}"
        );

        let escape = json.replace("\"w.bin\"", "\"../secret\"");
        let e = load_from_parts(&escape, b"w").unwrap_err().to_string();
        assert!(e.contains("plain file name"), "{e}");

        let bad_precision = json.replace("\"f32\"", "\"f64\"");
        assert!(load_from_parts(&bad_precision, b"w").is_err());
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
        assert!(matches!(e, PublishError::MissingWeights { .. }), "{e}");

        std::fs::remove_file(dir.join(MANIFEST_FILE)).unwrap();
        let e = load_dir(&dir).unwrap_err();
        assert!(matches!(e, PublishError::MissingManifest { .. }), "{e}");

        let e = publish_dir(&dir, manifest(), &weights, "../x.bpk").unwrap_err();
        assert!(e.to_string().contains("plain file name"), "{e}");
    }
}
