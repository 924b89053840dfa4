//! `GET /api/models` and `GET /api/models/{name}`: the published models and
//! their manifests, read from the models directory on each request (so a
//! model written there by `fairmark publish` shows up without a restart).
use crate::error::{ApiError, ApiResult};
use crate::files::{percent_decode, percent_encode, through_symlink};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fairmark::model::manifest::{ModelManifest, MANIFEST_FILE, MODEL_CARD_FILE};
use fairmark::model::weights::sha256_hex;
use fairmark::registry::list_models;
use fairmark::registry::valid_model_name;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;

/// The API's object for one model: its name, the full manifest as written
/// (`manifest_text`, every field in its order) and the URLs of its three
/// files. The manifest's and the weights' URLs name their version,
/// `?v=<sha256 of the file>`: the server answers 409 once the file there is
/// another version, so a page that fetches both never pairs the manifest of
/// one publish with the weights of another.
pub fn model_object(
    name: &str,
    manifest_text: &str,
    manifest: &ModelManifest,
) -> Result<Value, String> {
    let value: Value = serde_json::from_str(manifest_text).map_err(|e| e.to_string())?;
    let manifest_version = sha256_hex(manifest_text.as_bytes());
    let weights = &manifest.weights;
    Ok(json!({
        "name": name,
        "manifest": value,
        "manifest_url": format!("/models/{name}/{MANIFEST_FILE}?v={manifest_version}"),
        "weights_url": format!(
            "/models/{name}/{}?v={}",
            percent_encode(&weights.file),
            weights.sha256.to_ascii_lowercase()
        ),
        "card_url": format!("/models/{name}/{MODEL_CARD_FILE}"),
    }))
}

/// Reads `models/<name>` as the API shows it. The manifest must parse and
/// validate and its weights file must exist (its hash is checked when it is
/// served: the ETag is the hash of the bytes sent). A model reached through
/// a symbolic link is not one: its files would not be served.
pub fn read_model(models: &Path, name: &str) -> Result<Value, String> {
    let path = models.join(name).join(MANIFEST_FILE);
    let weights_of = |manifest: &ModelManifest| models.join(name).join(&manifest.weights.file);
    let linked = |p: &Path| match through_symlink(models, p) {
        Ok(false) => Ok(()),
        Ok(true) => Err(format!("{} goes through a symbolic link", p.display())),
        Err(e) => Err(format!("{}: {e}", p.display())),
    };
    linked(&path)?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let manifest = ModelManifest::from_json(&path, &text).map_err(|e| e.to_string())?;
    let weights = &manifest.weights.file;
    if weights.starts_with('.') {
        return Err(format!(
            "{}: weights file {weights:?} is hidden, so it is never served",
            path.display()
        ));
    }
    let weights_path = weights_of(&manifest);
    linked(&weights_path)?;
    if !weights_path.is_file() {
        return Err(format!("{}: weights file missing", weights_path.display()));
    }
    model_object(name, &text, &manifest)
}

/// Every valid model under `models`, sorted by name; hidden or invalid
/// directories are skipped (invalid ones with a warning).
pub fn read_models(models: &Path) -> Vec<Value> {
    list_models(models)
        .into_iter()
        .filter(|name| valid_model_name(name))
        .filter_map(|name| match read_model(models, &name) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!(model = %name, error = %e, "skipping invalid model directory");
                None
            }
        })
        .collect()
}

/// The model name of `/api/models/{name}`, decoded from the raw URI and
/// checked: 1 to 128 ASCII letters, digits, '-' and '_'.
pub fn name_from_uri(uri: &Uri) -> ApiResult<String> {
    let raw = uri
        .path()
        .strip_prefix("/api/models/")
        .ok_or_else(|| ApiError::not_found("not found"))?;
    let decoded = percent_decode(raw)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::bad_request(format!("bad escape in model name {raw:?}")))?;
    if !valid_model_name(&decoded) {
        return Err(ApiError::bad_request(format!(
            "model name {decoded:?} is not allowed: use 1 to 128 ASCII letters, digits, '-' and '_'"
        )));
    }
    Ok(decoded)
}

fn json_no_cache(value: Value) -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], Json(value)).into_response()
}

pub async fn list(State(state): State<Arc<AppState>>) -> ApiResult<Response> {
    let models = state.config.models.clone();
    let list = tokio::task::spawn_blocking(move || read_models(&models))
        .await
        .map_err(|e| ApiError::internal(format!("listing models failed: {e}")))?;
    Ok(json_no_cache(json!({ "models": list })))
}

pub async fn get_one(State(state): State<Arc<AppState>>, uri: Uri) -> ApiResult<Response> {
    let name = name_from_uri(&uri)?;
    let models = state.config.models.clone();
    let found = {
        let name = name.clone();
        tokio::task::spawn_blocking(move || {
            let dir = models.join(&name);
            if !dir.join(MANIFEST_FILE).is_file() {
                return Ok(None);
            }
            read_model(&models, &name).map(Some)
        })
        .await
        .map_err(|e| ApiError::internal(format!("reading the model failed: {e}")))?
    };
    match found {
        Ok(Some(model)) => Ok(json_no_cache(model)),
        Ok(None) => Err(ApiError::not_found(format!("no model named {name:?}"))),
        Err(e) => {
            tracing::warn!(model = %name, error = %e, "invalid model directory");
            Err(ApiError::not_found(format!(
                "model {name:?} is not a valid published model"
            )))
        }
    }
}
