//! `fairmark-server`: serves the page, the wasm package and the published
//! models, and accepts new models from a training machine. See docs/SERVER.md.
use anyhow::{bail, Context};
use clap::Parser;
use fairmark::registry::TOKEN_ENV;
use fairmark_server::{serve, shutdown_signal, Config, Limits, DEFAULT_MAX_BODY_MB};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

#[derive(Parser)]
#[command(
    name = "fairmark-server",
    version,
    about = "Serve the fairmark page, its wasm package and the published models; accept new models (PUT /api/models/NAME, bearer token)"
)]
struct Args {
    /// Address to listen on (port 0: any free port; the line
    /// "fairmark-server listening on http://..." says which).
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// The page, served at /.
    #[arg(long, default_value = "www")]
    www: PathBuf,
    /// The wasm package (wasm-bindgen output), served at /pkg/.
    #[arg(long, default_value = "www/pkg")]
    pkg: PathBuf,
    /// The published models, served at /models/ and listed at /api/models.
    #[arg(long, default_value = "models")]
    models: PathBuf,
    /// Largest publish body in MiB (weights travel base64-encoded: 4/3 of their size).
    #[arg(long, default_value_t = DEFAULT_MAX_BODY_MB, value_parser = clap::value_parser!(u64).range(1..=4096))]
    max_body_mb: u64,
    /// File holding the publishing token (instead of the FAIRMARK_TOKEN
    /// environment variable). Without a token, publishing is disabled.
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,
    /// Open connections at most; more wait until one closes.
    #[arg(long, default_value_t = Limits::default().max_connections as u64, value_parser = clap::value_parser!(u64).range(1..=65536))]
    max_connections: u64,
    /// Seconds a request's headers may take to arrive; also how long an idle
    /// keep-alive connection is kept.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().header_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Seconds an upload's body may stay silent before it is answered 408
    /// and dropped (a stalled publish frees its place).
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().body_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout: u64,
    /// Seconds a download may make no progress (the client stopped reading)
    /// before its connection is closed.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().write_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    write_timeout: u64,
    /// Log filter when RUST_LOG is not set, e.g. "info" or "warn,fairmark_server=debug".
    #[arg(long, default_value = "info")]
    log: String,
}

/// The token from --token-file, else from FAIRMARK_TOKEN; `None` if neither.
fn load_token(file: Option<&PathBuf>) -> anyhow::Result<Option<String>> {
    let (token, source) = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--token-file {}", path.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(path)?.permissions().mode();
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        "{} is readable by other users (mode {:o}): chmod 600 it",
                        path.display(),
                        mode & 0o777
                    );
                }
            }
            (text, format!("--token-file {}", path.display()))
        }
        None => match std::env::var(TOKEN_ENV) {
            Ok(t) => (t, TOKEN_ENV.to_string()),
            Err(_) => return Ok(None),
        },
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        bail!("{source}: the token is empty");
    }
    fairmark_server::publish::check_token(&token).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    Ok(Some(token))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter: Targets = match std::env::var("RUST_LOG") {
        Ok(s) => s.parse().context("RUST_LOG")?,
        Err(_) => args.log.parse().context("--log")?,
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .with(filter)
        .init();

    let token = load_token(args.token_file.as_ref())?;
    let bind = args.bind.clone();
    for (flag, dir) in [
        ("--www", &args.www),
        ("--pkg", &args.pkg),
        ("--models", &args.models),
    ] {
        if !dir.is_dir() {
            tracing::warn!(
                "{flag} {} is not a directory (yet): its URLs answer 404",
                dir.display()
            );
        }
    }
    if token.is_none() {
        tracing::warn!(
            "no token ({TOKEN_ENV} or --token-file): publishing is disabled, PUT answers 403"
        );
    }
    let config = Config {
        www: args.www,
        pkg: args.pkg,
        models: args.models,
        max_body_bytes: usize::try_from(args.max_body_mb << 20).context("--max-body-mb")?,
        token,
        limits: Limits {
            max_connections: usize::try_from(args.max_connections).context("--max-connections")?,
            header_timeout: Duration::from_secs(args.header_timeout),
            body_timeout: Duration::from_secs(args.body_timeout),
            write_timeout: Duration::from_secs(args.write_timeout),
            ..Limits::default()
        },
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        let addr = listener.local_addr()?;
        // Scripts (tests, the page's Playwright run) read this line for the port.
        println!("fairmark-server listening on http://{addr}");
        std::io::stdout().flush()?;
        tracing::info!(
            www = %config.www.display(),
            pkg = %config.pkg.display(),
            models = %config.models.display(),
            publishing = config.token.is_some(),
            "serving on http://{addr}"
        );
        serve(listener, config, shutdown_signal()).await?;
        tracing::info!("stopped");
        anyhow::Ok(())
    })
}
