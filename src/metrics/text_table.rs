//! The audit as a readable text table for the terminal: summary, groups, REN,
//! then keypoints worst first (largest DP over the audited attributes), with
//! keypoints whose gap is significant after Holm correction marked `*`.
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
            " | {:>14} {:>6} {:>6} {:>7}",
            format!("DP {c}"),
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
            let _ = write!(
                s,
                " | {:>13.3}{flag} {:>6.3} {:>6.3} {:>7.3}",
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
        "* gap significant after Holm correction (p_holm < {})",
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
