//! The audit of `fairmark audit` on a predictions CSV's text, its chart, and
//! the CSV from detections made in the page.
use super::convert::{err, from_js, string, to_js};
use crate::metrics::chart::dp_chart_svg;
use crate::metrics::predictions::{labelled_rows, write_csv, ImagePredictions};
use crate::metrics::{AuditOptions, AuditReport, PredictionTable};
use wasm_bindgen::prelude::*;

/// Audits predictions CSV text; `options` as the CLI's flags (`rounds`,
/// `seed`, `attributes`, `thresholds_mm`, `dp_threshold_mm`, `ren_weights`,
/// `alpha`, `filter`, `privacy`, `anatomy`). Returns the `fairmark.audit/1`
/// report object.
#[wasm_bindgen]
pub fn audit(csv: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let text = string(&csv, "predictions CSV")?;
    let options: AuditOptions = if options.is_undefined() || options.is_null() {
        AuditOptions::default()
    } else {
        from_js(options, "audit options")?
    };
    to_js(&audit_text(&text, &options)?)
}

/// The report for CSV text (shared with the tests, which compare it with native).
pub fn audit_text(text: &str, options: &AuditOptions) -> Result<AuditReport, JsError> {
    let table = PredictionTable::parse_csv("predictions", text).map_err(err)?;
    let cfg = options.config(&table).map_err(err)?;
    crate::metrics::audit(&table, &cfg).map_err(err)
}

/// SVG of the per-keypoint DP chart of a report (the CLI's `--svg`).
#[wasm_bindgen(js_name = auditChartSvg)]
pub fn audit_chart_svg(report: JsValue) -> Result<String, JsError> {
    let report: AuditReport = from_js(report, "report")?;
    dp_chart_svg(&report).map_err(err)
}

/// Predictions CSV text from `[{image, attributes, truth, pred, mm_per_px}]`.
#[wasm_bindgen(js_name = predictionsCsv)]
pub fn predictions_csv(images: JsValue) -> Result<String, JsError> {
    let images: Vec<ImagePredictions> = from_js(images, "predictions")?;
    let (rows, names) = labelled_rows(&images).map_err(err)?;
    Ok(write_csv(&rows, &names))
}
