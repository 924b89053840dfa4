//! End-to-end: audit of biased predictions → manifest with test metrics →
//! published directory → reloaded and verified; the card names the bias.
#![cfg(not(target_arch = "wasm32"))]
use fairmark::data::dataset::DATASET_SCHEMA;
use fairmark::data::{Anatomy, Dataset, DatasetMeta, Sample, Split};
use fairmark::metrics::simulate::{simulate, ErrorModel};
use fairmark::metrics::{audit, predictions, AuditConfig, PredictionTable};
use fairmark::model::attributes::AttributeSpace;
use fairmark::model::manifest::{Precision, TrainingData, MANIFEST_FILE, MODEL_CARD_FILE};
use fairmark::model::model_metrics::ModelMetrics;
use fairmark::model::weights::{load_dir, load_from_parts};
use fairmark::model::{ModelConfig, ModelError, ModelManifest};
use fairmark::publish::publish_dir;
use std::collections::BTreeMap;

fn groups() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(
        "age_group".to_string(),
        vec!["adult".to_string(), "adolescent".to_string()],
    )])
}

fn audited() -> fairmark::metrics::AuditReport {
    let meta = DatasetMeta {
        schema: DATASET_SCHEMA.into(),
        anatomy: Some(Anatomy::Ceph),
        landmark_names: Anatomy::Ceph.landmark_names(),
        attributes: groups(),
        description: "test".into(),
        generator: None,
        samples: None,
    };
    let samples = (0..400)
        .map(|i| Sample {
            image: format!("images/{i:04}.png"),
            split: Split::Test,
            mm_per_px: 0.1,
            landmarks: (0..10).map(|j| [40.0 + 30.0 * j as f64, 90.0]).collect(),
            attributes: BTreeMap::from([(
                "age_group".to_string(),
                ["adult", "adolescent"][i % 2].to_string(),
            )]),
        })
        .collect();
    let ds = Dataset::new(meta, samples).unwrap();
    let model = ErrorModel {
        base_mm: vec![1.0],
        biases: vec!["kp=5,group=adolescent,extra_mm=1.5".parse().unwrap()],
        seed: 2,
    };
    let (rows, attrs) = simulate(&ds, None, &model).unwrap();
    let table = PredictionTable::parse_csv("sim", &predictions::write_csv(&rows, &attrs)).unwrap();
    let cfg = AuditConfig {
        rounds: 500,
        privacy: None,
        keypoint_names: Some(Anatomy::Ceph.landmark_names()),
        ..Default::default()
    };
    audit(&table, &cfg).unwrap()
}

#[test]
fn publish_reload_and_card() {
    let report = audited();
    let mut config = ModelConfig::unet(10, [256, 320]);
    config.attributes = AttributeSpace {
        names: groups().keys().cloned().collect(),
        groups: groups().values().cloned().collect(),
    };
    config.detector.groups_per_attribute = vec![2];
    let mut train = fairmark::train::TrainConfig::new(fairmark::train::Method::Groupdro);
    train.groupdro_eta = 0.01;
    config.train = Some(train);
    let mut manifest = ModelManifest::new(
        "ceph-groupdro",
        "groupdro",
        config,
        Anatomy::Ceph.landmark_names(),
        TrainingData {
            description: "400 cephalometric phantoms".into(),
            n_train: 280,
            n_val: 40,
            n_test: 80,
            source: "fairmark synth dataset --kind ceph --n 400 --seed 1".into(),
            fine_tuned_from: Some("ceph-unet".into()),
        },
        "2025-06-01",
    );
    manifest.anatomy = Some(Anatomy::Ceph);
    assert_eq!(manifest.attributes, groups());
    manifest.mm_per_px = Some(0.1);
    manifest.weights.precision = Precision::F16;
    manifest.metrics = Some(ModelMetrics::from_report(&report));

    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("models").join("ceph-groupdro");
    let weights: Vec<u8> = (0..4096u32).map(|i| (i * 31 % 251) as u8).collect();
    let written = publish_dir(&dir, manifest, &weights, "weights.bpk").unwrap();

    // Same inputs, same bytes: nothing in the files depends on the clock.
    let first = std::fs::read(dir.join(MANIFEST_FILE)).unwrap();
    publish_dir(&dir, written.clone(), &weights, "weights.bpk").unwrap();
    assert_eq!(first, std::fs::read(dir.join(MANIFEST_FILE)).unwrap());

    let (loaded, bytes) = load_dir(&dir).unwrap();
    assert_eq!(loaded, written);
    assert_eq!(bytes, weights);
    let json = String::from_utf8(first).unwrap();
    assert!(json.contains("\"schema\": \"fairmark.model/1\""), "{json}");
    assert!(json.contains("\"precision\": \"f16\""), "{json}");
    assert_eq!(load_from_parts(&json, &weights).unwrap(), written);

    let card = std::fs::read_to_string(dir.join(MODEL_CARD_FILE)).unwrap();
    assert!(
        card.contains("- KP5 (A): success rate within 2 mm differs by"),
        "{card}"
    );
    assert!(card.contains("| age_group | adult |") && card.contains("| age_group | adolescent |"));
    assert!(card.contains("| train.groupdro_eta | 0.01 |"), "{card}");
    assert!(
        card.contains("Fine-tuned from the weights of the run `ceph-unet`"),
        "{card}"
    );

    let mut tampered = weights.clone();
    tampered[0] ^= 1;
    assert!(matches!(
        load_from_parts(&json, &tampered),
        Err(ModelError::HashMismatch { .. })
    ));
}

/// The committed models' manifests and cards are what the code writes for
/// them (`FAIRMARK_BLESS=1` rewrites them after an intended format change;
/// their weights and hashes are never touched).
#[test]
fn committed_manifests_and_cards_are_canonical() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let manifest_path = path.join(MANIFEST_FILE);
        let Ok(text) = std::fs::read_to_string(&manifest_path) else {
            continue;
        };
        let manifest = ModelManifest::from_json(&manifest_path, &text).unwrap();
        let card = fairmark::publish::render_model_card(&manifest);
        if std::env::var("FAIRMARK_BLESS").is_ok() {
            std::fs::write(&manifest_path, manifest.to_json()).unwrap();
            std::fs::write(path.join(MODEL_CARD_FILE), &card).unwrap();
        } else {
            assert_eq!(manifest.to_json(), text, "{}", manifest_path.display());
            let committed = std::fs::read_to_string(path.join(MODEL_CARD_FILE)).unwrap();
            assert_eq!(card, committed, "{}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 2);
}
