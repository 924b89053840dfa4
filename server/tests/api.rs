//! Publish → list → download round trip, replace, and the read-only API.
mod common;
use common::*;
use fairmark::model::manifest::MODEL_CARD_FILE;
use fairmark::model::weights::{load_dir, sha256_hex};

#[test]
fn publish_list_download_round_trip() {
    let site = Site::new();
    let server = site.start();
    let url = server.url();
    let a = agent();

    assert_eq!(
        get(&a, &format!("{url}/healthz"), &[]).json()["status"],
        "ok"
    );
    assert_eq!(
        get(&a, &format!("{url}/api/models"), &[]).json(),
        serde_json::json!({"models": []})
    );

    // A new model: 201 with the model object; the card is rendered.
    let w1 = weights(1, 5000);
    let r = put(
        &a,
        &format!("{url}/api/models/ceph-a"),
        Some(TOKEN),
        &body("ceph-a", &w1),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("location"), Some("/api/models/ceph-a"));
    let model = r.json();
    assert_eq!(model["name"], "ceph-a");
    // The URLs name the versions published: the manifest's and the weights' sha256.
    let manifest_sha =
        sha256_hex(&std::fs::read(site.models().join("ceph-a/manifest.json")).unwrap());
    assert_eq!(
        model["weights_url"],
        format!("/models/ceph-a/weights.bpk?v={}", sha256_hex(&w1))
    );
    assert_eq!(
        model["manifest_url"],
        format!("/models/ceph-a/manifest.json?v={manifest_sha}")
    );
    assert_eq!(model["card_url"], "/models/ceph-a/MODEL_CARD.md");
    assert_eq!(model["manifest"]["weights"]["sha256"], sha256_hex(&w1));
    let (on_disk, w) = load_dir(&site.models().join("ceph-a")).unwrap();
    assert_eq!(w, w1);
    assert_eq!(on_disk.name, "ceph-a");
    let card = std::fs::read_to_string(site.models().join("ceph-a").join(MODEL_CARD_FILE)).unwrap();
    assert!(card.contains("ceph-a"), "{card}");

    // A second model, then the list: sorted, full manifests.
    let r = put(
        &a,
        &format!("{url}/api/models/abc"),
        Some(TOKEN),
        &body("abc", &weights(2, 10)),
    );
    assert_eq!(r.status, 201);
    let list = get(&a, &format!("{url}/api/models"), &[]);
    assert_eq!(list.status, 200);
    assert_eq!(list.header("content-type"), Some("application/json"));
    let list = list.json();
    let names = model_names(&list);
    assert_eq!(names, ["abc", "ceph-a"]);
    assert_eq!(list["models"][1], model);
    assert_eq!(
        list["models"][1]["manifest"]["landmark_names"]
            .as_array()
            .unwrap()
            .len(),
        10
    );

    // One model; a missing one is a JSON 404.
    assert_eq!(
        get(&a, &format!("{url}/api/models/ceph-a"), &[]).json(),
        model
    );
    let missing = get(&a, &format!("{url}/api/models/nope"), &[]);
    assert_eq!(missing.status, 404);
    assert!(missing.error().contains("nope"));

    // Download: the bytes, a strong ETag that is the manifest's sha256, 304 on revalidation.
    let weights_url = format!("{url}/models/ceph-a/weights.bpk");
    let dl = get(&a, &weights_url, &[("accept-encoding", "gzip")]);
    assert_eq!(dl.status, 200);
    assert_eq!(dl.body, w1);
    assert_eq!(dl.header("content-type"), Some("application/octet-stream"));
    assert_eq!(
        dl.header("content-encoding"),
        None,
        "weights are sent as they are"
    );
    let etag = format!("\"{}\"", sha256_hex(&w1));
    assert_eq!(dl.header("etag"), Some(etag.as_str()));
    assert_eq!(dl.header("cache-control"), Some("no-cache"));
    let again = get(&a, &weights_url, &[("if-none-match", &etag)]);
    assert_eq!((again.status, again.body.len()), (304, 0));
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let versioned = get(&a, &format!("{weights_url}?v={}", sha256_hex(&w1)), &[]);
    assert_eq!(
        versioned.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let manifest = get(&a, &format!("{url}/models/ceph-a/manifest.json"), &[]);
    assert_eq!(manifest.json(), model["manifest"]);

    // Replace: 200, new bytes, new ETag; the old ETag no longer matches.
    let w2 = weights(3, 7000);
    let r = put(
        &a,
        &format!("{url}/api/models/ceph-a"),
        Some(TOKEN),
        &body("ceph-a", &w2),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let dl = get(&a, &weights_url, &[("if-none-match", &etag)]);
    assert_eq!(dl.status, 200);
    assert_eq!(dl.body, w2);
    assert_eq!(
        dl.header("etag").unwrap(),
        format!("\"{}\"", sha256_hex(&w2))
    );
    assert_eq!(
        entries(&site.models()),
        ["abc", "ceph-a"],
        "no temporary directory is left"
    );

    // A given model card is kept as sent.
    let mut b: serde_json::Value = serde_json::from_slice(&body("ceph-a", &w2)).unwrap();
    b["model_card"] = "# my card\n".into();
    let r = put(
        &a,
        &format!("{url}/api/models/ceph-a"),
        Some(TOKEN),
        b.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        get(&a, &format!("{url}/models/ceph-a/MODEL_CARD.md"), &[]).body,
        b"# my card\n"
    );
    server.stop().unwrap();
}

#[test]
fn invalid_and_hidden_directories_are_not_listed() {
    let site = Site::new();
    site.add_committed("ceph-unet-phantom");
    let models = site.models();
    // A model whose manifest is broken, one without weights, hidden ones.
    std::fs::create_dir_all(models.join("broken")).unwrap();
    std::fs::write(models.join("broken/manifest.json"), "{ not json").unwrap();
    site.add_committed("hand-unet-phantom");
    std::fs::remove_file(models.join("hand-unet-phantom/weights.bpk")).unwrap();
    for hidden in [".ceph.tmp-x", ".hidden"] {
        std::fs::create_dir_all(models.join(hidden)).unwrap();
        std::fs::copy(
            committed_models().join("ceph-unet-phantom/manifest.json"),
            models.join(hidden).join("manifest.json"),
        )
        .unwrap();
    }
    let server = site.start();
    let a = agent();
    let url = server.url();
    let list = get(&a, &format!("{url}/api/models"), &[]).json();
    let names = model_names(&list);
    assert_eq!(names, ["ceph-unet-phantom"]);
    // The committed manifest comes back field for field.
    let text = std::fs::read_to_string(committed_models().join("ceph-unet-phantom/manifest.json"))
        .unwrap();
    let on_disk: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["models"][0]["manifest"], on_disk);
    for bad in ["broken", "hand-unet-phantom"] {
        let r = get(&a, &format!("{url}/api/models/{bad}"), &[]);
        assert_eq!(r.status, 404, "{bad}");
        assert!(r.error().contains("not a valid"), "{}", r.error());
    }
    let r = get(&a, &format!("{url}/models/.ceph.tmp-x/manifest.json"), &[]);
    assert_eq!(r.status, 404);
    // The committed weights download with the committed hash as ETag.
    let dl = get(
        &a,
        &format!("{url}/models/ceph-unet-phantom/weights.bpk"),
        &[],
    );
    assert_eq!(
        dl.header("etag").unwrap(),
        format!("\"{}\"", on_disk["weights"]["sha256"].as_str().unwrap())
    );
    assert_eq!(
        sha256_hex(&dl.body),
        on_disk["weights"]["sha256"].as_str().unwrap()
    );
}

#[test]
fn versioned_urls_never_pair_two_publishes() {
    let site = Site::new();
    let server = site.start();
    let url = server.url();
    let a = agent();
    let publish = |w: &[u8]| {
        let r = put(
            &a,
            &format!("{url}/api/models/m"),
            Some(TOKEN),
            &body("m", w),
        );
        assert!(matches!(r.status, 200 | 201), "{}", r.status);
        r.json()
    };
    let (w1, w2) = (weights(1, 3000), weights(2, 4000));
    let first = publish(&w1);
    let listed = get(&a, &format!("{url}/api/models/m"), &[]).json();
    assert_eq!(listed, first, "the list and the publish answer agree");
    let (manifest_url, weights_url) = (
        first["manifest_url"].as_str().unwrap().to_string(),
        first["weights_url"].as_str().unwrap().to_string(),
    );
    let dl = get(&a, &format!("{url}{weights_url}"), &[]);
    assert_eq!((dl.status, &dl.body), (200, &w1));
    assert_eq!(
        dl.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let m = get(&a, &format!("{url}{manifest_url}"), &[]);
    assert_eq!(m.status, 200);
    assert_eq!(m.json()["weights"]["sha256"], sha256_hex(&w1));

    // Published again: the old versions are refused, not silently swapped.
    let second = publish(&w2);
    for old in [&manifest_url, &weights_url] {
        let r = get(&a, &format!("{url}{old}"), &[]);
        assert_eq!(r.status, 409, "{old}");
        assert!(r.error().contains("/api/models"), "{}", r.error());
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    // The new URLs give a matching pair.
    let m = get(
        &a,
        &format!("{url}{}", second["manifest_url"].as_str().unwrap()),
        &[],
    )
    .json();
    let w = get(
        &a,
        &format!("{url}{}", second["weights_url"].as_str().unwrap()),
        &[],
    );
    assert_eq!(w.body, w2);
    assert_eq!(m["weights"]["sha256"], sha256_hex(&w.body));
    // Unversioned URLs and other `v` values (cache busters) still serve the current file.
    for plain in ["/models/m/weights.bpk", "/models/m/weights.bpk?v=1"] {
        let r = get(&a, &format!("{url}{plain}"), &[]);
        assert_eq!((r.status, &r.body), (200, &w2), "{plain}");
        assert_eq!(r.header("cache-control"), Some("no-cache"));
    }
    // The tag compares without regard to case (a manifest may hold upper-case hex).
    let upper = format!(
        "{url}/models/m/weights.bpk?v={}",
        sha256_hex(&w2).to_uppercase()
    );
    assert_eq!(get(&a, &upper, &[]).status, 200);
}
