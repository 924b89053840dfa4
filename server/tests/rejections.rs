//! Publishes that must be refused, with a JSON error, and leave what is
//! already published as it was.
mod common;
use common::*;
use fairmark::model::weights::load_dir;
use fairmark_server::{Config, RunningServer};

#[test]
fn bad_publishes_are_refused_and_change_nothing() {
    let site = Site::new();
    let server = RunningServer::start(site.config().with_max_body_bytes(64 * 1024), 2).unwrap();
    let url = server.url();
    let a = agent();
    let good = weights(9, 1000);
    publish_ok(&a, &url, "m", &good);
    let before = std::fs::read(site.models().join("m/weights.bpk")).unwrap();
    let put_m = |token: Option<&str>, b: &[u8]| put(&a, &format!("{url}/api/models/m"), token, b);
    let other = body("m", &weights(10, 1000));

    // Token: missing, wrong (same length and not), other scheme.
    let r = put_m(None, &other);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"fairmark\"")
    );
    assert!(r.error().contains("Bearer"), "{}", r.error());
    let wrong_same_len: String = TOKEN.chars().rev().collect();
    for wrong in ["nope", wrong_same_len.as_str(), &format!("{TOKEN}x")] {
        let r = put_m(Some(wrong), &other);
        assert_eq!(
            (r.status, r.error().as_str()),
            (401, "wrong token"),
            "{wrong}"
        );
    }
    let r = a
        .put(&format!("{url}/api/models/m"))
        .header("Authorization", format!("Basic {TOKEN}"))
        .send(&other[..])
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // Size: over --max-body-mb (here 64 KiB), by Content-Length.
    let big = body("m", &weights(11, 100_000));
    let r = put_m(Some(TOKEN), &big);
    assert_eq!(r.status, 413);
    assert!(r.error().contains("--max-body-mb"), "{}", r.error());
    // ... and while reading a body of unknown length (chunked).
    let mut reader = &big[..];
    let r = a
        .put(&format!("{url}/api/models/m"))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Expect", "100-continue")
        .send(ureq::SendBody::from_reader(&mut reader))
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    assert!(r.headers().get("content-length").is_some());

    // Content: sha256 mismatch, size mismatch, malformed manifests and bodies.
    let w = weights(12, 1000);
    let mut m = manifest_for("m", &w);
    m.weights.sha256 = fairmark::model::weights::sha256_hex(b"something else");
    let r = put_m(Some(TOKEN), &body_with(&m, &w));
    assert_eq!(r.status, 422);
    assert!(
        r.error().contains("do not match") && r.error().contains("sha256"),
        "{}",
        r.error()
    );
    let r = put_m(Some(TOKEN), &body_with(&manifest_for("m", &w), &w[..999]));
    assert_eq!(r.status, 422);
    assert!(r.error().contains("999 bytes"), "{}", r.error());

    let valid: serde_json::Value = serde_json::from_slice(&body("m", &w)).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = valid.clone();
        f(&mut v);
        v.to_string().into_bytes()
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{ not json".to_vec(), "malformed body"),
        (b"[]".to_vec(), "malformed body"),
        (
            with(&|v| {
                v.as_object_mut().unwrap().remove("manifest");
            }),
            "missing field `manifest`",
        ),
        (with(&|v| v["extra"] = 1.into()), "unknown field `extra`"),
        (
            with(&|v| v["weights_base64"] = "***".into()),
            "not valid base64",
        ),
        (
            with(&|v| v["manifest"] = "text".into()),
            "must be a JSON object",
        ),
        (
            with(&|v| v["manifest"]["schema"] = "fairmark.audit/1".into()),
            "fairmark.model/1",
        ),
        (
            with(&|v| {
                v["manifest"]
                    .as_object_mut()
                    .unwrap()
                    .remove("landmark_names");
            }),
            "landmark_names",
        ),
        (
            with(&|v| v["manifest"]["input_size"] = serde_json::json!([0, 128])),
            "input_size",
        ),
        (
            with(&|v| v["manifest"]["weights"]["file"] = "../evil".into()),
            "plain file name",
        ),
        (
            with(&|v| v["manifest"]["weights"]["file"] = ".hidden.bpk".into()),
            "not hidden",
        ),
        // Weights that the server would serve as a page, a script or an
        // image: the name must end in .bpk.
        (
            with(&|v| v["manifest"]["weights"]["file"] = "index.html".into()),
            "ending in .bpk",
        ),
        (
            with(&|v| v["manifest"]["weights"]["file"] = "app.js".into()),
            "ending in .bpk",
        ),
        (
            with(&|v| v["manifest"]["weights"]["file"] = "x.svg".into()),
            "ending in .bpk",
        ),
        (
            with(&|v| v["manifest"]["weights"]["sha256"] = "xyz".into()),
            "64 hex",
        ),
        (
            with(&|v| v["manifest"]["name"] = "other".into()),
            "must be equal",
        ),
    ];
    for (b, expect) in cases {
        let r = put_m(Some(TOKEN), &b);
        assert_eq!(
            r.status,
            400,
            "{expect}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(r.error().contains(expect), "{expect}: {}", r.error());
    }

    // Nothing of the above touched the published model or left files behind.
    let (_, now) = load_dir(&site.models().join("m")).unwrap();
    assert_eq!(now, before);
    assert_eq!(entries(&site.models()), ["m"]);
}

#[test]
fn traversal_names_are_refused() {
    let site = Site::new();
    let server = site.start();
    let url = server.url();
    let a = agent();
    let outside = site.dir.path().join("x");
    for name in [
        "../x",
        "..%2Fx",
        "%2e%2e",
        "%2E%2E%2Fx",
        "%2e%2e%2fx",
        "..",
        ".",
        ".hidden",
        "%2Etmp",
        "%2Fetc%2Fpasswd",
        "/etc/passwd",
        "a%00b",
        "a%5Cb",
        "a.b",
        "%zz",
        "x/y",
    ] {
        for token in [Some(TOKEN), None] {
            let r = put(
                &a,
                &format!("{url}/api/models/{name}"),
                token,
                &body("x", &weights(1, 10)),
            );
            assert!(
                matches!(r.status, 400 | 401 | 404 | 405),
                "{name}: {} {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            assert!(!r.error().is_empty());
        }
        let r = put(
            &a,
            &format!("{url}/api/models/{name}"),
            Some(TOKEN),
            &body("x", &weights(1, 10)),
        );
        if r.status != 404 {
            assert_eq!(r.status, 400, "{name}: {}", r.error());
        }
        let r = get(&a, &format!("{url}/api/models/{name}"), &[]);
        assert!(matches!(r.status, 400 | 404), "GET {name}: {}", r.status);
    }
    // Names that decode to a path are named as such.
    let r = put(
        &a,
        &format!("{url}/api/models/..%2Fx"),
        Some(TOKEN),
        &body("x", &weights(1, 10)),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.error().contains("\"../x\" is not allowed"),
        "{}",
        r.error()
    );
    assert!(!outside.exists());
    assert_eq!(entries(&site.models()), Vec::<String>::new());

    // Files: no way out of the served directories, no hidden files.
    for (path, status) in [
        ("/%2e%2e/x", 400),
        ("/..%2F..%2Fetc%2Fpasswd", 400),
        ("/pkg/..%2f..%2fwww%2f.secret", 400),
        ("/.secret", 404),
        ("/%2esecret", 404),
        ("/models/..%5Cx", 400),
    ] {
        let r = get(&a, &format!("{url}{path}"), &[]);
        assert_eq!(
            r.status,
            status,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
}

#[test]
fn publishing_is_disabled_without_a_token() {
    let site = Site::new();
    let server =
        RunningServer::start(Config::new(site.www(), site.pkg(), site.models()), 2).unwrap();
    let url = server.url();
    let a = agent();
    let r = put(
        &a,
        &format!("{url}/api/models/m"),
        Some(TOKEN),
        &body("m", &weights(1, 10)),
    );
    assert_eq!(r.status, 403);
    assert!(
        r.error().contains("publishing is disabled"),
        "{}",
        r.error()
    );
    // Everything else works.
    assert_eq!(get(&a, &format!("{url}/api/models"), &[]).status, 200);
    assert_eq!(get(&a, &format!("{url}/"), &[]).status, 200);
    let r = a.delete(&format!("{url}/api/models/m")).call().unwrap();
    assert_eq!(r.status().as_u16(), 405);
}

/// A publish whose model config would make every browser that selects the
/// model trap or allocate gigabytes is refused before anything is written.
#[test]
fn hostile_model_configs_are_refused() {
    let site = Site::new();
    let server = site.start();
    let url = server.url();
    let a = agent();
    let good = weights(3, 2000);
    publish_ok(&a, &url, "m", &good);
    let files_before: Vec<Vec<u8>> = ["weights.bpk", "manifest.json", "MODEL_CARD.md"]
        .iter()
        .map(|f| std::fs::read(site.models().join("m").join(f)).unwrap())
        .collect();
    let list_before = get(&a, &format!("{url}/api/models"), &[]).body;

    let w = weights(4, 2000);
    let valid: serde_json::Value = serde_json::from_slice(&body("m", &w)).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = valid.clone();
        f(&mut v);
        v.to_string().into_bytes()
    };
    // Sets one field of the detector config, e.g. "/backbone/depth".
    let set = |field: &str, value: serde_json::Value| {
        let mut v = valid.clone();
        let pointer = format!("/manifest/config/detector{field}");
        *v.pointer_mut(&pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = value;
        v.to_string().into_bytes()
    };
    let huge_input = with(&|v| {
        v["manifest"]["config"]["detector"]["input_size"] = serde_json::json!([100_000, 100_000]);
        v["manifest"]["input_size"] = serde_json::json!([100_000, 100_000]);
    });
    let wide_and_big = with(&|v| {
        v["manifest"]["config"]["detector"]["input_size"] = serde_json::json!([4096, 4096]);
        v["manifest"]["input_size"] = serde_json::json!([4096, 4096]);
    });
    let refine = |patch: u64, width: u64| {
        with(&|v| {
            v["manifest"]["config"]["detector"]["refine"] = serde_json::json!({
                "patch_size": patch,
                "zoom": 2,
                "backbone": {"in_channels": 1, "base_width": width, "depth": 2}
            })
        })
    };
    let text = String::from_utf8(body("m", &w)).unwrap();
    assert!(text.starts_with("{\"manifest\":{"), "{}", &text[..40]);
    let nan = text.replacen("{\"manifest\":{", "{\"manifest\":{\"mm_per_px\":NaN,", 1);
    let infinite = text.replacen("{\"manifest\":{", "{\"manifest\":{\"mm_per_px\":1e999,", 1);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            set("/backbone/base_width", (1u64 << 20).into()),
            "backbone.base_width is 1048576",
        ),
        (
            set("/backbone/base_width", 0.into()),
            "backbone.base_width is 0",
        ),
        (set("/backbone/depth", 40.into()), "backbone.depth is 40"),
        (set("/backbone/depth", 0.into()), "backbone.depth is 0"),
        (set("/backbone/in_channels", 3.into()), "in_channels is 3"),
        (set("/n_landmarks", 100_000.into()), "n_landmarks is 100000"),
        (set("/n_heads", 0.into()), "n_heads is 0"),
        (
            set("/groups_per_attribute", serde_json::json!(vec![2; 64])),
            "number of attributes",
        ),
        (huge_input, "input width is 100000"),
        (wide_and_big, "activation values"),
        (refine(100_000, 8), "refine.patch_size is 100000"),
        // Each bound passes, but ten 512² patches at 64 channels do not.
        (refine(512, 64), "activation values"),
        (
            set("/backbone/depth", serde_json::json!(1e30)),
            "invalid manifest",
        ),
        (
            set("/backbone/depth", serde_json::json!(-1)),
            "invalid manifest",
        ),
        (
            with(&|v| v["manifest"]["mm_per_px"] = serde_json::json!(-1.0)),
            "mm_per_px must be > 0",
        ),
        (nan.into_bytes(), "malformed body"),
        (infinite.into_bytes(), "malformed body"),
    ];
    for (b, expect) in cases {
        let r = put(&a, &format!("{url}/api/models/m"), Some(TOKEN), &b);
        assert_eq!(
            r.status,
            400,
            "{expect}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(r.error().contains(expect), "{expect}: {}", r.error());
    }

    // Nothing changed: the files, the list, no leftovers.
    let files_after: Vec<Vec<u8>> = ["weights.bpk", "manifest.json", "MODEL_CARD.md"]
        .iter()
        .map(|f| std::fs::read(site.models().join("m").join(f)).unwrap())
        .collect();
    assert!(files_after == files_before, "the published model changed");
    assert_eq!(get(&a, &format!("{url}/api/models"), &[]).body, list_before);
    assert_eq!(entries(&site.models()), ["m"]);
}

/// Names that Windows reads as a drive or a device are refused on publish,
/// for the model and for its weights file.
#[test]
fn windows_drive_and_device_names_are_refused() {
    let site = Site::new();
    let server = site.start();
    let url = server.url();
    let a = agent();
    for name in [
        "CON", "nul", "Com1", "LPT1", "aux", "PRN", "C%3A", "C%3Ax", "a%5Cb",
    ] {
        let r = put(
            &a,
            &format!("{url}/api/models/{name}"),
            Some(TOKEN),
            &body("x", &weights(1, 10)),
        );
        assert_eq!(
            r.status,
            400,
            "{name}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            r.error().contains("is not allowed"),
            "{name}: {}",
            r.error()
        );
    }
    let w = weights(2, 100);
    for file in [
        "CON.bpk",
        "nul.bpk",
        "com1.bpk",
        "LPT1.weights.bpk",
        "Aux .bpk",
        "C:w.bpk",
        "c:\\w.bpk",
        "a\\b.bpk",
    ] {
        let mut m = manifest_for("m", &w);
        m.weights.file = file.to_string();
        let r = put(
            &a,
            &format!("{url}/api/models/m"),
            Some(TOKEN),
            &body_with(&m, &w),
        );
        assert_eq!(
            r.status,
            400,
            "{file}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            r.error().contains("weights file name"),
            "{file}: {}",
            r.error()
        );
    }
    // Served paths too: a drive or a device segment is never opened.
    for path in [
        "/C%3A/x",
        "/pkg/C%3Ax.wasm",
        "/NUL",
        "/con.js",
        "/models/COM1/manifest.json",
    ] {
        let r = get(&a, &format!("{url}{path}"), &[]);
        assert_eq!(r.status, 400, "{path}");
    }
    assert_eq!(entries(&site.models()), Vec::<String>::new());
}

/// Symbolic links inside the served folders are not followed: files,
/// folders and model folders reached through one are not found.
#[cfg(unix)]
#[test]
fn symbolic_links_in_served_folders_are_not_followed() {
    use std::os::unix::fs::symlink;
    let site = Site::new();
    site.add_committed("ceph-unet-phantom");
    let secret = site.dir.path().join("secret.txt");
    std::fs::write(&secret, "outside the served folders").unwrap();
    let outside_dir = site.dir.path().join("elsewhere");
    std::fs::create_dir_all(&outside_dir).unwrap();
    std::fs::write(outside_dir.join("page.html"), "elsewhere").unwrap();
    symlink(&secret, site.www().join("secret.txt")).unwrap();
    symlink(&outside_dir, site.www().join("linked")).unwrap();
    symlink(&secret, site.pkg().join("x2.js")).unwrap();
    symlink(&outside_dir, site.pkg().join("linked")).unwrap();
    // A whole model folder, and single files of another, through links.
    symlink(
        site.models().join("ceph-unet-phantom"),
        site.models().join("alias"),
    )
    .unwrap();
    std::fs::create_dir_all(site.models().join("half")).unwrap();
    for f in ["manifest.json", "weights.bpk"] {
        let from = site.models().join("ceph-unet-phantom").join(f);
        symlink(&from, site.models().join("half").join(f)).unwrap();
    }
    // A link to the page inside www is refused too: links are not followed at all.
    symlink(site.www().join("index.html"), site.www().join("home.html")).unwrap();

    let server = site.start();
    let url = server.url();
    let a = agent();
    for path in [
        "/secret.txt",
        "/linked/page.html",
        "/linked/",
        "/linked",
        "/home.html",
        "/pkg/x2.js",
        "/pkg/linked/page.html",
        "/models/alias/manifest.json",
        "/models/alias/weights.bpk",
        "/models/half/manifest.json",
        "/models/half/weights.bpk",
    ] {
        let r = get(&a, &format!("{url}{path}"), &[]);
        assert_eq!(
            r.status,
            404,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            !String::from_utf8_lossy(&r.body).contains("outside"),
            "{path}"
        );
    }
    // Neither is listed; the real model still is, and real files are served.
    let list = get(&a, &format!("{url}/api/models"), &[]).json();
    let names = model_names(&list);
    assert_eq!(names, ["ceph-unet-phantom"]);
    for name in ["alias", "half"] {
        assert_eq!(
            get(&a, &format!("{url}/api/models/{name}"), &[]).status,
            404,
            "{name}"
        );
    }
    assert_eq!(get(&a, &format!("{url}/index.html"), &[]).status, 200);
    assert_eq!(
        get(
            &a,
            &format!("{url}/models/ceph-unet-phantom/weights.bpk"),
            &[]
        )
        .status,
        200
    );
}
