//! fairmark-server: one small HTTP server for a hospital or a class. It serves
//! the page (`www/`), the wasm package (`/pkg/`) and the published models
//! (`/models/`), lists the models (`GET /api/models`) and lets a training
//! machine publish new weights (`PUT /api/models/{name}`, bearer token).
//! See docs/SERVER.md.
pub mod error;
pub mod files;
pub mod headers;
pub mod models;
pub mod publish;
pub use fairmark::publish::store;

pub use error::{ApiError, ApiResult};
pub use headers::{CONTENT_SECURITY_POLICY, SECURITY_HEADERS};

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, Method, Request, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use files::FileCache;
use hyper::body::Incoming;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Default `--max-body-mb`: room for weights of about 48 MB once base64-encoded.
pub const DEFAULT_MAX_BODY_MB: u64 = 64;

/// Connection limits and timeouts. The defaults are the CLI's; docs/SERVER.md
/// explains each number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most; further ones wait in the kernel's listen
    /// queue until one closes. A connection holds at most two file
    /// descriptors (its socket and a file over 16 MiB being streamed).
    pub max_connections: usize,
    /// A request's headers must arrive within this time (hyper's header read
    /// timeout); it runs from the moment the connection waits for a request,
    /// so it also closes keep-alive connections left idle this long.
    pub header_timeout: Duration,
    /// Longest silence while a request body arrives (tower-http's
    /// `RequestBodyTimeoutLayer`): a stalled upload is answered 408 and its
    /// connection closed.
    pub body_timeout: Duration,
    /// Longest a write to a client may make no progress (a client that stopped
    /// reading a download): the connection is then closed.
    pub write_timeout: Duration,
    /// Longest a request may take until its response starts (408 otherwise);
    /// a download then streams on, cut only by `write_timeout`.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 500,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(300),
        }
    }
}

/// Where the files are and who may publish.
#[derive(Clone, Debug)]
pub struct Config {
    /// The page, served at `/`.
    pub www: PathBuf,
    /// The wasm package, served at `/pkg/`.
    pub pkg: PathBuf,
    /// The published models, served at `/models/` and listed at `/api/models`.
    pub models: PathBuf,
    /// Largest `PUT` body, in bytes.
    pub max_body_bytes: usize,
    /// Bearer token for publishing; `None` disables publishing.
    pub token: Option<String>,
    pub limits: Limits,
}

impl Config {
    /// The three directories, the default body limit and limits, no token.
    pub fn new(
        www: impl Into<PathBuf>,
        pkg: impl Into<PathBuf>,
        models: impl Into<PathBuf>,
    ) -> Self {
        Self {
            www: www.into(),
            pkg: pkg.into(),
            models: models.into(),
            max_body_bytes: (DEFAULT_MAX_BODY_MB << 20) as usize,
            token: None,
            limits: Limits::default(),
        }
    }

    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// What every handler shares.
pub struct AppState {
    pub config: Config,
    pub publisher: publish::Publisher,
    pub files: Arc<FileCache>,
}

async fn healthz() -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({ "status": "ok" })),
    )
        .into_response()
}

async fn api_not_found(uri: Uri) -> ApiError {
    // `/api/models/a/b`, `/api/models/../x`: a bad model name, said as such.
    if uri.path().starts_with("/api/models/") {
        if let Err(e) = models::name_from_uri(&uri) {
            return e;
        }
    }
    ApiError::not_found(format!("no API endpoint {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

async fn pkg_file(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let rest = uri.path().strip_prefix("/pkg/").unwrap_or_default();
    files::serve(
        state.files.clone(),
        &state.config.pkg,
        rest,
        &method,
        &uri,
        &headers,
    )
    .await
}

async fn model_file(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let rest = uri.path().strip_prefix("/models/").unwrap_or_default();
    // A model directory has no page: no index.html is ever served from it.
    if rest.is_empty() || rest.ends_with('/') {
        return ApiError::not_found(format!(
            "{} is not a file: the models are listed at /api/models",
            uri.path()
        ))
        .into_response();
    }
    let mut response = files::serve(
        state.files.clone(),
        &state.config.models,
        rest,
        &method,
        &uri,
        &headers,
    )
    .await;
    let file_name = rest.rsplit('/').next().unwrap_or_default();
    crate::headers::model_file_headers(&mut response, file_name);
    response
}

async fn www_file(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let rest = uri.path().strip_prefix('/').unwrap_or(uri.path());
    files::serve(
        state.files.clone(),
        &state.config.www,
        rest,
        &method,
        &uri,
        &headers,
    )
    .await
}

/// The whole application: routes, compression, security headers, logging.
pub fn router(config: Config) -> Router {
    let limits = config.limits.clone();
    let state = Arc::new(AppState {
        publisher: publish::Publisher::new(config.token.as_deref()),
        config,
        files: Arc::new(FileCache::default()),
    });
    // Files come gzipped from the file cache (compressed once per version);
    // this layer compresses the rest: API answers, errors, files over 64 MiB.
    // Weights are float data that hardly compress: sent as they are, they
    // keep their strong ETag and cost no CPU.
    let compress =
        DefaultPredicate::new().and(NotForContentType::const_new("application/octet-stream"));
    let layers = ServiceBuilder::new()
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::map_response(headers::security_headers))
        .layer(axum::middleware::map_response(
            headers::weaken_etag_when_encoded,
        ))
        .layer(CompressionLayer::new().gzip(true).compress_when(compress))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ApiError::internal("internal error").into_response()
        }))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            limits.body_timeout,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/models", get(models::list))
        .route("/api/models/{name}", get(models::get_one).put(publish::put))
        .route("/api", any(api_not_found))
        .route("/api/", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .route("/pkg/{*rest}", get(pkg_file))
        .route("/models/{*rest}", get(model_file))
        .fallback(www_file)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(layers)
}

/// Serves on `listener` until `shutdown` completes, then lets the requests in
/// flight finish. First repairs what an interrupted publish left behind.
///
/// Connections are served by hyper directly rather than through
/// `axum::serve`, which sets no timer (so hyper applies no header read
/// timeout) and accepts connections without limit: here a semaphore permit is
/// taken before each accept and held by the connection, hyper's
/// `header_read_timeout` closes slow and idle connections, and the socket's
/// writes carry a timeout ([`Limits`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;
    let models = config.models.clone();
    for line in tokio::task::spawn_blocking(move || store::recover(&models))
        .await
        .unwrap_or_default()
    {
        tracing::warn!("{line}");
    }
    let limits = config.limits.clone();
    let app = router(config);
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let mut io = tokio_io_timeout::TimeoutStream::new(stream);
        io.set_write_timeout(Some(limits.write_timeout));
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(Box::pin(io)), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Accept errors are about one connection (reset before it was accepted) or
/// about the process (out of file descriptors): the latter would repeat at
/// once, so the server waits a moment before accepting again, as axum does.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        _ = term => tracing::info!("SIGTERM: shutting down"),
    }
}

/// A server on its own thread and runtime, for tests and the benchmark:
/// listens on 127.0.0.1 (a free port), stops when dropped.
pub struct RunningServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// Starts `config` on 127.0.0.1:0 with `workers` runtime threads.
    pub fn start(config: Config, workers: usize) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("fairmark-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    serve(listener, config, async {
                        let _ = stopped.await;
                    })
                    .await
                })
            })?;
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts down gracefully and waits for the server thread.
    pub fn stop(mut self) -> std::io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(std::io::Error::other("the server thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
