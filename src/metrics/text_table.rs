//! The audit as a readable text table for the terminal: summary, groups, REN,
//! then keypoints worst first (largest DP over the audited attributes), each
//! with the group that does worse and its signed SDR gap, and keypoints whose
//! gap is significant after Holm correction (over the whole report) marked `*`.
use super::report::{AuditReport, JOINT};
use std::fmt::Write;

pub fn render(report: &AuditReport) -> String {
    let mut s = String::new();
    let th: Vec<String> = report
        .thresholds_mm
        .iter()
        .map(|t| format!("{t}"))
        .collect();
    let sdr = |m: &indexmap::IndexMap<String, f64>| {
        th.iter()
            .map(|t| format!("{:5.1}", m.get(t).copied().unwrap_or(f64::NAN)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(
        s,
        "{} images × {} keypoints; SDR radii {} mm; DP at {} mm; {} rounds, seed {}",
        report.n_images,
        report.n_keypoints,
        th.join(", "),
        report.dp_threshold_mm,
        report.rounds,
        report.seed
    );
    let o = &report.overall;
    let _ = writeln!(
        s,
        "overall   MRE {:.3} ± {:.3} mm (95% CI {:.3}–{:.3})   SDR% {}",
        o.mre_mm,
        o.mre_std_mm,
        o.mre_ci[0],
        o.mre_ci[1],
        sdr(&o.sdr)
    );
    for (attr, groups) in &report.groups {
        if attr == JOINT && report.attributes.len() == 1 {
            continue;
        }
        for (g, a) in groups {
            let _ = writeln!(
                s,
                "{:<22} n={:<5} MRE {:.3} ± {:.3} mm   SDR% {}",
                format!("{attr}={g}"),
                a.n_images,
                a.mre_mm,
                a.mre_std_mm,
                sdr(&a.sdr)
            );
        }
        if let Some(r) = report.ren.get(attr) {
            let _ = writeln!(s, "{:<22} REN {:.4} mm", format!("{attr}"), r);
        }
    }
    let mut cols: Vec<String> = report.attributes.clone();
    if report.attributes.len() > 1 {
        cols.push(JOINT.into());
    }
    let _ = write!(s, "\n{:>4} {:<22} {:>6}", "KP", "name", "MRE");
    for c in &cols {
        let _ = write!(
            s,
            " | {:>14} {:>12} {:>15} {:>6} {:>6} {:>7}",
            format!("DP {c}"),
            "worse",
            "gap pp [95% CI]",
            "rand95",
            "p",
            "p_holm"
        );
    }
    s.push('\n');
    let mut order: Vec<usize> = (0..report.keypoints.len()).collect();
    let worst = |i: usize| {
        cols.iter()
            .map(|c| report.keypoints[i].dp.get(c).copied().unwrap_or(0.0))
            .fold(0.0, f64::max)
    };
    order.sort_by(|&a, &b| worst(b).total_cmp(&worst(a)).then(a.cmp(&b)));
    for i in order {
        let kp = &report.keypoints[i];
        let _ = write!(
            s,
            "{:>4} {:<22} {:>6.3}",
            kp.keypoint,
            truncate(&kp.name, 22),
            kp.mre_mm
        );
        for c in &cols {
            let flag = if kp.flagged.contains(c) { "*" } else { " " };
            let (worse, gap) = match kp.gap.get(c) {
                // Equal rates: no group is worse.
                Some(g) if g.sdr_gap == 0.0 => ("none".into(), "0".into()),
                Some(g) => (
                    truncate(&g.worse, 12),
                    format!(
                        "{:+.1} [{:+.0},{:+.0}]",
                        100.0 * g.sdr_gap,
                        100.0 * g.sdr_gap_ci[0],
                        100.0 * g.sdr_gap_ci[1]
                    ),
                ),
                None => ("-".into(), "-".into()),
            };
            let _ = write!(
                s,
                " | {:>13.3}{flag} {worse:>12} {gap:>15} {:>6.3} {:>6.3} {:>7.3}",
                kp.dp.get(c).copied().unwrap_or(f64::NAN),
                kp.dp_randomised.get(c).map(|b| b.p95).unwrap_or(f64::NAN),
                kp.p_value.get(c).copied().unwrap_or(f64::NAN),
                kp.p_holm.get(c).copied().unwrap_or(f64::NAN),
            );
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "worse: the group with the lowest SDR@{} mm; gap: its SDR minus the best group's, percentage points, bootstrap 95% CI",
        report.dp_threshold_mm
    );
    let family = if report.n_tests > 0 {
        format!("over all {} tests of this report", report.n_tests)
    } else {
        "per attribute (an older report)".into()
    };
    let _ = writeln!(
        s,
        "* gap significant after Holm correction {family} (p_holm < {}); rand95: Di Via et al.'s randomisation band, a reproduction, not a null",
        report.alpha
    );
    for c in &cols {
        let _ = writeln!(
            s,
            "mean DP over keypoints ({c}): {:.4}",
            report.dp_mean.get(c).copied().unwrap_or(f64::NAN)
        );
    }
    for (attr, p) in &report.privacy {
        let _ = writeln!(
            s,
            "privacy attack on {attr}{}: accuracy {:.3} ± {:.3} (majority baseline {:.3}, {}-fold RF on per-keypoint errors)",
            p.filter.as_ref().map(|f| format!(" [{f}]")).unwrap_or_default(),
            p.accuracy_mean,
            p.accuracy_std,
            p.baseline,
            p.folds
        );
    }
    for w in &report.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    s
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}
