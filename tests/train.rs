//! Training end to end on CPU (burn flex): a tiny U-Net learns phantoms, a run
//! resumes, GroupDRO fine-tunes it, IdFOPNet trains, and the published model
//! detects landmarks — with clear errors for bad input.
#![cfg(all(feature = "model", not(target_arch = "wasm32")))]
use fairmark::model::store;
use fairmark::train::trainer::load_run_model;
use std::path::Path;
use std::process::{Command, Output};

mod common;

fn fairmark(args: &[&str], paths: &[&Path]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fairmark"));
    c.args(args);
    for p in paths {
        c.arg(p);
    }
    c.output().unwrap()
}

fn ok(o: Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    err
}

/// A phantom data set (`fairmark synth dataset`) in `dir/data`.
fn phantoms(dir: &Path, kind: &str, n: usize, seed: u64) -> std::path::PathBuf {
    let data = dir.join("data");
    let (n, seed) = (n.to_string(), seed.to_string());
    ok(fairmark(
        &[
            "synth", "dataset", "--kind", kind, "--n", &n, "--seed", &seed, "--out",
        ],
        &[&data],
    ));
    data
}

fn epochs(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const SMALL: &[&str] = &[
    "--size",
    "64",
    "--depth",
    "3",
    "--width",
    "8",
    "--batch",
    "8",
    "--lr",
    "3e-3",
    "--sigma",
    "1.5",
    "--backend",
    "cpu",
];

#[test]
fn train_resume_finetune_publish_detect() {
    let dir = tempfile::tempdir().unwrap();
    let data = phantoms(dir.path(), "ceph", 80, 4);

    // A tiny U-Net overfits the phantoms: loss and validation MRE fall.
    let run = dir.path().join("unet");
    let mut args = vec!["train", "--method", "unet", "--epochs", "10", "--seed", "1"];
    args.extend_from_slice(SMALL);
    args.extend_from_slice(&["--data"]);
    ok(fairmark(&args, &[&data, Path::new("--out"), &run]));
    let log = epochs(&run);
    assert_eq!(log.len(), 10);
    let loss = |i: usize| log[i]["train_loss"].as_f64().unwrap();
    let mre = |i: usize| log[i]["val_mre_mm"].as_f64().unwrap();
    let best = (0..10).map(mre).fold(f64::INFINITY, f64::min);
    assert!(loss(9) < loss(0) / 1.3, "loss {} → {}", loss(0), loss(9));
    assert!(best < mre(0) / 3.0, "val MRE {} → best {best}", mre(0));

    // A second run into the same directory needs --resume; resuming continues the epochs.
    let again = fairmark(&args, &[&data, Path::new("--out"), &run]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
    let mut more = args.clone();
    more[4] = "11";
    assert_eq!(args[3], "--epochs");
    more.insert(1, "--resume");
    ok(fairmark(&more, &[&data, Path::new("--out"), &run]));
    assert_eq!(epochs(&run).len(), 11);

    // Weights round-trip through burnpack bytes with identical outputs.
    let device = burn::tensor::Device::flex();
    let (info, model) = load_run_model(&run, &device).unwrap();
    let bytes = store::to_bytes(&model).unwrap();
    let reloaded = store::from_bytes(&info.detector, &bytes, &device).unwrap();
    let x = burn::tensor::Tensor::<4>::ones([1, 1, 64, 64], &device);
    let a: Vec<f32> = model
        .forward(x.clone(), None)
        .heatmaps
        .into_data()
        .try_to_vec()
        .unwrap();
    let b: Vec<f32> = reloaded
        .forward(x, None)
        .heatmaps
        .into_data()
        .try_to_vec()
        .unwrap();
    assert_eq!(a, b);
    assert!(store::from_bytes(&info.detector, &bytes[..bytes.len() / 2], &device).is_err());

    // GroupDRO fine-tunes from the baseline.
    let dro = dir.path().join("dro");
    let mut dargs = vec![
        "train", "--method", "groupdro", "--epochs", "2", "--lr", "3e-4",
    ];
    dargs.extend_from_slice(&SMALL[..8]);
    dargs.extend_from_slice(&["--sigma", "1.5", "--backend", "cpu", "--data"]);
    ok(fairmark(
        &dargs,
        &[&data, Path::new("--out"), &dro, Path::new("--init"), &run],
    ));
    let dlog = epochs(&dro);
    assert!(
        dlog[0]["val_mre_mm"].as_f64().unwrap() < mre(0) / 2.0,
        "fine-tuning starts from the baseline"
    );

    // Publish, then detect on one image.
    let models = dir.path().join("models");
    ok(fairmark(
        &["publish"],
        &[
            &run,
            Path::new("--name"),
            Path::new("tiny"),
            Path::new("--models"),
            &models,
            Path::new("--created"),
            Path::new("2026-01-01"),
            Path::new("--backend"),
            Path::new("cpu"),
        ],
    ));
    let model_dir = models.join("tiny");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model_dir.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["schema"], "fairmark.model/1");
    assert_eq!(manifest["method"], "unet");
    assert!(manifest["metrics"]["ren"]["age_group"].is_f64());
    assert!(std::fs::read_to_string(model_dir.join("MODEL_CARD.md"))
        .unwrap()
        .contains("adolescent"));
    let image = data.join("images/ceph_00001.png");
    let result = dir.path().join("result.json");
    let overlay = dir.path().join("overlay.png");
    ok(fairmark(
        &[
            "detect",
            "--attr",
            "age_group=adult",
            "--mm-per-px",
            "0.5",
            "--backend",
            "cpu",
        ],
        &[
            &image,
            Path::new("--model"),
            &model_dir,
            Path::new("--out"),
            &result,
            Path::new("--overlay"),
            &overlay,
        ],
    ));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    assert_eq!(r["landmarks"].as_array().unwrap().len(), 10);
    assert_eq!(r["landmarks"][0]["name"], "S");
    assert!(r["measurements"]["sna_deg"].as_f64().unwrap().is_finite());
    assert!(image::open(&overlay).is_ok());

    // Bad input to detect: clear errors, no panic.
    let bad = |args: &[&str], paths: &[&Path], expected: &str| {
        let o = fairmark(args, paths);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(expected) && !err.contains("panicked"),
            "{expected}: {err}"
        );
    };
    let not_image = dir.path().join("notes.png");
    std::fs::write(&not_image, "not an image").unwrap();
    bad(
        &["detect", "--backend", "cpu"],
        &[&not_image, Path::new("--model"), &model_dir],
        "cannot read image",
    );
    bad(
        &["detect", "--attr", "age=adult", "--backend", "cpu"],
        &[&image, Path::new("--model"), &model_dir],
        "unknown attribute \"age\"",
    );
    bad(
        &["detect", "--backend", "cpu"],
        &[&image, Path::new("--model"), &models.join("missing")],
        "does not exist",
    );
    // Tampered weights are refused by their sha256.
    let w = model_dir.join("weights.bpk");
    let mut bytes = std::fs::read(&w).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&w, bytes).unwrap();
    bad(
        &["detect", "--backend", "cpu"],
        &[&image, Path::new("--model"), &model_dir],
        "changed after publishing",
    );
}

/// Coarse to fine: a refinement stage on top of a deliberately coarse U-Net
/// (32² input) lowers the validation error; the run publishes as one model,
/// and `fairmark detect` (the pipeline the browser runs) gives the same
/// points as `fairmark eval` (the batch path) on a test image.
#[test]
fn refinement_stage_improves_a_coarse_model_and_detect_matches_eval() {
    let dir = tempfile::tempdir().unwrap();
    let data = phantoms(dir.path(), "ceph", 60, 7);
    let coarse = dir.path().join("coarse");
    ok(fairmark(
        &[
            "train",
            "--method",
            "unet",
            "--epochs",
            "12",
            "--seed",
            "1",
            "--size",
            "32",
            "--depth",
            "2",
            "--width",
            "8",
            "--batch",
            "8",
            "--lr",
            "3e-3",
            "--sigma",
            "1",
            "--backend",
            "cpu",
            "--data",
        ],
        &[&data, Path::new("--out"), &coarse],
    ));
    let fine = dir.path().join("fine");
    let refine_args = [
        "train",
        "--method",
        "refine",
        "--epochs",
        "6",
        "--seed",
        "1",
        "--patch",
        "32",
        "--zoom",
        "4",
        "--offset-sd",
        "0.7",
        "--depth",
        "2",
        "--width",
        "8",
        "--batch",
        "16",
        "--lr",
        "3e-3",
        "--sigma",
        "1.5",
        "--backend",
        "cpu",
        "--data",
    ];
    // Without a coarse run there is nothing to refine.
    let o = fairmark(&refine_args, &[&data, Path::new("--out"), &fine]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--init"));
    ok(fairmark(
        &refine_args,
        &[
            &data,
            Path::new("--out"),
            &fine,
            Path::new("--init"),
            &coarse,
        ],
    ));
    let best = |run: &Path| {
        epochs(run)
            .iter()
            .map(|e| e["val_mre_mm"].as_f64().unwrap())
            .fold(f64::INFINITY, f64::min)
    };
    let (c, f) = (best(&coarse), best(&fine));
    assert!(f < 0.8 * c, "refined val MRE {f:.3} mm, coarse {c:.3} mm");
    // The coarse weights are part of the run and unchanged by refinement.
    let device = burn::tensor::Device::flex();
    let (c_info, c_model) = load_run_model(&coarse, &device).unwrap();
    let (f_info, f_model) = load_run_model(&fine, &device).unwrap();
    assert!(c_info.detector.refine.is_none() && f_info.detector.refine.is_some());
    assert_eq!(f_info.detector.input_size, [32, 32]);
    let x = burn::tensor::Tensor::<4>::ones([1, 1, 32, 32], &device);
    let heat = |m: &fairmark::model::Detector| -> Vec<f32> {
        m.forward(x.clone(), None)
            .heatmaps
            .into_data()
            .try_to_vec()
            .unwrap()
    };
    assert_eq!(heat(&c_model), heat(&f_model));

    let preds = dir.path().join("preds.csv");
    ok(fairmark(
        &["eval", "--backend", "cpu", "--rounds", "10", "--model"],
        &[
            &fine,
            Path::new("--data"),
            &data,
            Path::new("--out"),
            &preds,
        ],
    ));
    let models = dir.path().join("models");
    ok(fairmark(
        &[
            "publish",
            "--name",
            "c2f",
            "--created",
            "2026-01-01",
            "--backend",
            "cpu",
        ],
        &[&fine, Path::new("--models"), &models],
    ));
    let csv = std::fs::read_to_string(&preds).unwrap();
    let first = csv.lines().nth(1).unwrap();
    let image = first.split(',').next().unwrap().to_string();
    let result = dir.path().join("result.json");
    let detect = |model: &Path| {
        ok(fairmark(
            &["detect", "--backend", "cpu", "--model"],
            &[model, &data.join(&image), Path::new("--out"), &result],
        ))
    };
    // The published model (one weights file, both stages) detects.
    detect(&models.join("c2f"));
    let manifest = std::fs::read_to_string(models.join("c2f/manifest.json")).unwrap();
    assert!(manifest.contains("\"refine\""), "{manifest}");
    // The run's own (f32) weights give exactly what eval gave.
    detect(&fine);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    for line in csv
        .lines()
        .skip(1)
        .filter(|l| l.starts_with(&format!("{image},")))
    {
        let cols: Vec<&str> = line.split(',').collect();
        let k: usize = cols[1].parse().unwrap();
        let (x, y): (f64, f64) = (cols[2].parse().unwrap(), cols[3].parse().unwrap());
        let l = &r["landmarks"][k - 1];
        let d = (l["x"].as_f64().unwrap() - x).hypot(l["y"].as_f64().unwrap() - y);
        assert!(d < 1e-3, "KP{k}: detect and eval differ by {d} px");
    }
}

#[test]
fn idfopnet_learns_phantoms() {
    let dir = tempfile::tempdir().unwrap();
    let data = phantoms(dir.path(), "ceph", 60, 2);
    let run = dir.path().join("idf");
    let mut args = vec![
        "train", "--method", "idfopnet", "--epochs", "8", "--seed", "3",
    ];
    args.extend_from_slice(SMALL);
    args.push("--data");
    ok(fairmark(&args, &[&data, Path::new("--out"), &run]));
    let log = epochs(&run);
    let first = log[0]["val_mre_mm"].as_f64().unwrap();
    let best = log
        .iter()
        .map(|l| l["val_mre_mm"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert!(best < first / 2.0, "IdFOPNet val MRE {first} → best {best}");
}

#[test]
fn ctrl_c_keeps_the_last_checkpoint_and_resume_continues() {
    let dir = tempfile::tempdir().unwrap();
    let data = phantoms(dir.path(), "hand", 40, 5);
    let run = dir.path().join("run");
    let child = Command::new(env!("CARGO_BIN_EXE_fairmark"))
        .args(["train", "--method", "unet", "--epochs", "500"])
        .args(SMALL)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&run)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = run.join("log.jsonl");
    let start = std::time::Instant::now();
    while !log.exists() || std::fs::read_to_string(&log).unwrap().lines().count() < 2 {
        assert!(
            start.elapsed().as_secs() < 120,
            "no epoch finished in 2 minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // Stopped, not finished: the conventional status of a Ctrl-C.
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let done = epochs(&run).len();
    assert!((2..500).contains(&done));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["epochs_done"], done);
    load_run_model(&run, &burn::tensor::Device::flex()).unwrap();
    // Resume to one more epoch than was done.
    let target = (done + 1).to_string();
    let mut args = vec![
        "train",
        "--resume",
        "--method",
        "unet",
        "--epochs",
        target.as_str(),
    ];
    args.extend_from_slice(SMALL);
    args.push("--data");
    ok(fairmark(&args, &[&data, Path::new("--out"), &run]));
    assert_eq!(epochs(&run).len(), done + 1);
}

#[test]
fn same_seed_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let data = phantoms(dir.path(), "ceph", 20, 6);
    let device = burn::tensor::Device::flex();
    let x = burn::tensor::Tensor::<4>::ones([1, 1, 64, 64], &device);
    // Compare what the weights compute: burnpack files also hold random parameter ids.
    let outputs: Vec<Vec<f32>> = ["a", "b"]
        .iter()
        .map(|name| {
            let run = dir.path().join(name);
            let mut args = vec![
                "train", "--method", "idfopnet", "--epochs", "1", "--seed", "9",
            ];
            args.extend_from_slice(SMALL);
            args.push("--data");
            ok(fairmark(&args, &[&data, Path::new("--out"), &run]));
            let (_, model) = load_run_model(&run, &device).unwrap();
            model
                .forward(x.clone(), None)
                .heatmaps
                .into_data()
                .try_to_vec()
                .unwrap()
        })
        .collect();
    assert!(
        outputs[0] == outputs[1],
        "two runs with one seed gave different models"
    );
}

/// `fairmark detect` with a hostile manifest (each bad field, with weights
/// that match its hash): a clear error naming the field, exit code 1, no
/// panic and no huge allocation.
#[test]
fn hostile_manifests_are_clear_cli_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = root.join("models/ceph-unet-phantom");
    let tmp = tempfile::tempdir().unwrap();
    let image = tmp.path().join("x.png");
    image::GrayImage::from_pixel(40, 50, image::Luma([90u8]))
        .save(&image)
        .unwrap();
    let good: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(committed.join("manifest.json")).unwrap())
            .unwrap();
    let mut cases = common::HOSTILE_MANIFEST_CASES.to_vec();
    cases.push(("/weights/file", r#""../x""#, "plain file name"));
    for (i, (pointer, value, expected)) in cases.iter().enumerate() {
        let dir = tmp.path().join(format!("m{i}"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::copy(committed.join("weights.bpk"), dir.join("weights.bpk")).unwrap();
        let mut m = good.clone();
        *m.pointer_mut(pointer).unwrap() = serde_json::from_str(value).unwrap();
        std::fs::write(dir.join("manifest.json"), m.to_string()).unwrap();
        let out = fairmark(
            &["detect", "--backend", "cpu", "--out"],
            &[
                &tmp.path().join("r.json"),
                &image,
                Path::new("--model"),
                &dir,
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{pointer} = {value}: {err}");
        assert!(err.contains(expected), "{pointer} = {value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
