//! `fairmark results` end to end: two prediction files of the same phantom
//! test set, one with an injected bias on KP5 for adolescents. The hold-out
//! summary's paired permutation test must find KP5 and only KP5; the accuracy
//! table must show the adolescents' worse MRE.
#![cfg(not(target_arch = "wasm32"))]
use std::path::Path;
use std::process::Command;

fn fairmark(args: &[&str], dir: &Path) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_fairmark"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    out
}

fn ok(args: &[&str], dir: &Path) {
    let out = fairmark(args, dir);
    assert!(
        out.status.success(),
        "fairmark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn holdout_summary_finds_the_injected_bias() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(
        &[
            "synth",
            "dataset",
            "--kind",
            "ceph",
            "--n",
            "240",
            "--seed",
            "3",
            "--split",
            "0.2,0.1,0.7",
            "--out",
            "data",
        ],
        d,
    );
    let predictions = |out: &str, bias: Option<&str>| {
        let mut args = vec![
            "synth",
            "predictions",
            "--data",
            "data",
            "--out",
            out,
            "--seed",
            "1",
        ];
        if let Some(b) = bias {
            args.extend(["--bias", b]);
        }
        ok(&args, d);
    };
    predictions("fair.csv", None);
    predictions("biased.csv", Some("kp=5,group=adolescent,extra_mm=2.5"));
    ok(
        &[
            "results",
            "holdouts",
            "--attr",
            "age_group",
            "--model",
            "fair=fair.csv",
            "--model",
            "biased=biased.csv",
            "--rounds",
            "400",
            "--out",
            "sum",
        ],
        d,
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("sum/holdouts.json")).unwrap())
            .unwrap();
    let test = &json["paired_tests"][0]["test"];
    assert_eq!(json["paired_tests"][0]["comparison"], "biased vs fair");
    let kps = test["keypoints"].as_array().unwrap();
    assert_eq!(kps.len(), 10);
    for (i, kp) in kps.iter().enumerate() {
        let p = kp["p_holm"].as_f64().unwrap();
        if i == 4 {
            assert!(kp["diff"].as_f64().unwrap() > 0.2, "{kp}");
            assert!(p < 0.05, "KP5 p_holm {p}");
        } else {
            // Same seed, same errors: no difference at all elsewhere.
            assert_eq!(kp["diff"].as_f64().unwrap(), 0.0);
            assert_eq!(p, 1.0);
        }
    }
    let svg = std::fs::read_to_string(d.join("sum/dp.svg")).unwrap();
    assert_eq!(svg.matches("<title>KP5").count(), 2);
    let md = std::fs::read_to_string(d.join("sum/summary.md")).unwrap();
    assert!(md.contains("| biased vs fair | 1 |"), "{md}");

    ok(
        &[
            "results",
            "accuracy",
            "--attr",
            "age_group",
            "fair=fair.csv",
            "biased=biased.csv",
            "--out",
            "acc.md",
        ],
        d,
    );
    let acc = std::fs::read_to_string(d.join("acc.md")).unwrap();
    let mre = |row: &str, col: usize| -> f64 {
        let line = acc
            .lines()
            .find(|l| l.starts_with(&format!("| {row} |")))
            .unwrap();
        let cell = line.split('|').nth(col + 1).unwrap().trim();
        cell.split(' ').next().unwrap().parse().unwrap()
    };
    // Columns: model, images, all (MRE + 4 SDR), adolescent (MRE + 4), adult (MRE + 4), REN.
    assert!(mre("biased", 7) > mre("fair", 7) + 0.1, "{acc}");
    assert!((mre("biased", 12) - mre("fair", 12)).abs() < 1e-9, "{acc}");

    // Bad input: a clear error, not a panic.
    let out = fairmark(
        &[
            "results",
            "holdouts",
            "--attr",
            "age_group",
            "--model",
            "fair.csv",
            "--out",
            "x",
        ],
        d,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NAME=predictions.csv"));
    let out = fairmark(
        &[
            "results",
            "holdouts",
            "--attr",
            "sex",
            "--model",
            "a=fair.csv",
            "--out",
            "x",
        ],
        d,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sex"));
}
