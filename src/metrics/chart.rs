//! The per-keypoint DP bar chart (like the fairness paper's Fig. 2, bottom):
//! observed DP per keypoint as bars, the attribute-randomised DP as an orange
//! band (mean line, 95th-percentile bar), keypoints significant after Holm
//! correction marked with ★. A bar's colour is the group that does worse
//! there (DP alone has no direction). One panel per audited attribute, plus
//! the joint groups when there are several attributes.
//!
//! Written as SVG text directly rather than with a plotting crate: in the
//! browser, plotters measures text by inserting styled DOM elements, which the
//! page's Content-Security-Policy (`style-src 'self'`) forbids and which does
//! not exist in a Web Worker. Text here is positioned with `text-anchor`, so
//! nothing needs measuring and the output is the same on every target.
use super::error::MetricsError;
use super::report::{AuditReport, KeypointReport, JOINT};
use std::fmt::Write;

pub(crate) const BLUE: &str = "#316395";
pub(crate) const ORANGE: &str = "#e68c28";
const RED: &str = "#c0392b";
/// Bar colours, one per group in the report's order (cycled past six).
const GROUP_COLOURS: [&str; 6] = [BLUE, "#2e8b57", "#8e44ad", "#7f8c8d", "#b9770e", "#16a085"];
const PANEL_H: f64 = 300.0;
pub(crate) const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 45.0;

pub fn dp_chart_svg(report: &AuditReport) -> Result<String, MetricsError> {
    let mut panels: Vec<String> = report.attributes.clone();
    if report.attributes.len() > 1 {
        panels.push(JOINT.to_string());
    }
    if panels.is_empty() || report.n_keypoints == 0 {
        return Err(MetricsError::Invalid(
            "the report has no attribute or no keypoint to chart".into(),
        ));
    }
    let width = (LEFT + RIGHT + 22.0 * report.n_keypoints as f64).max(640.0);
    let height = PANEL_H * panels.len() as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" role="img">"#
    );
    svg += &format!(r#"<rect width="{width}" height="{height}" fill="white"/>"#);
    for (i, attr) in panels.iter().enumerate() {
        panel(&mut svg, report, attr, i as f64 * PANEL_H, width);
    }
    svg += "</svg>\n";
    Ok(svg)
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A "nice" axis step giving about five ticks up to `max`.
fn tick_step(max: f64) -> f64 {
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// Grid lines with y ticks, both axes, the y label and "keypoint" below, for
/// a plot area `plot_w × plot_h` whose top edge is at `top`.
pub(crate) fn axes(svg: &mut String, top: f64, plot_w: f64, plot_h: f64, ymax: f64, y_label: &str) {
    let bottom = top + plot_h;
    let y = |v: f64| bottom - plot_h * v / ymax;
    let step = tick_step(ymax);
    let mut t = 0.0;
    while t <= ymax + 1e-12 {
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{yy:.2}" y2="{yy:.2}" stroke="#ddd"/><text x="{}" y="{:.2}" font-size="11" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            y(t) + 4.0,
            (t * 1e6).round() / 1e6,
            yy = y(t)
        );
        t += step;
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="{top}" y2="{bottom}" stroke="#333"/><line x1="{LEFT}" x2="{}" y1="{bottom}" y2="{bottom}" stroke="#333"/><text x="16" y="{mid:.2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 {mid:.2})">{}</text><text x="{}" y="{}" font-size="12" text-anchor="middle">keypoint</text>"##,
        LEFT + plot_w,
        escape(y_label),
        LEFT + plot_w / 2.0,
        bottom + 36.0,
        mid = top + plot_h / 2.0
    );
}

fn panel(svg: &mut String, report: &AuditReport, attr: &str, y0: f64, width: f64) {
    let k = report.n_keypoints;
    let get = |f: &dyn Fn(&KeypointReport) -> Option<f64>| -> Vec<f64> {
        report
            .keypoints
            .iter()
            .map(|kp| f(kp).filter(|v| v.is_finite()).unwrap_or(0.0))
            .collect()
    };
    let dp = get(&|kp| kp.dp.get(attr).copied());
    let rmean = get(&|kp| kp.dp_randomised.get(attr).map(|b| b.mean));
    let rp95 = get(&|kp| kp.dp_randomised.get(attr).map(|b| b.p95));
    let ymax = dp.iter().chain(&rp95).fold(0.05f64, |a, &b| a.max(b)) * 1.2;
    let plot_w = width - LEFT - RIGHT;
    let plot_h = PANEL_H - TOP - BOTTOM;
    let bottom = y0 + TOP + plot_h;
    let x = |i: f64| LEFT + plot_w * i / k as f64;
    let y = |v: f64| bottom - plot_h * v / ymax;
    let title = format!(
        "Per-keypoint DP of SDR@{} mm — {attr} (mean {:.3})",
        report.dp_threshold_mm,
        report.dp_mean.get(attr).copied().unwrap_or(f64::NAN)
    );
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" font-size="16" text-anchor="middle">{}</text>"#,
        width / 2.0,
        y0 + 22.0,
        escape(&title)
    );
    axes(svg, y0 + TOP, plot_w, plot_h, ymax, "DP");
    let label_every = k.div_ceil(40).max(1);
    let groups: Vec<&String> = report
        .groups
        .get(attr)
        .map(|g| g.keys().collect())
        .unwrap_or_default();
    let colour = |name: &str| {
        groups
            .iter()
            .position(|g| *g == name)
            .map_or(BLUE, |i| GROUP_COLOURS[i % GROUP_COLOURS.len()])
    };
    for i in 0..k {
        let fi = i as f64;
        let kp = &report.keypoints[i];
        let (fill, direction) = match kp.gap.get(attr) {
            Some(g) => (
                colour(&g.worse),
                format!(
                    "; worse: {} ({:+.1} pp SDR, 95% CI {:+.1} to {:+.1}; MRE {:+.2} mm)",
                    g.worse,
                    100.0 * g.sdr_gap,
                    100.0 * g.sdr_gap_ci[0],
                    100.0 * g.sdr_gap_ci[1],
                    g.mre_gap_mm
                ),
            ),
            None => (BLUE, String::new()),
        };
        let _ = write!(
            svg,
            r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{fill}"><title>KP{} {}: DP {:.3}{}</title></rect>"#,
            x(fi + 0.15),
            y(dp[i]),
            x(fi + 0.85) - x(fi + 0.15),
            bottom - y(dp[i]),
            i + 1,
            escape(&kp.name),
            dp[i],
            escape(&direction)
        );
        let _ = write!(
            svg,
            r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{ORANGE}" fill-opacity="0.45"/><line x1="{:.2}" x2="{:.2}" y1="{:.2}" y2="{:.2}" stroke="{ORANGE}" stroke-width="2"/>"#,
            x(fi + 0.35),
            y(rp95[i]),
            x(fi + 0.65) - x(fi + 0.35),
            bottom - y(rp95[i]),
            x(fi + 0.2),
            x(fi + 0.8),
            y(rmean[i]),
            y(rmean[i])
        );
        if report.keypoints[i].flagged.iter().any(|f| f == attr) {
            let _ = write!(
                svg,
                r#"<text x="{:.2}" y="{:.2}" font-size="14" fill="{RED}" text-anchor="middle">★</text>"#,
                x(fi + 0.5),
                y(dp[i]) - 4.0
            );
        }
        if i % label_every == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.2}" y="{:.2}" font-size="11" text-anchor="middle">{}</text>"#,
                x(fi + 0.5),
                bottom + 15.0,
                i + 1
            );
        }
    }
    // Legend, upper right.
    let lx = LEFT + plot_w - 215.0;
    let ly = y0 + TOP + 4.0;
    let shown: Vec<&String> = groups.iter().copied().take(GROUP_COLOURS.len()).collect();
    let _ = write!(
        svg,
        r##"<rect x="{lx}" y="{ly}" width="210" height="{}" fill="white" fill-opacity="0.8" stroke="#aaa"/>"##,
        58.0 + 16.0 * shown.len() as f64
    );
    let mut items: Vec<(String, String)> = shown
        .iter()
        .enumerate()
        .map(|(j, g)| {
            (
                format!(
                    r#"<rect width="10" height="10" fill="{}"/>"#,
                    GROUP_COLOURS[j]
                ),
                format!("observed DP, {} worse", escape(g)),
            )
        })
        .collect();
    if items.is_empty() {
        items.push((
            format!(r#"<rect width="10" height="10" fill="{BLUE}"/>"#),
            "observed DP".into(),
        ));
    }
    let band = [
        (
            format!(r#"<rect width="10" height="10" fill="{ORANGE}" fill-opacity="0.45"/>"#),
            "randomised attributes: 95th pct",
        ),
        (
            format!(r#"<line x1="0" x2="10" y1="5" y2="5" stroke="{ORANGE}" stroke-width="2"/>"#),
            "randomised attributes: mean",
        ),
    ];
    items.extend(band.into_iter().map(|(m, t)| (m, t.to_string())));
    for (j, (mark, text)) in items.iter().enumerate() {
        let yy = ly + 8.0 + 16.0 * j as f64;
        let _ = write!(
            svg,
            r#"<g transform="translate({} {yy})">{mark}</g><text x="{}" y="{}" font-size="11">{text}</text>"#,
            lx + 8.0,
            lx + 24.0,
            yy + 9.0
        );
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(0.06), 0.02);
        assert_eq!(tick_step(0.5), 0.1);
        assert_eq!(tick_step(1.2), 0.25);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    /// The bar says which group is worse: B fails at KP1, A at KP2, so the
    /// two bars take the two groups' colours and name them.
    #[test]
    fn bars_show_the_worse_group() {
        use crate::metrics::predictions::PredictionTable;
        use crate::metrics::report::{audit, AuditConfig};
        let mut text = "image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,g\n".to_string();
        for i in 0..40 {
            let g = ["A", "B"][i % 2];
            let e1 = if g == "B" && i % 4 == 1 { 3.0 } else { 1.0 };
            let e2 = if g == "A" && i % 4 == 0 { 3.0 } else { 1.0 };
            text += &format!("i{i},1,{e1},0,0,0,1,{g}\ni{i},2,{e2},0,0,0,1,{g}\n");
        }
        let t = PredictionTable::parse_csv("t", &text).unwrap();
        let r = audit(
            &t,
            &AuditConfig {
                rounds: 50,
                privacy: None,
                ..Default::default()
            },
        )
        .unwrap();
        let svg = dp_chart_svg(&r).unwrap();
        let bar = |kp: usize| {
            let at = svg.find(&format!("<title>KP{kp} ")).unwrap();
            let start = svg[..at].rfind("<rect").unwrap();
            svg[start..at + 200].to_string()
        };
        let (b1, b2) = (bar(1), bar(2));
        assert!(
            b1.contains(GROUP_COLOURS[1]) && b1.contains("worse: B (-50.0 pp"),
            "{b1}"
        );
        assert!(
            b2.contains(GROUP_COLOURS[0]) && b2.contains("worse: A (-50.0 pp"),
            "{b2}"
        );
        assert!(svg.contains("observed DP, A worse") && svg.contains("observed DP, B worse"));
    }
}
