//! Publishing a model: a directory `models/<name>/` with the weights file,
//! `manifest.json` (the model format, see [`crate::model::manifest`]) and
//! `MODEL_CARD.md`, written so that a reader never sees half a model.
pub mod model_card;
#[cfg(all(feature = "model", not(target_arch = "wasm32")))]
pub mod run;

pub use model_card::render_model_card;

#[cfg(not(target_arch = "wasm32"))]
use crate::model::error::Result;
#[cfg(not(target_arch = "wasm32"))]
use crate::model::manifest::{ModelManifest, MANIFEST_FILE, MODEL_CARD_FILE};
#[cfg(not(target_arch = "wasm32"))]
use std::path::Path;

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
    use crate::model::error::ModelError;
    crate::model::weights::fill_weights(&mut manifest, weights, weights_file_name);
    manifest.validate(&out_dir.join(MANIFEST_FILE))?;
    std::fs::create_dir_all(out_dir).map_err(|e| ModelError::io(out_dir, e))?;
    write_atomic(&out_dir.join(weights_file_name), weights)?;
    write_atomic(
        &out_dir.join(MODEL_CARD_FILE),
        render_model_card(&manifest).as_bytes(),
    )?;
    write_atomic(&out_dir.join(MANIFEST_FILE), manifest.to_json().as_bytes())?;
    Ok(manifest)
}
