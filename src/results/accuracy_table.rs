//! The IdFOPNet papers' accuracy table (Table 1, ceph; Table 2, hand): one row
//! per model, MRE (std) and SDR at each threshold for all test images and for
//! each group of one attribute, then REN over those groups (Eq. 13).
use super::markdown::{pm, table};
use crate::metrics::accuracy::accuracy;
use crate::metrics::report::{summary, threshold_key, AccuracySummary};
use crate::metrics::MetricsError;
use crate::metrics::{AuditReport, PredictionTable};
use indexmap::IndexMap;

/// One row of the table.
pub struct AccuracyRow {
    pub name: String,
    pub thresholds_mm: Vec<f64>,
    pub all: AccuracySummary,
    /// Per group of the attribute (empty without one).
    pub groups: IndexMap<String, AccuracySummary>,
    pub ren: Option<f64>,
}

impl AccuracyRow {
    /// From an audit over `attr`.
    pub fn from_report(name: &str, r: &AuditReport, attr: &str) -> Result<Self, MetricsError> {
        Ok(Self {
            name: name.to_string(),
            thresholds_mm: r.thresholds_mm.clone(),
            all: AccuracySummary {
                n_images: r.n_images,
                mre_mm: r.overall.mre_mm,
                mre_std_mm: r.overall.mre_std_mm,
                sdr: r.overall.sdr.clone(),
            },
            groups: r
                .groups
                .get(attr)
                .ok_or_else(|| {
                    MetricsError::Invalid(format!("{name} was not audited over {attr:?}"))
                })?
                .clone(),
            ren: r.ren.get(attr).copied(),
        })
    }

    /// All images only, for predictions without attributes (e.g. the four
    /// real hand radiographs).
    pub fn overall(name: &str, t: &PredictionTable, thresholds_mm: &[f64]) -> Self {
        let a = accuracy(t.errors_mm.iter().copied(), thresholds_mm);
        Self {
            name: name.to_string(),
            thresholds_mm: thresholds_mm.to_vec(),
            all: summary(&a, t.n_images(), thresholds_mm),
            groups: IndexMap::new(),
            ren: None,
        }
    }
}

fn cells(s: &AccuracySummary, thresholds: &[f64]) -> Vec<String> {
    let mut c = vec![pm(s.mre_mm, s.mre_std_mm, 2)];
    for t in thresholds {
        let v = s.sdr.get(&threshold_key(*t)).copied().unwrap_or(f64::NAN);
        c.push(format!("{v:.2}"));
    }
    c
}

/// Markdown table of the rows; the first row fixes the thresholds and groups,
/// `attr` names the REN column (none without groups).
pub fn accuracy_table(rows: &[AccuracyRow], attr: Option<&str>) -> Result<String, MetricsError> {
    let first = rows
        .first()
        .ok_or_else(|| MetricsError::Invalid("no model to tabulate".into()))?;
    let thresholds = &first.thresholds_mm;
    let groups: Vec<String> = first.groups.keys().cloned().collect();
    let mut header = vec!["model".to_string(), "images".to_string()];
    for part in std::iter::once("all".to_string()).chain(groups.iter().cloned()) {
        header.push(format!("{part}: MRE (std) mm"));
        header.extend(thresholds.iter().map(|t| format!("SDR {t} mm %")));
    }
    if let Some(attr) = attr.filter(|_| !groups.is_empty()) {
        header.push(format!("REN ({attr}) mm"));
    }
    let mut out = Vec::new();
    for r in rows {
        if &r.thresholds_mm != thresholds {
            return Err(MetricsError::Invalid(format!(
                "{}: thresholds {:?} differ from the first model's {thresholds:?}",
                r.name, r.thresholds_mm
            )));
        }
        let mut row = vec![r.name.clone(), r.all.n_images.to_string()];
        row.extend(cells(&r.all, thresholds));
        for g in &groups {
            let s = r
                .groups
                .get(g)
                .ok_or_else(|| MetricsError::Invalid(format!("{} has no {g} images", r.name)))?;
            row.extend(cells(s, thresholds));
        }
        if attr.is_some() && !groups.is_empty() {
            row.push(format!("{:.3}", r.ren.unwrap_or(f64::NAN)));
        }
        out.push(row);
    }
    Ok(table(&header, &out))
}

/// Per-landmark accuracy, the ISBI papers' landmark table: one row per
/// keypoint, for each model its MRE (std) and SDR at `threshold_mm`.
/// `names` label the keypoints (KP numbers without them).
pub fn per_landmark_table(
    models: &[(String, PredictionTable)],
    threshold_mm: f64,
    names: Option<&[String]>,
) -> Result<String, MetricsError> {
    let k = models
        .first()
        .ok_or_else(|| MetricsError::Invalid("no model to tabulate".into()))?
        .1
        .n_keypoints;
    if let Some((name, _)) = models.iter().find(|(_, t)| t.n_keypoints != k) {
        return Err(MetricsError::Invalid(format!(
            "{name}: keypoint count differs from the first model's {k}"
        )));
    }
    let mut header = vec!["landmark".to_string()];
    for (name, _) in models {
        header.push(format!("{name}: MRE (std) mm"));
        header.push(format!("SDR {threshold_mm} mm %"));
    }
    let mut rows = Vec::with_capacity(k);
    for kp in 0..k {
        let label = match names.and_then(|n| n.get(kp)) {
            Some(n) => format!("KP{} {n}", kp + 1),
            None => format!("KP{}", kp + 1),
        };
        let mut row = vec![label];
        for (_, t) in models {
            let errors = (0..t.n_images()).map(|i| t.errors_mm[i * k + kp]);
            let a = accuracy(errors, &[threshold_mm]);
            row.push(pm(a.mre_mm, a.mre_std_mm, 2));
            row.push(format!("{:.2}", a.sdr[0]));
        }
        rows.push(row);
    }
    Ok(table(&header, &rows))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn overall_row_from_hand_computed_errors() {
        // Errors 1, 3 (image a) and 2, 6 (image b): MRE 3, SDR@2 50 %, @4 75 %.
        let t = PredictionTable {
            images: vec!["a".into(), "b".into()],
            mm_per_px: vec![0.1, 0.1],
            n_keypoints: 2,
            errors_mm: vec![1.0, 3.0, 2.0, 6.0],
            attr_names: vec![],
            attrs: vec![vec![], vec![]],
            warnings: vec![],
        };
        let row = AccuracyRow::overall("m", &t, &[2.0, 4.0]);
        let md = accuracy_table(&[row], None).unwrap();
        let line = md.lines().nth(2).unwrap();
        // Population std of 1, 3, 2, 6 is √3.5 = 1.87.
        assert_eq!(line, "| m | 2 | 3.00 ± 1.87 | 50.00 | 75.00 |");
        // Per landmark: KP1 errors 1, 2 (MRE 1.5 ± 0.5, SDR@2 100 %); KP2
        // errors 3, 6 (4.5 ± 1.5, 0 %).
        let names = vec!["S".to_string(), "N".to_string()];
        let md = per_landmark_table(&[("m".into(), t)], 2.0, Some(&names)).unwrap();
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines[2], "| KP1 S | 1.50 ± 0.50 | 100.00 |");
        assert_eq!(lines[3], "| KP2 N | 4.50 ± 1.50 | 0.00 |");
    }
}
