//! The first GET of a large file hashes it (its ETag) without reading it
//! whole into memory. Alone in its test binary: it measures the peak
//! resident memory of the process, which other tests would disturb.
mod common;
use common::*;
use sha2::{Digest, Sha256};
use std::io::Read;

/// Peak resident memory of this process (the server runs in it), in bytes.
#[cfg(target_os = "linux")]
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib << 10
}

#[cfg(target_os = "linux")]
#[test]
fn a_large_file_is_hashed_and_sent_without_holding_it_in_memory() {
    let site = Site::new();
    // Sparse: no disk space, but 256 MiB to read, hash and send.
    let len: u64 = 256 << 20;
    let path = site.models().join("big.bpk");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(len).unwrap();
    drop(file);
    let expected = {
        let mut h = Sha256::new();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(len >> 20) {
            h.update(&zeros);
        }
        format!("\"{:x}\"", h.finalize())
    };
    let server = site.start();
    let url = server.url();
    let a = agent();
    let before = peak_rss();
    for _ in 0..2 {
        let mut r = a.get(&format!("{url}/models/big.bpk")).call().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            r.headers().get("etag").and_then(|v| v.to_str().ok()),
            Some(expected.as_str()),
            "the ETag is the file's sha256"
        );
        // Read (and hash) the body a buffer at a time, as the server sends it.
        let mut hasher = Sha256::new();
        let mut reader = r.body_mut().with_config().limit(len + 1).reader();
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0u64;
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            got += n as u64;
        }
        assert_eq!(got, len);
        assert_eq!(format!("\"{:x}\"", hasher.finalize()), expected);
    }
    let grown = peak_rss().saturating_sub(before);
    eprintln!("peak resident memory grew by {} MiB", grown >> 20);
    assert!(
        grown < 64 << 20,
        "serving a 256 MiB file grew the peak resident memory by {} MiB",
        grown >> 20
    );
}
