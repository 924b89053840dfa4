//! Static files (the page, the wasm package, the model directories) with
//! strong ETags, `If-None-Match` revalidation and caching headers.
//!
//! The ETag of a file is the SHA-256 of its bytes, `"<hex>"`: for a weights
//! file that is exactly the `weights.sha256` of its manifest. The hash is
//! computed from the same open file that is sent, once per file version
//! (cached by device, inode, size and mtime), so a tag always names the bytes
//! it comes with, even while a publish swaps the model directory.
use crate::error::{ApiError, ApiResult};
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use fairmark::model::weights::sha256_hex;
use std::collections::HashMap;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Files up to this size are kept in memory (the weights, the page, its
/// scripts); larger ones are streamed from disk.
const CACHED_FILE: u64 = 16 << 20;
/// Entries kept by the file cache before it starts afresh.
const CACHE_ENTRIES: usize = 4096;
/// Bytes (files and gzip encodings) kept by the file cache before it starts
/// afresh.
const CACHE_BYTES: usize = 512 << 20;
/// Files are served gzipped (for clients that accept it) from this size...
const GZIP_MIN: u64 = 256;
/// ... up to this one; larger ones are compressed on the fly, chunk by chunk.
const GZIP_MAX: u64 = 64 << 20;

/// `Cache-Control` of files fetched by a URL that is not content-addressed:
/// the browser keeps them but asks (with `If-None-Match`) before each use.
pub const REVALIDATE: &str = "no-cache";
/// `Cache-Control` of a file fetched as `URL?v=<its sha256>`: that URL always
/// means those bytes, so it may be kept for a year without asking.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The media type of a file, by extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "md" => "text/markdown; charset=utf-8",
        "txt" | "ts" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        "tif" | "tiff" => "image/tiff",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        // weights.bpk and anything unknown: bytes, never sniffed (nosniff).
        _ => "application/octet-stream",
    }
}

/// Decodes `%XX` escapes of one URL path segment; `None` for a broken escape.
pub fn percent_decode(segment: &str) -> Option<Vec<u8>> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Percent-encodes a file name for use as one URL path segment.
pub fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The file under `root` that the URL path `rest` (what follows the mount
/// point, still percent-encoded) names. Every segment is decoded and must be
/// a plain name: `..`, `\`, `:`, NUL, encoded slashes and Windows device
/// names are refused (400), hidden names (a leading `.`: temporary publish
/// directories, dot files) are not found (404).
pub fn resolve(root: &Path, rest: &str) -> ApiResult<PathBuf> {
    let mut path = root.to_path_buf();
    for raw in rest.split('/') {
        if raw.is_empty() {
            continue;
        }
        let decoded = percent_decode(raw)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| ApiError::bad_request(format!("bad escape in path segment {raw:?}")))?;
        // `:` and device names: on Windows `C:x` would leave the root for
        // drive C and `NUL` would open a device.
        if decoded == ".."
            || decoded.contains(['/', '\\', '\0', ':'])
            || Path::new(&decoded).is_absolute()
            || fairmark::registry::windows_device_name(&decoded)
        {
            return Err(ApiError::bad_request(format!(
                "path segment {decoded:?} is not a plain file name"
            )));
        }
        if decoded.starts_with('.') {
            return Err(ApiError::not_found("not found"));
        }
        path.push(decoded);
    }
    Ok(path)
}

/// Whether `path`, below `root`, goes through a symbolic link: any of its
/// components under `root` (the root itself may be a link, the operator's
/// choice). Such files are not served: a link in a served folder, put there
/// by mistake or shipped in a copied model folder, must not expose files
/// from elsewhere. A component that does not exist ends the walk (`false`):
/// opening the path then finds nothing either.
pub fn through_symlink(root: &Path, path: &Path) -> std::io::Result<bool> {
    let Ok(rest) = path.strip_prefix(root) else {
        return Ok(true);
    };
    let mut at = root.to_path_buf();
    for part in rest.components() {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => return Ok(true),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Bytes read at a time to hash a file that is not kept in memory.
const HASH_BUFFER: usize = 64 << 10;

/// SHA-256 (lower-case hex) of everything `reader` yields, read
/// [`HASH_BUFFER`] bytes at a time: a 4 GiB weights file costs 64 KiB of
/// memory to hash, not 4 GiB.
fn sha256_stream(mut reader: impl Read) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; HASH_BUFFER];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// What makes a version of a file: a publish writes new files (new inodes)
/// and an edit changes size or mtime.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct FileKey {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
}

impl FileKey {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Self {
                dev: meta.dev(),
                ino: meta.ino(),
                len: meta.len(),
                mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            }
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128);
            Self {
                dev: 0,
                ino: 0,
                len: meta.len(),
                mtime_ns,
            }
        }
    }
}

/// What is known of one file version: its SHA-256, its bytes (up to
/// [`CACHED_FILE`]) and, once asked for, its gzip encoding.
#[derive(Clone)]
struct Known {
    hash: Arc<str>,
    bytes: Option<Bytes>,
    gzip: Option<Bytes>,
}

impl Known {
    fn size(&self) -> usize {
        self.bytes.as_ref().map_or(0, |b| b.len()) + self.gzip.as_ref().map_or(0, |g| g.len())
    }
}

/// What the server knows of the file versions it served: each version is
/// hashed once, read once (if small) and compressed once,
/// however many clients fetch it. A version is found again by device, inode,
/// size and mtime, which the server checks on every request (one `fstat`).
#[derive(Default)]
pub struct FileCache {
    inner: Mutex<CacheInner>,
    /// One lock per file version being read or compressed, so that 30
    /// browsers asking at once for a new wasm file cause one compression.
    loading: Mutex<HashMap<FileKey, Arc<Mutex<()>>>>,
}

#[derive(Default)]
struct CacheInner {
    map: HashMap<FileKey, Known>,
    bytes: usize,
}

impl FileCache {
    fn get(&self, key: &FileKey) -> Option<Known> {
        self.inner.lock().ok()?.map.get(key).cloned()
    }

    fn insert(&self, key: FileKey, known: Known) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if let Some(old) = inner.map.remove(&key) {
            inner.bytes -= old.size();
        }
        let added = known.size();
        if inner.map.len() >= CACHE_ENTRIES || inner.bytes + added > CACHE_BYTES {
            // Stale versions pile up here as files are replaced: start afresh.
            inner.map.clear();
            inner.bytes = 0;
        }
        inner.map.insert(key, known);
        inner.bytes += added;
    }

    /// Runs `f` holding the loading lock of `key`.
    fn loading<T>(&self, key: FileKey, f: impl FnOnce() -> T) -> T {
        let lock = {
            let mut loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
            loading.entry(key).or_default().clone()
        };
        let result = {
            let _held = lock.lock().unwrap_or_else(|p| p.into_inner());
            f()
        };
        drop(lock);
        let mut loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
        loading.retain(|_, l| Arc::strong_count(l) > 1);
        result
    }
}

/// Whether a response of this media type is worth compressing (text, JSON,
/// wasm, SVG; not weights, raster images or fonts).
pub fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type == "application/wasm"
        || content_type == "image/svg+xml"
}

/// Whether `Accept-Encoding` accepts gzip (`gzip` or `*`, without `q=0`).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let q_zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
        })
}

fn gzip(bytes: &[u8]) -> std::io::Result<Bytes> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        // Level 6: within 1% of the best size on wasm, in less than half the
        // time (a 36 MB wasm-bindgen build: 5.5 MB, under a second).
        flate2::Compression::default(),
    );
    encoder.write_all(bytes)?;
    Ok(Bytes::from(encoder.finish()?))
}

enum Content {
    Bytes(Bytes),
    Gzip(Bytes),
    File(std::fs::File),
}

enum Opened {
    File {
        hash: Arc<str>,
        len: u64,
        content: Content,
    },
    Dir,
    Missing,
}

/// Opens `path` and gets its hash and what to send: the gzip encoding when
/// `want_gzip` (from the cache, or made now), else the bytes (small files) or
/// the open file (large ones).
fn open(root: &Path, path: &Path, cache: &FileCache, want_gzip: bool) -> std::io::Result<Opened> {
    if through_symlink(root, path)? {
        return Ok(Opened::Missing);
    }
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Opened::Missing)
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Ok(Opened::Dir);
    }
    if !meta.is_file() {
        return Ok(Opened::Missing);
    }
    let key = FileKey::of(&meta);
    let len = meta.len();
    let want_gzip = want_gzip && (GZIP_MIN..=GZIP_MAX).contains(&len);
    let ready = |known: &Known| -> Option<Content> {
        match (&known.bytes, &known.gzip) {
            (_, Some(gz)) if want_gzip => Some(Content::Gzip(gz.clone())),
            (Some(b), _) if !want_gzip => Some(Content::Bytes(b.clone())),
            _ => None,
        }
    };
    if let Some(known) = cache.get(&key) {
        if let Some(content) = ready(&known) {
            return Ok(Opened::File {
                hash: known.hash,
                len,
                content,
            });
        }
        if !want_gzip && len > CACHED_FILE {
            return Ok(Opened::File {
                hash: known.hash,
                len,
                content: Content::File(file),
            });
        }
    }
    let (hash, content) = cache.loading(key, || -> std::io::Result<(Arc<str>, Content)> {
        // Another request may have done the work while this one waited.
        let known = cache.get(&key);
        if let Some(k) = &known {
            if let Some(content) = ready(k) {
                return Ok((k.hash.clone(), content));
            }
        }
        if !want_gzip && len > CACHED_FILE {
            // Too large to keep: hashed from disk a buffer at a time, then
            // sent from the start of the same open file.
            let hash: Arc<str> = match &known {
                Some(k) => k.hash.clone(),
                None => {
                    let hash: Arc<str> = sha256_stream(&file)?.into();
                    cache.insert(
                        key,
                        Known {
                            hash: hash.clone(),
                            bytes: None,
                            gzip: None,
                        },
                    );
                    hash
                }
            };
            (&file).seek(std::io::SeekFrom::Start(0))?;
            return Ok((hash, Content::File(file)));
        }
        let bytes = match known.as_ref().and_then(|k| k.bytes.clone()) {
            Some(b) => b,
            None => {
                let mut bytes = Vec::with_capacity(len as usize);
                (&file).read_to_end(&mut bytes)?;
                Bytes::from(bytes)
            }
        };
        let hash: Arc<str> = match &known {
            Some(k) => k.hash.clone(),
            None => sha256_hex(&bytes).into(),
        };
        let gzip = match (known.as_ref().and_then(|k| k.gzip.clone()), want_gzip) {
            (Some(gz), _) => Some(gz),
            (None, true) => Some(gzip(&bytes)?),
            (None, false) => None,
        };
        let content = match &gzip {
            Some(gz) if want_gzip => Content::Gzip(gz.clone()),
            _ => Content::Bytes(bytes.clone()),
        };
        let bytes = (len <= CACHED_FILE).then_some(bytes);
        cache.insert(
            key,
            Known {
                hash: hash.clone(),
                bytes,
                gzip,
            },
        );
        Ok((hash, content))
    })?;
    Ok(Opened::File { hash, len, content })
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks).
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// The `v` query parameter, if any.
fn version_param(uri: &Uri) -> Option<&str> {
    uri.query()?.split('&').find_map(|kv| kv.strip_prefix("v="))
}

/// Answers a GET or HEAD for the file `rest` under `root` (see [`resolve`]).
pub async fn serve(
    cache: Arc<FileCache>,
    root: &Path,
    rest: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed here: files are read-only (GET, HEAD)"),
        )
        .into_response();
    }
    let mut path = match resolve(root, rest) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let dir_url = rest.is_empty() || rest.ends_with('/');
    if dir_url {
        path.push("index.html");
    }
    let media_type = content_type(&path);
    let varies = compressible(media_type);
    let want_gzip = varies && accepts_gzip(headers);
    let opened = {
        let (path, cache) = (path.clone(), cache.clone());
        let root = root.to_path_buf();
        tokio::task::spawn_blocking(move || open(&root, &path, &cache, want_gzip)).await
    };
    let opened = match opened {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read file");
            return ApiError::internal("cannot read the file").into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "file task failed");
            return ApiError::internal("cannot read the file").into_response();
        }
    };
    let (hash, len, content) = match opened {
        Opened::File { hash, len, content } => (hash, len, content),
        Opened::Dir if !dir_url => {
            // A directory without its slash: relative links inside it need one.
            // Leading slashes (and backslashes, which browsers read as
            // slashes) collapse to one: `//evil.example` must not become a
            // protocol-relative redirect to another host.
            let path = format!("/{}", uri.path().trim_start_matches(['/', '\\']));
            let location = match uri.query() {
                Some(q) => format!("{path}/?{q}"),
                None => format!("{path}/"),
            };
            return match HeaderValue::from_str(&location) {
                Ok(l) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, l)]).into_response(),
                Err(_) => ApiError::not_found("not found").into_response(),
            };
        }
        Opened::Dir | Opened::Missing => {
            return ApiError::not_found(format!("{} not found", uri.path())).into_response()
        }
    };
    // `?v=<sha256>` names one version of the file: were another one served
    // under it, a page could pair the manifest of one publish with the
    // weights of the next. It gets 409 and lists the models again. Other
    // `v` values are plain cache busters.
    let version =
        version_param(uri).filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    if let Some(v) = version {
        if !v.eq_ignore_ascii_case(&hash) {
            return ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "{} has changed since it was listed (it is no longer version {v}): fetch /api/models again",
                    uri.path()
                ),
            )
            .into_response();
        }
    }
    let etag = format!("\"{hash}\"");
    let cache_control = if version.is_some() {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let mut builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, cache_control);
    if varies {
        builder = builder.header(header::VARY, "accept-encoding");
    }
    if none_match(headers, &etag) {
        builder = builder.status(StatusCode::NOT_MODIFIED);
        return builder
            .body(Body::empty())
            .unwrap_or_else(|_| StatusCode::NOT_MODIFIED.into_response());
    }
    builder = builder
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, media_type);
    builder = match &content {
        Content::Gzip(gz) => builder
            .header(header::CONTENT_ENCODING, "gzip")
            .header(header::CONTENT_LENGTH, gz.len()),
        _ => builder.header(header::CONTENT_LENGTH, len),
    };
    let body = match content {
        Content::Bytes(b) | Content::Gzip(b) => Body::from(b),
        Content::File(f) => Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
            tokio::fs::File::from_std(f),
            256 * 1024,
        )),
    };
    builder
        .body(body)
        .unwrap_or_else(|_| ApiError::internal("cannot build the response").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_confined_to_the_root() {
        let root = Path::new("/srv/www");
        assert_eq!(resolve(root, "a/b.js").unwrap(), root.join("a/b.js"));
        assert_eq!(resolve(root, "a%20b.js").unwrap(), root.join("a b.js"));
        for bad in [
            "../x",
            "a/../../x",
            "%2e%2e/x",
            "%2E%2E",
            "a%2Fb",
            "%2Fetc%2Fpasswd",
            "a%5cb",
            "a%00",
            "%zz",
        ] {
            let e = resolve(root, bad).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad}: {e}");
        }
        for hidden in [".git/config", "m/.m.tmp-1/weights.bpk", "%2eenv"] {
            let e = resolve(root, hidden).unwrap_err();
            assert_eq!(e.status, StatusCode::NOT_FOUND, "{hidden}: {e}");
        }
    }

    /// A reader that records the largest read asked of it.
    struct Watched<R> {
        inner: R,
        largest: usize,
        reads: usize,
    }

    impl<R: Read> Read for Watched<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.largest = self.largest.max(buf.len());
            self.reads += 1;
            self.inner.read(buf)
        }
    }

    #[test]
    fn files_are_hashed_a_buffer_at_a_time() {
        let data: Vec<u8> = (0..HASH_BUFFER * 5 + 17).map(|i| (i * 7) as u8).collect();
        let mut reader = Watched {
            inner: &data[..],
            largest: 0,
            reads: 0,
        };
        assert_eq!(sha256_stream(&mut reader).unwrap(), sha256_hex(&data));
        assert!(reader.largest <= HASH_BUFFER, "{} bytes", reader.largest);
        assert!(reader.reads > 5, "{} reads", reader.reads);
        assert_eq!(sha256_stream(&b""[..]).unwrap(), sha256_hex(b""));
    }

    #[test]
    fn windows_names_are_refused_in_paths() {
        let root = Path::new("/srv/www");
        for bad in [
            "C:",
            "C%3Ax.js",
            "a/CON",
            "nul.js",
            "Com1.wasm",
            "LPT1",
            "aux.html",
        ] {
            let e = resolve(root, bad).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad}: {e}");
        }
        assert!(resolve(root, "console.js").is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_found_in_any_component() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a"), "a").unwrap();
        std::fs::write(dir.path().join("outside"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), root.join("file-link")).unwrap();
        std::os::unix::fs::symlink(root.join("sub"), root.join("dir-link")).unwrap();
        assert!(!through_symlink(&root, &root.join("sub/a")).unwrap());
        assert!(!through_symlink(&root, &root.join("missing/x")).unwrap());
        assert!(through_symlink(&root, &root.join("file-link")).unwrap());
        assert!(through_symlink(&root, &root.join("dir-link/a")).unwrap());
        assert!(through_symlink(&root, Path::new("/etc/passwd")).unwrap());
        // The root itself may be a link.
        let linked_root = dir.path().join("root-link");
        std::os::unix::fs::symlink(&root, &linked_root).unwrap();
        assert!(!through_symlink(&linked_root, &linked_root.join("sub/a")).unwrap());
    }

    #[test]
    fn media_types() {
        assert_eq!(content_type(Path::new("x/pkg.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("a.JS")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("weights.bpk")),
            "application/octet-stream"
        );
        assert_eq!(percent_encode("w 1%.bpk"), "w%201%25.bpk");
    }
}
