//! The prepared GPU run (experiments/gpu/), dry-run on whatever wgpu adapter
//! this machine has (lavapipe in CI): the bundle is built and measured, the
//! run script goes through every step at toy sizes and returns what the
//! device tool can bring back (at most 8 files of 16 MiB, no deeper than two
//! folders), and the finishing script turns that into a benchmark table and a
//! published model. What this cannot check is the GPU itself.
#![cfg(all(feature = "model", not(target_arch = "wasm32")))]
use fairmark::data::shared_data_dir;
use fairmark::model::backend::try_wgpu;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_fairmark");

/// Runs a script; `FAIRMARK` (the binary) is passed unless the env says
/// otherwise, so run.sh unpacks the bundle's own binary as on the GPU.
fn run_script(script: &str, args: &[&Path], env: &[(&str, &Path)]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new("bash");
    cmd.arg(root.join(script)).args(args).env("FAIRMARK", BIN);
    if script.ends_with("run.sh") {
        cmd.env_remove("FAIRMARK");
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("bash runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{script} failed:\n{text}");
    text
}

#[test]
fn the_gpu_run_goes_through_on_a_cpu_vulkan() {
    let Some(shared) = shared_data_dir() else {
        eprintln!("no ../shared/data: skipped");
        return;
    };
    if try_wgpu().is_none() {
        assert!(
            std::env::var("FAIRMARK_REQUIRE_WGPU").is_err(),
            "FAIRMARK_REQUIRE_WGPU is set but no wgpu adapter started"
        );
        eprintln!("no wgpu adapter: skipped (install mesa-vulkan-drivers)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("bundle");
    let prepared = run_script(
        "experiments/gpu/prepare.sh",
        &[],
        &[
            ("BUNDLE", &bundle),
            ("FAIRMARK_SHARED_DATA", &shared),
            ("DEBS", Path::new("skip")),
            ("SUBSET", Path::new("4")),
        ],
    );
    assert!(prepared.contains("of 64 MiB"), "{prepared}");
    assert!(bundle.join("bin/fairmark.xz").is_file());
    let data = fairmark::data::Dataset::load(&bundle.join("data")).unwrap();
    assert_eq!(data.samples.len(), 12, "4 per split");
    assert!(data
        .samples
        .iter()
        .all(|s| (s.mm_per_px - 0.2).abs() < 1e-9));

    let out = tmp.path().join("out");
    let log = run_script(
        "experiments/gpu/run.sh",
        &[],
        &[
            ("BUNDLE", &bundle),
            ("OUT", &out),
            ("WORK", &tmp.path().join("work")),
            ("DRY_RUN", Path::new("1")),
        ],
    );
    assert!(log.contains("failed steps: 0"), "{log}");
    // What the device tool brings back: ≤ 8 plain files of ≤ 16 MiB.
    let files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.len() <= 8, "{files:?}");
    for f in &files {
        let meta = std::fs::metadata(f).unwrap();
        assert!(meta.is_file() && meta.len() <= 16 << 20, "{f:?}");
    }
    for name in ["log.txt", "bench.jsonl", "summary.md", "runs.tgz"] {
        assert!(out.join(name).is_file(), "{name} missing: {files:?}");
    }
    let bench = std::fs::read_to_string(out.join("bench.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = bench
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{bench}");
    for mode in ["train", "infer"] {
        let fm = lines
            .iter()
            .find(|l| l["bench"] == mode && l["impl"] == "fairmark-burn")
            .unwrap_or_else(|| panic!("no fairmark {mode} line: {bench}"));
        assert!(fm["images_per_s"].as_f64().unwrap() > 0.0);
        assert!(fm["backend"].as_str().unwrap().starts_with("wgpu"), "{fm}");
        assert!(fm.get("peak_gpu_mib").is_some(), "{fm}");
        let torch = lines
            .iter()
            .find(|l| l["bench"] == mode && l["impl"] == "torch-eager")
            .unwrap_or_else(|| panic!("no torch {mode} line: {bench}"));
        assert!(torch.get("images_per_s").is_some() || torch.get("skipped").is_some());
    }
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    for row in ["gpu-c2f val", "cpu-c2f val", "gpu-c2f test", "cpu-c2f test"] {
        assert!(summary.contains(row), "{row} missing:\n{summary}");
    }

    let exp = tmp.path().join("exp");
    let models = tmp.path().join("models");
    let docs = tmp.path().join("docs");
    let finished = run_script(
        "experiments/gpu/finish.sh",
        &[&out],
        &[
            ("OUT", &exp),
            ("MODELS", &models),
            ("DOCS", &docs),
            ("DATA", &bundle.join("data")),
            ("FORCE_PUBLISH", Path::new("1")),
        ],
    );
    assert!(
        finished.contains("validation MRE: GPU-trained"),
        "{finished}"
    );
    let table = std::fs::read_to_string(docs.join("gpu-bench.md")).unwrap();
    assert!(table.contains("| train | fairmark-burn |"), "{table}");
    let manifest = std::fs::read_to_string(models.join("isbi-unet-gpu/manifest.json")).unwrap();
    assert!(manifest.contains("\"refine\""), "{manifest}");
}
