//! Publishing a model: a directory `models/<name>/` with the weights file,
//! `manifest.json` (the model format, see [`crate::model::manifest`]) and
//! `MODEL_CARD.md`, written so that a reader never sees half a model.
pub mod model_card;
#[cfg(all(feature = "model", not(target_arch = "wasm32")))]
pub mod run;
#[cfg(not(target_arch = "wasm32"))]
pub mod store;

pub use model_card::render_model_card;

#[cfg(not(target_arch = "wasm32"))]
use crate::model::error::Result;
#[cfg(not(target_arch = "wasm32"))]
use crate::model::manifest::{ModelManifest, MANIFEST_FILE, MODEL_CARD_FILE};
#[cfg(not(target_arch = "wasm32"))]
use std::path::Path;

/// Writes a model directory (weights, model card, manifest) and swaps it in
/// as a whole ([`store::replace_model_dir`]): a reader sees the previous
/// version or the new one, never new weights with an old manifest. The
/// directory's name must be a model name. Returns the manifest as written
/// (with `weights` filled in).
#[cfg(not(target_arch = "wasm32"))]
pub fn publish_dir(
    out_dir: &Path,
    mut manifest: ModelManifest,
    weights: &[u8],
    weights_file_name: &str,
) -> Result<ModelManifest> {
    use crate::model::error::ModelError;
    crate::model::weights::fill_weights(&mut manifest, weights, weights_file_name);
    manifest.validate(&out_dir.join(MANIFEST_FILE))?;
    let (Some(models), Some(name)) = (
        out_dir.parent(),
        out_dir.file_name().and_then(|n| n.to_str()),
    ) else {
        return Err(ModelError::invalid(out_dir, "not a model directory path"));
    };
    let models = if models.as_os_str().is_empty() {
        Path::new(".")
    } else {
        models
    };
    if !crate::registry::valid_model_name(name) {
        return Err(ModelError::invalid(
            out_dir,
            format!("{name:?} is not a model name: use 1 to 128 letters, digits, '-' and '_'"),
        ));
    }
    let card = render_model_card(&manifest);
    let json = manifest.to_json();
    store::replace_model_dir(
        models,
        name,
        &[
            (weights_file_name, weights),
            (MODEL_CARD_FILE, card.as_bytes()),
            (MANIFEST_FILE, json.as_bytes()),
        ],
    )
    .map_err(|e| ModelError::io(out_dir, e))?;
    Ok(manifest)
}
