//! `fairmark publish ... --to URL`: the refusals that need no server (the
//! upload itself is tested end to end against a real server in
//! server/tests/publish_cli.rs).
#![cfg(not(target_arch = "wasm32"))]
use std::process::Command;

fn publish(args: &[&str], token: Option<&str>) -> (bool, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fairmark"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("publish")
        .args(args)
        .env_remove("FAIRMARK_TOKEN");
    if let Some(t) = token {
        c.env("FAIRMARK_TOKEN", t);
    }
    let out = c.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn upload_refusals_are_clear() {
    let model = "models/ceph-unet-phantom";
    // Port 9 (discard) on this machine: nothing listens there.
    let to = ["--to", "http://127.0.0.1:9"];
    let (ok, err) = publish(&[model, "--name", "m", to[0], to[1]], None);
    assert!(!ok && err.contains("FAIRMARK_TOKEN"), "{err}");
    let (ok, err) = publish(&[model, "--name", "m"], Some("t"));
    assert!(
        !ok && err.contains("already a published model; give --to URL"),
        "{err}"
    );
    let (ok, err) = publish(&[model, "--name", "m", to[0], to[1]], Some("t"));
    assert!(
        !ok && err.contains("PUT http://127.0.0.1:9/api/models/m"),
        "{err}"
    );
    let (ok, err) = publish(&[model, "--name", "m", "--to", "ftp://h"], Some("t"));
    assert!(!ok && err.contains("http://HOST:PORT"), "{err}");
}
