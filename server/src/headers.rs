//! Headers set on every response: the security policy of the page, and a weak
//! ETag on compressed bodies.
use axum::http::Response;
use axum::http::{header, HeaderName, HeaderValue};

/// The Content-Security-Policy of every response. Own origin only;
/// `'wasm-unsafe-eval'` lets the page compile its WebAssembly (and nothing
/// else: no `eval`, no inline scripts or styles); images may also be `blob:`
/// or `data:` URLs (the X-ray the user opens, overlays drawn in the page).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Security headers and their values, set on every response (HTML or not: a
/// JSON or SVG answer opened as a page is held to the same rules).
///
/// Cross-Origin-Opener-Policy isolates the page's browsing context group. The
/// page uses no SharedArrayBuffer, so Cross-Origin-Embedder-Policy (full
/// cross-origin isolation) is not needed and not sent; it would only make
/// every sub-resource opt in.
pub const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// The policy of files under `/models/` other than the manifest: a sandbox
/// in which nothing runs and nothing loads, whatever a publisher uploaded.
pub const MODEL_FILE_POLICY: &str = "sandbox; default-src 'none'";

/// Published model directories hold data for the page, never a page: every
/// file but `manifest.json` (JSON the page fetches) gets the sandbox policy;
/// the model card is plain text (readable in a tab, never HTML); anything
/// else, the weights first, is an `application/octet-stream` attachment.
/// Applied after [`crate::files::serve`], before [`security_headers`] (which
/// keeps a policy that a handler set).
pub fn model_file_headers<B>(response: &mut Response<B>, file_name: &str) {
    use fairmark::model::manifest::{MANIFEST_FILE, MODEL_CARD_FILE};
    if file_name == MANIFEST_FILE {
        return;
    }
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(MODEL_FILE_POLICY),
    );
    if !headers.contains_key(header::CONTENT_TYPE) {
        // Errors and 304s carry no file.
        return;
    }
    if file_name == MODEL_CARD_FILE {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    } else {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
}

/// Adds [`SECURITY_HEADERS`] (unless a handler set one itself).
pub async fn security_headers<B>(mut response: Response<B>) -> Response<B> {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// A compressed body is a different sequence of bytes than the file whose
/// hash is its strong ETag, so the tag is made weak (`W/"..."`), as nginx
/// does. `If-None-Match` compares weakly, so revalidation still gives 304.
pub async fn weaken_etag_when_encoded<B>(mut response: Response<B>) -> Response<B> {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    if let Some(tag) = headers.get(header::ETAG).and_then(|t| t.to_str().ok()) {
        if tag.starts_with('"') {
            if let Ok(weak) = HeaderValue::from_str(&format!("W/{tag}")) {
                headers.insert(header::ETAG, weak);
            }
        }
    }
    response
}
