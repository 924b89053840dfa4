//! Connection limits and timeouts: stalled uploads, idle connections, clients
//! that stop reading, and a bounded load test while two uploads stall. All on
//! 127.0.0.1, each bounded in requests and time.
mod common;
use common::*;
use fairmark_server::{Limits, RunningServer};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

fn start(site: &Site, limits: Limits) -> RunningServer {
    RunningServer::start(site.config().with_limits(limits), 2).unwrap()
}

/// A publish whose headers promise `declared` bytes of body, of which only
/// the first few are sent: the client then stalls.
/// A server whose body timeout outlasts the test, with two uploads that
/// send their headers and then nothing (kept open while the streams live).
fn server_with_two_stalls(site: &Site, settle: Duration) -> (RunningServer, Vec<TcpStream>) {
    let server = start(
        site,
        Limits {
            body_timeout: Duration::from_secs(60),
            ..Limits::default()
        },
    );
    let stalled = ["a", "b"]
        .iter()
        .map(|n| stalled_upload(server.addr, n, 1_000_000))
        .collect();
    std::thread::sleep(settle);
    (server, stalled)
}

fn stalled_upload(addr: SocketAddr, name: &str, declared: usize) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PUT /api/models/{name} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n{{\"manifest\": "
    )
    .unwrap();
    s.flush().unwrap();
    s
}

/// The status of the answer on `s`, if one comes within `within`.
fn status_within(s: &mut TcpStream, within: Duration) -> Option<u16> {
    s.set_read_timeout(Some(within)).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let line = String::from_utf8_lossy(&head);
    line.split(' ').nth(1)?.parse().ok()
}

/// Whether the server closed `s` within `within` (end of stream or reset),
/// reading and dropping whatever comes first; also returns the bytes read.
fn closed_within(s: &mut TcpStream, within: Duration) -> (bool, usize) {
    let deadline = Instant::now() + within;
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0;
    while Instant::now() < deadline {
        s.set_read_timeout(Some(deadline - Instant::now() + Duration::from_millis(1)))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => return (true, total),
            Ok(n) => total += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (false, total)
            }
            Err(_) => return (true, total),
        }
    }
    (false, total)
}

#[test]
fn a_stalled_upload_is_answered_408_after_the_body_timeout() {
    let site = Site::new();
    let server = start(
        &site,
        Limits {
            body_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
    );
    let t = Instant::now();
    let mut s = stalled_upload(server.addr, "m", 10_000);
    assert_eq!(status_within(&mut s, Duration::from_secs(10)), Some(408));
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert!(
        closed_within(&mut s, Duration::from_secs(5)).0,
        "the connection is closed"
    );
    assert_eq!(entries(&site.models()), Vec::<String>::new());
}

#[test]
fn stalled_uploads_do_not_block_publishing() {
    let site = Site::new();
    // A body timeout longer than the test: the stalls last throughout.
    let (server, stalled) = server_with_two_stalls(&site, Duration::from_millis(300));
    let url = server.url();
    let a = agent();
    for i in 0..3u8 {
        let t = Instant::now();
        let r = put(
            &a,
            &format!("{url}/api/models/m"),
            Some(TOKEN),
            &body("m", &weights(i, 5000)),
        );
        assert!(
            matches!(r.status, 200 | 201),
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "publish {i} took {:?}",
            t.elapsed()
        );
    }
    assert_eq!(entries(&site.models()), ["m"]);
    drop(stalled);
}

#[test]
fn idle_connections_are_closed_and_the_connection_limit_holds() {
    let site = Site::new();
    let server = start(
        &site,
        Limits {
            max_connections: 4,
            header_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
    );
    let mut idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    // A fifth client waits until the server closes an idle one (1 s).
    let t = Instant::now();
    let r = get(&agent(), &format!("{}/healthz", server.url()), &[]);
    let waited = t.elapsed();
    assert_eq!(r.status, 200);
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(5),
        "the fifth connection waited {waited:?}"
    );
    for (i, s) in idle.iter_mut().enumerate() {
        assert!(
            closed_within(s, Duration::from_secs(3)).0,
            "idle connection {i} is closed"
        );
    }
    // A request whose headers never complete is cut the same way.
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let t = Instant::now();
    assert!(closed_within(&mut slow, Duration::from_secs(5)).0);
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}

#[test]
fn a_client_that_stops_reading_is_dropped() {
    let site = Site::new();
    // Larger than what the loopback socket buffers hold, and served from disk.
    let big = 48usize << 20;
    std::fs::write(site.www().join("big.bin"), weights(7, big)).unwrap();
    let server = start(
        &site,
        Limits {
            max_connections: 1,
            write_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
    );
    let mut reader = TcpStream::connect(server.addr).unwrap();
    reader
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // The only connection is held by a client that reads nothing; once the
    // server's writes have stalled for 1 s it is closed and this one is served.
    let t = Instant::now();
    let r = get(&agent(), &format!("{}/healthz", server.url()), &[]);
    assert_eq!(r.status, 200);
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    let (closed, received) = closed_within(&mut reader, Duration::from_secs(10));
    assert!(closed, "the stalled download's connection is closed");
    assert!(received < big, "it was cut short: {received} bytes");
}

/// The bounded load test: two uploads stall while 50 GETs from 5 clients and
/// a publish all succeed within a few seconds.
#[test]
fn the_server_answers_others_while_two_uploads_stall() {
    let site = Site::new();
    site.add_committed("ceph-unet-phantom");
    let (server, stalled) = server_with_two_stalls(&site, Duration::from_millis(200));
    let url = server.url();
    let paths = [
        "/",
        "/app.js",
        "/pkg/x.wasm",
        "/api/models",
        "/api/models/ceph-unet-phantom",
        "/models/ceph-unet-phantom/weights.bpk",
        "/models/ceph-unet-phantom/manifest.json",
        "/healthz",
    ];
    let t = Instant::now();
    let (statuses, published) = std::thread::scope(|s| {
        let getters: Vec<_> = (0..5)
            .map(|c| {
                let url = &url;
                s.spawn(move || {
                    let a = agent();
                    (0..10)
                        .map(|i| {
                            get(
                                &a,
                                &format!("{url}{}", paths[(c * 10 + i) % paths.len()]),
                                &[],
                            )
                            .status
                        })
                        .collect::<Vec<u16>>()
                })
            })
            .collect();
        let publisher = s.spawn(|| {
            put(
                &agent(),
                &format!("{url}/api/models/m"),
                Some(TOKEN),
                &body("m", &weights(1, 5000)),
            )
            .status
        });
        let statuses: Vec<u16> = getters
            .into_iter()
            .flat_map(|g| g.join().unwrap())
            .collect();
        (statuses, publisher.join().unwrap())
    });
    let wall = t.elapsed();
    assert_eq!(statuses.len(), 50);
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    assert_eq!(published, 201);
    assert!(wall < Duration::from_secs(5), "{wall:?}");
    drop(stalled);
}
