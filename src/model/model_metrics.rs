//! Test-split metrics of a published model (accuracy per group, per-keypoint
//! gaps, REN, privacy attack), copied from an audit report into its manifest.
use crate::metrics::privacy::PrivacyResult;
use crate::metrics::report::{AuditReport, ByThreshold, JOINT};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Accuracy of one group (or of all test images).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupMetrics {
    pub n_images: usize,
    pub mre_mm: f64,
    pub mre_std_mm: f64,
    /// SDR in percent (0–100) by threshold key ("2", "2.5", …).
    pub sdr: ByThreshold<f64>,
}

/// The per-keypoint fairness gap of one keypoint for one attribute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeypointGap {
    /// Demographic parity gap of SDR@φ (fraction 0–1): best minus worst group.
    pub dp: f64,
    /// Permutation p-value after Holm correction over the keypoints.
    pub p_holm: f64,
    /// Whether `p_holm < alpha`.
    pub flagged: bool,
    /// SDR@φ (fraction 0–1) of each group, to say who is served worse.
    pub success_rate: IndexMap<String, f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeypointMetrics {
    /// 1-based.
    pub keypoint: usize,
    pub name: String,
    pub mre_mm: f64,
    /// Attribute (or `joint`) → gap.
    pub gaps: IndexMap<String, KeypointGap>,
}

/// Test-split metrics of a published model, taken from an [`AuditReport`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    pub n_images: usize,
    pub n_keypoints: usize,
    pub thresholds_mm: Vec<f64>,
    /// Success radius φ of the per-keypoint DP, in mm.
    pub dp_threshold_mm: f64,
    pub alpha: f64,
    /// Rounds of the permutation test behind `p_holm`.
    pub rounds: usize,
    pub attributes: Vec<String>,
    pub overall: GroupMetrics,
    /// Attribute (and `joint` for several attributes) → group → accuracy.
    pub groups: IndexMap<String, IndexMap<String, GroupMetrics>>,
    /// REN per attribute.
    pub ren: IndexMap<String, f64>,
    pub keypoints: Vec<KeypointMetrics>,
    /// Mean per-keypoint DP per attribute.
    pub dp_mean: IndexMap<String, f64>,
    /// Attribute inferred from the error pattern (the privacy attack), if run.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub privacy: IndexMap<String, PrivacyResult>,
}

impl ModelMetrics {
    /// Copies the metrics a model card needs out of an audit report. With one
    /// attribute the report's `joint` grouping repeats that attribute, so it is
    /// left out.
    pub fn from_report(report: &AuditReport) -> Self {
        let keep = |name: &str| name != JOINT || report.attributes.len() > 1;
        let group_metrics = |n: usize, mre: f64, std: f64, sdr: &ByThreshold<f64>| GroupMetrics {
            n_images: n,
            mre_mm: mre,
            mre_std_mm: std,
            sdr: sdr.clone(),
        };
        let keypoints = report
            .keypoints
            .iter()
            .map(|kp| KeypointMetrics {
                keypoint: kp.keypoint,
                name: kp.name.clone(),
                mre_mm: kp.mre_mm,
                gaps: kp
                    .dp
                    .iter()
                    .filter(|(a, _)| keep(a))
                    .map(|(a, &dp)| {
                        let gap = KeypointGap {
                            dp,
                            p_holm: kp.p_holm.get(a).copied().unwrap_or(f64::NAN),
                            flagged: kp.flagged.contains(a),
                            success_rate: kp.success_rate.get(a).cloned().unwrap_or_default(),
                        };
                        (a.clone(), gap)
                    })
                    .collect(),
            })
            .collect();
        Self {
            n_images: report.n_images,
            n_keypoints: report.n_keypoints,
            thresholds_mm: report.thresholds_mm.clone(),
            dp_threshold_mm: report.dp_threshold_mm,
            alpha: report.alpha,
            rounds: report.rounds,
            attributes: report.attributes.clone(),
            overall: group_metrics(
                report.n_images,
                report.overall.mre_mm,
                report.overall.mre_std_mm,
                &report.overall.sdr,
            ),
            groups: report
                .groups
                .iter()
                .filter(|(a, _)| keep(a))
                .map(|(a, gs)| {
                    let gs = gs
                        .iter()
                        .map(|(g, s)| {
                            (
                                g.clone(),
                                group_metrics(s.n_images, s.mre_mm, s.mre_std_mm, &s.sdr),
                            )
                        })
                        .collect();
                    (a.clone(), gs)
                })
                .collect(),
            ren: report.ren.clone(),
            keypoints,
            dp_mean: report
                .dp_mean
                .iter()
                .filter(|(a, _)| keep(a))
                .map(|(a, v)| (a.clone(), *v))
                .collect(),
            privacy: report.privacy.clone(),
        }
    }
}
