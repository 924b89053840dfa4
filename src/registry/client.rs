//! Upload of a published model directory to a fairmark server
//! (`PUT /api/models/{name}`, see docs/SERVER.md): what
//! `fairmark publish ... --to URL` does after writing the directory.
use super::{valid_model_name, TOKEN_ENV};
use crate::model::error::ModelError;
use crate::model::manifest::MODEL_CARD_FILE;
use crate::model::weights::load_dir;
use crate::publish::render_model_card;
use base64::Engine as _;
use std::path::Path;
use std::time::Duration;

/// Why a model could not be uploaded.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("--to {0:?}: give the server as http://HOST:PORT or https://HOST")]
    BadUrl(String),
    #[error("no token: set {TOKEN_ENV} to the server's publishing token")]
    NoToken,
    #[error("model name {0:?}: use 1 to 128 letters, digits, '-' and '_'")]
    BadName(String),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("PUT {url}: {problem}")]
    Http { url: String, problem: String },
    #[error("PUT {url}: the server answered {status}: {why}")]
    Refused {
        url: String,
        status: u16,
        why: String,
    },
}

/// What the server answered to a publish.
#[derive(Clone, Debug)]
pub struct PushReply {
    /// The model URL that was written to, e.g. `http://host:8080/api/models/ceph`.
    pub url: String,
    /// 201 (a new model) or 200 (a replaced one).
    pub status: u16,
    /// The server's model object (`name`, `manifest`, `weights_url`, ...).
    pub model: serde_json::Value,
}

/// The JSON body of `PUT /api/models/{name}` for the model directory `dir`:
/// `{"manifest": {...}, "weights_base64": "...", "model_card": "..."}`. The
/// weights are checked against the manifest first. When `name` differs from
/// the manifest's name the manifest is renamed and the card re-rendered (the
/// server refuses a manifest whose name is not the URL's).
pub fn upload_body(dir: &Path, name: &str) -> Result<String, PushError> {
    if !valid_model_name(name) {
        return Err(PushError::BadName(name.into()));
    }
    let (mut manifest, weights) = load_dir(dir)?;
    let card = if manifest.name == name {
        match std::fs::read_to_string(dir.join(MODEL_CARD_FILE)) {
            Ok(card) => card,
            Err(_) => render_model_card(&manifest),
        }
    } else {
        manifest.name = name.to_string();
        render_model_card(&manifest)
    };
    let body = serde_json::json!({
        "manifest": manifest,
        "weights_base64": base64::engine::general_purpose::STANDARD.encode(&weights),
        "model_card": card,
    });
    Ok(body.to_string())
}

/// True when `server` is plain `http://` to a host other than this machine:
/// the token and the weights would cross the network unencrypted.
pub fn is_plain_http_to_remote(server: &str) -> bool {
    let Some(rest) = server.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    !matches!(host, "localhost" | "::1") && !host.starts_with("127.")
}

/// Publishes the model directory `dir` as `name` on the server at `server`
/// (`http://HOST:PORT` or `https://...`) with the bearer `token`.
pub fn push_dir(dir: &Path, name: &str, server: &str, token: &str) -> Result<PushReply, PushError> {
    let server = server.trim_end_matches('/');
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        return Err(PushError::BadUrl(server.into()));
    }
    if token.trim().is_empty() {
        return Err(PushError::NoToken);
    }
    let body = upload_body(dir, name)?;
    let url = format!("{server}/api/models/{name}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    let mut response = agent
        .put(&url)
        .header("Authorization", format!("Bearer {}", token.trim()))
        .header("Content-Type", "application/json")
        // The server answers a refusal (token, name, size) before the body:
        // wait for its "100 Continue" rather than send megabytes into a closed
        // connection.
        .header("Expect", "100-continue")
        .send(body.as_bytes())
        .map_err(|e| PushError::Http {
            url: url.clone(),
            problem: e.to_string(),
        })?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(16 << 20)
        .read_to_string()
        .map_err(|e| PushError::Http {
            url: url.clone(),
            problem: format!("reading the answer: {e}"),
        })?;
    let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    if !(200..300).contains(&status) {
        let why = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .and_then(|e| e.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| text.chars().take(300).collect());
        return Err(PushError::Refused { url, status, why });
    }
    let model = json.ok_or_else(|| PushError::Http {
        url: url.clone(),
        problem: format!("the answer is not JSON: {text:.200}"),
    })?;
    Ok(PushReply { url, status, model })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_told_apart() {
        assert!(!is_plain_http_to_remote("http://127.0.0.1:8080"));
        assert!(!is_plain_http_to_remote("http://localhost:8080/"));
        assert!(!is_plain_http_to_remote("http://[::1]:8080"));
        assert!(!is_plain_http_to_remote("https://models.example.org"));
        assert!(is_plain_http_to_remote("http://10.0.0.5:8080"));
        assert!(is_plain_http_to_remote("http://models.example.org"));
    }

    #[test]
    fn refused_before_any_request() {
        let dir = Path::new("models/does-not-exist");
        let e = push_dir(dir, "x", "ftp://h", "t").unwrap_err().to_string();
        assert!(e.contains("http://HOST:PORT"), "{e}");
        let e = push_dir(dir, "x", "http://127.0.0.1:9", " ")
            .unwrap_err()
            .to_string();
        assert!(e.contains(TOKEN_ENV), "{e}");
        let e = push_dir(dir, "../x", "http://127.0.0.1:9", "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("letters, digits"), "{e}");
    }
}
