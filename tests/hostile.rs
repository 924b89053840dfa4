//! Every entry of the hostile corpus (`tests/hostile/corpus.rs`) through the
//! public native API: each must end in its expected error (or, for valid but
//! hostile input, its expected output), none may panic, and each must finish
//! within a few seconds; the whole run must stay under 1 GiB of memory.
//! `tests/web.rs` runs the same list through the browser API.
#![cfg(all(feature = "model", not(target_arch = "wasm32")))]

use fairmark::data::formats::image_io::{
    decode_image_named, load_image_with_limit, DEFAULT_MAX_PIXELS,
};
use fairmark::data::phantom::{groups::GroupSpec, render, PhantomConfig};
use fairmark::data::Anatomy;
use fairmark::detection::pipeline::{DetectOptions, Pixels as DetectPixels};
use fairmark::detection::Detection;
use fairmark::metrics::predictions::{labelled_rows, write_csv, ImagePredictions};
use fairmark::metrics::{audit, AuditOptions, PredictionTable};
use fairmark::model::{Landmarker, Runtime};
use futures_lite::future::block_on;
use serde_json::Value;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

#[path = "hostile/corpus.rs"]
mod corpus;
#[path = "common/dicom.rs"]
mod dicom_files;
use corpus::{Data, Entry, Input, Pixels, Target, ENTRIES};

/// Longest any one entry may take (a refused input should take milliseconds).
const MAX_SECONDS: f64 = 5.0;
/// Most memory the process may have used at its peak, corpus included.
const MAX_PEAK_BYTES: u64 = 1 << 30;

fn show<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(show)
}

fn run_audit(csv: &Data, options: &str) -> Result<String, String> {
    let table = PredictionTable::parse_csv("hostile.csv", &csv.text()).map_err(show)?;
    let options: Option<AuditOptions> = json(options)?;
    let cfg = options.unwrap_or_default().config(&table).map_err(show)?;
    let report = audit(&table, &cfg).map_err(show)?;
    serde_json::to_string(&report).map_err(show)
}

/// The bytes decoded in memory and read from a file: both must give the outcome.
fn run_image(
    bytes: &[u8],
    check: impl Fn(Result<String, String>) -> Result<(), String>,
) -> Result<(), String> {
    let decoded = decode_image_named(bytes, Path::new("hostile.png"), DEFAULT_MAX_PIXELS)
        .map(|g| format!("{}x{}", g.width, g.height))
        .map_err(show);
    check(decoded).map_err(|e| format!("in memory: {e}"))?;
    let dir = tempfile::tempdir().map_err(show)?;
    let path = dir.path().join("hostile.png");
    std::fs::write(&path, bytes).map_err(show)?;
    let loaded = load_image_with_limit(&path, DEFAULT_MAX_PIXELS)
        .map(|g| format!("{}x{}", g.width, g.height))
        .map_err(show);
    check(loaded).map_err(|e| format!("from a file: {e}"))
}

fn run_image_file_of_len(len: u64) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(show)?;
    let path = dir.path().join("big.png");
    std::fs::File::create(&path)
        .and_then(|f| f.set_len(len))
        .map_err(show)?;
    load_image_with_limit(&path, DEFAULT_MAX_PIXELS)
        .map(|g| format!("{}x{}", g.width, g.height))
        .map_err(show)
}

fn run_model_dir(fill: fn(&Path)) -> Result<String, String> {
    let root = tempfile::tempdir().map_err(show)?;
    let dir = root.path().join("model");
    std::fs::create_dir(&dir).map_err(show)?;
    fill(&dir);
    Landmarker::load_dir(&dir, Runtime::cpu("hostile"))
        .map(|m| m.spec().method.clone())
        .map_err(show)
}

/// What `Model.detect` does with its options, natively.
fn detect_options(options: &str) -> Result<DetectOptions, String> {
    let v: Value = json(options)?;
    let mut o = DetectOptions::default();
    if v.is_null() {
        return Ok(o);
    }
    if let Some(a) = v.get("attributes") {
        let map: BTreeMap<String, String> = serde_json::from_value(a.clone()).map_err(show)?;
        o.attributes = map;
    }
    o.mm_per_px = v.get("mmPerPx").and_then(Value::as_f64);
    o.image_name = v.get("imageName").and_then(Value::as_str).map(String::from);
    Ok(o)
}

fn run_detect(
    model: &Landmarker,
    pixels: &Pixels,
    width: &str,
    height: &str,
    options: &str,
) -> Result<String, String> {
    let data = match pixels {
        Pixels::Zeros(n) => vec![0u8; *n],
        Pixels::Json(_) => panic!("JavaScript values have no native twin: mark the entry Browser"),
    };
    let width: usize = json(width).expect("native entries give integer sizes");
    let height: usize = json(height).expect("native entries give integer sizes");
    let px = DetectPixels::Bytes {
        data: &data,
        width,
        height,
    };
    let det = block_on(model.detect(px, &detect_options(options)?)).map_err(show)?;
    serde_json::to_string(&det).map_err(show)
}

fn run_phantom(anatomy: &str, index: &str, options: &str) -> Result<String, String> {
    // As `renderPhantom` sets up the configuration.
    let an = Anatomy::parse(anatomy).expect("native entries name an anatomy");
    let index: usize = json(index)?;
    let o: Value = json(options)?;
    let mut cfg = PhantomConfig::new(an);
    cfg.n = index + 1;
    if let Some(s) = o.get("seed") {
        cfg.seed = s.as_u64().expect("native entries give integer seeds");
    }
    if let Some(g) = o.get("groups").and_then(Value::as_str) {
        cfg.groups = GroupSpec::parse(an, &[g.to_string()]).map_err(show)?;
    }
    if let Some(w) = o.get("width").and_then(Value::as_u64) {
        cfg.width = w as u32;
    }
    if let Some(h) = o.get("height").and_then(Value::as_u64) {
        cfg.height = h as u32;
    }
    cfg.validate().map_err(show)?;
    let (img, _) = render(&cfg, index).map_err(show)?;
    Ok(format!("{}x{}", img.width(), img.height()))
}

fn run(entry: &Entry, model: &Landmarker) -> Result<(), String> {
    let check = |got: Result<String, String>| {
        // Shown with --nocapture (and on failure): what each entry said.
        match &got {
            Ok(out) => eprintln!(
                "{}: ok: {}",
                entry.name,
                out.chars().take(120).collect::<String>()
            ),
            Err(msg) => eprintln!("{}: {msg}", entry.name),
        }
        corpus::check(entry, got)
    };
    match &entry.input {
        Input::Image(data) => run_image(&data.bytes(), check),
        Input::Audit { csv, options } => check(run_audit(csv, options)),
        Input::ImageFileOfLen(len) => check(run_image_file_of_len(*len)),
        Input::Model { manifest, weights } => {
            let (text, bytes) = corpus::model_parts(manifest, weights);
            check(
                Landmarker::from_parts(&text, &bytes, Runtime::cpu("hostile"))
                    .map(|m| m.spec().method.clone())
                    .map_err(show),
            )
        }
        Input::ModelDir(fill) => check(run_model_dir(*fill)),
        Input::Detect {
            pixels,
            width,
            height,
            options,
        } => check(run_detect(model, pixels, width, height, options)),
        Input::Relocate {
            edit,
            points,
            mm_per_px,
        } => check((|| {
            let det = Detection::from_json_value(json(&corpus::detection(edit))?).map_err(show)?;
            let points: Vec<[f64; 2]> = json(points)?;
            let moved = det.relocate(&points, json(mm_per_px)?).map_err(show)?;
            serde_json::to_string(&moved).map_err(show)
        })()),
        Input::Measure {
            anatomy,
            points,
            mm_per_px,
        } => check((|| {
            let an = Anatomy::parse(anatomy).expect("native entries name an anatomy");
            let points: Vec<[f64; 2]> = json(points)?;
            let m = fairmark::measure::measure(an, &points, json(mm_per_px)?).map_err(show)?;
            serde_json::to_string(&m).map_err(show)
        })()),
        Input::PredictionsCsv(data) => check((|| {
            let images: Vec<ImagePredictions> = json(&data.text())?;
            let (rows, names) = labelled_rows(&images).map_err(show)?;
            Ok(write_csv(&rows, &names))
        })()),
        Input::RenderPhantom {
            anatomy,
            index,
            options,
        } => check(run_phantom(anatomy, index, options)),
        Input::AuditChart(_) => panic!("browser only: mark the entry Browser"),
    }
}

/// Peak resident memory of this process (Linux), if known.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[test]
fn every_hostile_input_gives_a_clear_error() {
    assert!(
        ENTRIES.len() >= 40,
        "the corpus has {} entries",
        ENTRIES.len()
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = Landmarker::load_dir(&root.join("models/ceph-unet-phantom"), Runtime::cpu("test"))
        .expect("the committed ceph model loads");
    // A panic is reported per entry below; keep the default hook from
    // printing each one as if the test had failed there.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    let mut ran = 0;
    for entry in ENTRIES.iter().filter(|e| e.target != Target::Browser) {
        ran += 1;
        let t0 = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| run(entry, &model)));
        let took = t0.elapsed();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(why)) => failures.push(why),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{}: PANICKED: {msg}", entry.name));
            }
        }
        if took > Duration::from_secs_f64(MAX_SECONDS) {
            failures.push(format!("{}: took {took:.1?}", entry.name));
        }
    }
    std::panic::set_hook(hook);
    assert!(
        failures.is_empty(),
        "{} of {ran} entries failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    if let Some(peak) = peak_rss_bytes() {
        assert!(peak < MAX_PEAK_BYTES, "peak memory {} MiB", peak >> 20);
    }
    eprintln!("{ran} hostile inputs refused natively");
}
