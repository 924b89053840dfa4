//! Benchmark: the full audit of N images × K keypoints with R rounds.
//! `cargo run --release --bin bench-audit -- [--images 10000] [--keypoints 37] [--rounds 1000]`
//! Prints a table of stage timings and one JSON line.
// The CLI and benchmarks are native; on wasm32 (browser tests build every
// binary of the package) each compiles to an empty module.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]
use fairmark::data::dataset::DATASET_SCHEMA;
use fairmark::data::{Dataset, DatasetMeta, Sample, Split};
use fairmark::metrics::privacy::PrivacyConfig;
use fairmark::metrics::simulate::{simulate, ErrorModel};
use fairmark::metrics::{audit, predictions, AuditConfig, PredictionTable};
use std::collections::BTreeMap;
use std::time::Instant;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let (n, k, rounds) = (
        arg("--images", 10_000),
        arg("--keypoints", 37),
        arg("--rounds", 1000),
    );
    let attrs = BTreeMap::from([
        ("sex".to_string(), vec!["F".to_string(), "M".to_string()]),
        (
            "age_group".to_string(),
            vec!["young".to_string(), "old".to_string()],
        ),
    ]);
    let samples = (0..n)
        .map(|i| Sample {
            image: format!("{i:05}.png"),
            split: Split::Test,
            mm_per_px: 0.1,
            landmarks: (0..k).map(|j| [100.0 + j as f64 * 10.0, 200.0]).collect(),
            attributes: BTreeMap::from([
                ("sex".to_string(), ["F", "M"][i % 2].to_string()),
                (
                    "age_group".to_string(),
                    ["young", "old"][(i / 2) % 2].to_string(),
                ),
            ]),
        })
        .collect();
    let meta = DatasetMeta {
        schema: DATASET_SCHEMA.into(),
        anatomy: None,
        landmark_names: (1..=k).map(|j| format!("KP{j}")).collect(),
        attributes: attrs,
        description: "benchmark".into(),
        generator: None,
        samples: None,
    };
    let ds = Dataset::new(meta, samples).expect("valid benchmark data set");
    let model = ErrorModel {
        base_mm: vec![1.2],
        biases: vec!["kp=1,group=young,extra_mm=0.8".parse().expect("bias")],
        seed: 1,
    };
    let (rows, names) = simulate(&ds, None, &model).expect("simulate");
    let csv = predictions::write_csv(&rows, &names);

    let t = Instant::now();
    let table = PredictionTable::parse_csv("bench", &csv).expect("parse");
    let parse_s = t.elapsed().as_secs_f64();

    let mut cfg = AuditConfig {
        rounds,
        privacy: None,
        ..Default::default()
    };
    let t = Instant::now();
    let report = audit(&table, &cfg).expect("audit");
    let audit_s = t.elapsed().as_secs_f64();

    cfg.privacy = Some(PrivacyConfig::default());
    let t = Instant::now();
    let with_privacy = audit(&table, &cfg).expect("audit with privacy");
    let privacy_total_s = t.elapsed().as_secs_f64();
    assert_eq!(report.keypoints, with_privacy.keypoints);

    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("audit of {n} images × {k} keypoints, {rounds} rounds, 2 attributes + joint, {threads} threads");
    println!(
        "  parse CSV ({:.1} MB)          {parse_s:8.3} s",
        csv.len() as f64 / 1e6
    );
    println!("  audit without privacy attack  {audit_s:8.3} s");
    println!("  audit with privacy attack     {privacy_total_s:8.3} s");
    println!(
        "{}",
        serde_json::json!({
            "bench": "audit", "images": n, "keypoints": k, "rounds": rounds, "threads": threads,
            "parse_s": parse_s, "audit_s": audit_s, "audit_with_privacy_s": privacy_total_s,
        })
    );
}
