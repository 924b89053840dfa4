//! `fairmark audit`: every metric of the foundation, assembled into the JSON
//! report (schema "fairmark.audit/1") that the CLI, the browser page and other
//! tools read.
use super::accuracy::{accuracy, Accuracy};
use super::bootstrap::{bootstrap, GapPairs};
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

/// Which group does worse at a keypoint, and by how much: the direction that
/// DP (a max − min) leaves out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// The group with the lowest SDR@φ at this keypoint.
    pub worse: String,
    /// The group with the highest.
    pub better: String,
    /// SDR@φ(worse) − SDR@φ(better), a fraction ≤ 0 (its size is the DP).
    pub sdr_gap: f64,
    /// Bootstrap 95% interval of that difference with the two groups held
    /// fixed: an upper end above 0 means the resamples do not agree on which
    /// of the two is worse.
    pub sdr_gap_ci: [f64; 2],
    /// MRE(worse) − MRE(better) at this keypoint, mm: positive when the
    /// group that succeeds less also misses by more on average.
    pub mre_gap_mm: f64,
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
    /// Holm-adjusted over every test of the report (see `n_tests`).
    pub p_holm: IndexMap<String, f64>,
    pub dp_ci: IndexMap<String, [f64; 2]>,
    /// Direction of the gap per attribute and `joint` (absent with fewer
    /// than two groups); missing in reports written before it existed.
    #[serde(default)]
    pub gap: IndexMap<String, Gap>,
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
    /// Permutation tests in the Holm family: keypoints × (attributes, plus
    /// the joint grouping when there are several attributes). 0 in reports
    /// written when Holm was applied per attribute.
    #[serde(default)]
    pub n_tests: usize,
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

/// The groups with the lowest and highest success rate among those with
/// images (`None` with fewer than two).
fn worse_and_better(rates: &[f64]) -> Option<(usize, usize)> {
    let present: Vec<usize> = (0..rates.len()).filter(|&l| rates[l].is_finite()).collect();
    if present.len() < 2 {
        return None;
    }
    let worse = present
        .iter()
        .copied()
        .reduce(|a, b| if rates[b] < rates[a] { b } else { a })?;
    let better = present
        .iter()
        .copied()
        .reduce(|a, b| if rates[b] > rates[a] { b } else { a })?;
    // All equal: still two distinct groups, the gap is 0.
    let better = if better == worse {
        *present.iter().find(|&&l| l != worse)?
    } else {
        better
    };
    Some((worse, better))
}

/// Holm over every permutation test in the report at once (each grouping ×
/// keypoint), not per attribute: flagging a keypoint anywhere in the report
/// is one family of decisions. With one attribute the joint grouping is the
/// same grouping, so it is counted once and shares the attribute's values.
/// Returns the adjusted p-values `[grouping][kp]` and the family size.
fn holm_over_report(p_values: &[Vec<f64>], n_attributes: usize) -> (Vec<Vec<f64>>, usize) {
    let tested = if n_attributes == 1 { 1 } else { p_values.len() };
    let flat: Vec<f64> = p_values[..tested].iter().flatten().copied().collect();
    let adjusted = holm(&flat);
    let mut out: Vec<Vec<f64>> = Vec::with_capacity(p_values.len());
    let mut at = 0;
    for p in &p_values[..tested] {
        out.push(adjusted[at..at + p.len()].to_vec());
        at += p.len();
    }
    while out.len() < p_values.len() {
        out.push(out[0].clone());
    }
    (out, flat.len())
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
    let (p_holm, n_tests) = holm_over_report(&p_values, attrs.len());
    // The smallest permutation p is 1/(R+1), so Holm can flag nothing
    // unless n_tests/(R+1) < alpha: say so rather than report "no bias".
    let floor = n_tests as f64 / (cfg.rounds as f64 + 1.0);
    if floor >= cfg.alpha {
        warnings.push(format!(
            "with {} rounds the smallest Holm-adjusted p over the report's {n_tests} tests is {floor:.3}, not below alpha {}: no keypoint can be flagged; use at least {} rounds",
            cfg.rounds,
            cfg.alpha,
            (n_tests as f64 / cfg.alpha).ceil() as usize
        ));
    }
    // The direction per grouping and keypoint: the groups with the lowest
    // and highest success rate (first in label order on ties).
    let pairs: GapPairs = rates
        .iter()
        .map(|per_kp| per_kp.iter().map(|r| worse_and_better(r)).collect())
        .collect();
    let grouping_refs: Vec<&Grouping> = groupings.iter().collect();
    let ci = bootstrap(
        table,
        th,
        &bits,
        &grouping_refs,
        &pairs,
        cfg.rounds,
        cfg.seed.wrapping_add(7),
    );
    let group_mre = |g: &Grouping, l: usize, kp: usize| {
        let members = g.members(l);
        members.iter().map(|&i| table.error(i, kp)).sum::<f64>() / members.len() as f64
    };

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
                gap: groupings
                    .iter()
                    .enumerate()
                    .filter_map(|(gi, g)| {
                        let (w, b) = pairs[gi][kp]?;
                        let gap = rates[gi][kp][w] - rates[gi][kp][b];
                        Some((
                            g.name.clone(),
                            Gap {
                                worse: g.groups[w].clone(),
                                better: g.groups[b].clone(),
                                sdr_gap: gap,
                                sdr_gap_ci: ci.gap[gi][kp].unwrap_or([gap, gap]),
                                mre_gap_mm: group_mre(g, w, kp) - group_mre(g, b, kp),
                            },
                        ))
                    })
                    .collect(),
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
        n_tests,
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

    /// Hand-made: at KP1 site B fails half its images (errors 3 mm), site A
    /// never does; at KP2 it is the other way round for sex M. The report
    /// must name the worse group, give the signed gap and the MRE gap.
    #[test]
    fn the_gap_names_the_worse_group_with_its_sign() {
        let mut body = String::new();
        for i in 0..80 {
            let site = ["A", "B"][i % 2];
            let sex = ["F", "M"][(i / 2) % 2];
            let e1 = if site == "B" && i % 4 == 1 { 3.0 } else { 1.0 };
            let e2 = if i % 8 == 2 || i % 8 == 3 { 4.0 } else { 0.5 };
            body += &format!("i{i},1,{e1},0,0,0,1,{site},{sex}\n");
            body += &format!("i{i},2,{e2},0,0,0,1,{site},{sex}\n");
        }
        let t = table(&body);
        let cfg = AuditConfig {
            rounds: 200,
            privacy: None,
            ..Default::default()
        };
        let r = audit(&t, &cfg).unwrap();
        let g = &r.keypoints[0].gap["site"];
        assert_eq!((g.worse.as_str(), g.better.as_str()), ("B", "A"));
        // B: 20 of 40 succeed, A: 40 of 40 → −0.5; MRE B 2.0, A 1.0 → +1 mm.
        assert!((g.sdr_gap + 0.5).abs() < 1e-12, "{g:?}");
        assert!((g.mre_gap_mm - 1.0).abs() < 1e-12, "{g:?}");
        assert!(g.sdr_gap_ci[0] < -0.5 && -0.5 < g.sdr_gap_ci[1] && g.sdr_gap_ci[1] < 0.0);
        let g = &r.keypoints[1].gap["sex"];
        assert_eq!((g.worse.as_str(), g.better.as_str()), ("M", "F"));
        assert!((g.sdr_gap + 0.5).abs() < 1e-12, "{g:?}");
        assert!((g.mre_gap_mm - 1.75).abs() < 1e-12, "{g:?}");
        // The joint grouping names a joint group.
        assert!(r.keypoints[0].gap["joint"].worse.starts_with("B"));
        // It survives the JSON round trip, and older reports without it read.
        let json = serde_json::to_string(&r).unwrap();
        let back: AuditReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back.keypoints[0].gap, r.keypoints[0].gap);
    }

    /// Holm over the whole report: the adjusted p-values are those of one
    /// family of all attribute × keypoint tests (plus joint), not one family
    /// per attribute.
    #[test]
    fn holm_runs_over_every_test_of_the_report() {
        let mut body = String::new();
        for i in 0..40 {
            let site = ["A", "B"][i % 2];
            let sex = ["F", "M"][(i / 2) % 2];
            for kp in 1..=3 {
                let e = if site == "B" && kp == 1 && i % 4 == 1 {
                    3.0
                } else {
                    1.0
                };
                body += &format!("i{i},{kp},{e},0,0,0,1,{site},{sex}\n");
            }
        }
        let t = table(&body);
        let r = audit(
            &t,
            &AuditConfig {
                rounds: 100,
                privacy: None,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(r.n_tests, 9, "3 keypoints × (site, sex, joint)");
        let cols = ["site", "sex", "joint"];
        let raw: Vec<f64> = cols
            .iter()
            .flat_map(|c| r.keypoints.iter().map(move |k| k.p_value[*c]))
            .collect();
        let adjusted = holm(&raw);
        for (ci, c) in cols.iter().enumerate() {
            for (kp, k) in r.keypoints.iter().enumerate() {
                assert_eq!(k.p_holm[*c], adjusted[ci * 3 + kp], "{c} KP{}", kp + 1);
            }
        }
        // Per attribute would have been smaller for the site test at KP1.
        let site_only: Vec<f64> = r.keypoints.iter().map(|k| k.p_value["site"]).collect();
        assert!(holm(&site_only)[0] < r.keypoints[0].p_holm["site"]);
        // One attribute: joint is the same grouping, counted once.
        let one = audit(
            &t,
            &AuditConfig {
                attributes: vec!["site".into()],
                rounds: 100,
                privacy: None,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(one.n_tests, 3);
        assert_eq!(
            one.keypoints[0].p_holm["site"],
            one.keypoints[0].p_holm["joint"]
        );
    }
}
