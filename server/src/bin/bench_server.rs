//! Load benchmark of fairmark-server: starts it in-process on 127.0.0.1:0 and
//! sends GETs (the model list, one model, weights, a manifest, the page, its
//! script and the wasm package) from concurrent keep-alive clients that
//! accept gzip, as browsers do. Prints p50/p99/max latency and requests per
//! second; `--json PATH` writes them too.
//!
//! cargo run --release -p fairmark-server --bin bench-server -- --requests 2000 --concurrency 32
use anyhow::{bail, Context};
use clap::Parser;
use fairmark_server::{Config, RunningServer};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Load benchmark of fairmark-server (in-process, 127.0.0.1)")]
struct Args {
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Published models to serve (default: the repository's models/).
    #[arg(long)]
    models: Option<PathBuf>,
    /// Page and wasm package to serve (www/ with pkg/ inside; default: a
    /// generated page, a 64 KiB script and a 1 MiB wasm file).
    #[arg(long)]
    www: Option<PathBuf>,
    /// Server runtime threads (default: the number of cores).
    #[arg(long)]
    workers: Option<usize>,
    /// Write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// A generated page: index.html, app.js (64 KiB) and pkg/app_bg.wasm (1 MiB,
/// compressible like real wasm).
fn generated_site(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("pkg"))?;
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><html><head><script type=\"module\" src=\"app.js\"></script></head><body></body></html>\n",
    )?;
    let js: String = (0..1600)
        .map(|i| format!("export function f{i}(x) {{ return x * {i} + 1; }}\n"))
        .collect();
    std::fs::write(dir.join("app.js"), &js.as_bytes()[..64 * 1024])?;
    // Wasm-like code: a skewed mix of short instructions with small
    // immediates, and repeats of recent sequences (as inlined code has).
    // Gzip gets about 5x, as on a real wasm-bindgen build.
    let instructions: [&[u8]; 16] = [
        b"\x20\x00",
        b"\x20\x01",
        b"\x41",
        b"\x6a",
        b"\x28\x02\x00",
        b"\x36\x02\x00",
        b"\x21\x02",
        b"\x0b",
        b"\x10",
        b"\x22\x03",
        b"\x45",
        b"\x0d\x00",
        b"\x6b",
        b"\x71",
        b"\x2d\x00\x00",
        b"\x3a\x00\x00",
    ];
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    let mut state = 1u32;
    while wasm.len() < 1 << 20 {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let r = (state >> 8) as usize;
        if r % 6 == 0 && wasm.len() > 4096 {
            let start = wasm.len() - 1 - (r >> 10) % 4000;
            for k in 0..8 + (r >> 4) % 48 {
                wasm.push(wasm[start + k]);
            }
        } else {
            let op = instructions[(r % 16).min((r >> 4) % 16)];
            wasm.extend_from_slice(op);
            if op == b"\x41" || op == b"\x10" {
                wasm.push((r >> 12) as u8 & 0x7f);
            }
        }
    }
    std::fs::write(dir.join("pkg").join("app_bg.wasm"), wasm)?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.requests == 0 || args.concurrency == 0 {
        bail!("--requests and --concurrency must be positive");
    }
    let tmp = tempfile::tempdir()?;
    let www = match &args.www {
        Some(w) => w.clone(),
        None => {
            generated_site(tmp.path())?;
            tmp.path().to_path_buf()
        }
    };
    let models = args
        .models
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models"));
    let names = fairmark_server::models::read_models(&models);
    let Some(model) = names
        .first()
        .and_then(|m| m["name"].as_str())
        .map(str::to_string)
    else {
        bail!("no valid model in {}", models.display());
    };
    let mut paths = vec![
        "/api/models".to_string(),
        format!("/api/models/{model}"),
        format!("/models/{model}/weights.bpk"),
        format!("/models/{model}/manifest.json"),
        "/".to_string(),
    ];
    for f in ["app.js", "js/app.js"] {
        if www.join(f).is_file() {
            paths.push(format!("/{f}"));
        }
    }
    // The wasm package: its .js and .wasm files.
    let mut pkg: Vec<String> = std::fs::read_dir(www.join("pkg"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|f| f.ends_with(".wasm") || f.ends_with(".js"))
        .collect();
    pkg.sort();
    paths.extend(pkg.iter().map(|f| format!("/pkg/{f}")));
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let server = RunningServer::start(Config::new(&www, www.join("pkg"), &models), workers)?;
    let url = server.url();

    let agent = || -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    };
    // Warm-up: one of each, so that files are hashed, read and compressed
    // (once per version) before the clock starts, as in steady state.
    let a = agent();
    for p in &paths {
        let mut r = a
            .get(&format!("{url}{p}"))
            .header("Accept-Encoding", "gzip")
            .call()
            .context(p.clone())?;
        if r.status() != 200 {
            bail!("GET {p}: {}", r.status());
        }
        r.body_mut().with_config().limit(1 << 30).read_to_vec()?;
    }

    let next = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    let start = Instant::now();
    let mut timed: Vec<(usize, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..args.concurrency)
            .map(|_| {
                s.spawn(|| {
                    let a = agent();
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= args.requests {
                            return mine;
                        }
                        let t = Instant::now();
                        let result = a
                            .get(&format!("{url}{}", paths[i % paths.len()]))
                            .header("Accept-Encoding", "gzip")
                            .call()
                            .and_then(|mut r| {
                                let ok = r.status() == 200;
                                let body =
                                    r.body_mut().with_config().limit(1 << 30).read_to_vec()?;
                                Ok((ok, body.len()))
                            });
                        mine.push((i % paths.len(), t.elapsed()));
                        match result {
                            Ok((true, n)) => {
                                bytes.fetch_add(n, Ordering::Relaxed);
                            }
                            _ => {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let wall = start.elapsed();
    drop(server);

    let mut latencies: Vec<Duration> = timed.iter().map(|t| t.1).collect();
    latencies.sort();
    timed.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let q = |p: f64| ms(latencies[((latencies.len() - 1) as f64 * p).round() as usize]);
    let (p50, p99, max) = (q(0.5), q(0.99), ms(latencies[latencies.len() - 1]));
    let rps = args.requests as f64 / wall.as_secs_f64();
    let errors = errors.load(Ordering::Relaxed);
    let mib = bytes.load(Ordering::Relaxed) as f64 / (1 << 20) as f64;
    println!(
        "{} GETs at concurrency {} ({} server threads) over {} paths: {:.2} s, {rps:.0} req/s, {mib:.1} MiB received",
        args.requests,
        args.concurrency,
        workers,
        paths.len(),
        wall.as_secs_f64()
    );
    println!("latency ms: p50 {p50:.2}  p99 {p99:.2}  max {max:.2}; errors {errors}");
    let mut per_path = serde_json::Map::new();
    for (k, path) in paths.iter().enumerate() {
        let mine: Vec<Duration> = timed.iter().filter(|t| t.0 == k).map(|t| t.1).collect();
        let Some(&median) = mine.get(mine.len() / 2) else {
            continue;
        };
        let median = ms(median);
        println!("  {path:<48} n {:>5}  p50 {median:>8.2} ms", mine.len());
        per_path.insert(
            path.clone(),
            serde_json::json!({ "n": mine.len(), "p50_ms": median }),
        );
    }
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "requests": args.requests,
            "concurrency": args.concurrency,
            "server_threads": workers,
            "paths": paths,
            "seconds": wall.as_secs_f64(),
            "requests_per_second": rps,
            "received_mib": mib,
            "latency_ms": { "p50": p50, "p99": p99, "max": max },
            "per_path": per_path,
            "errors": errors,
        });
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| path.display().to_string())?;
        eprintln!("wrote {}", path.display());
    }
    if errors > 0 {
        bail!("{errors} requests failed");
    }
    Ok(())
}
