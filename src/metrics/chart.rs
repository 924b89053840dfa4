//! The per-keypoint DP bar chart (like the fairness paper's Fig. 2, bottom):
//! observed DP per keypoint as bars, the attribute-randomised DP as an orange
//! band (mean line, 95th-percentile bar), significant keypoints marked with ★.
//! One panel per audited attribute, plus the joint groups when there are
//! several attributes. Drawn with plotters into an SVG string.
use super::report::{AuditReport, JOINT};
use plotters::prelude::*;

const BLUE: RGBColor = RGBColor(49, 99, 149);
const ORANGE: RGBColor = RGBColor(230, 140, 40);

pub fn dp_chart_svg(report: &AuditReport) -> Result<String, String> {
    let mut panels: Vec<String> = report.attributes.clone();
    if report.attributes.len() > 1 {
        panels.push(JOINT.to_string());
    }
    let k = report.n_keypoints;
    let width = (160 + 22 * k as u32).max(640);
    let panel_h = 300u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, panel_h * panels.len() as u32))
            .into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let areas = root.split_evenly((panels.len(), 1));
        for (area, attr) in areas.iter().zip(&panels) {
            draw_panel(area, report, attr).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    report: &AuditReport,
    attr: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let k = report.n_keypoints;
    let get = |f: &dyn Fn(&super::report::KeypointReport) -> Option<f64>| -> Vec<f64> {
        report
            .keypoints
            .iter()
            .map(|kp| f(kp).unwrap_or(0.0))
            .collect()
    };
    let dp = get(&|kp| kp.dp.get(attr).copied());
    let rmean = get(&|kp| kp.dp_randomised.get(attr).map(|b| b.mean));
    let rp95 = get(&|kp| kp.dp_randomised.get(attr).map(|b| b.p95));
    let ymax = dp.iter().chain(&rp95).fold(0.05f64, |a, &b| a.max(b)) * 1.2;
    let title = format!(
        "Per-keypoint DP of SDR@{} mm — {attr} (mean {:.3})",
        report.dp_threshold_mm,
        report.dp_mean.get(attr).copied().unwrap_or(f64::NAN)
    );
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..k as f64, 0f64..ymax)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(k.min(40))
        .x_label_formatter(&|x| format!("{}", x.floor() as usize + 1))
        .x_desc("keypoint")
        .y_desc("DP")
        .draw()?;
    chart
        .draw_series((0..k).map(|i| {
            Rectangle::new(
                [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, dp[i])],
                BLUE.filled(),
            )
        }))?
        .label("observed DP")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], BLUE.filled()));
    chart
        .draw_series((0..k).map(|i| {
            Rectangle::new(
                [(i as f64 + 0.35, 0.0), (i as f64 + 0.65, rp95[i])],
                ORANGE.mix(0.45).filled(),
            )
        }))?
        .label("randomised attributes: 95th pct")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], ORANGE.mix(0.45).filled()));
    chart
        .draw_series((0..k).map(|i| {
            PathElement::new(
                vec![(i as f64 + 0.2, rmean[i]), (i as f64 + 0.8, rmean[i])],
                ORANGE.stroke_width(2),
            )
        }))?
        .label("randomised attributes: mean")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 10, y)], ORANGE.stroke_width(2)));
    let flagged = report
        .keypoints
        .iter()
        .enumerate()
        .filter(|(_, kp)| kp.flagged.iter().any(|f| f == attr));
    chart.draw_series(flagged.map(|(i, _)| {
        Text::new(
            "★",
            (i as f64 + 0.3, dp[i] + ymax * 0.06),
            ("sans-serif", 14).into_font().color(&RED),
        )
    }))?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}
