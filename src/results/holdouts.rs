//! The fairness paper's repeated hold-out summary (Sec. 3.1, Figs. 2–3,
//! Tables 1–2): per model, metrics as mean ± std over the hold-outs, per
//! keypoint MRE and DP next to the attribute-randomised DP, and the privacy
//! attack's accuracy.
use super::markdown::{pm, table};
use crate::metrics::paired::PairedDpTest;
use crate::metrics::privacy::PrivacyResult;
use crate::metrics::report::threshold_key;
use crate::metrics::AuditReport;
use crate::metrics::MetricsError;
use serde::Serialize;

/// Mean and sample standard deviation (n − 1) over hold-outs; std is NaN for
/// a single hold-out (serialised as null).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spread {
    pub mean: f64,
    #[serde(serialize_with = "finite_or_null")]
    pub std: f64,
}

fn finite_or_null<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else {
        s.serialize_none()
    }
}

impl Spread {
    pub fn of(v: &[f64]) -> Self {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let std = if v.len() < 2 {
            f64::NAN
        } else {
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        };
        Self { mean, std }
    }

    fn cell(&self, digits: usize) -> String {
        pm(self.mean, self.std, digits)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeypointHoldouts {
    pub keypoint: usize,
    pub name: String,
    pub mre_mm: Spread,
    pub dp: Spread,
    /// Mean DP under attribute randomisation, averaged over hold-outs.
    pub dp_randomised: Spread,
    /// In how many hold-outs the permutation test flagged the keypoint.
    pub flagged: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrivacyHoldouts {
    /// `attr=group` the images were filtered by first, if any.
    pub filter: Option<String>,
    pub accuracy: Spread,
    pub baseline: Spread,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelHoldouts {
    pub model: String,
    pub attribute: String,
    pub holdouts: usize,
    pub n_images: usize,
    pub mre_mm: Spread,
    pub sdr_dp_threshold: Spread,
    /// Mean over keypoints of the per-keypoint DP (the papers' "mean DP").
    pub dp_mean: Spread,
    pub dp_randomised_mean: Spread,
    pub keypoints: Vec<KeypointHoldouts>,
    pub privacy: Vec<PrivacyHoldouts>,
}

/// Summarises one model's hold-out reports for `attr`. `privacy[h]` holds the
/// attacks of hold-out h (unfiltered and filtered), matched across hold-outs
/// by their filter.
pub fn summarise(
    model: &str,
    reports: &[AuditReport],
    privacy: &[Vec<PrivacyResult>],
    attr: &str,
) -> Result<ModelHoldouts, MetricsError> {
    let first = reports
        .first()
        .ok_or_else(|| MetricsError::Invalid("no hold-out report".into()))?;
    let k = first.n_keypoints;
    for (h, r) in reports.iter().enumerate() {
        if r.n_keypoints != k || !r.dp_mean.contains_key(attr) {
            return Err(MetricsError::Invalid(format!(
                "{model}, hold-out {}: {} keypoints (expected {k}) or not audited over {attr:?}",
                h + 1,
                r.n_keypoints
            )));
        }
    }
    let over =
        |f: &dyn Fn(&AuditReport) -> f64| Spread::of(&reports.iter().map(f).collect::<Vec<_>>());
    let dp_key = threshold_key(first.dp_threshold_mm);
    let keypoints = (0..k)
        .map(|kp| KeypointHoldouts {
            keypoint: kp + 1,
            name: first.keypoints[kp].name.clone(),
            mre_mm: over(&|r| r.keypoints[kp].mre_mm),
            dp: over(&|r| r.keypoints[kp].dp[attr]),
            dp_randomised: over(&|r| r.keypoints[kp].dp_randomised[attr].mean),
            flagged: reports
                .iter()
                .filter(|r| r.keypoints[kp].flagged.iter().any(|f| f == attr))
                .count(),
        })
        .collect();
    let mut filters: Vec<Option<String>> = Vec::new();
    for p in privacy.iter().flatten() {
        if !filters.contains(&p.filter) {
            filters.push(p.filter.clone());
        }
    }
    let privacy_rows = filters
        .into_iter()
        .map(|f| {
            let of = |g: &dyn Fn(&PrivacyResult) -> f64| {
                Spread::of(
                    &privacy
                        .iter()
                        .flatten()
                        .filter(|p| p.filter == f)
                        .map(g)
                        .collect::<Vec<_>>(),
                )
            };
            PrivacyHoldouts {
                accuracy: of(&|p| p.accuracy_mean),
                baseline: of(&|p| p.baseline),
                filter: f,
            }
        })
        .collect();
    Ok(ModelHoldouts {
        model: model.to_string(),
        attribute: attr.to_string(),
        holdouts: reports.len(),
        n_images: reports.iter().map(|r| r.n_images).sum(),
        mre_mm: over(&|r| r.overall.mre_mm),
        sdr_dp_threshold: over(&|r| r.overall.sdr.get(&dp_key).copied().unwrap_or(f64::NAN)),
        dp_mean: over(&|r| r.dp_mean[attr]),
        dp_randomised_mean: over(&|r| {
            r.keypoints
                .iter()
                .map(|kp| kp.dp_randomised[attr].mean)
                .sum::<f64>()
                / k as f64
        }),
        keypoints,
        privacy: privacy_rows,
    })
}

/// Summary table: one row per model.
pub fn models_markdown(models: &[ModelHoldouts]) -> String {
    let header: Vec<String> = [
        "model",
        "hold-outs",
        "MRE mm",
        "SDR@2 mm %",
        "mean DP",
        "mean DP, randomised",
        "keypoints flagged (any hold-out)",
    ]
    .map(String::from)
    .to_vec();
    let rows = models
        .iter()
        .map(|m| {
            vec![
                m.model.clone(),
                m.holdouts.to_string(),
                m.mre_mm.cell(2),
                m.sdr_dp_threshold.cell(1),
                m.dp_mean.cell(3),
                m.dp_randomised_mean.cell(3),
                m.keypoints
                    .iter()
                    .filter(|k| k.flagged > 0)
                    .count()
                    .to_string(),
            ]
        })
        .collect::<Vec<_>>();
    table(&header, &rows)
}

/// Per-keypoint table: MRE of the first model, DP of every model, the first
/// model's randomised DP, and the Holm-corrected p of each paired test.
pub fn keypoints_markdown(models: &[ModelHoldouts], tests: &[(String, PairedDpTest)]) -> String {
    let Some(first) = models.first() else {
        return String::new();
    };
    let mut header = vec!["KP".to_string(), format!("MRE mm ({})", first.model)];
    header.extend(models.iter().map(|m| format!("DP {}", m.model)));
    header.push("DP randomised".into());
    header.extend(tests.iter().map(|(n, _)| format!("p (Holm) {n}")));
    let rows = (0..first.keypoints.len())
        .map(|kp| {
            let f = &first.keypoints[kp];
            let mut row = vec![format!("{} {}", f.keypoint, f.name), f.mre_mm.cell(2)];
            for m in models {
                let k = &m.keypoints[kp];
                let star = if k.flagged > 0 {
                    format!(" ★{}", k.flagged)
                } else {
                    String::new()
                };
                row.push(format!("{}{star}", k.dp.cell(3)));
            }
            row.push(f.dp_randomised.cell(3));
            row.extend(
                tests
                    .iter()
                    .map(|(_, t)| format!("{:.3}", t.keypoints[kp].p_holm)),
            );
            row
        })
        .collect::<Vec<_>>();
    table(&header, &rows)
}

/// Paired tests of mean DP, one row per compared pair.
pub fn tests_markdown(tests: &[(String, PairedDpTest)]) -> String {
    if tests.is_empty() {
        return "One model only: nothing to compare.\n".into();
    }
    let header: Vec<String> = [
        "comparison",
        "hold-outs",
        "mean DP (A)",
        "mean DP (B)",
        "difference",
        "p (mean DP)",
        "keypoints with p_Holm < 0.05",
    ]
    .map(String::from)
    .to_vec();
    let rows = tests
        .iter()
        .map(|(name, t)| {
            vec![
                name.clone(),
                t.holdouts.to_string(),
                format!("{:.3}", t.mean.dp_a),
                format!("{:.3}", t.mean.dp_b),
                format!("{:+.3}", t.mean.diff),
                format!("{:.3}", t.mean.p_value),
                t.keypoints
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| k.p_holm < 0.05)
                    .map(|(i, k)| format!("KP{} ({:+.2})", i + 1, k.diff))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect::<Vec<_>>();
    table(&header, &rows)
}

/// The privacy attack (fairness paper Table 2): accuracy of the random
/// forest on per-keypoint errors against the majority-class baseline.
pub fn privacy_markdown(models: &[ModelHoldouts]) -> String {
    let header: Vec<String> = [
        "model",
        "target attribute",
        "filtered by",
        "RF accuracy (5-fold)",
        "majority baseline",
    ]
    .map(String::from)
    .to_vec();
    let rows = models
        .iter()
        .flat_map(|m| {
            m.privacy.iter().map(|p| {
                vec![
                    m.model.clone(),
                    m.attribute.clone(),
                    p.filter.clone().unwrap_or_else(|| "—".into()),
                    p.accuracy.cell(3),
                    p.baseline.cell(3),
                ]
            })
        })
        .collect::<Vec<_>>();
    table(&header, &rows)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::metrics::{audit, AuditConfig, PredictionTable};

    /// 40 images, one keypoint; group a always within 2 mm, group b within
    /// 2 mm for `b_hits` of its 20 images: DP = 1 − b_hits / 20.
    fn report(b_hits: usize) -> AuditReport {
        let errors: Vec<f64> = (0..40)
            .map(|i| if i < 20 || i - 20 < b_hits { 1.0 } else { 3.0 })
            .collect();
        let t = PredictionTable {
            images: (0..40).map(|i| format!("i{i}")).collect(),
            mm_per_px: vec![0.1; 40],
            n_keypoints: 1,
            errors_mm: errors,
            attr_names: vec!["g".into()],
            attrs: (0..40)
                .map(|i| vec![Some(if i < 20 { "a" } else { "b" }.into())])
                .collect(),
            warnings: vec![],
        };
        let cfg = AuditConfig {
            attributes: vec!["g".into()],
            rounds: 50,
            privacy: None,
            ..AuditConfig::default()
        };
        audit(&t, &cfg).unwrap()
    }

    fn privacy(filter: Option<&str>, acc: f64) -> PrivacyResult {
        PrivacyResult {
            accuracy_mean: acc,
            accuracy_std: 0.0,
            baseline: 0.5,
            folds: 5,
            n_images: 40,
            filter: filter.map(String::from),
        }
    }

    #[test]
    fn spreads_over_holdouts_match_hand_computed_values() {
        let reports = [report(10), report(15)]; // DP 0.5 and 0.25
        let p = vec![
            vec![privacy(None, 0.7), privacy(Some("sex=F"), 0.6)],
            vec![privacy(None, 0.8), privacy(Some("sex=F"), 0.6)],
        ];
        let s = summarise("unet", &reports, &p, "g").unwrap();
        assert_eq!(s.holdouts, 2);
        assert!((s.keypoints[0].dp.mean - 0.375).abs() < 1e-12);
        // Sample std of 0.5 and 0.25: √(2 · 0.125²) = 0.1768.
        assert!((s.keypoints[0].dp.std - 0.125 * 2f64.sqrt()).abs() < 1e-12);
        assert!((s.dp_mean.mean - 0.375).abs() < 1e-12);
        // MRE: (30·1 + 10·3)/40 = 1.5 and (35 + 15)/40 = 1.25.
        assert!((s.mre_mm.mean - 1.375).abs() < 1e-12);
        assert_eq!(s.privacy.len(), 2);
        assert!((s.privacy[0].accuracy.mean - 0.75).abs() < 1e-12);
        assert_eq!(s.privacy[1].filter.as_deref(), Some("sex=F"));
        assert_eq!(s.privacy[1].accuracy.std, 0.0);
        let md = models_markdown(std::slice::from_ref(&s));
        assert!(md.contains("| unet | 2 | 1.38 ± 0.18 |"), "{md}");
        let single = summarise("one", &reports[..1], &p[..1], "g").unwrap();
        assert!(single.dp_mean.std.is_nan());
        let json = serde_json::to_string(&single.dp_mean).unwrap();
        assert_eq!(json, r#"{"mean":0.5,"std":null}"#);
        assert!(summarise("x", &reports, &p, "sex").is_err());
    }

    #[test]
    fn chart_has_a_bar_per_model_and_keypoint() {
        let reports = [report(10), report(15)];
        let a = summarise("unet", &reports, &[], "g").unwrap();
        let b = summarise("group<dro>", &reports[..1], &[], "g").unwrap();
        let svg = super::super::dp_chart::dp_compare_svg(&[a, b], "t").unwrap();
        assert_eq!(svg.matches("<title>KP1").count(), 2);
        assert!(svg.contains("group&lt;dro&gt;"));
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
}
