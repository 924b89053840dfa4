//! Per-keypoint DP of several models side by side, as mean ± std over the
//! hold-outs (the fairness paper's Fig. 3: vanilla vs mitigated), with the
//! first model's attribute-randomised DP as an orange line.
use super::holdouts::ModelHoldouts;
use crate::metrics::chart::{axes, escape, BLUE, LEFT, ORANGE};
use crate::metrics::MetricsError;
use std::fmt::Write;

const PALETTE: [&str; 5] = [BLUE, "#2e8b57", "#8e44ad", "#7f8c8d", "#b8860b"];
const H: f64 = 340.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 45.0;

pub fn dp_compare_svg(models: &[ModelHoldouts], title: &str) -> Result<String, MetricsError> {
    let first = models
        .first()
        .ok_or_else(|| MetricsError::Invalid("no model to chart".into()))?;
    let k = first.keypoints.len();
    if k == 0 || models.iter().any(|m| m.keypoints.len() != k) {
        return Err(MetricsError::Invalid(
            "every model needs the same, non-zero number of keypoints".into(),
        ));
    }
    let width = (LEFT + RIGHT + (10.0 + 8.0 * models.len() as f64) * k as f64).max(640.0);
    let top_of = |m: &ModelHoldouts, kp: usize| {
        let s = m.keypoints[kp].dp;
        s.mean + if s.std.is_finite() { s.std } else { 0.0 }
    };
    let ymax = models
        .iter()
        .flat_map(|m| (0..k).map(move |kp| top_of(m, kp)))
        .chain(first.keypoints.iter().map(|kp| kp.dp_randomised.mean))
        .fold(0.05f64, f64::max)
        * 1.15;
    let (plot_w, plot_h) = (width - LEFT - RIGHT, H - TOP - BOTTOM);
    let bottom = TOP + plot_h;
    let x = |i: f64| LEFT + plot_w * i / k as f64;
    let y = |v: f64| bottom - plot_h * v / ymax;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{H}" viewBox="0 0 {width} {H}" font-family="sans-serif" role="img"><rect width="{width}" height="{H}" fill="white"/>"#
    );
    let _ = write!(
        svg,
        r#"<text x="{}" y="22" font-size="16" text-anchor="middle">{}</text>"#,
        width / 2.0,
        escape(title)
    );
    axes(
        &mut svg,
        TOP,
        plot_w,
        plot_h,
        ymax,
        "DP (mean ± std over hold-outs)",
    );
    let n = models.len() as f64;
    let bar = 0.8 / n;
    for kp in 0..k {
        let fk = kp as f64;
        for (j, m) in models.iter().enumerate() {
            let s = m.keypoints[kp].dp;
            let (x0, x1) = (
                x(fk + 0.1 + bar * j as f64),
                x(fk + 0.1 + bar * (j as f64 + 1.0)),
            );
            let color = PALETTE[j % PALETTE.len()];
            let _ = write!(
                svg,
                r#"<rect x="{x0:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{color}"><title>KP{} {} — {}: DP {:.3}</title></rect>"#,
                y(s.mean),
                x1 - x0,
                bottom - y(s.mean),
                kp + 1,
                escape(&m.keypoints[kp].name),
                escape(&m.model),
                s.mean
            );
            if s.std.is_finite() && s.std > 0.0 {
                let xm = (x0 + x1) / 2.0;
                let _ = write!(
                    svg,
                    r##"<line x1="{xm:.2}" x2="{xm:.2}" y1="{:.2}" y2="{:.2}" stroke="#222"/>"##,
                    y((s.mean - s.std).max(0.0)),
                    y(s.mean + s.std)
                );
            }
        }
        let r = first.keypoints[kp].dp_randomised.mean;
        let _ = write!(
            svg,
            r#"<line x1="{:.2}" x2="{:.2}" y1="{:.2}" y2="{:.2}" stroke="{ORANGE}" stroke-width="2"/><text x="{:.2}" y="{:.2}" font-size="11" text-anchor="middle">{}</text>"#,
            x(fk + 0.05),
            x(fk + 0.95),
            y(r),
            y(r),
            x(fk + 0.5),
            bottom + 15.0,
            kp + 1
        );
    }
    let lx = LEFT + plot_w - 230.0;
    let items = models.len() + 1;
    let _ = write!(
        svg,
        r##"<rect x="{lx}" y="{}" width="225" height="{}" fill="white" fill-opacity="0.85" stroke="#aaa"/>"##,
        TOP + 4.0,
        10.0 + 16.0 * items as f64
    );
    for (j, m) in models.iter().enumerate() {
        let yy = TOP + 12.0 + 16.0 * j as f64;
        let _ = write!(
            svg,
            r#"<rect x="{}" y="{yy}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="11">{} (mean DP {:.3})</text>"#,
            lx + 8.0,
            PALETTE[j % PALETTE.len()],
            lx + 24.0,
            yy + 9.0,
            escape(&m.model),
            m.dp_mean.mean
        );
    }
    let yy = TOP + 12.0 + 16.0 * models.len() as f64;
    let _ = write!(
        svg,
        r#"<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{ORANGE}" stroke-width="2"/><text x="{}" y="{}" font-size="11">randomised attributes ({})</text></svg>"#,
        lx + 8.0,
        lx + 18.0,
        yy + 5.0,
        yy + 5.0,
        lx + 24.0,
        yy + 9.0,
        escape(&first.model)
    );
    svg.push('\n');
    Ok(svg)
}
