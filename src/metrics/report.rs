//! `fairmark audit`: every metric of the foundation, assembled into the JSON
//! report (schema "fairmark.audit/1") that the CLI, the browser page and other
//! tools read.
use super::accuracy::{accuracy, Accuracy};
use super::bootstrap::bootstrap;
use super::error::{MetricsError, Result};
use super::grouping::Grouping;
use super::parity::{mean, SuccessBits};
use super::predictions::PredictionTable;
use super::privacy::{privacy_attack, PrivacyConfig, PrivacyResult};
use super::ren::ren;
use super::significance::{holm, permutation_p_values, randomised_dp, relabelled_dp, Relabel};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub const AUDIT_SCHEMA: &str = "fairmark.audit/1";
/// Key of the joint grouping (cross product of all audited attributes).
pub const JOINT: &str = "joint";

/// How REN weighs its subsets ({all images} and each group).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenWeights {
    /// ωᵢ = 1, as in IdFOPNet Table 1.
    Equal,
    /// ωᵢ = number of images in the subset.
    GroupSize,
}

#[derive(Clone, Debug)]
pub struct AuditConfig {
    /// Attributes to audit (columns of the predictions); empty = all columns.
    pub attributes: Vec<String>,
    pub thresholds_mm: Vec<f64>,
    /// Success radius φ of the per-keypoint DP.
    pub dp_threshold_mm: f64,
    /// Rounds of randomisation, permutation and bootstrap.
    pub rounds: usize,
    pub seed: u64,
    pub ren_weights: RenWeights,
    /// Holm-adjusted p below this flags a keypoint.
    pub alpha: f64,
    /// `None` skips the privacy attack.
    pub privacy: Option<PrivacyConfig>,
    /// Restrict the privacy attack to images with `attr = group`.
    pub privacy_filter: Option<(String, String)>,
    /// Keypoint names; "KP<n>" when absent.
    pub keypoint_names: Option<Vec<String>>,
    /// The anatomy the predictions are of, when known (reported, so that a
    /// reader such as the page need not guess it from the keypoint count).
    pub anatomy: Option<crate::data::Anatomy>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            attributes: Vec::new(),
            thresholds_mm: crate::data::anatomy::CEPH_THRESHOLDS_MM.to_vec(),
            dp_threshold_mm: 2.0,
            rounds: 1000,
            seed: 0,
            ren_weights: RenWeights::Equal,
            alpha: 0.05,
            privacy: Some(PrivacyConfig::default()),
            privacy_filter: None,
            keypoint_names: None,
            anatomy: None,
        }
    }
}

/// Threshold → value, keyed by the threshold as written in `thresholds_mm`.
pub type ByThreshold<T> = IndexMap<String, T>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccuracySummary {
    pub n_images: usize,
    pub mre_mm: f64,
    pub mre_std_mm: f64,
    /// Percent, 0–100.
    pub sdr: ByThreshold<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overall {
    pub mre_mm: f64,
    pub mre_std_mm: f64,
    pub sdr: ByThreshold<f64>,
    pub mre_ci: [f64; 2],
    pub sdr_ci: ByThreshold<[f64; 2]>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub mean: f64,
    pub p95: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeypointReport {
    /// 1-based.
    pub keypoint: usize,
    pub name: String,
    pub mre_mm: f64,
    pub mre_std_mm: f64,
    pub sdr: ByThreshold<f64>,
    /// SDR@φ (fraction) of each group: `<attr or joint>.<group>`.
    pub success_rate: IndexMap<String, IndexMap<String, f64>>,
    /// Per-keypoint DP (fraction 0–1) per attribute and `joint`.
    pub dp: IndexMap<String, f64>,
    pub dp_randomised: IndexMap<String, Band>,
    pub p_value: IndexMap<String, f64>,
    pub p_holm: IndexMap<String, f64>,
    pub dp_ci: IndexMap<String, [f64; 2]>,
    /// Attributes (or `joint`) whose gap is significant after Holm correction.
    pub flagged: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    pub schema: String,
    pub fairmark_version: String,
    pub n_images: usize,
    pub n_keypoints: usize,
    pub thresholds_mm: Vec<f64>,
    pub dp_threshold_mm: f64,
    pub rounds: usize,
    pub seed: u64,
    pub alpha: f64,
    pub attributes: Vec<String>,
    #[serde(default)]
    pub anatomy: Option<crate::data::Anatomy>,
    pub overall: Overall,
    /// `groups.<attr>.<group>`; joint groups under `joint`.
    pub groups: IndexMap<String, IndexMap<String, AccuracySummary>>,
    pub ren: IndexMap<String, f64>,
    pub ren_weights: RenWeights,
    pub keypoints: Vec<KeypointReport>,
    pub dp_mean: IndexMap<String, f64>,
    pub privacy: IndexMap<String, PrivacyResult>,
    pub warnings: Vec<String>,
}

/// Threshold as a JSON key: 2.0 → "2", 2.5 → "2.5".
pub fn threshold_key(t: f64) -> String {
    format!("{t}")
}

fn by_threshold<T: Copy>(thresholds: &[f64], values: &[T]) -> ByThreshold<T> {
    thresholds
        .iter()
        .map(|t| threshold_key(*t))
        .zip(values.iter().copied())
        .collect()
}

pub(crate) fn summary(a: &Accuracy, n_images: usize, thresholds: &[f64]) -> AccuracySummary {
    AccuracySummary {
        n_images,
        mre_mm: a.mre_mm,
        mre_std_mm: a.mre_std_mm,
        sdr: by_threshold(thresholds, &a.sdr),
    }
}

fn validate(cfg: &AuditConfig) -> Result<()> {
    let bad = |m: String| Err(MetricsError::Invalid(m));
    if cfg.thresholds_mm.is_empty()
        || cfg
            .thresholds_mm
            .iter()
            .any(|t| !(t.is_finite() && *t > 0.0))
    {
        return bad(format!(
            "thresholds must be positive numbers of mm, got {:?}",
            cfg.thresholds_mm
        ));
    }
    if !(cfg.dp_threshold_mm.is_finite() && cfg.dp_threshold_mm > 0.0) {
        return bad(format!(
            "DP threshold must be > 0 mm, got {}",
            cfg.dp_threshold_mm
        ));
    }
    if cfg.rounds == 0 {
        return bad("rounds must be ≥ 1".into());
    }
    if !(cfg.alpha > 0.0 && cfg.alpha < 1.0) {
        return bad(format!("alpha must be in (0, 1), got {}", cfg.alpha));
    }
    Ok(())
}

/// Runs the whole audit on a predictions table.
pub fn audit(table: &PredictionTable, cfg: &AuditConfig) -> Result<AuditReport> {
    validate(cfg)?;
    let attrs: Vec<String> = if cfg.attributes.is_empty() {
        table.attr_names.clone()
    } else {
        cfg.attributes.clone()
    };
    if attrs.is_empty() {
        return Err(MetricsError::Invalid(
            "no attribute to audit: the predictions have no attribute columns".into(),
        ));
    }
    let (n, k) = (table.n_images(), table.n_keypoints);
    let th = &cfg.thresholds_mm;
    let mut warnings = table.warnings.clone();

    let mut groupings = attrs
        .iter()
        .map(|a| Grouping::from_attribute(table, a))
        .collect::<Result<Vec<_>>>()?;
    for g in &groupings {
        g.require_labels()?;
        warnings.extend(g.warnings());
    }
    let joint = if attrs.len() == 1 {
        Grouping {
            name: JOINT.into(),
            ..groupings[0].clone()
        }
    } else {
        Grouping::joint(table, &attrs)?
    };
    if attrs.len() > 1 {
        warnings.extend(joint.warnings());
    }
    groupings.push(joint);
    let names: Vec<String> = groupings.iter().map(|g| g.name.clone()).collect();

    // Accuracy: overall, per group, per keypoint.
    let overall_acc = accuracy(table.errors_mm.iter().copied(), th);
    let mut groups = IndexMap::new();
    let mut ren_map = IndexMap::new();
    for g in &groupings {
        let mut per_group = IndexMap::new();
        let mut mres = vec![overall_acc.mre_mm];
        let mut weights = vec![n as f64];
        for (gi, gname) in g.groups.iter().enumerate() {
            let members = g.members(gi);
            let acc = accuracy(
                members
                    .iter()
                    .flat_map(|&i| table.image_errors(i).iter().copied()),
                th,
            );
            mres.push(acc.mre_mm);
            weights.push(members.len() as f64);
            per_group.insert(gname.clone(), summary(&acc, members.len(), th));
        }
        if g.name != JOINT || attrs.len() > 1 {
            let w = match cfg.ren_weights {
                RenWeights::Equal => None,
                RenWeights::GroupSize => Some(weights.as_slice()),
            };
            ren_map.insert(g.name.clone(), ren(&mres, w));
        }
        groups.insert(g.name.clone(), per_group);
    }

    // Fairness per keypoint.
    let bits = SuccessBits::new(table, cfg.dp_threshold_mm);
    let observed: Vec<Vec<f64>> = groupings.iter().map(|g| bits.dp(g)).collect();
    let rates: Vec<Vec<Vec<f64>>> = groupings.iter().map(|g| bits.group_rates(g)).collect();
    let mut randomised = Vec::new();
    let mut p_values = Vec::new();
    for (gi, g) in groupings.iter().enumerate() {
        let seed = cfg.seed.wrapping_add(1000 * gi as u64);
        let half = relabelled_dp(&bits, g, Relabel::HalfShuffle, cfg.rounds, seed);
        randomised.push(randomised_dp(&half, k));
        let full = relabelled_dp(&bits, g, Relabel::FullPermutation, cfg.rounds, seed + 1);
        p_values.push(permutation_p_values(&observed[gi], &full));
    }
    let p_holm: Vec<Vec<f64>> = p_values.iter().map(|p| holm(p)).collect();
    let grouping_refs: Vec<&Grouping> = groupings.iter().collect();
    let ci = bootstrap(
        table,
        th,
        &bits,
        &grouping_refs,
        cfg.rounds,
        cfg.seed.wrapping_add(7),
    );

    let kp_names = match &cfg.keypoint_names {
        Some(v) if v.len() == k => v.clone(),
        Some(v) => {
            warnings.push(format!(
                "{} keypoint names given for {k} keypoints; using KP numbers",
                v.len()
            ));
            (1..=k).map(|i| format!("KP{i}")).collect()
        }
        None => (1..=k).map(|i| format!("KP{i}")).collect(),
    };
    let keypoints = (0..k)
        .map(|kp| {
            let acc = accuracy((0..n).map(|i| table.error(i, kp)), th);
            let per = |f: &dyn Fn(usize) -> f64| -> IndexMap<String, f64> {
                names
                    .iter()
                    .enumerate()
                    .map(|(gi, nm)| (nm.clone(), f(gi)))
                    .collect()
            };
            KeypointReport {
                keypoint: kp + 1,
                name: kp_names[kp].clone(),
                mre_mm: acc.mre_mm,
                mre_std_mm: acc.mre_std_mm,
                sdr: by_threshold(th, &acc.sdr),
                success_rate: groupings
                    .iter()
                    .enumerate()
                    .map(|(gi, g)| {
                        (
                            g.name.clone(),
                            g.groups
                                .iter()
                                .cloned()
                                .zip(rates[gi][kp].iter().copied())
                                .collect(),
                        )
                    })
                    .collect(),
                dp: per(&|gi| observed[gi][kp]),
                dp_randomised: names
                    .iter()
                    .enumerate()
                    .map(|(gi, nm)| {
                        (
                            nm.clone(),
                            Band {
                                mean: randomised[gi].mean[kp],
                                p95: randomised[gi].p95[kp],
                            },
                        )
                    })
                    .collect(),
                p_value: per(&|gi| p_values[gi][kp]),
                p_holm: per(&|gi| p_holm[gi][kp]),
                dp_ci: names
                    .iter()
                    .enumerate()
                    .map(|(gi, nm)| (nm.clone(), ci.dp[gi][kp]))
                    .collect(),
                flagged: names
                    .iter()
                    .enumerate()
                    .filter(|(gi, _)| p_holm[*gi][kp] < cfg.alpha)
                    .map(|(_, nm)| nm.clone())
                    .collect(),
            }
        })
        .collect();

    let mut privacy = IndexMap::new();
    if let Some(pcfg) = &cfg.privacy {
        let filtered;
        let (ptable, filter) = match &cfg.privacy_filter {
            Some((a, g)) => {
                filtered = table.filter(a, g)?;
                (&filtered, Some(format!("{a}={g}")))
            }
            None => (table, None),
        };
        for a in &attrs {
            if cfg.privacy_filter.as_ref().is_some_and(|(fa, _)| fa == a) {
                continue;
            }
            let g = Grouping::from_attribute(ptable, a)?;
            match privacy_attack(ptable, &g, pcfg) {
                Ok(mut r) => {
                    r.filter = filter.clone();
                    privacy.insert(a.clone(), r);
                }
                Err(e) => warnings.push(format!("privacy attack skipped: {e}")),
            }
        }
    }

    Ok(AuditReport {
        schema: AUDIT_SCHEMA.into(),
        fairmark_version: env!("CARGO_PKG_VERSION").into(),
        n_images: n,
        n_keypoints: k,
        thresholds_mm: th.clone(),
        dp_threshold_mm: cfg.dp_threshold_mm,
        rounds: cfg.rounds,
        seed: cfg.seed,
        alpha: cfg.alpha,
        anatomy: cfg.anatomy,
        attributes: attrs,
        overall: Overall {
            mre_mm: overall_acc.mre_mm,
            mre_std_mm: overall_acc.mre_std_mm,
            sdr: by_threshold(th, &overall_acc.sdr),
            mre_ci: ci.mre,
            sdr_ci: by_threshold(th, &ci.sdr),
        },
        groups,
        ren: ren_map,
        ren_weights: cfg.ren_weights,
        keypoints,
        dp_mean: names
            .iter()
            .enumerate()
            .map(|(gi, nm)| (nm.clone(), mean(&observed[gi])))
            .collect(),
        privacy,
        warnings,
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn table(body: &str) -> PredictionTable {
        let head = "image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,site,sex\n";
        PredictionTable::parse_csv("t", &format!("{head}{body}")).unwrap()
    }

    #[test]
    fn attribute_with_one_group_warns_and_has_no_gap() {
        let mut body = String::new();
        for i in 0..12 {
            body += &format!("i{i},1,{},0,0,0,1,A,{}\n", i % 3, ["F", "M"][i % 2]);
        }
        let t = table(&body);
        let cfg = AuditConfig {
            attributes: vec!["site".into()],
            rounds: 20,
            privacy: Some(PrivacyConfig {
                n_trees: 5,
                ..Default::default()
            }),
            ..Default::default()
        };
        let r = audit(&t, &cfg).unwrap();
        assert_eq!(r.keypoints[0].dp["site"], 0.0);
        assert!(
            r.warnings
                .iter()
                .any(|w| w.contains("site: only 1 group(s) (A)")),
            "{:?}",
            r.warnings
        );
        assert!(
            r.warnings
                .iter()
                .any(|w| w.contains("privacy attack skipped")),
            "{:?}",
            r.warnings
        );
        assert!(r.privacy.is_empty());
        // REN over {all, A} is 0: both subsets are the same images.
        assert_eq!(r.ren["site"], 0.0);
    }

    #[test]
    fn rejects_bad_options_and_unknown_attributes() {
        let t = table("a,1,0,0,0,0,1,A,F\nb,1,0,0,0,0,1,B,M\n");
        let run = |cfg: AuditConfig| {
            audit(
                &t,
                &AuditConfig {
                    privacy: None,
                    rounds: 5,
                    ..cfg
                },
            )
            .unwrap_err()
            .to_string()
        };
        assert!(run(AuditConfig {
            attributes: vec!["age".into()],
            ..Default::default()
        })
        .contains("attribute \"age\""));
        assert!(run(AuditConfig {
            thresholds_mm: vec![-1.0],
            ..Default::default()
        })
        .contains("thresholds"));
        assert!(run(AuditConfig {
            dp_threshold_mm: f64::NAN,
            ..Default::default()
        })
        .contains("DP threshold"));
        assert!(run(AuditConfig {
            alpha: 1.5,
            ..Default::default()
        })
        .contains("alpha"));
        let r = audit(
            &t,
            &AuditConfig {
                rounds: 0,
                ..Default::default()
            },
        );
        assert!(r.unwrap_err().to_string().contains("rounds"));
    }

    #[test]
    fn threshold_keys_are_written_as_given() {
        assert_eq!(threshold_key(2.0), "2");
        assert_eq!(threshold_key(2.5), "2.5");
        assert_eq!(threshold_key(10.0), "10");
    }
}
