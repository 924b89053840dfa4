//! End-to-end: simulated predictions with a known injected bias → audit (library
//! and CLI) → the report flags the biased keypoint and nothing else.
#![cfg(not(target_arch = "wasm32"))]
use fairmark::data::dataset::DATASET_SCHEMA;
use fairmark::data::{Dataset, DatasetMeta, Sample, Split};
use fairmark::metrics::privacy::PrivacyConfig;
use fairmark::metrics::simulate::{simulate, ErrorModel};
use fairmark::metrics::{audit, predictions, AuditConfig, PredictionTable};
use std::collections::BTreeMap;
use std::process::Command;

fn dataset(n: usize, k: usize) -> Dataset {
    let meta = DatasetMeta {
        schema: DATASET_SCHEMA.into(),
        anatomy: None,
        landmark_names: (1..=k).map(|j| format!("L{j}")).collect(),
        attributes: BTreeMap::from([
            (
                "age_group".to_string(),
                vec!["adult".to_string(), "adolescent".to_string()],
            ),
            ("sex".to_string(), vec!["F".to_string(), "M".to_string()]),
        ]),
        description: "test".into(),
        generator: None,
        samples: None,
    };
    let samples = (0..n)
        .map(|i| Sample {
            image: format!("images/{i:04}.png"),
            split: if i % 5 == 0 {
                Split::Train
            } else {
                Split::Test
            },
            mm_per_px: 0.1,
            landmarks: (0..k)
                .map(|j| [50.0 + 20.0 * j as f64, 80.0 + (i % 7) as f64])
                .collect(),
            attributes: BTreeMap::from([
                (
                    "age_group".to_string(),
                    ["adult", "adolescent"][i % 2].to_string(),
                ),
                ("sex".to_string(), ["F", "M"][(i / 2) % 2].to_string()),
            ]),
        })
        .collect();
    Dataset::new(meta, samples).unwrap()
}

fn biased_table(n: usize) -> PredictionTable {
    let ds = dataset(n, 10);
    let model = ErrorModel {
        base_mm: vec![1.0],
        biases: vec!["kp=4,group=adolescent,extra_mm=1.5".parse().unwrap()],
        seed: 11,
    };
    let (rows, attrs) = simulate(&ds, None, &model).unwrap();
    PredictionTable::parse_csv("sim", &predictions::write_csv(&rows, &attrs)).unwrap()
}

#[test]
fn injected_bias_is_flagged_and_nothing_else() {
    let table = biased_table(600);
    let cfg = AuditConfig {
        attributes: vec!["age_group".into(), "sex".into()],
        // Holm runs over 10 keypoints × (age, sex, joint) = 30 tests: the
        // smallest adjusted p is 30/(R+1), so R must exceed 600.
        rounds: 1000,
        seed: 5,
        privacy: Some(PrivacyConfig {
            n_trees: 40,
            ..Default::default()
        }),
        ..Default::default()
    };
    let r = audit(&table, &cfg).unwrap();
    for kp in &r.keypoints {
        let age_flag = kp.flagged.contains(&"age_group".to_string());
        assert_eq!(
            age_flag,
            kp.keypoint == 4,
            "KP{}: {:?}",
            kp.keypoint,
            kp.p_holm
        );
        assert!(
            !kp.flagged.contains(&"sex".to_string()),
            "KP{} flagged for sex",
            kp.keypoint
        );
    }
    let kp4 = &r.keypoints[3];
    // Success ≤ 2 mm: adult 1 − exp(−2²/(2σ²)) with σ = 1/√(π/2) → 0.957;
    // adolescent σ = 2.5/√(π/2) → 0.395; the gap ≈ 0.56.
    assert!(
        (kp4.dp["age_group"] - 0.56).abs() < 0.08,
        "{}",
        kp4.dp["age_group"]
    );
    assert!(kp4.dp["age_group"] > kp4.dp_randomised["age_group"].p95);
    let ci = kp4.dp_ci["age_group"];
    assert!(ci[0] < kp4.dp["age_group"] && kp4.dp["age_group"] < ci[1]);
    // Joint groups (age × sex) see the same gap.
    assert!(kp4.dp["joint"] >= kp4.dp["age_group"] - 1e-12);
    assert!(kp4.flagged.contains(&"joint".to_string()));
    // The adolescent MRE is higher, so REN over {all, adult, adolescent} is > 0
    // and equals Eq. 13 applied to the group MREs of the report.
    let g = &r.groups["age_group"];
    let mres = [r.overall.mre_mm, g["adult"].mre_mm, g["adolescent"].mre_mm];
    assert!((r.ren["age_group"] - fairmark::metrics::ren::ren(&mres, None)).abs() < 1e-12);
    assert!(g["adolescent"].mre_mm > g["adult"].mre_mm + 0.1);
    // The errors of KP4 reveal the age group; sex stays near chance.
    let p = &r.privacy["age_group"];
    assert!(p.accuracy_mean > p.baseline + 0.15, "{p:?}");
    assert!(r.privacy["sex"].accuracy_mean < r.privacy["sex"].baseline + 0.1);
}

#[test]
fn audit_is_deterministic_per_seed() {
    let table = biased_table(200);
    let cfg = AuditConfig {
        rounds: 100,
        privacy: None,
        seed: 3,
        ..Default::default()
    };
    let a = serde_json::to_string(&audit(&table, &cfg).unwrap()).unwrap();
    let b = serde_json::to_string(&audit(&table, &cfg).unwrap()).unwrap();
    assert_eq!(a, b);
    let c =
        serde_json::to_string(&audit(&table, &AuditConfig { seed: 4, ..cfg }).unwrap()).unwrap();
    assert_ne!(a, c);
}

fn fairmark() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fairmark"))
}

#[test]
fn cli_writes_the_documented_report_and_chart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    dataset(300, 10).save(&data).unwrap();
    let preds = dir.path().join("preds.csv");
    let out = fairmark()
        .args(["synth", "predictions", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&preds)
        .args([
            "--split",
            "all",
            "--bias",
            "kp=2,group=adolescent,extra_mm=2",
            "--seed",
            "1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = dir.path().join("report.json");
    let svg = dir.path().join("dp.svg");
    let out = fairmark()
        .arg("audit")
        .arg(&preds)
        .args([
            "--attr",
            "age_group",
            "--attr",
            "sex",
            "--rounds",
            "1000",
            "--seed",
            "0",
            "--out",
        ])
        .arg(&report)
        .arg("--svg")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Worst keypoint first, flagged.
    let first_row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains('|'))
        .unwrap();
    assert!(first_row.trim_start().starts_with("2 "), "{stdout}");
    assert!(first_row.contains('*'));

    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(j["schema"], "fairmark.audit/1");
    assert_eq!(j["n_images"], 300);
    assert_eq!(j["n_keypoints"], 10);
    assert_eq!(j["thresholds_mm"], serde_json::json!([2.0, 2.5, 3.0, 4.0]));
    for key in ["2", "2.5", "3", "4"] {
        let v = j["overall"]["sdr"][key].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&v));
    }
    assert!(j["overall"]["mre_mm"].as_f64().unwrap() > 0.0);
    assert!(j["overall"]["mre_std_mm"].as_f64().unwrap() > 0.0);
    for (attr, groups) in [("age_group", ["adult", "adolescent"]), ("sex", ["F", "M"])] {
        for g in groups {
            let grp = &j["groups"][attr][g];
            assert_eq!(grp["n_images"], 150);
            assert!(grp["mre_mm"].is_f64() && grp["sdr"]["2"].is_f64());
        }
        assert!(j["ren"][attr].is_f64());
        assert!(j["dp_mean"][attr].is_f64());
        assert!(j["privacy"][attr]["accuracy_mean"].is_f64());
        assert!(j["privacy"][attr]["accuracy_std"].is_f64());
        assert!(j["privacy"][attr]["baseline"].is_f64());
    }
    let kp = &j["keypoints"][1];
    assert_eq!(kp["keypoint"], 2);
    // 10 keypoints: named after the cephalometric set (KP2 = nasion).
    assert_eq!(kp["name"], "N");
    assert!(kp["mre_mm"].is_f64());
    for attr in ["age_group", "sex", "joint"] {
        let dp = kp["dp"][attr].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&dp));
        assert!(kp["dp_randomised"][attr]["mean"].is_f64());
        assert!(kp["dp_randomised"][attr]["p95"].is_f64());
        assert!(kp["p_value"][attr].is_f64());
        assert!(kp["p_holm"][attr].is_f64());
        assert_eq!(kp["dp_ci"][attr].as_array().unwrap().len(), 2);
    }
    let drawing = std::fs::read_to_string(&svg).unwrap();
    assert!(
        drawing.starts_with("<svg") && drawing.contains("age_group") && drawing.contains("joint")
    );
    // One ★ per flagged (keypoint, attribute), one bar per keypoint and panel,
    // and nothing the page's CSP would block (no style attributes).
    let flagged: usize = j["keypoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kp| kp["flagged"].as_array().unwrap().len())
        .sum();
    assert!(flagged >= 1);
    assert_eq!(drawing.matches('★').count(), flagged);
    assert_eq!(drawing.matches("<title>KP").count(), 10 * 3);
    assert!(drawing.contains("<title>KP2 N: DP "));
    assert!(!drawing.contains("style="));
    assert!(drawing.trim_end().ends_with("</svg>"));
}

#[test]
fn cli_bad_input_gives_a_clear_error_and_keeps_the_old_report() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    std::fs::write(&report, "previous report").unwrap();
    let bad = dir.path().join("bad.csv");
    let cases = [
        ("image,keypoint,x_pred,y_pred,x_true,mm_per_px,sex\na,1,0,0,0,0.1,F\n", "missing column(s) y_true"),
        ("image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,sex\na,1,0,0,0,0,0.1,F\na,2,nan,0,0,0,0.1,F\n", "line 3: column x_pred"),
        ("", "empty file"),
        ("image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,sex\na,1,0,0,0,0,0.1,F\n", "attribute \"age\" is not a column"),
    ];
    for (body, expected) in cases {
        std::fs::write(&bad, body).unwrap();
        let out = fairmark()
            .arg("audit")
            .arg(&bad)
            .args(["--attr", "age", "--out"])
            .arg(&report)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "expected {expected:?} in {err}");
        assert!(
            err.contains("bad.csv") || expected.contains("attribute"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(std::fs::read_to_string(&report).unwrap(), "previous report");
    }
    let out = fairmark()
        .args(["audit", "/nonexistent/preds.csv"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/preds.csv"));
}
