//! Shared by the server tests: a fixture directory, a server on 127.0.0.1:0,
//! a blocking client and publish bodies.
#![allow(dead_code)]
use base64::Engine as _;
use fairmark::model::manifest::{ModelManifest, MANIFEST_FILE};
use fairmark::model::weights::fill_weights;
use fairmark_server::{Config, RunningServer};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const TOKEN: &str = "test-token-0123456789abcdef";

/// The committed models of the repository.
pub fn committed_models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// A temporary site: www/index.html, www/app.js, www/.secret, pkg/x.wasm,
/// pkg/x.js and an empty models/.
pub struct Site {
    pub dir: tempfile::TempDir,
}

impl Site {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let www = dir.path().join("www");
        let pkg = dir.path().join("pkg");
        std::fs::create_dir_all(&www).unwrap();
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::create_dir_all(dir.path().join("models")).unwrap();
        std::fs::write(
            www.join("index.html"),
            "<!doctype html><html><head><title>fairmark</title><script type=\"module\" src=\"app.js\"></script></head><body><h1>fairmark</h1></body></html>\n",
        )
        .unwrap();
        std::fs::write(
            www.join("app.js"),
            "import init from './pkg/x.js';\nawait init();\n".repeat(20),
        )
        .unwrap();
        std::fs::write(www.join(".secret"), "do not serve").unwrap();
        std::fs::write(pkg.join("x.wasm"), wasm_bytes()).unwrap();
        std::fs::write(
            pkg.join("x.js"),
            "export default async function init() {}\n".repeat(50),
        )
        .unwrap();
        Self { dir }
    }

    pub fn www(&self) -> PathBuf {
        self.dir.path().join("www")
    }
    pub fn pkg(&self) -> PathBuf {
        self.dir.path().join("pkg")
    }
    pub fn models(&self) -> PathBuf {
        self.dir.path().join("models")
    }

    pub fn config(&self) -> Config {
        Config::new(self.www(), self.pkg(), self.models()).with_token(TOKEN)
    }

    pub fn start(&self) -> RunningServer {
        RunningServer::start(self.config(), 2).unwrap()
    }

    /// Copies a committed model into this site's models/.
    pub fn add_committed(&self, name: &str) {
        let to = self.models().join(name);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(committed_models().join(name)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A small, compressible "wasm" file: the magic and version, then a
/// repetitive custom section.
pub fn wasm_bytes() -> Vec<u8> {
    let mut b = b"\0asm\x01\0\0\0".to_vec();
    b.extend(std::iter::repeat_n(*b"fairmark", 2048).flatten());
    b
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Status, headers and body of a response.
pub struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    /// The `error` message of a JSON error answer.
    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error field: {}", String::from_utf8_lossy(&self.body)))
            .to_string()
    }
}

fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .expect("body");
    Reply {
        status,
        headers,
        body,
    }
}

pub fn get(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(req.call())
}

pub fn put(agent: &ureq::Agent, url: &str, token: Option<&str>, body: &[u8]) -> Reply {
    // As curl does for large bodies and `fairmark publish --to` always: the
    // server refuses before reading the body, and the client then sends none.
    let mut req = agent
        .put(url)
        .header("Content-Type", "application/json")
        .header("Expect", "100-continue");
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    reply(req.send(body))
}

/// The manifest of a committed model, renamed and with `weights` filled in.
pub fn manifest_for(name: &str, weights: &[u8]) -> ModelManifest {
    let path = committed_models()
        .join("ceph-unet-phantom")
        .join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut m = ModelManifest::from_json(&path, &text).unwrap();
    m.name = name.to_string();
    fill_weights(&mut m, weights, "weights.bpk");
    m
}

/// A publish body for `name` with these weights (no model card: the server renders it).
/// Publishes `weights` as model `name` with the test token; it must be created.
pub fn publish_ok(agent: &ureq::Agent, url: &str, name: &str, weights: &[u8]) {
    let r = put(
        agent,
        &format!("{url}/api/models/{name}"),
        Some(TOKEN),
        &body(name, weights),
    );
    assert_eq!(r.status, 201, "publishing {name}");
}

/// Names of the models in a `GET /api/models` answer, in its order.
pub fn model_names(list: &serde_json::Value) -> Vec<String> {
    list["models"]
        .as_array()
        .expect("a models array")
        .iter()
        .map(|m| m["name"].as_str().expect("a name").to_string())
        .collect()
}

pub fn body(name: &str, weights: &[u8]) -> Vec<u8> {
    body_with(&manifest_for(name, weights), weights)
}

pub fn body_with(manifest: &ModelManifest, weights: &[u8]) -> Vec<u8> {
    serde_json::json!({
        "manifest": manifest,
        "weights_base64": base64::engine::general_purpose::STANDARD.encode(weights),
    })
    .to_string()
    .into_bytes()
}

/// Distinct, deterministic weights.
pub fn weights(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Names in a directory, sorted (hidden ones included).
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
