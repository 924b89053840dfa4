//! The page and the wasm file come back with the right headers.
mod common;
use common::*;
use fairmark::model::weights::sha256_hex;
use fairmark_server::{CONTENT_SECURITY_POLICY, SECURITY_HEADERS};

fn assert_security_headers(r: &Reply, what: &str) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(r.header(name), Some(value), "{what}: {name}");
    }
    assert_eq!(
        r.header("content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
}

#[test]
fn page_and_wasm_headers() {
    assert_eq!(
        CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    );
    let site = Site::new();
    let server = site.start();
    let url = server.url();
    let a = agent();

    // The page, at / and by name.
    let page = get(&a, &format!("{url}/"), &[]);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(
        page.header("cross-origin-opener-policy"),
        Some("same-origin")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_security_headers(&page, "page");
    let html = std::fs::read(site.www().join("index.html")).unwrap();
    assert_eq!(page.body, html);
    assert_eq!(
        page.header("etag").unwrap(),
        format!("\"{}\"", sha256_hex(&html))
    );
    assert_eq!(get(&a, &format!("{url}/index.html"), &[]).body, html);

    // The wasm: its media type (streaming compilation needs it), gzip for
    // clients that accept it, the ETag then weak.
    let wasm = get(&a, &format!("{url}/pkg/x.wasm"), &[]);
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(wasm.body, wasm_bytes());
    let tag = format!("\"{}\"", sha256_hex(&wasm_bytes()));
    assert_eq!(wasm.header("etag"), Some(tag.as_str()));
    assert_eq!(wasm.header("cache-control"), Some("no-cache"));
    assert_security_headers(&wasm, "wasm");
    let gz = get(
        &a,
        &format!("{url}/pkg/x.wasm"),
        &[("accept-encoding", "gzip")],
    );
    assert_eq!(gz.header("content-type"), Some("application/wasm"));
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("vary"), Some("accept-encoding"));
    assert_eq!(&gz.body[..2], &[0x1f, 0x8b]);
    assert!(
        gz.body.len() * 4 < wasm_bytes().len(),
        "{} bytes",
        gz.body.len()
    );
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gz.body[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, wasm_bytes());
    assert_eq!(
        gz.header("content-length"),
        Some(gz.body.len().to_string().as_str())
    );
    // Served from the cache the second time: the same bytes.
    let gz2 = get(
        &a,
        &format!("{url}/pkg/x.wasm"),
        &[("accept-encoding", "br, gzip;q=0.5")],
    );
    assert_eq!(gz2.body, gz.body);
    let refused = get(
        &a,
        &format!("{url}/pkg/x.wasm"),
        &[("accept-encoding", "gzip;q=0")],
    );
    assert_eq!(
        (refused.header("content-encoding"), refused.body.len()),
        (None, wasm_bytes().len())
    );
    assert_eq!(refused.header("vary"), Some("accept-encoding"));
    assert_eq!(gz.header("etag").unwrap(), format!("W/{tag}"));
    let revalidated = get(
        &a,
        &format!("{url}/pkg/x.wasm"),
        &[
            ("accept-encoding", "gzip"),
            ("if-none-match", &format!("W/{tag}")),
        ],
    );
    assert_eq!(revalidated.status, 304);

    // JavaScript, JSON and errors carry the same policy.
    let js = get(&a, &format!("{url}/pkg/x.js"), &[]);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_security_headers(&js, "js");
    let api = get(&a, &format!("{url}/api/models"), &[]);
    assert_security_headers(&api, "api");
    let missing = get(&a, &format!("{url}/nope.html"), &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), Some("application/json"));
    assert!(missing.error().contains("/nope.html"));
    assert_security_headers(&missing, "404");

    // A file too large to keep in memory is streamed, with its hash as ETag.
    let big: Vec<u8> = (0..17u32 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(site.www().join("big.bin"), &big).unwrap();
    for _ in 0..2 {
        let r = get(
            &a,
            &format!("{url}/big.bin"),
            &[("accept-encoding", "gzip")],
        );
        assert_eq!(r.header("content-encoding"), None);
        assert_eq!(
            r.header("etag").unwrap(),
            format!("\"{}\"", sha256_hex(&big))
        );
        assert!(r.body == big);
    }

    // Directories: a slash is added; HEAD has the headers and no body.
    std::fs::create_dir(site.www().join("docs")).unwrap();
    std::fs::write(site.www().join("docs/index.html"), "<p>docs</p>").unwrap();
    let no_redirects: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let r = get(&no_redirects, &format!("{url}/docs?x=1"), &[]);
    assert_eq!((r.status, r.header("location")), (308, Some("/docs/?x=1")));
    assert_eq!(get(&a, &format!("{url}/docs/"), &[]).body, b"<p>docs</p>");
    let head = a.head(&format!("{url}/pkg/x.wasm")).call().unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(head.headers()["content-type"], "application/wasm");
    assert_eq!(
        head.headers()["content-length"],
        wasm_bytes().len().to_string().as_str()
    );
}

/// A model directory serves data, never a page or a script: weights are an
/// octet-stream attachment, the card plain text, both under a sandbox policy;
/// no index.html; only the manifest is plain JSON under the page's policy.
#[test]
fn model_files_are_data_not_pages() {
    let site = Site::new();
    site.add_committed("ceph-unet-phantom");
    // A file a hostile publisher might have placed there by hand.
    let dir = site.models().join("ceph-unet-phantom");
    std::fs::write(dir.join("index.html"), "<script>alert(1)</script>").unwrap();
    std::fs::write(dir.join("x.js"), "alert(1)").unwrap();
    let server = site.start();
    let url = format!("{}/models/ceph-unet-phantom", server.url());
    let a = agent();

    let w = get(&a, &format!("{url}/weights.bpk"), &[]);
    assert_eq!(w.status, 200);
    assert_eq!(w.header("content-type"), Some("application/octet-stream"));
    assert_eq!(w.header("content-disposition"), Some("attachment"));
    assert_eq!(
        w.header("content-security-policy"),
        Some("sandbox; default-src 'none'")
    );
    for file in ["x.js", "index.html"] {
        let r = get(&a, &format!("{url}/{file}"), &[]);
        assert_eq!(r.status, 200, "{file}");
        assert_eq!(
            r.header("content-type"),
            Some("application/octet-stream"),
            "{file}"
        );
        assert_eq!(
            r.header("content-disposition"),
            Some("attachment"),
            "{file}"
        );
        assert!(r
            .header("content-security-policy")
            .unwrap()
            .starts_with("sandbox"));
    }
    let card = get(&a, &format!("{url}/MODEL_CARD.md"), &[]);
    assert_eq!(
        card.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(card.header("content-disposition"), None);
    assert!(card
        .header("content-security-policy")
        .unwrap()
        .starts_with("sandbox"));
    let manifest = get(&a, &format!("{url}/manifest.json"), &[]);
    assert_eq!(manifest.header("content-type"), Some("application/json"));
    assert_eq!(
        manifest.header("content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
    // A directory URL serves no index.html.
    assert_eq!(get(&a, &format!("{url}/"), &[]).status, 404);
    // Revalidation keeps the sandbox.
    let tag = w.header("etag").unwrap().to_string();
    let again = get(
        &a,
        &format!("{url}/weights.bpk"),
        &[("if-none-match", &tag)],
    );
    assert_eq!(again.status, 304);
    assert!(again
        .header("content-security-policy")
        .unwrap()
        .starts_with("sandbox"));
}

/// `//host` is a path here, not another host: the slash-adding redirect never
/// answers with a protocol-relative `Location`.
#[test]
fn no_protocol_relative_redirect() {
    let site = Site::new();
    std::fs::create_dir(site.www().join("js2")).unwrap();
    let server = site.start();
    let no_redirects: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    for path in ["//js2", "///js2", "/js2"] {
        let r = get(&no_redirects, &format!("{}{path}", server.url()), &[]);
        assert_eq!(
            (r.status, r.header("location")),
            (308, Some("/js2/")),
            "{path}"
        );
    }
}
