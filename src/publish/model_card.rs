//! `MODEL_CARD.md`: what a published model is for, what it was trained on, how
//! accurate it is and whom it serves worse, in words a clinician can read.
//! Everything comes from the manifest, so the card can be regenerated at any
//! time and never disagrees with it.
use crate::data::anatomy::{Anatomy, CEPH_LANDMARKS, HAND_WRIST_MM, ISBI_LANDMARK_TABLE};
use crate::metrics::report::JOINT;
use crate::model::config::ModelConfig;
use crate::model::manifest::ModelManifest;
use crate::model::model_metrics::{KeypointGap, ModelMetrics};
use std::fmt::Write;

/// Most config settings listed; the manifest holds the rest.
const MAX_CONFIG_ROWS: usize = 60;
/// Keypoint gaps listed besides the flagged ones, largest first.
const TOP_GAPS: usize = 5;

/// A spacing for reading: the mean of many equal spacings carries float
/// noise (0.10000000000000074), which six decimals remove.
fn spacing(mm: f64) -> f64 {
    (mm * 1e6).round() / 1e6
}

/// Renders the model card of `m` as Markdown.
pub fn render_model_card(m: &ModelManifest) -> String {
    let mut s = String::new();
    // `write!` into a String cannot fail; the results are ignored on purpose.
    let _ = write_card(&mut s, m);
    s
}

fn write_card(s: &mut String, m: &ModelManifest) -> std::fmt::Result {
    let anatomy = match m.anatomy {
        Some(Anatomy::Ceph) => "lateral cephalograms",
        Some(Anatomy::Isbi) => "lateral cephalograms (the 19 ISBI 2015 landmarks)",
        Some(Anatomy::Hand) => "hand radiographs",
        None => "X-ray images",
    };
    writeln!(s, "# Model card: {}\n", cell(&m.name))?;
    writeln!(
        s,
        "A {}`{}` model that finds {} anatomical landmarks on {anatomy}. \
         Published with fairmark {}, created {}.\n",
        if m.config.detector.refine.is_some() {
            "coarse-to-fine "
        } else {
            ""
        },
        cell(&m.method),
        m.landmark_names.len(),
        m.fairmark_version,
        cell(&m.created)
    )?;

    writeln!(s, "## Intended use\n")?;
    writeln!(
        s,
        "- Research and education on automatic landmark detection and on auditing \
         its fairness across demographic groups."
    )?;
    writeln!(
        s,
        "- **Not a medical device.** It must not be used for diagnosis, treatment \
         planning or any other clinical decision; every landmark needs checking by \
         a qualified person."
    )?;
    if m.training_data.is_synthetic() {
        writeln!(
            s,
            "- **Trained on synthetic phantoms**, not on real radiographs. Accuracy \
             and fairness on real images can be much worse; the numbers below \
             describe phantoms only."
        )?;
    }
    writeln!(s)?;

    write_model(s, m)?;
    write_training_data(s, m)?;
    write_config(s, &m.config)?;
    match &m.metrics {
        Some(metrics) => write_evaluation(s, m, metrics)?,
        None => writeln!(
            s,
            "## Evaluation\n\nNo test metrics were published with this model.\n"
        )?,
    }
    if let Some(text) = m.evaluation.as_deref().filter(|t| !t.trim().is_empty()) {
        writeln!(
            s,
            "## Further evaluation\n\nMeasured by the publisher (`evaluation` in `manifest.json`):\n\n{}\n",
            text.trim()
        )?;
    }
    write_limits(s, m)
}

fn write_model(s: &mut String, m: &ModelManifest) -> std::fmt::Result {
    writeln!(s, "## Model\n")?;
    writeln!(s, "| | |\n|---|---|")?;
    writeln!(s, "| Method | {} |", cell(&m.method))?;
    if let Some(a) = m.anatomy {
        writeln!(s, "| Anatomy | {a} |")?;
    }
    writeln!(
        s,
        "| Input size | {} × {} px (width × height); images are scaled to fit without distortion and padded |",
        m.input_size[0], m.input_size[1]
    )?;
    if let Some(r) = &m.config.detector.refine {
        writeln!(
            s,
            "| Stages | coarse to fine: the network above finds every landmark on the whole \
             image, then a second U-Net (width {}, depth {}) places each one on a {}×{} patch \
             of the original image at {}× the input's resolution |",
            r.backbone.base_width, r.backbone.depth, r.patch_size, r.patch_size, r.zoom
        )?;
    }
    writeln!(
        s,
        "| Weights | `{}`, {}, {} bytes, SHA-256 `{}` |\n",
        cell(&m.weights.file),
        m.weights.precision.as_str(),
        m.weights.bytes,
        cell(&m.weights.sha256)
    )?;
    writeln!(s, "### Landmarks\n")?;
    // Ceph landmarks have a conventional long name worth showing a clinician.
    let long_name = |i: usize, name: &str| -> Option<&'static str> {
        let (short, long) = match m.anatomy {
            Some(Anatomy::Ceph) => CEPH_LANDMARKS.get(i).map(|l| (l.0, l.1))?,
            Some(Anatomy::Isbi) => *ISBI_LANDMARK_TABLE.get(i)?,
            _ => return None,
        };
        (short == name).then_some(long)
    };
    writeln!(s, "| Keypoint | Name |\n|---|---|")?;
    for (i, name) in m.landmark_names.iter().enumerate() {
        match long_name(i, name) {
            Some(long) => writeln!(s, "| KP{} | {}: {long} |", i + 1, cell(name))?,
            None => writeln!(s, "| KP{} | {} |", i + 1, cell(name))?,
        }
    }
    writeln!(s)
}

fn write_training_data(s: &mut String, m: &ModelManifest) -> std::fmt::Result {
    let t = &m.training_data;
    writeln!(s, "## Training data\n")?;
    if !t.description.trim().is_empty() {
        writeln!(s, "{}\n", t.description.trim())?;
    }
    writeln!(s, "| Split | Images |\n|---|---|")?;
    writeln!(s, "| train | {} |", t.n_train)?;
    writeln!(s, "| validation | {} |", t.n_val)?;
    writeln!(s, "| test | {} |\n", t.n_test)?;
    if !t.source.trim().is_empty() {
        writeln!(s, "Source: `{}`\n", t.source.trim().replace('`', "'"))?;
    }
    if let Some(base) = &t.fine_tuned_from {
        let base = base.replace('`', "'");
        if m.method == "refine" {
            writeln!(
                s,
                "The refinement stage was trained on top of the run `{base}`, whose \
                 (coarse) weights it keeps unchanged, on the same data.\n"
            )?;
        } else {
            writeln!(
                s,
                "Fine-tuned from the weights of the run `{base}`, trained on the same data.\n"
            )?;
        }
    }
    if let Some(sp) = m.mm_per_px {
        writeln!(s, "Typical pixel spacing: {} mm per pixel.\n", spacing(sp))?;
    }
    if !m.attributes.is_empty() {
        writeln!(s, "Demographic attributes and their groups:\n")?;
        for (attr, groups) in &m.attributes {
            writeln!(s, "- {}: {}", cell(attr), cell(&groups.join(", ")))?;
        }
        writeln!(s)?;
    }
    Ok(())
}

fn write_config(s: &mut String, config: &ModelConfig) -> std::fmt::Result {
    writeln!(s, "## How it was trained\n")?;
    let mut rows = Vec::new();
    // Through JSON, so that every field of the typed config is listed by the
    // name it has in manifest.json.
    if let Ok(value) = serde_json::to_value(config) {
        flatten("", &value, &mut rows);
    }
    if rows.is_empty() {
        return writeln!(s, "No training configuration was recorded.\n");
    }
    writeln!(
        s,
        "Settings from the model and training config (all of them are in `manifest.json`):\n"
    )?;
    writeln!(s, "| Setting | Value |\n|---|---|")?;
    for (k, v) in rows.iter().take(MAX_CONFIG_ROWS) {
        writeln!(s, "| {} | {} |", cell(k), cell(v))?;
    }
    if rows.len() > MAX_CONFIG_ROWS {
        writeln!(
            s,
            "| … | {} more settings in `manifest.json` |",
            rows.len() - MAX_CONFIG_ROWS
        )?;
    }
    writeln!(s)
}

/// Config as `dotted.key → value` rows, without assuming any field: nested
/// objects are walked, arrays and scalars are printed as compact JSON.
fn flatten(prefix: &str, v: &serde_json::Value, rows: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, rows);
            }
        }
        serde_json::Value::String(text) => rows.push((prefix.to_string(), text.clone())),
        other => {
            let mut text = other.to_string();
            if text.chars().count() > 80 {
                text = text.chars().take(77).collect::<String>() + "…";
            }
            let key = if prefix.is_empty() { "config" } else { prefix };
            rows.push((key.to_string(), text));
        }
    }
}

fn write_evaluation(s: &mut String, m: &ModelManifest, mt: &ModelMetrics) -> std::fmt::Result {
    writeln!(s, "## Evaluation\n")?;
    writeln!(
        s,
        "On {} test images: mean radial error (MRE) **{:.2} ± {:.2} mm**. \
         The success detection rate (SDR) is the share of landmarks found within \
         the given distance of the expert position.\n",
        mt.n_images, mt.overall.mre_mm, mt.overall.mre_std_mm
    )?;
    let keys: Vec<&String> = mt.overall.sdr.keys().collect();
    write!(s, "| | MRE (mm) |")?;
    for k in &keys {
        write!(s, " SDR {k} mm |")?;
    }
    writeln!(s)?;
    writeln!(s, "|---|---|{}", "---|".repeat(keys.len()))?;
    write!(
        s,
        "| all | {:.2} ± {:.2} |",
        mt.overall.mre_mm, mt.overall.mre_std_mm
    )?;
    for k in &keys {
        write!(s, " {} |", pct(mt.overall.sdr.get(*k).copied()))?;
    }
    writeln!(s, "\n")?;

    if !mt.groups.is_empty() {
        writeln!(s, "### By group\n")?;
        write!(s, "| Attribute | Group | Images | MRE (mm) |")?;
        for k in &keys {
            write!(s, " SDR {k} mm |")?;
        }
        writeln!(s)?;
        writeln!(s, "|---|---|---|---|{}", "---|".repeat(keys.len()))?;
        for (attr, groups) in &mt.groups {
            for (g, gm) in groups {
                write!(
                    s,
                    "| {} | {} | {} | {:.2} ± {:.2} |",
                    attr_label(attr),
                    cell(g),
                    gm.n_images,
                    gm.mre_mm,
                    gm.mre_std_mm
                )?;
                for k in &keys {
                    write!(s, " {} |", pct(gm.sdr.get(*k).copied()))?;
                }
                writeln!(s)?;
            }
        }
        writeln!(s)?;
    }

    if !mt.ren.is_empty() {
        writeln!(s, "### REN\n")?;
        writeln!(
            s,
            "REN compares the MRE of all images and of each group: 0 means every \
             group is served equally well, larger is less fair.\n"
        )?;
        writeln!(s, "| Attribute | REN |\n|---|---|")?;
        for (attr, v) in &mt.ren {
            writeln!(s, "| {} | {v:.3} |", attr_label(attr))?;
        }
        writeln!(s)?;
    }

    write_bias(s, m, mt)?;

    if !mt.privacy.is_empty() {
        writeln!(s, "### What the errors reveal\n")?;
        writeln!(
            s,
            "A classifier tried to guess each image's group from the model's \
             errors alone; accuracy well above the baseline means the errors \
             carry demographic information.\n"
        )?;
        writeln!(s, "| Attribute | Accuracy | Baseline |\n|---|---|---|")?;
        for (attr, p) in &mt.privacy {
            writeln!(
                s,
                "| {} | {:.1}% ± {:.1} | {:.1}% |",
                attr_label(attr),
                100.0 * p.accuracy_mean,
                100.0 * p.accuracy_std,
                100.0 * p.baseline
            )?;
        }
        writeln!(s)?;
    }
    Ok(())
}

/// A group and its success rate (fraction 0–1).
type GroupRate<'a> = (&'a str, f64);

/// One (keypoint, attribute) gap, for sorting across the whole model.
struct Gap<'a> {
    keypoint: usize,
    label: String,
    attr: &'a str,
    gap: &'a KeypointGap,
}

impl Gap<'_> {
    /// Best- and worst-served group with their success rates.
    fn extremes(&self) -> Option<(GroupRate<'_>, GroupRate<'_>)> {
        let rates = || {
            self.gap
                .success_rate
                .iter()
                .filter(|(_, r)| r.is_finite())
                .map(|(g, r)| (g.as_str(), *r))
        };
        let best = rates().max_by(|a, b| a.1.total_cmp(&b.1))?;
        let worst = rates().min_by(|a, b| a.1.total_cmp(&b.1))?;
        Some((best, worst))
    }
}

fn write_bias(s: &mut String, m: &ModelManifest, mt: &ModelMetrics) -> std::fmt::Result {
    writeln!(s, "### Known bias per keypoint\n")?;
    let phi = mt.dp_threshold_mm;
    writeln!(
        s,
        "For each landmark and attribute, the gap (demographic parity, DP) is the \
         difference in success rate within {phi} mm between the best- and the \
         worst-served group. A permutation test ({} rounds) with Holm correction \
         over the keypoints says whether a gap is larger than chance; flagged \
         (⚠) gaps are significant at α = {}.\n",
        mt.rounds, mt.alpha
    )?;
    let mut gaps: Vec<Gap> = mt
        .keypoints
        .iter()
        .flat_map(|kp| {
            // Prefer the manifest's names: the report may only know "KP<n>".
            let name = m
                .landmark_names
                .get(kp.keypoint.wrapping_sub(1))
                .unwrap_or(&kp.name);
            let label = if name == &format!("KP{}", kp.keypoint) {
                name.clone()
            } else {
                format!("KP{} ({})", kp.keypoint, name)
            };
            kp.gaps.iter().map(move |(attr, gap)| Gap {
                keypoint: kp.keypoint,
                label: label.clone(),
                attr,
                gap,
            })
        })
        .collect();
    gaps.sort_by(|a, b| {
        b.gap
            .dp
            .total_cmp(&a.gap.dp)
            .then(a.keypoint.cmp(&b.keypoint))
    });
    let shown: Vec<&Gap> = gaps
        .iter()
        .enumerate()
        .filter(|(rank, g)| g.gap.flagged || *rank < TOP_GAPS)
        .map(|(_, g)| g)
        .collect();
    if shown.is_empty() {
        return writeln!(s, "No per-keypoint gaps were measured.\n");
    }
    writeln!(
        s,
        "| Keypoint | Attribute | Gap (percentage points) | Best served | Worst served | p (Holm) | |"
    )?;
    writeln!(s, "|---|---|---|---|---|---|---|")?;
    for g in &shown {
        let (best, worst) = match g.extremes() {
            Some((b, w)) => (
                format!("{} ({})", cell(b.0), pct(Some(100.0 * b.1))),
                format!("{} ({})", cell(w.0), pct(Some(100.0 * w.1))),
            ),
            None => ("–".into(), "–".into()),
        };
        writeln!(
            s,
            "| {} | {} | {:.0} | {best} | {worst} | {} | {} |",
            cell(&g.label),
            attr_label(g.attr),
            100.0 * g.gap.dp,
            p_value(g.gap.p_holm),
            if g.gap.flagged { "⚠ flagged" } else { "" }
        )?;
    }
    writeln!(s)?;

    let flagged: Vec<&&Gap> = shown.iter().filter(|g| g.gap.flagged).collect();
    if flagged.is_empty() {
        writeln!(
            s,
            "No keypoint shows a gap that is significant after Holm correction."
        )?;
        if let Some(g) = shown.first() {
            writeln!(s, "The largest gap: {}.", sentence(g, phi))?;
        }
    } else {
        for g in flagged {
            writeln!(s, "- {}.", sentence(g, phi))?;
        }
    }
    writeln!(s)?;
    if !mt.dp_mean.is_empty() {
        let means: Vec<String> = mt
            .dp_mean
            .iter()
            .map(|(a, v)| format!("{} {:.1}", attr_label(a), 100.0 * v))
            .collect();
        writeln!(
            s,
            "Mean gap over all keypoints, in percentage points: {}.\n",
            means.join("; ")
        )?;
    }
    Ok(())
}

/// "KP5 (A): success rate within 2 mm differs by 49 percentage points between
/// adult (95.0%) and adolescent (46.0%) (significant after Holm correction;
/// age_group)".
fn sentence(g: &Gap, phi: f64) -> String {
    let between = match g.extremes() {
        Some((b, w)) => format!(
            " between {} ({}) and {} ({})",
            b.0,
            pct(Some(100.0 * b.1)),
            w.0,
            pct(Some(100.0 * w.1))
        ),
        None => String::new(),
    };
    let verdict = if g.gap.flagged {
        "significant after Holm correction".to_string()
    } else {
        format!(
            "not significant after Holm correction, p = {}",
            p_value(g.gap.p_holm)
        )
    };
    format!(
        "{}: success rate within {phi} mm differs by {:.0} percentage points{between} ({verdict}; {})",
        g.label,
        100.0 * g.gap.dp,
        attr_label(g.attr)
    )
}

fn write_limits(s: &mut String, m: &ModelManifest) -> std::fmt::Result {
    writeln!(s, "## Limits\n")?;
    if m.training_data.is_synthetic() {
        writeln!(
            s,
            "- The training images are synthetic phantoms. Real radiographs differ \
             in anatomy, exposure, noise, devices and annotator habits, so the \
             model may fail on them in ways these numbers do not show."
        )?;
    }
    if m.anatomy == Some(Anatomy::Isbi) {
        writeln!(
            s,
            "- ISBI 2015 data: 400 cephalograms of 400 patients aged 6–60 from one \
             hospital and one machine (Soredex CRANEX 3+ Ceph), annotated by two \
             orthodontists; the images used here are JPEG copies (quality about 75) \
             of the original bitmaps. Other sites, machines, exposures, ages and \
             annotation habits are untested."
        )?;
    }
    writeln!(
        s,
        "- Errors in millimetres assume the pixel spacing of each image is known \
         and correct{}; a wrong spacing scales every distance by the same factor.",
        m.mm_per_px
            .map(|sp| format!(" (training data: about {} mm per pixel)", spacing(sp)))
            .unwrap_or_default()
    )?;
    if m.anatomy == Some(Anatomy::Hand) {
        writeln!(
            s,
            "- Hand radiographs usually carry no spacing: by convention the two \
             wrist endpoints (KP2, KP6) are {HAND_WRIST_MM} mm apart, which is only \
             approximately true for any one hand, especially a child's."
        )?;
    }
    writeln!(
        s,
        "- Demographic attributes are optional: the model does not use them to \
         find landmarks, but fairness can only be measured for groups that were \
         labelled. Groups absent from the training data{} may be served worse \
         without any warning.",
        if m.attributes.is_empty() {
            String::new()
        } else {
            format!(" (known: {})", {
                let all: Vec<String> = m
                    .attributes
                    .iter()
                    .map(|(a, g)| format!("{a} = {}", g.join("/")))
                    .collect();
                cell(&all.join("; "))
            })
        }
    )?;
    writeln!(
        s,
        "- Test metrics come from a held-out split of the same data source; they \
         are estimates with sampling error, not guarantees."
    )
}

fn attr_label(attr: &str) -> String {
    if attr == JOINT {
        "all attributes combined".into()
    } else {
        cell(attr)
    }
}

/// Enough digits that a p-value just under α (0.0498) does not print as α.
fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "–".into()
    } else if p >= 0.1 {
        format!("{p:.2}")
    } else if p >= 0.0001 {
        format!("{p:.4}")
    } else {
        "< 0.0001".into()
    }
}

fn pct(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.1}%"),
        _ => "–".into(),
    }
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::data::dataset::DATASET_SCHEMA;
    use crate::data::{Dataset, DatasetMeta, Sample, Split};
    use crate::metrics::simulate::{simulate, ErrorModel};
    use crate::metrics::{audit, predictions, AuditConfig, PredictionTable};
    use std::collections::BTreeMap;

    /// Ceph-shaped data with adult / adolescent images and an extra 1.5 mm of
    /// error on KP5 (A point) for adolescents, as in the demo.
    fn biased_report() -> crate::metrics::AuditReport {
        let names = Anatomy::Ceph.landmark_names();
        let meta = DatasetMeta {
            schema: DATASET_SCHEMA.into(),
            anatomy: Some(Anatomy::Ceph),
            landmark_names: names.clone(),
            attributes: BTreeMap::from([(
                "age_group".to_string(),
                vec!["adult".to_string(), "adolescent".to_string()],
            )]),
            description: "test".into(),
            generator: None,
            samples: None,
        };
        let samples = (0..300)
            .map(|i| Sample {
                image: format!("images/{i:04}.png"),
                split: Split::Test,
                mm_per_px: 0.1,
                landmarks: (0..10)
                    .map(|j| [50.0 + 20.0 * j as f64, 80.0 + (i % 7) as f64])
                    .collect(),
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
            seed: 3,
        };
        let (rows, attrs) = simulate(&ds, None, &model).unwrap();
        let table =
            PredictionTable::parse_csv("sim", &predictions::write_csv(&rows, &attrs)).unwrap();
        let cfg = AuditConfig {
            attributes: vec!["age_group".into()],
            rounds: 200,
            seed: 1,
            privacy: None,
            keypoint_names: Some(names),
            ..Default::default()
        };
        audit(&table, &cfg).unwrap()
    }

    #[test]
    fn card_names_the_flagged_keypoint_and_the_groups() {
        let report = biased_report();
        assert!(report.keypoints[4].flagged.contains(&"age_group".into()));
        let mut m = crate::model::weights::tests::manifest();
        m.anatomy = Some(Anatomy::Ceph);
        m.attributes = BTreeMap::from([(
            "age_group".to_string(),
            vec!["adult".to_string(), "adolescent".to_string()],
        )]);
        m.mm_per_px = Some(0.1);
        m.metrics = Some(ModelMetrics::from_report(&report));
        crate::model::weights::fill_weights(&mut m, b"weights", "weights.bpk");
        let card = render_model_card(&m);

        assert!(card.starts_with("# Model card: ceph-unet"), "{card}");
        assert!(card.contains("Not a medical device"), "{card}");
        assert!(card.contains("synthetic phantoms"), "{card}");
        assert!(card.contains("| train.epochs | 30 |"), "{card}");
        assert!(card.contains("| age_group | adult |"), "{card}");
        assert!(card.contains("| age_group | adolescent |"), "{card}");
        let line = card
            .lines()
            .find(|l| l.starts_with("- KP5 (A): success rate within 2 mm differs by"))
            .unwrap_or_else(|| panic!("no sentence for KP5:\n{card}"));
        assert!(
            line.contains("between adult") && line.contains("and adolescent"),
            "{line}"
        );
        assert!(
            line.contains("(significant after Holm correction; age_group)"),
            "{line}"
        );
        // Only the injected bias is flagged.
        assert_eq!(card.matches("⚠ flagged").count(), 1, "{card}");
        assert!(card.contains("| KP5 | A: subspinale (A point) |"), "{card}");
    }

    #[test]
    fn card_without_metrics_lists_the_typed_config() {
        let mut m = crate::model::weights::tests::manifest();
        m.training_data.source = "ISBI 2015 | senior".into();
        m.training_data.description = String::new();
        let card = render_model_card(&m);
        assert!(card.contains("No test metrics"), "{card}");
        assert!(!card.contains("synthetic phantoms"), "{card}");
        assert!(card.contains("| detector.backbone.depth | 4 |"), "{card}");
        assert!(
            card.contains("| detector.input_size | [256,320] |"),
            "{card}"
        );
    }
}
