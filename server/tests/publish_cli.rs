//! `fairmark publish ... --to URL` end to end: its upload code (the library
//! function the command calls) against a real server, and the server binary
//! itself: the line it prints, /healthz, graceful exit on SIGTERM.
mod common;
use common::*;
use fairmark::model::weights::{load_dir, sha256_hex};
use fairmark::registry::client::push_dir;

#[test]
fn a_committed_model_dir_is_published_and_listed_back() {
    let site = Site::new();
    let server = site.start();
    let url = server.url();
    let dir = committed_models().join("ceph-unet-phantom");
    let (manifest, weights) = load_dir(&dir).unwrap();

    let reply = push_dir(&dir, "ceph-unet-phantom", &url, TOKEN).unwrap();
    assert_eq!(reply.status, 201);
    assert_eq!(reply.url, format!("{url}/api/models/ceph-unet-phantom"));
    let again = push_dir(&dir, "ceph-unet-phantom", &format!("{url}/"), TOKEN).unwrap();
    assert_eq!(again.status, 200);

    // Listed back with the same manifest; the files are the committed ones.
    let a = agent();
    let list = get(&a, &format!("{url}/api/models"), &[]).json();
    assert_eq!(list["models"].as_array().unwrap().len(), 1);
    let model = &list["models"][0];
    // Through the JSON text, as the server sends it: `to_value` would widen
    // the config's f32 fields (0.05 → 0.05000000074505806).
    let sent: serde_json::Value = serde_json::from_str(&manifest.to_json()).unwrap();
    assert_eq!(model["manifest"], sent);
    let dl = get(
        &a,
        &format!("{url}{}", model["weights_url"].as_str().unwrap()),
        &[],
    );
    assert_eq!(dl.body, weights);
    assert_eq!(
        dl.header("etag").unwrap(),
        format!("\"{}\"", manifest.weights.sha256)
    );
    for f in ["manifest.json", "MODEL_CARD.md", "weights.bpk"] {
        assert_eq!(
            std::fs::read(site.models().join("ceph-unet-phantom").join(f)).unwrap(),
            std::fs::read(dir.join(f)).unwrap(),
            "{f}"
        );
    }

    // Under another name: the manifest is renamed, the weights are the same.
    let reply = push_dir(&dir, "ceph-copy", &url, TOKEN).unwrap();
    assert_eq!(reply.model["manifest"]["name"], "ceph-copy");
    assert_eq!(
        reply.model["manifest"]["weights"]["sha256"],
        sha256_hex(&weights)
    );
    let card = get(&a, &format!("{url}/models/ceph-copy/MODEL_CARD.md"), &[]);
    assert!(String::from_utf8_lossy(&card.body).contains("ceph-copy"));

    // The server's refusals come back as the error.
    let e = push_dir(&dir, "ceph-unet-phantom", &url, "wrong").unwrap_err();
    assert!(
        matches!(
            e,
            fairmark::registry::client::PushError::Refused { status: 401, .. }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("wrong token"), "{e}");
}

#[cfg(unix)]
#[test]
fn the_binary_prints_its_port_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let site = Site::new();
    let mut child = server_command(&site)
        .env_remove("FAIRMARK_TOKEN")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("fairmark-server listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    let a = agent();
    assert_eq!(get(&a, &format!("{url}/healthz"), &[]).status, 200);
    assert_eq!(get(&a, &format!("{url}/"), &[]).status, 200);
    let r = put(
        &a,
        &format!("{url}/api/models/m"),
        Some(TOKEN),
        &body("m", &weights(1, 10)),
    );
    assert_eq!(r.status, 403, "no token: publishing disabled");
    drop(a);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}\n{log}", out.status);
    assert!(
        log.contains("SIGTERM") && log.contains("publishing is disabled"),
        "{log}"
    );
}

/// The server binary on `site`'s folders, on a free loopback port.
fn server_command(site: &Site) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_fairmark-server"));
    c.args(["--bind", "127.0.0.1:0", "--www"])
        .arg(site.www())
        .arg("--pkg")
        .arg(site.pkg())
        .arg("--models")
        .arg(site.models());
    c
}

/// A token too short to resist guessing stops the server at start, with the
/// reason; it is not merely a warning in a log nobody reads.
#[test]
fn a_short_token_is_refused_at_start() {
    let site = Site::new();
    let out = server_command(&site)
        .env("FAIRMARK_TOKEN", "short-secret")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("FAIRMARK_TOKEN") && err.contains("fewer than 16"),
        "{err}"
    );
}

/// Wrong tokens are answered one at a time, each after a delay, even when
/// they arrive together; the right token is not delayed by them.
#[test]
fn wrong_tokens_are_slowed_down() {
    let site = Site::new();
    let server = site.start();
    let url = server.url().to_string();
    let started = std::time::Instant::now();
    let guesses: Vec<_> = (0..4)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let a = agent();
                put(
                    &a,
                    &format!("{url}/api/models/guess"),
                    Some(&format!("guess-number-{i:08}")),
                    b"{}",
                )
                .status
            })
        })
        .collect();
    for g in guesses {
        assert_eq!(g.join().unwrap(), 401);
    }
    let floor = fairmark_server::publish::FAILED_AUTH_DELAY * 4;
    assert!(
        started.elapsed() >= floor,
        "4 wrong tokens answered in {:?}",
        started.elapsed()
    );
}
