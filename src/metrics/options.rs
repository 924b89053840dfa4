//! What a user chooses for an audit (CLI flags, or an options object from
//! JavaScript) turned into an [`AuditConfig`] for a given predictions table:
//! one place for the defaults, so the CLI and the browser give the same report.
use super::error::MetricsError;
use super::privacy::PrivacyConfig;
use super::report::{AuditConfig, RenWeights};
use super::PredictionTable;
use crate::data::Anatomy;
use serde::{Deserialize, Serialize};

/// Most bootstrap and permutation rounds an audit runs. 10,000 rounds already
/// resolve p-values to 1e-4; each round revisits every image and keypoint, so
/// a larger number would only make the audit (and a browser tab) hang.
pub const MAX_ROUNDS: usize = 100_000;

/// Most attributes one audit compares. Each runs its own bootstrap and
/// permutation tests and enlarges the Holm family; a file with thousands of
/// columns audited whole is an identifier table, not demographics.
pub const MAX_AUDIT_ATTRIBUTES: usize = 64;

/// Most SDR radii of one report (the conventions use four).
pub const MAX_THRESHOLDS: usize = 100;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditOptions {
    /// Attribute columns to audit; empty = all.
    pub attributes: Vec<String>,
    pub rounds: usize,
    pub seed: u64,
    /// SDR radii; empty = the anatomy's convention.
    pub thresholds_mm: Vec<f64>,
    /// Success radius φ of the per-keypoint DP.
    pub dp_threshold_mm: f64,
    pub ren_weights: RenWeights,
    pub alpha: f64,
    /// Restrict the privacy attack to `ATTR=GROUP`.
    pub filter: Option<String>,
    /// Run the random-forest privacy attack.
    pub privacy: bool,
    /// "ceph", "hand", "none", or absent to infer from the keypoint count
    /// (landmark names and SDR radii follow from it).
    pub anatomy: Option<String>,
}

impl Default for AuditOptions {
    fn default() -> Self {
        Self {
            attributes: Vec::new(),
            rounds: 1000,
            seed: 0,
            thresholds_mm: Vec::new(),
            dp_threshold_mm: 2.0,
            ren_weights: RenWeights::Equal,
            alpha: 0.05,
            filter: None,
            privacy: true,
            anatomy: None,
        }
    }
}

impl AuditOptions {
    /// The audit configuration for `table`, or an error naming the bad option.
    pub fn config(&self, table: &PredictionTable) -> Result<AuditConfig, MetricsError> {
        let anatomy = match self.anatomy.as_deref() {
            Some("none") => None,
            Some(s) => Some(Anatomy::parse(s).ok_or_else(|| {
                MetricsError::Invalid(format!("unknown anatomy {s:?} (ceph, hand or none)"))
            })?),
            None => [Anatomy::Ceph, Anatomy::Hand, Anatomy::Isbi]
                .into_iter()
                .find(|an| an.n_landmarks() == table.n_keypoints),
        };
        let privacy_filter = match &self.filter {
            Some(f) => match f.split_once('=') {
                Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                    Some((k.to_string(), v.to_string()))
                }
                _ => {
                    return Err(MetricsError::Invalid(format!(
                        "filter {f:?}: expected ATTR=GROUP, e.g. sex=F"
                    )))
                }
            },
            None => None,
        };
        let thresholds_mm = if self.thresholds_mm.is_empty() {
            Anatomy::thresholds_mm_or_default(anatomy)
        } else {
            self.thresholds_mm.clone()
        };
        if let Some(t) = thresholds_mm
            .iter()
            .chain([&self.dp_threshold_mm])
            .find(|t| !(t.is_finite() && **t > 0.0))
        {
            return Err(MetricsError::Invalid(format!(
                "thresholds must be positive mm, got {t}"
            )));
        }
        if self.rounds == 0 {
            return Err(MetricsError::Invalid("rounds must be at least 1".into()));
        }
        if self.rounds > MAX_ROUNDS {
            return Err(MetricsError::Invalid(format!(
                "rounds {} is more than the limit of {MAX_ROUNDS}",
                self.rounds
            )));
        }
        if thresholds_mm.len() > MAX_THRESHOLDS {
            return Err(MetricsError::Invalid(format!(
                "{} thresholds, more than the limit of {MAX_THRESHOLDS}",
                thresholds_mm.len()
            )));
        }
        let audited = if self.attributes.is_empty() {
            table.attr_names.len()
        } else {
            self.attributes.len()
        };
        if audited > MAX_AUDIT_ATTRIBUTES {
            return Err(MetricsError::Invalid(format!(
                "{audited} attributes to audit, more than the limit of {MAX_AUDIT_ATTRIBUTES}; name the ones to audit{}",
                if self.attributes.is_empty() {
                    " (every column besides the required ones is an attribute)"
                } else {
                    ""
                }
            )));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(MetricsError::Invalid(format!(
                "alpha must be in (0, 1), got {}",
                self.alpha
            )));
        }
        Ok(AuditConfig {
            attributes: self.attributes.clone(),
            thresholds_mm,
            dp_threshold_mm: self.dp_threshold_mm,
            rounds: self.rounds,
            seed: self.seed,
            ren_weights: self.ren_weights,
            alpha: self.alpha,
            privacy: self.privacy.then(|| PrivacyConfig {
                seed: self.seed,
                ..Default::default()
            }),
            privacy_filter,
            keypoint_names: anatomy.map(Anatomy::landmark_names),
            anatomy,
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn table(n_kp: usize) -> PredictionTable {
        let mut csv = String::from("image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,sex\n");
        for i in 0..4 {
            for k in 1..=n_kp {
                csv += &format!("im{i},{k},1,1,1.5,1,0.1,{}\n", ["F", "M"][i % 2]);
            }
        }
        PredictionTable::parse_csv("t", &csv).unwrap()
    }

    #[test]
    fn anatomy_is_inferred_and_sets_names_and_radii() {
        let cfg = AuditOptions::default().config(&table(37)).unwrap();
        assert_eq!(cfg.thresholds_mm, Anatomy::Hand.default_thresholds_mm());
        assert_eq!(cfg.keypoint_names.unwrap().len(), 37);
        let cfg = AuditOptions::default().config(&table(3)).unwrap();
        assert_eq!(cfg.thresholds_mm, vec![2.0, 2.5, 3.0, 4.0]);
        assert!(cfg.keypoint_names.is_none());
    }

    #[test]
    fn bad_options_are_named() {
        let t = table(3);
        let bad = |o: AuditOptions| o.config(&t).unwrap_err().to_string();
        assert!(bad(AuditOptions {
            filter: Some("sex".into()),
            ..Default::default()
        })
        .contains("ATTR=GROUP"));
        assert!(bad(AuditOptions {
            anatomy: Some("knee".into()),
            ..Default::default()
        })
        .contains("knee"));
        assert!(bad(AuditOptions {
            thresholds_mm: vec![2.0, f64::NAN],
            ..Default::default()
        })
        .contains("positive"));
        assert!(bad(AuditOptions {
            rounds: 0,
            ..Default::default()
        })
        .contains("rounds"));
    }

    #[test]
    fn rounds_thresholds_and_attributes_are_bounded() {
        let t = table(3);
        let run = |o: AuditOptions| o.config(&t).map(|_| ()).map_err(|e| e.to_string());
        assert!(run(AuditOptions {
            rounds: MAX_ROUNDS,
            ..Default::default()
        })
        .is_ok());
        assert_eq!(
            run(AuditOptions {
                rounds: MAX_ROUNDS + 1,
                ..Default::default()
            })
            .unwrap_err(),
            "rounds 100001 is more than the limit of 100000"
        );
        let e = run(AuditOptions {
            thresholds_mm: vec![1.0; MAX_THRESHOLDS + 1],
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e, "101 thresholds, more than the limit of 100");
        let e = run(AuditOptions {
            attributes: vec!["sex".into(); MAX_AUDIT_ATTRIBUTES + 1],
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            e.starts_with("65 attributes to audit, more than the limit of 64"),
            "{e}"
        );

        // Every extra column is an attribute: a wide file audited whole is refused.
        let head: String = (0..=MAX_AUDIT_ATTRIBUTES)
            .map(|i| format!(",a{i}"))
            .collect();
        let cells: String = (0..=MAX_AUDIT_ATTRIBUTES).map(|_| ",x").collect();
        let wide = PredictionTable::parse_csv(
            "w",
            &format!("image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px{head}\nim,1,0,0,0,0,1{cells}\n"),
        )
        .unwrap();
        let e = AuditOptions::default()
            .config(&wide)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("65 attributes") && e.contains("every column"),
            "{e}"
        );
        // Naming a few of them is fine.
        assert!(AuditOptions {
            attributes: vec!["a0".into(), "a64".into()],
            ..Default::default()
        }
        .config(&wide)
        .is_ok());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e = serde_json::from_str::<AuditOptions>(r#"{"round": 5}"#).unwrap_err();
        assert!(e.to_string().contains("round"), "{e}");
    }
}
