//! The fairness paper's hold-out protocol over several models: each model's
//! hold-out predictions audited for one attribute, the privacy attack
//! (unfiltered and within each group of every other attribute), and paired
//! permutation tests of DP between every pair of models. The CLI reads the
//! files and writes what [`HoldoutStudy`] renders.
use super::holdouts::{self, ModelHoldouts};
use crate::metrics::grouping::Grouping;
use crate::metrics::paired::{paired_dp_test, PairedDpTest, PairedHoldout};
use crate::metrics::privacy::{privacy_attack, PrivacyConfig, PrivacyResult};
use crate::metrics::{audit, AuditOptions, AuditReport, MetricsError, PredictionTable};
use serde::Serialize;

pub const HOLDOUTS_SCHEMA: &str = "fairmark.holdouts/1";

/// One model comparison: DP of `a` minus DP of `b` (negative: `a` is fairer).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub comparison: String,
    pub test: PairedDpTest,
}

/// `holdouts.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HoldoutStudy {
    pub schema: &'static str,
    pub attribute: String,
    pub rounds: usize,
    pub seed: u64,
    pub models: Vec<ModelHoldouts>,
    pub paired_tests: Vec<Comparison>,
    /// Privacy attacks that could not run (too few images in a group, …).
    #[serde(skip)]
    pub skipped: Vec<String>,
}

/// The audit of one predictions table for `attr` (no privacy attack: the
/// study runs its own, filtered ones).
pub fn audit_for(
    table: &PredictionTable,
    attr: &str,
    thresholds_mm: &[f64],
    rounds: usize,
    seed: u64,
) -> Result<AuditReport, MetricsError> {
    let options = AuditOptions {
        attributes: vec![attr.to_string()],
        rounds,
        seed,
        thresholds_mm: thresholds_mm.to_vec(),
        privacy: false,
        ..AuditOptions::default()
    };
    audit(table, &options.config(table)?)
}

/// The privacy attack on `attr`: on all images, then within each group of
/// every other attribute (the fairness paper's "filtered attribute"). Attacks
/// that cannot run are named in the second list.
pub fn privacy_rows(
    table: &PredictionTable,
    attr: &str,
    seed: u64,
) -> (Vec<PrivacyResult>, Vec<String>) {
    let cfg = PrivacyConfig {
        seed,
        ..PrivacyConfig::default()
    };
    let (mut out, mut skipped) = (Vec::new(), Vec::new());
    let mut attempt = |t: &PredictionTable, filter: Option<String>| {
        let run = Grouping::from_attribute(t, attr).and_then(|g| privacy_attack(t, &g, &cfg));
        match run {
            Ok(mut r) => {
                r.filter = filter;
                out.push(r)
            }
            Err(e) => skipped.push(format!(
                "privacy attack on {attr} ({filter:?}) skipped: {e}"
            )),
        }
    };
    attempt(table, None);
    for other in table.attr_names.iter().filter(|n| *n != attr) {
        let Ok(g) = Grouping::from_attribute(table, other) else {
            continue;
        };
        for group in &g.groups {
            if let Ok(t) = table.filter(other, group) {
                attempt(&t, Some(format!("{other}={group}")));
            }
        }
    }
    (out, skipped)
}

/// Runs the protocol on `models` (name, one table per hold-out; the first
/// model is the reference of the comparisons). `progress` hears each model's name.
pub fn holdout_study(
    models: &[(String, Vec<PredictionTable>)],
    attr: &str,
    rounds: usize,
    seed: u64,
    mut progress: impl FnMut(&str),
) -> Result<HoldoutStudy, MetricsError> {
    let mut summaries = Vec::new();
    let mut skipped = Vec::new();
    for (name, tables) in models {
        progress(name);
        let mut reports = Vec::new();
        let mut privacy = Vec::new();
        for (h, t) in tables.iter().enumerate() {
            let seed = seed + h as u64;
            reports.push(audit_for(t, attr, &[], rounds, seed)?);
            let (rows, why) = privacy_rows(t, attr, seed);
            privacy.push(rows);
            skipped.extend(why);
        }
        summaries.push(holdouts::summarise(name, &reports, &privacy, attr)?);
    }
    // Every pair, later model against earlier one, on the hold-outs both have.
    let mut paired_tests = Vec::new();
    for (i, (ref_name, ref_tables)) in models.iter().enumerate() {
        for (name, tables) in &models[i + 1..] {
            let pairs: Vec<PairedHoldout> = tables
                .iter()
                .zip(ref_tables)
                .map(|(a, b)| PairedHoldout { a, b })
                .collect();
            let test = paired_dp_test(&pairs, attr, 2.0, rounds, seed).map_err(|e| {
                MetricsError::Invalid(format!("comparing {name} with {ref_name}: {e}"))
            })?;
            paired_tests.push(Comparison {
                comparison: format!("{name} vs {ref_name}"),
                test,
            });
        }
    }
    Ok(HoldoutStudy {
        schema: HOLDOUTS_SCHEMA,
        attribute: attr.to_string(),
        rounds,
        seed,
        models: summaries,
        paired_tests,
        skipped,
    })
}

impl HoldoutStudy {
    /// `summary.md`: models, paired tests, per keypoint, privacy.
    pub fn markdown(&self) -> String {
        let tests: Vec<(String, PairedDpTest)> = self
            .paired_tests
            .iter()
            .map(|c| (c.comparison.clone(), c.test.clone()))
            .collect();
        format!(
            "### Models ({attr})\n\n{}\n### Paired permutation tests of DP ({attr}; for \"A vs B\" the difference is DP of A − DP of B, negative: A is fairer)\n\n{}\n### Per keypoint ({attr}; ★n: flagged in n hold-outs)\n\n{}\n### Privacy attack (target: {attr})\n\n{}",
            holdouts::models_markdown(&self.models),
            holdouts::tests_markdown(&tests),
            holdouts::keypoints_markdown(&self.models, &tests),
            holdouts::privacy_markdown(&self.models),
            attr = self.attribute,
        )
    }
}
