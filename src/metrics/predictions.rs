//! The predictions table of DESIGN.md, one row per image × keypoint:
//! `image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,<attribute columns…>`,
//! keypoint 1-based, coordinates in original-image pixels.
//!
//! Parsing works on text (so the browser can hand over a file's contents) and
//! turns the table into per-(image, keypoint) radial errors in millimetres.
use super::error::{MetricsError, Result};
use std::collections::{BTreeMap, HashMap};

/// Most keypoints a predictions table may number: the anatomies here have 10
/// to 37 and dense face or spine sets a few hundred, so a larger number is a
/// typo or a hostile file (it would size every image's row of errors).
pub const MAX_KEYPOINTS: usize = 1000;

/// Most images a predictions table may hold. Public landmark sets have at most
/// tens of thousands of radiographs; every bootstrap and permutation round of
/// the audit visits each image, so far more than that would run for hours
/// rather than fail.
pub const MAX_IMAGES: usize = 1_000_000;

pub const REQUIRED_COLUMNS: [&str; 7] = [
    "image",
    "keypoint",
    "x_pred",
    "y_pred",
    "x_true",
    "y_true",
    "mm_per_px",
];

/// One prediction row, as written by `eval` and `synth predictions`.
#[derive(Clone, Debug, PartialEq)]
pub struct PredictionRow {
    pub image: String,
    /// 1-based keypoint number.
    pub keypoint: usize,
    pub pred: [f64; 2],
    pub truth: [f64; 2],
    pub mm_per_px: f64,
}

/// Radial errors of every (image, keypoint), with each image's attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct PredictionTable {
    pub images: Vec<String>,
    pub mm_per_px: Vec<f64>,
    pub n_keypoints: usize,
    /// Row-major `images × keypoints`, millimetres.
    pub errors_mm: Vec<f64>,
    /// Attribute column names, in file order.
    pub attr_names: Vec<String>,
    /// `attrs[i][a]`: image i's group for attribute a; `None` when the cell is empty.
    pub attrs: Vec<Vec<Option<String>>>,
    /// Problems the audit could go on with (dropped images, duplicate rows).
    pub warnings: Vec<String>,
}

impl PredictionTable {
    pub fn n_images(&self) -> usize {
        self.images.len()
    }

    /// Radial errors of image `i`, one per keypoint.
    pub fn image_errors(&self, i: usize) -> &[f64] {
        let k = self.n_keypoints;
        &self.errors_mm[i * k..(i + 1) * k]
    }

    pub fn error(&self, image: usize, keypoint: usize) -> f64 {
        self.errors_mm[image * self.n_keypoints + keypoint]
    }

    pub fn attr_index(&self, name: &str) -> Result<usize> {
        self.attr_names
            .iter()
            .position(|a| a == name)
            .ok_or_else(|| {
                MetricsError::Invalid(format!(
                "attribute {name:?} is not a column of the predictions; attribute columns are: {}",
                if self.attr_names.is_empty() {
                    "(none)".to_string()
                } else {
                    self.attr_names.join(", ")
                }
            ))
            })
    }

    /// Keeps only the images whose attribute `name` equals `group`.
    pub fn filter(&self, name: &str, group: &str) -> Result<Self> {
        let a = self.attr_index(name)?;
        let keep: Vec<usize> = (0..self.n_images())
            .filter(|&i| self.attrs[i][a].as_deref() == Some(group))
            .collect();
        if keep.is_empty() {
            return Err(MetricsError::Invalid(format!(
                "no image has {name}={group}"
            )));
        }
        Ok(self.select(&keep))
    }

    /// The images at `rows`, in that order (warnings kept).
    pub fn select(&self, rows: &[usize]) -> Self {
        Self {
            images: rows.iter().map(|&i| self.images[i].clone()).collect(),
            mm_per_px: rows.iter().map(|&i| self.mm_per_px[i]).collect(),
            n_keypoints: self.n_keypoints,
            errors_mm: rows
                .iter()
                .flat_map(|&i| self.image_errors(i).to_vec())
                .collect(),
            attr_names: self.attr_names.clone(),
            attrs: rows.iter().map(|&i| self.attrs[i].clone()).collect(),
            warnings: self.warnings.clone(),
        }
    }

    /// Parses predictions CSV text. `source_name` names the file in errors.
    pub fn parse_csv(source_name: &str, text: &str) -> Result<Self> {
        let err = |line: Option<usize>, p: String| MetricsError::format(source_name, line, p);
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = rdr
            .headers()
            .map_err(|e| err(Some(1), e.to_string()))?
            .clone();
        if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
            return Err(err(None, "empty file: expected a header and rows".into()));
        }
        // One index of the header: a file may have very many columns, and
        // each name must be found once, not searched for per column. A name
        // given twice would leave it unclear which column is meant.
        let mut column: HashMap<&str, usize> = HashMap::with_capacity(headers.len());
        for (i, h) in headers.iter().enumerate() {
            if let Some(first) = column.insert(h, i) {
                return Err(err(
                    Some(1),
                    format!(
                        "column {h:?} appears twice (columns {} and {})",
                        first + 1,
                        i + 1
                    ),
                ));
            }
        }
        let col = |name: &str| column.get(name).copied();
        let missing: Vec<&str> = REQUIRED_COLUMNS
            .iter()
            .copied()
            .filter(|c| col(c).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(err(
                Some(1),
                format!(
                    "missing column(s) {}; the header must contain {}",
                    missing.join(", "),
                    REQUIRED_COLUMNS.join(",")
                ),
            ));
        }
        let idx: Vec<usize> = REQUIRED_COLUMNS.iter().filter_map(|c| col(c)).collect();
        let mut is_required = vec![false; headers.len()];
        for &c in &idx {
            is_required[c] = true;
        }
        let attr_cols: Vec<usize> = (0..headers.len()).filter(|&c| !is_required[c]).collect();
        let attr_names: Vec<String> = attr_cols.iter().map(|&c| headers[c].to_string()).collect();

        let mut acc = Accumulator::new(source_name, attr_names);
        for rec in rdr.records() {
            let rec = rec.map_err(|e| err(None, e.to_string()))?;
            let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
            if rec.iter().all(str::is_empty) {
                continue;
            }
            let get = |c: usize| rec.get(c).unwrap_or("");
            let kp_text = get(idx[1]);
            // Parsed as u64, not usize: on 32-bit wasm "4294967296" would
            // otherwise read as "not an integer" instead of "too large".
            let keypoint: u64 = kp_text.parse().ok().filter(|&k| k >= 1).ok_or_else(|| {
                err(
                    Some(line),
                    format!("keypoint {kp_text:?} is not a 1-based integer"),
                )
            })?;
            // Checked again by the accumulator; here too so that the message
            // quotes the cell as written.
            if keypoint > MAX_KEYPOINTS as u64 {
                return Err(err(
                    Some(line),
                    format!(
                        "keypoint {kp_text} is more than the limit of {MAX_KEYPOINTS} keypoints"
                    ),
                ));
            }
            let keypoint = keypoint as usize;
            let num = |j: usize| -> Result<f64> {
                let v = get(idx[j]);
                v.parse().map_err(|_| {
                    err(
                        Some(line),
                        format!("column {}: {v:?} is not a number", REQUIRED_COLUMNS[j]),
                    )
                })
            };
            let row = PredictionRow {
                image: get(idx[0]).to_string(),
                keypoint,
                pred: [num(2)?, num(3)?],
                truth: [num(4)?, num(5)?],
                mm_per_px: num(6)?,
            };
            let attrs: Vec<Option<String>> = attr_cols
                .iter()
                .map(|&c| Some(get(c).to_string()).filter(|s| !s.is_empty()))
                .collect();
            acc.push(&row, attrs, line)?;
        }
        acc.finish()
    }

    /// The table of prediction rows held in memory (what `eval` predicted),
    /// with the same checks as [`PredictionTable::parse_csv`] and no detour
    /// through CSV text. Empty attribute values are unknown.
    pub fn from_rows(
        source_name: &str,
        rows: &[LabelledRow],
        attr_names: &[String],
    ) -> Result<Self> {
        let mut acc = Accumulator::new(source_name, attr_names.to_vec());
        for (i, (row, attrs)) in rows.iter().enumerate() {
            if attrs.len() != attr_names.len() {
                return Err(MetricsError::format(
                    source_name,
                    Some(i + 1),
                    format!(
                        "{} attribute values for {} attribute columns",
                        attrs.len(),
                        attr_names.len()
                    ),
                ));
            }
            let attrs = attrs
                .iter()
                .map(|a| Some(a.clone()).filter(|s| !s.is_empty()))
                .collect();
            acc.push(row, attrs, i + 1)?;
        }
        acc.finish()
    }
}

/// Rows of one image, gathered until every keypoint is there.
struct ImageAcc {
    mm_per_px: f64,
    attrs: Vec<Option<String>>,
    errors: BTreeMap<usize, (f64, usize)>,
    first_line: usize,
}

/// Builds a [`PredictionTable`] row by row, checking each (finite numbers,
/// positive spacing, one spacing and one set of attributes per image, no
/// disagreeing duplicates). `line` numbers rows in errors.
struct Accumulator<'a> {
    source_name: &'a str,
    attr_names: Vec<String>,
    order: Vec<String>,
    images: HashMap<String, ImageAcc>,
    warnings: Vec<String>,
    max_kp: usize,
    /// [`MAX_IMAGES`], lower in tests (a million rows is slow to make).
    max_images: usize,
}

impl<'a> Accumulator<'a> {
    fn new(source_name: &'a str, attr_names: Vec<String>) -> Self {
        Self {
            source_name,
            attr_names,
            order: Vec::new(),
            images: HashMap::new(),
            warnings: Vec::new(),
            max_kp: 0,
            max_images: MAX_IMAGES,
        }
    }

    fn push(&mut self, row: &PredictionRow, attrs: Vec<Option<String>>, line: usize) -> Result<()> {
        let source_name = self.source_name;
        let err = |p: String| MetricsError::format(source_name, Some(line), p);
        let image = &row.image;
        if image.is_empty() {
            return Err(err("empty image name".into()));
        }
        let keypoint = row.keypoint;
        if keypoint == 0 {
            return Err(err("keypoint 0 is not a 1-based keypoint number".into()));
        }
        if keypoint > MAX_KEYPOINTS {
            return Err(err(format!(
                "keypoint {keypoint} is more than the limit of {MAX_KEYPOINTS} keypoints"
            )));
        }
        let values = [
            ("x_pred", row.pred[0]),
            ("y_pred", row.pred[1]),
            ("x_true", row.truth[0]),
            ("y_true", row.truth[1]),
            ("mm_per_px", row.mm_per_px),
        ];
        if let Some((name, v)) = values.iter().find(|(_, v)| !v.is_finite()) {
            return Err(err(format!("column {name}: {v} is not finite")));
        }
        let mm = row.mm_per_px;
        if mm <= 0.0 {
            return Err(err(format!("mm_per_px must be > 0, got {mm}")));
        }
        let e = (row.pred[0] - row.truth[0]).hypot(row.pred[1] - row.truth[1]) * mm;
        // Finite coordinates can still be far apart enough to overflow.
        if !e.is_finite() {
            return Err(err(format!(
                "the radial error of image {image}, keypoint {keypoint} is not finite (coordinates too large)"
            )));
        }
        if self.order.len() >= self.max_images && !self.images.contains_key(image) {
            return Err(err(format!(
                "more than the limit of {} images",
                self.max_images
            )));
        }
        let order = &mut self.order;
        let entry = self.images.entry(image.clone()).or_insert_with(|| {
            order.push(image.clone());
            ImageAcc {
                mm_per_px: mm,
                attrs: attrs.clone(),
                errors: BTreeMap::new(),
                first_line: line,
            }
        });
        if (entry.mm_per_px - mm).abs() > 1e-9 * mm.max(1.0) {
            return Err(err(format!(
                "image {image}: mm_per_px {mm} differs from {} on line {}",
                entry.mm_per_px, entry.first_line
            )));
        }
        if entry.attrs != attrs {
            return Err(err(format!(
                "image {image}: attributes differ from line {}",
                entry.first_line
            )));
        }
        if let Some(&(prev, prev_line)) = entry.errors.get(&keypoint) {
            if (prev - e).abs() > 1e-9 {
                return Err(err(format!(
                    "image {image}, keypoint {keypoint}: duplicate row disagrees with line {prev_line}"
                )));
            }
            self.warnings.push(format!(
                "{source_name}, line {line}: duplicate row for image {image}, keypoint {keypoint} (same values as line {prev_line}); ignored"
            ));
            return Ok(());
        }
        entry.errors.insert(keypoint, (e, line));
        self.max_kp = self.max_kp.max(keypoint);
        Ok(())
    }

    fn finish(self) -> Result<PredictionTable> {
        let source_name = self.source_name;
        let err = |p: String| MetricsError::format(source_name, None, p);
        if self.order.is_empty() {
            return Err(err("no prediction rows".into()));
        }
        let max_kp = self.max_kp;
        let mut table = PredictionTable {
            images: Vec::new(),
            mm_per_px: Vec::new(),
            n_keypoints: max_kp,
            errors_mm: Vec::new(),
            attr_names: self.attr_names,
            attrs: Vec::new(),
            warnings: self.warnings,
        };
        for name in self.order {
            let a = &self.images[&name];
            if a.errors.len() != max_kp {
                let missing: Vec<String> = (1..=max_kp)
                    .filter(|k| !a.errors.contains_key(k))
                    .take(5)
                    .map(|k| k.to_string())
                    .collect();
                table.warnings.push(format!(
                    "{source_name}: image {name} has no row for keypoint(s) {}; image left out of the audit",
                    missing.join(", ")
                ));
                continue;
            }
            table.mm_per_px.push(a.mm_per_px);
            table.attrs.push(a.attrs.clone());
            table.errors_mm.extend(a.errors.values().map(|v| v.0));
            table.images.push(name);
        }
        if table.images.is_empty() {
            return Err(err(format!("no image has all {max_kp} keypoints")));
        }
        Ok(table)
    }
}

/// A prediction row with its image's attribute values (in column order).
pub type LabelledRow = (PredictionRow, Vec<String>);

/// Writes prediction rows as CSV text with the given attribute columns.
pub fn write_csv(rows: &[LabelledRow], attr_names: &[String]) -> String {
    let mut out = REQUIRED_COLUMNS.join(",");
    for a in attr_names {
        out.push(',');
        out.push_str(&csv_text(a));
    }
    out.push('\n');
    for (r, attrs) in rows {
        out.push_str(&format!(
            "{},{},{:.4},{:.4},{:.4},{:.4},{}",
            csv_text(&r.image),
            r.keypoint,
            r.pred[0],
            r.pred[1],
            r.truth[0],
            r.truth[1],
            r.mm_per_px
        ));
        for v in attrs {
            out.push(',');
            out.push_str(&csv_text(v));
        }
        out.push('\n');
    }
    out
}

/// A text cell of a CSV file that people open in spreadsheets: a leading
/// `=`, `+`, `-`, `@`, tab or carriage return would start a formula there, so
/// the cell gets a leading `'` (OWASP's advice; `www/js/csv.js` does the
/// same); then RFC 4180 quoting when it holds a comma, quote or line break.
pub fn csv_text(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The predictions of one image with its ground truth, as the browser
/// collects them after detecting a sample set.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagePredictions {
    pub image: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    pub truth: Vec<[f64; 2]>,
    pub pred: Vec<[f64; 2]>,
    pub mm_per_px: f64,
}

/// Rows of the predictions table for whole images; attribute columns are the
/// union of the images' attribute names, sorted. Errors name the image.
pub fn labelled_rows(images: &[ImagePredictions]) -> Result<(Vec<LabelledRow>, Vec<String>)> {
    let bad = |m: String| MetricsError::Invalid(m);
    let names: Vec<String> = images
        .iter()
        .flat_map(|im| im.attributes.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut rows = Vec::new();
    for im in images {
        if im.image.is_empty() || im.image.contains([',', '\n', '"']) {
            return Err(bad(format!(
                "image name {:?} must be non-empty, without commas, quotes or line breaks",
                im.image
            )));
        }
        if im.truth.len() > MAX_KEYPOINTS {
            return Err(bad(format!(
                "image {}: {} landmarks, more than the limit of {MAX_KEYPOINTS} keypoints",
                im.image,
                im.truth.len()
            )));
        }
        if im.truth.len() != im.pred.len() || im.truth.is_empty() {
            return Err(bad(format!(
                "image {}: {} true and {} predicted landmarks",
                im.image,
                im.truth.len(),
                im.pred.len()
            )));
        }
        if !(im.mm_per_px.is_finite() && im.mm_per_px > 0.0) {
            return Err(bad(format!(
                "image {}: mm_per_px must be > 0, got {}",
                im.image, im.mm_per_px
            )));
        }
        if let Some(k) = im
            .truth
            .iter()
            .chain(&im.pred)
            .position(|p| !(p[0].is_finite() && p[1].is_finite()))
        {
            return Err(bad(format!(
                "image {}: landmark {} is not a finite point",
                im.image,
                k % im.truth.len() + 1
            )));
        }
        let attrs: Vec<String> = names
            .iter()
            .map(|n| im.attributes.get(n).cloned().unwrap_or_default())
            .collect();
        if let Some(v) = attrs.iter().find(|v| v.contains([',', '\n', '"'])) {
            return Err(bad(format!(
                "image {}: attribute value {v:?} has a comma, quote or line break",
                im.image
            )));
        }
        for (k, (t, p)) in im.truth.iter().zip(&im.pred).enumerate() {
            rows.push((
                PredictionRow {
                    image: im.image.clone(),
                    keypoint: k + 1,
                    pred: *p,
                    truth: *t,
                    mm_per_px: im.mm_per_px,
                },
                attrs.clone(),
            ));
        }
    }
    Ok((rows, names))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// Names from file names and publishers cannot become spreadsheet
    /// formulas or break the columns, and still read back as one cell each.
    #[test]
    fn text_cells_are_neither_formulas_nor_column_breakers() {
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_text("a,b"), "\"a,b\"");
        assert_eq!(csv_text("plain.png"), "plain.png");
        let row = PredictionRow {
            image: "=cmd|' /C calc'!A0,x.png".into(),
            keypoint: 1,
            pred: [1.0, 2.0],
            truth: [1.0, 2.0],
            mm_per_px: 0.1,
        };
        let csv = write_csv(&[(row, vec!["+g,1".into()])], &["-attr".into()]);
        let t = PredictionTable::parse_csv("x.csv", &csv).unwrap();
        assert_eq!(t.images, vec!["'=cmd|' /C calc'!A0,x.png".to_string()]);
        assert_eq!(t.attr_names, vec!["'-attr".to_string()]);
    }

    const HEAD: &str = "image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,sex\n";

    #[test]
    fn radial_error_in_mm() {
        let t = PredictionTable::parse_csv(
            "p.csv",
            &format!("{HEAD}a,1,3,4,0,0,0.1,F\na,2,0,0,0,0,0.1,F\nb,2,1,0,0,0,0.5,M\nb,1,0,2,0,0,0.5,M\n"),
        )
        .unwrap();
        assert_eq!(t.images, vec!["a", "b"]);
        assert_eq!(t.n_keypoints, 2);
        assert_eq!(t.errors_mm, vec![0.5, 0.0, 1.0, 0.5]);
        assert_eq!(t.attrs[1], vec![Some("M".to_string())]);
        assert!(t.warnings.is_empty());
    }

    fn err_of(body: &str) -> String {
        PredictionTable::parse_csv("p.csv", body)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_inputs_name_line_and_problem() {
        assert_eq!(
            err_of("image,keypoint,x_pred,y_pred,mm_per_px\na,1,0,0,1\n"),
            "p.csv, line 1: missing column(s) x_true, y_true; the header must contain image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px"
        );
        assert_eq!(
            err_of(&format!("{HEAD}a,1,0,0,0,0,0.1,F\na,2,NaN,0,0,0,0.1,F\n")),
            "p.csv, line 3: column x_pred: NaN is not finite"
        );
        assert_eq!(
            err_of(&format!("{HEAD}a,1,zero,0,0,0,0.1,F\n")),
            "p.csv, line 2: column x_pred: \"zero\" is not a number"
        );
        assert!(err_of(&format!("{HEAD}a,0,0,0,0,0,0.1,F\n")).contains("line 2: keypoint \"0\""));
        assert!(err_of(&format!("{HEAD}a,1,0,0,0,0,0,F\n")).contains("mm_per_px must be > 0"));
        assert!(
            err_of(&format!("{HEAD}a,1,0,0,0,0,0.1,F\na,2,0,0,0,0,0.2,F\n"))
                .contains("line 3: image a: mm_per_px")
        );
        assert!(
            err_of(&format!("{HEAD}a,1,0,0,0,0,0.1,F\na,2,0,0,0,0,0.1,M\n"))
                .contains("attributes differ from line 2")
        );
        assert!(
            err_of(&format!("{HEAD}a,1,0,0,0,0,0.1,F\na,1,5,0,0,0,0.1,F\n"))
                .contains("duplicate row disagrees")
        );
        assert_eq!(err_of(""), "p.csv: empty file: expected a header and rows");
        assert_eq!(err_of(HEAD), "p.csv: no prediction rows");
        assert!(err_of(&format!("{HEAD}a,1,0,0,0,0,0.1,F,extra\n")).contains("p.csv"));
    }

    /// 100,000 attribute columns parse in linear time (the header is
    /// indexed once, not searched per column); a name given twice is refused.
    #[test]
    fn many_columns_are_indexed_and_duplicates_refused() {
        let n = 100_000;
        let mut text = String::from("image,keypoint,x_pred,y_pred,x_true,y_true");
        let mut row = String::from("a,1,0,0,3,4");
        for i in 0..n {
            text += &format!(",c{i}");
            row += ",g";
        }
        // A required column last, after all the attributes.
        text += ",mm_per_px\n";
        row += ",0.5\n";
        let t0 = std::time::Instant::now();
        let t = PredictionTable::parse_csv("wide.csv", &(text + &row)).unwrap();
        assert!(t0.elapsed().as_secs_f64() < 5.0, "{:?}", t0.elapsed());
        assert_eq!(t.attr_names.len(), n);
        assert_eq!(t.errors_mm, vec![2.5]);
        assert_eq!(t.attr_index("c99999").unwrap(), n - 1);
        let e = err_of("image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,sex,sex\n");
        assert_eq!(
            e,
            "p.csv, line 1: column \"sex\" appears twice (columns 8 and 9)"
        );
        assert!(
            err_of("image,image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px\n")
                .contains("column \"image\" appears twice")
        );
    }

    #[test]
    fn keypoint_numbers_are_bounded() {
        let ok = PredictionTable::parse_csv(
            "p.csv",
            &format!("{HEAD}a,{MAX_KEYPOINTS},0,0,0,0,0.1,F\n"),
        );
        // Only keypoint 1000 is present: image a lacks 1..999, so no image is
        // complete, but the number itself is accepted.
        assert!(ok
            .unwrap_err()
            .to_string()
            .contains("no image has all 1000"));
        assert_eq!(
            err_of(&format!("{HEAD}a,1001,0,0,0,0,0.1,F\n")),
            "p.csv, line 2: keypoint 1001 is more than the limit of 1000 keypoints"
        );
        // Past usize: not an integer at all.
        assert!(
            err_of(&format!("{HEAD}a,99999999999999999999999,0,0,0,0,0.1,F\n"))
                .contains("is not a 1-based integer")
        );
        let row = PredictionRow {
            image: "a".into(),
            keypoint: MAX_KEYPOINTS + 1,
            pred: [0.0; 2],
            truth: [0.0; 2],
            mm_per_px: 0.1,
        };
        let e = PredictionTable::from_rows("r", &[(row, vec![])], &[]).unwrap_err();
        assert!(e.to_string().contains("more than the limit of 1000"), "{e}");
        let im = ImagePredictions {
            image: "a".into(),
            attributes: BTreeMap::new(),
            truth: vec![[0.0; 2]; MAX_KEYPOINTS + 1],
            pred: vec![[0.0; 2]; MAX_KEYPOINTS + 1],
            mm_per_px: 0.1,
        };
        let e = labelled_rows(&[im]).unwrap_err().to_string();
        assert!(
            e.contains("1001 landmarks, more than the limit of 1000"),
            "{e}"
        );
    }

    /// The image count is bounded (tested at a lower limit: a million rows
    /// is slow to build); rows of images already seen are still accepted.
    #[test]
    fn image_count_is_bounded() {
        let mut acc = Accumulator::new("p.csv", vec![]);
        acc.max_images = 3;
        let row = |image: &str, keypoint| PredictionRow {
            image: image.into(),
            keypoint,
            pred: [0.0; 2],
            truth: [0.0; 2],
            mm_per_px: 0.1,
        };
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            acc.push(&row(name, 1), vec![], i + 2).unwrap();
        }
        acc.push(&row("a", 2), vec![], 5).unwrap();
        let e = acc.push(&row("d", 1), vec![], 6).unwrap_err().to_string();
        assert_eq!(e, "p.csv, line 6: more than the limit of 3 images");
        assert_eq!(Accumulator::new("x", vec![]).max_images, MAX_IMAGES);
    }

    /// Finite but huge coordinates whose distance overflows are refused
    /// rather than carried into the audit as infinite errors.
    #[test]
    fn overflowing_errors_are_refused() {
        let e = err_of(&format!("{HEAD}a,1,1e308,0,-1e308,0,0.1,F\n"));
        assert!(e.contains("line 2") && e.contains("not finite"), "{e}");
        let e = err_of(&format!("{HEAD}a,1,10,0,0,0,1e308,F\n"));
        assert!(e.contains("line 2"), "{e}");
        // 1 px at 1e308 mm/px is finite: accepted.
        assert!(PredictionTable::parse_csv("p", &format!("{HEAD}a,1,1,0,0,0,1e308,F\n")).is_ok());
    }

    #[test]
    fn recoverable_problems_become_warnings() {
        let t = PredictionTable::parse_csv(
            "p.csv",
            &format!("{HEAD}a,1,0,0,0,0,0.1,F\na,2,0,0,0,0,0.1,F\na,2,0,0,0,0,0.1,F\nb,1,0,0,0,0,0.1,M\n"),
        )
        .unwrap();
        assert_eq!(t.images, vec!["a"]);
        assert_eq!(t.warnings.len(), 2);
        assert!(t.warnings[0].contains("line 4: duplicate row"));
        assert!(t.warnings[1].contains("image b has no row for keypoint(s) 2"));
    }

    #[test]
    fn round_trips_through_write_csv() {
        let rows = vec![(
            PredictionRow {
                image: "x.png".into(),
                keypoint: 1,
                pred: [1.0, 2.0],
                truth: [4.0, 6.0],
                mm_per_px: 0.1,
            },
            vec!["adult".to_string()],
        )];
        let names = ["age_group".to_string()];
        let text = write_csv(&rows, &names);
        let t = PredictionTable::parse_csv("w", &text).unwrap();
        assert!((t.errors_mm[0] - 0.5).abs() < 1e-12);
        assert_eq!(t.attr_names, vec!["age_group"]);
        // The same table without the detour through text.
        assert_eq!(PredictionTable::from_rows("w", &rows, &names).unwrap(), t);
        let mut bad = rows.clone();
        bad[0].0.pred[0] = f64::NAN;
        let e = PredictionTable::from_rows("w", &bad, &names).unwrap_err();
        assert!(e.to_string().contains("x_pred: NaN is not finite"), "{e}");
        assert!(PredictionTable::from_rows("w", &rows, &[]).is_err());
    }

    #[test]
    fn filter_keeps_one_group() {
        let t = PredictionTable::parse_csv(
            "p.csv",
            &format!("{HEAD}a,1,1,0,0,0,1,F\nb,1,2,0,0,0,1,M\n"),
        )
        .unwrap();
        let f = t.filter("sex", "M").unwrap();
        assert_eq!(f.images, vec!["b"]);
        assert_eq!(f.errors_mm, vec![2.0]);
        assert!(t.filter("sex", "X").is_err());
        assert!(t
            .filter("age", "F")
            .unwrap_err()
            .to_string()
            .contains("attribute columns are: sex"));
    }

    #[test]
    fn whole_images_become_rows_that_parse_back() {
        let im = |name: &str, sex: &str, dx: f64| ImagePredictions {
            image: name.into(),
            attributes: [("sex".to_string(), sex.to_string())].into(),
            truth: vec![[10.0, 10.0], [20.0, 5.0]],
            pred: vec![[10.0 + dx, 10.0], [20.0, 5.0]],
            mm_per_px: 0.5,
        };
        let (rows, names) = labelled_rows(&[im("a", "F", 4.0), im("b", "M", 0.0)]).unwrap();
        assert_eq!(names, vec!["sex"]);
        assert_eq!(rows.len(), 4);
        let t = PredictionTable::parse_csv("x", &write_csv(&rows, &names)).unwrap();
        assert_eq!(t.error(0, 0), 2.0);
        assert_eq!(t.error(1, 0), 0.0);
        let mut bad = im("c", "F", 0.0);
        bad.pred.pop();
        assert!(labelled_rows(&[bad])
            .unwrap_err()
            .to_string()
            .contains("2 true and 1 predicted"));
        let mut nan = im("d", "F", 0.0);
        nan.pred[1][0] = f64::NAN;
        assert!(labelled_rows(&[nan])
            .unwrap_err()
            .to_string()
            .contains("landmark 2"));
        assert!(labelled_rows(&[im("e,f", "F", 0.0)]).is_err());
    }
}
