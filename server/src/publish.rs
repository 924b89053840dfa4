//! `PUT /api/models/{name}`: publishing a model over HTTP.
//!
//! Checks, in order: publishing enabled (403), bearer token (401, compared in
//! constant time), model name (400), body size (413), a body that keeps
//! arriving (408 after `--body-timeout` of silence), JSON shape and base64
//! (400), manifest with its bounded model config (400), manifest name equal
//! to the URL's (400), weights against the manifest's size and sha256 (422).
//! Only then is anything written, through [`crate::store::replace_model_dir`].
use crate::error::{ApiError, ApiResult};
use crate::models::{model_object, name_from_uri};
use crate::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use fairmark::model::manifest::{ModelManifest, MANIFEST_FILE, MODEL_CARD_FILE};
use fairmark::model::weights::{load_from_parts, sha256_hex};
use fairmark::model::ModelError;
use fairmark::publish::render_model_card;
use http_body_util::BodyExt;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedMutexGuard, Semaphore};

/// Publish bodies received at once (each up to `--max-body-mb` in memory);
/// further publishes wait. A stalled one holds its place at most
/// `--body-timeout` of silence, so stalled clients delay others, never block them.
pub const RECEIVING_UPLOADS: usize = 8;
/// Publishes checked and written at once (the decoded weights and the parsed
/// manifest come on top of the body). Taken only once the whole body has
/// arrived, so a client that stops sending never holds one.
pub const CONCURRENT_UPLOADS: usize = 2;

/// The JSON body of a publish.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// A "fairmark.model/1" manifest whose `name` is the URL's name.
    pub manifest: serde_json::Value,
    /// The weights file, base64 (standard alphabet, with padding).
    pub weights_base64: String,
    /// MODEL_CARD.md; rendered from the manifest when absent.
    #[serde(default)]
    pub model_card: Option<String>,
}

/// Publishing state: the token's hash, one lock per model name, and the
/// upload places.
pub struct Publisher {
    /// SHA-256 (hex) of the token; `None`: publishing disabled.
    token_sha256: Option<String>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    receiving: Arc<Semaphore>,
    uploads: Arc<Semaphore>,
    /// Refused tokens wait their turn here (see [`FAILED_AUTH_DELAY`]).
    failures: tokio::sync::Mutex<()>,
}

/// Every refused token is answered after this delay, one refusal at a time
/// for the whole server: guessing gets at most four tries a second, however
/// many connections it opens, while a right token is never delayed.
pub const FAILED_AUTH_DELAY: std::time::Duration = std::time::Duration::from_millis(250);

/// Shortest publishing token the server accepts.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Refuses a token too short to resist guessing.
pub fn check_token(token: &str) -> Result<(), String> {
    let n = token.chars().count();
    if n < MIN_TOKEN_CHARS {
        return Err(format!(
            "the publishing token has {n} characters, fewer than {MIN_TOKEN_CHARS}: use 32 or more random ones (e.g. openssl rand -hex 32)"
        ));
    }
    Ok(())
}

impl Publisher {
    pub fn new(token: Option<&str>) -> Self {
        Self {
            token_sha256: token.map(|t| sha256_hex(t.as_bytes())),
            locks: Mutex::default(),
            receiving: Arc::new(Semaphore::new(RECEIVING_UPLOADS)),
            uploads: Arc::new(Semaphore::new(CONCURRENT_UPLOADS)),
            failures: tokio::sync::Mutex::new(()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.token_sha256.is_some()
    }

    /// Checks the `Authorization: Bearer <token>` header. Both sides are
    /// hashed first, so the comparison takes the same time whatever the
    /// token's length or how much of it is right.
    fn authorize(&self, headers: &HeaderMap) -> ApiResult<()> {
        let Some(expected) = &self.token_sha256 else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "publishing is disabled on this server: start it with FAIRMARK_TOKEN set or --token-file",
            ));
        };
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "publishing needs an Authorization: Bearer <token> header",
                )
            })?;
        let presented = sha256_hex(presented.as_bytes());
        if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            Ok(())
        } else {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "wrong token"))
        }
    }

    /// Waits for and takes the lock of one model name.
    async fn lock(&self, name: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(name.to_string()).or_default().clone()
        };
        lock.lock_owned().await
    }

    /// Forgets the locks nobody holds or waits for.
    fn prune_locks(&self) {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.retain(|_, l| Arc::strong_count(l) > 1);
    }
}

/// A checked publish, ready to be written.
struct Checked {
    manifest: ModelManifest,
    weights: Vec<u8>,
    card: String,
}

/// Everything but the writing: parse, decode, validate, verify.
fn check(name: &str, body: &[u8]) -> ApiResult<Checked> {
    let body: PublishBody = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "malformed body: {e} (expected {{\"manifest\": {{...}}, \"weights_base64\": \"...\", \"model_card\": \"...\"}})"
        ))
    })?;
    let weights = base64::engine::general_purpose::STANDARD
        .decode(body.weights_base64.as_bytes())
        .map_err(|e| ApiError::bad_request(format!("weights_base64 is not valid base64: {e}")))?;
    if !body.manifest.is_object() {
        return Err(ApiError::bad_request("manifest must be a JSON object"));
    }
    let text = serde_json::to_string_pretty(&body.manifest)
        .map_err(|e| ApiError::bad_request(format!("manifest: {e}")))?;
    let manifest = load_from_parts(&text, &weights).map_err(|e| match e {
        ModelError::HashMismatch { .. } | ModelError::SizeMismatch { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the weights do not match the manifest: {e}"),
        ),
        e => ApiError::bad_request(format!("invalid manifest: {e}")),
    })?;
    if manifest.name != name {
        return Err(ApiError::bad_request(format!(
            "the manifest names the model {:?} but the URL {name:?}: they must be equal",
            manifest.name
        )));
    }
    let card = body
        .model_card
        .unwrap_or_else(|| render_model_card(&manifest));
    Ok(Checked {
        manifest,
        weights,
        card,
    })
}

/// Why a body could not be read.
enum BodyError {
    TooLarge,
    /// The client went silent for `--body-timeout`.
    Stalled,
    Broken(String),
}

/// Whether a body error is the body timeout of the router's
/// `RequestBodyTimeoutLayer` (wrapped by axum).
fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Reads a body of at most `limit` bytes. The rest of an oversized body is
/// read and dropped (up to `limit` or 16 MiB more, for at most 10 s), so that
/// the client, which is still sending, receives the 413 instead of a reset
/// connection. Every frame must come within the body timeout.
async fn read_body(body: Body, limit: usize, expected: Option<u64>) -> Result<Vec<u8>, BodyError> {
    let mut body = body;
    let mut bytes = Vec::with_capacity(expected.map_or(0, |n| n as usize).min(limit));
    let mut over = 0usize;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let frame = if over == 0 {
            body.frame().await
        } else {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Ok(f) => f,
                Err(_) => return Err(BodyError::TooLarge),
            }
        };
        let Some(frame) = frame else {
            break;
        };
        let frame = frame.map_err(|e| {
            if is_body_timeout(&e) {
                BodyError::Stalled
            } else {
                BodyError::Broken(e.to_string())
            }
        })?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if over > 0 || bytes.len() + data.len() > limit {
            over += data.len();
            bytes = Vec::new();
            if over > limit.max(16 << 20) {
                break;
            }
        } else {
            bytes.extend_from_slice(&data);
        }
    }
    if over > 0 {
        Err(BodyError::TooLarge)
    } else {
        Ok(bytes)
    }
}

pub async fn put(State(state): State<Arc<AppState>>, request: Request) -> ApiResult<Response> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    let publisher = &state.publisher;
    if let Err(e) = publisher.authorize(request.headers()) {
        tracing::warn!(%peer, uri = %request.uri(), status = %e.status, "publish refused: {}", e.message);
        if e.status == StatusCode::UNAUTHORIZED {
            let _turn = publisher.failures.lock().await;
            tokio::time::sleep(FAILED_AUTH_DELAY).await;
        }
        return Err(e);
    }
    let name = name_from_uri(request.uri())?;
    let limit = state.config.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is larger than this server's limit of {} MiB (--max-body-mb)",
                limit >> 20
            ),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }

    let shutting_down = |_| ApiError::internal("the server is shutting down");
    let receiving = publisher
        .receiving
        .clone()
        .acquire_owned()
        .await
        .map_err(shutting_down)?;
    let bytes = match read_body(request.into_body(), limit, declared).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return Err(too_large()),
        Err(BodyError::Stalled) => {
            let timeout = state.config.limits.body_timeout;
            tracing::warn!(%peer, model = %name, "publish dropped: the body stopped arriving for {timeout:?}");
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body stopped arriving for {} s (--body-timeout): nothing was published",
                    timeout.as_secs_f64()
                ),
            ));
        }
        Err(BodyError::Broken(e)) => {
            return Err(ApiError::bad_request(format!("cannot read the body: {e}")))
        }
    };
    // The received body keeps its place until a check slot is free, so no
    // more than RECEIVING_UPLOADS bodies are ever in memory.
    let _upload = publisher
        .uploads
        .clone()
        .acquire_owned()
        .await
        .map_err(shutting_down)?;
    drop(receiving);

    let checked = {
        let name = name.clone();
        tokio::task::spawn_blocking(move || check(&name, &bytes))
            .await
            .map_err(|e| ApiError::internal(format!("checking the upload failed: {e}")))??
    };

    // The manifest exactly as `fairmark publish` writes it.
    let Checked {
        manifest,
        weights,
        card,
    } = checked;
    let manifest_json = manifest.to_json();
    let weights_file = manifest.weights.file.clone();
    let guard = publisher.lock(&name).await;
    let written = {
        let (models, name) = (state.config.models.clone(), name.clone());
        let (manifest_json, weights_file) = (manifest_json.clone(), weights_file.clone());
        // The lock moves into the task: were this request dropped (the client
        // gone), the write would still finish before the next one starts.
        tokio::task::spawn_blocking(move || {
            let _guard = guard;
            crate::store::replace_model_dir(
                &models,
                &name,
                &[
                    (weights_file.as_str(), weights.as_slice()),
                    (MODEL_CARD_FILE, card.as_bytes()),
                    (MANIFEST_FILE, manifest_json.as_bytes()),
                ],
            )
        })
        .await
    };
    publisher.prune_locks();
    let created = match written {
        Ok(Ok(created)) => created,
        Ok(Err(e)) => {
            tracing::error!(model = %name, error = %e, "publish failed; the previous version is unchanged");
            return Err(ApiError::internal(format!(
                "writing the model failed ({e}); the previous version is unchanged"
            )));
        }
        Err(e) => return Err(ApiError::internal(format!("writing the model failed: {e}"))),
    };
    tracing::info!(model = %name, %peer, created, "published model");
    let model = model_object(&name, &manifest_json, &manifest)
        .map_err(|e| ApiError::internal(format!("manifest JSON: {e}")))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(model)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/models/{name}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}
