//! Concurrent publishes of one name, readers during publishes, and a bounded
//! load test.
mod common;
use common::*;
use fairmark::model::weights::{load_dir, sha256_hex};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn twenty_concurrent_publishes_leave_one_complete_model() {
    let site = Site::new();
    let server = site.start();
    let url = server.url();
    // Readers run during the publishes: every weights download must carry an
    // ETag that is the hash of its own bytes (never the hash of another version).
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (url, done, reads) = (url.clone(), done.clone(), reads.clone());
            std::thread::spawn(move || {
                let a = agent();
                while !done.load(Ordering::Relaxed) {
                    let r = get(&a, &format!("{url}/models/same/weights.bpk"), &[]);
                    match r.status {
                        200 => {
                            assert_eq!(
                                r.header("etag").unwrap(),
                                format!("\"{}\"", sha256_hex(&r.body))
                            );
                            reads.fetch_add(1, Ordering::Relaxed);
                        }
                        404 => {} // not published yet
                        s => panic!("GET during publishes: {s}"),
                    }
                }
            })
        })
        .collect();

    let bodies: Vec<(Vec<u8>, Vec<u8>)> = (0..20u8)
        .map(|i| {
            let w = weights(i, 20_000 + 997 * i as usize);
            (body("same", &w), w)
        })
        .collect();
    let barrier = Arc::new(std::sync::Barrier::new(20));
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = bodies
            .iter()
            .map(|(b, _)| {
                let (url, barrier) = (url.clone(), barrier.clone());
                s.spawn(move || {
                    let a = agent();
                    barrier.wait();
                    let r = put(&a, &format!("{url}/api/models/same"), Some(TOKEN), b);
                    r.status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    done.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        19,
        "{statuses:?}"
    );

    // Exactly one model, complete and valid, equal to one of the twenty.
    assert_eq!(entries(&site.models()), ["same"]);
    let dir = site.models().join("same");
    assert_eq!(
        entries(&dir),
        ["MODEL_CARD.md", "manifest.json", "weights.bpk"]
    );
    let (manifest, w) = load_dir(&dir).expect("a valid model");
    assert!(bodies.iter().any(|(_, b)| *b == w));
    let a = agent();
    let listed = get(&a, &format!("{url}/api/models/same"), &[]).json();
    assert_eq!(
        listed["manifest"]["weights"]["sha256"],
        manifest.weights.sha256
    );
    assert!(
        reads.load(Ordering::Relaxed) > 0,
        "the readers saw the model"
    );
}

#[test]
fn load_2000_requests_at_32_concurrency_without_errors() {
    let site = Site::new();
    site.add_committed("ceph-unet-phantom");
    let server = site.start();
    let url = server.url();
    let paths = [
        "/api/models",
        "/models/ceph-unet-phantom/weights.bpk",
        "/models/ceph-unet-phantom/manifest.json",
        "/",
        "/app.js",
        "/pkg/x.wasm",
        "/pkg/x.js",
        "/api/models/ceph-unet-phantom",
    ];
    let next = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    let start = Instant::now();
    let mut latencies: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..32)
            .map(|_| {
                s.spawn(|| {
                    let a = agent();
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= 2000 {
                            return mine;
                        }
                        let t = Instant::now();
                        let r = get(
                            &a,
                            &format!("{url}{}", paths[i % paths.len()]),
                            &[("accept-encoding", "gzip")],
                        );
                        mine.push(t.elapsed());
                        if r.status != 200 || r.body.is_empty() {
                            errors.fetch_add(1, Ordering::Relaxed);
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
    latencies.sort();
    let q = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    eprintln!(
        "2000 requests at 32 concurrency in {wall:.2?}: p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        q(0.5),
        q(0.99),
        latencies[latencies.len() - 1]
    );
    assert_eq!(latencies.len(), 2000);
    assert_eq!(errors.load(Ordering::Relaxed), 0);
    assert!(wall < Duration::from_secs(60), "{wall:?}");
}
