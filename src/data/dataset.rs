//! fairmark's own dataset format, in memory and on disk.
//!
//! On disk a dataset is a directory:
//! - `dataset.json`: `schema` = "fairmark.dataset/1", `anatomy`, `landmark_names`,
//!   `attributes` (attribute → its groups), `description`, optional `generator`
//!   (how a phantom set was made) and optional inline `samples` (then the CSVs
//!   below are not needed: the "JSON manifest" form);
//! - `landmarks.csv`: `image,split,mm_per_px,x1,y1,…,xK,yK` (pixels of the image);
//! - `attributes.csv`: `image,<attribute>…` (group labels);
//! - the images, at the paths given in `image` (relative to the directory).
use super::anatomy::Anatomy;
use super::error::{DataError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const DATASET_SCHEMA: &str = "fairmark.dataset/1";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Val,
    Test,
}

impl Split {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "train" => Some(Self::Train),
            "val" | "valid" | "validation" => Some(Self::Val),
            "test" => Some(Self::Test),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Val => "val",
            Self::Test => "test",
        }
    }
}

/// One annotated image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Image path relative to the dataset directory (also the image's id).
    pub image: String,
    pub split: Split,
    /// Pixel spacing of the image, in millimetres per pixel.
    pub mm_per_px: f64,
    /// Landmarks in pixels of the original image, keypoint order (KP1 first).
    pub landmarks: Vec<[f64; 2]>,
    /// Attribute name → group label, e.g. `age_group` → `adolescent`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// Dataset-level description stored in `dataset.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetMeta {
    pub schema: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anatomy: Option<Anatomy>,
    pub landmark_names: Vec<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<Vec<Sample>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub meta: DatasetMeta,
    pub samples: Vec<Sample>,
}

impl Dataset {
    /// Builds a dataset, checking every sample against the landmark count,
    /// spacing and attribute groups.
    pub fn new(meta: DatasetMeta, samples: Vec<Sample>) -> Result<Self> {
        let ds = Self { meta, samples };
        ds.validate()?;
        Ok(ds)
    }

    pub fn n_landmarks(&self) -> usize {
        self.meta.landmark_names.len()
    }

    pub fn split(&self, split: Split) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(move |s| s.split == split)
    }

    pub fn validate(&self) -> Result<()> {
        self.check_meta().map_err(DataError::Invalid)?;
        let mut seen = std::collections::HashSet::new();
        for s in &self.samples {
            self.check_sample(s, &mut seen)
                .map_err(|(_, p)| DataError::Invalid(format!("sample {}: {p}", s.image)))?;
        }
        Ok(())
    }

    fn check_meta(&self) -> std::result::Result<(), String> {
        if self.n_landmarks() == 0 {
            return Err("dataset has no landmark names".into());
        }
        Ok(())
    }

    /// Checks one sample; the error says whether its attributes (rather than
    /// its landmarks row) are at fault, so that loaders can point at the right
    /// file.
    fn check_sample<'a>(
        &self,
        s: &'a Sample,
        seen: &mut std::collections::HashSet<&'a str>,
    ) -> std::result::Result<(), (Culprit, String)> {
        let k = self.n_landmarks();
        let row = |p: String| (Culprit::Row, p);
        if !seen.insert(s.image.as_str()) {
            return Err(row("image listed twice".into()));
        }
        if s.landmarks.len() != k {
            return Err(row(format!(
                "{} landmarks, expected {k}",
                s.landmarks.len()
            )));
        }
        if s.landmarks.iter().flatten().any(|v| !v.is_finite()) {
            return Err(row("non-finite landmark coordinate".into()));
        }
        if !(s.mm_per_px.is_finite() && s.mm_per_px > 0.0) {
            return Err(row(format!("mm_per_px must be > 0, got {}", s.mm_per_px)));
        }
        for (attr, group) in &s.attributes {
            if let Some(groups) = self.meta.attributes.get(attr) {
                if !groups.contains(group) {
                    return Err((
                        Culprit::Attributes,
                        format!("attribute {attr} has group {group:?}, not one of {groups:?}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Like [`Dataset::validate`], but errors name the file and line each
    /// sample came from.
    fn validate_located(&self, manifest: &Path, locs: &[SampleLoc]) -> Result<()> {
        self.check_meta()
            .map_err(|p| DataError::format(manifest, None, p))?;
        let mut seen = std::collections::HashSet::new();
        for (i, s) in self.samples.iter().enumerate() {
            if let Err((culprit, p)) = self.check_sample(s, &mut seen) {
                let loc = locs.get(i);
                let (path, line) = match (culprit, loc) {
                    (Culprit::Attributes, Some(l)) if l.attributes.is_some() => {
                        let (p, line) = l.attributes.clone().unwrap_or_default();
                        (p, line)
                    }
                    (_, Some(l)) => (l.path.clone(), l.line),
                    (_, None) => (manifest.to_path_buf(), None),
                };
                return Err(DataError::format(
                    path,
                    line,
                    format!("sample {}: {p}", s.image),
                ));
            }
        }
        Ok(())
    }

    /// Reads a dataset directory (or a path to its `dataset.json`).
    pub fn load(path: &Path) -> Result<Self> {
        let (dir, manifest) = if path.is_dir() {
            (path.to_path_buf(), path.join("dataset.json"))
        } else {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (dir, path.to_path_buf())
        };
        let text = std::fs::read_to_string(&manifest).map_err(|e| DataError::io(&manifest, e))?;
        let mut meta: DatasetMeta = serde_json::from_str(&text).map_err(|e| {
            DataError::format(
                &manifest,
                Some(e.line()),
                format!("invalid dataset manifest: {e}"),
            )
        })?;
        if meta.schema != DATASET_SCHEMA {
            return Err(DataError::format(
                &manifest,
                None,
                format!("schema is {:?}, expected {DATASET_SCHEMA:?}", meta.schema),
            ));
        }
        let (samples, locs) = match meta.samples.take() {
            Some(s) => {
                let locs = inline_sample_lines(&text, &s)
                    .into_iter()
                    .map(|line| SampleLoc {
                        path: manifest.clone(),
                        line,
                        attributes: None,
                    })
                    .collect();
                (s, locs)
            }
            None => read_samples_csv(&dir, meta.landmark_names.len())?,
        };
        let ds = Self { meta, samples };
        ds.validate_located(&manifest, &locs)?;
        Ok(ds)
    }

    /// Writes `dataset.json`, `landmarks.csv` and `attributes.csv` into `dir`
    /// (images are written by whoever made them). Each file is written to a
    /// temporary name and renamed, so a failure never leaves half a file.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
        let mut meta = self.meta.clone();
        meta.samples = None;
        let json =
            serde_json::to_string_pretty(&meta).map_err(|e| DataError::Invalid(e.to_string()))?;
        crate::io::write_atomic(&dir.join("dataset.json"), json.as_bytes())?;
        crate::io::write_atomic(&dir.join("landmarks.csv"), self.landmarks_csv().as_bytes())?;
        crate::io::write_atomic(
            &dir.join("attributes.csv"),
            self.attributes_csv().as_bytes(),
        )?;
        Ok(())
    }

    fn attribute_names(&self) -> Vec<String> {
        self.meta.attributes.keys().cloned().collect()
    }

    /// `image,split,mm_per_px,x1,y1,…` text.
    pub fn landmarks_csv(&self) -> String {
        let mut out = String::from("image,split,mm_per_px");
        for k in 1..=self.n_landmarks() {
            out.push_str(&format!(",x{k},y{k}"));
        }
        out.push('\n');
        for s in &self.samples {
            out.push_str(&format!("{},{},{}", s.image, s.split.as_str(), s.mm_per_px));
            for p in &s.landmarks {
                out.push_str(&format!(",{:.3},{:.3}", p[0], p[1]));
            }
            out.push('\n');
        }
        out
    }

    /// `image,<attribute>…` text.
    pub fn attributes_csv(&self) -> String {
        let names = self.attribute_names();
        let mut out = std::iter::once("image".to_string())
            .chain(names.iter().cloned())
            .collect::<Vec<_>>()
            .join(",");
        out.push('\n');
        for s in &self.samples {
            out.push_str(&s.image);
            for n in &names {
                out.push(',');
                out.push_str(s.attributes.get(n).map(String::as_str).unwrap_or(""));
            }
            out.push('\n');
        }
        out
    }
}

/// Which part of a sample failed a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Culprit {
    Row,
    Attributes,
}

/// Where a sample was read from: its row, and its attributes row if separate.
struct SampleLoc {
    path: PathBuf,
    line: Option<usize>,
    attributes: Option<(PathBuf, Option<usize>)>,
}

/// Best-effort line of each inline sample in a JSON manifest: serde does not
/// report positions of values it parsed successfully, so each sample's
/// `"image": "…"` is searched for in order after the `"samples"` key.
fn inline_sample_lines(text: &str, samples: &[Sample]) -> Vec<Option<usize>> {
    let mut pos = text.find("\"samples\"").unwrap_or(0);
    samples
        .iter()
        .map(|s| {
            let needle = serde_json::to_string(&s.image).ok()?;
            let at = pos + text.get(pos..)?.find(&needle)?;
            pos = at + needle.len();
            Some(text[..at].matches('\n').count() + 1)
        })
        .collect()
}

fn csv_reader(path: &Path) -> Result<csv::Reader<std::fs::File>> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        // Field counts are checked per row, to report them with the line.
        .flexible(true)
        .from_path(path)
        .map_err(|e| DataError::format(path, None, e.to_string()))
}

/// A csv crate error as a format error at its line, when it knows one.
fn csv_error(path: &Path, e: csv::Error) -> DataError {
    let line = e.position().map(|p| p.line() as usize);
    match e.into_kind() {
        csv::ErrorKind::Io(io) => DataError::io(path, io),
        csv::ErrorKind::Utf8 { err, .. } => {
            DataError::format(path, line, format!("not UTF-8: {err}"))
        }
        other => DataError::format(path, line, format!("{other:?}")),
    }
}

fn record_line(r: &csv::StringRecord) -> Option<usize> {
    r.position().map(|p| p.line() as usize)
}

/// Parses a finite float, naming column and line on failure.
pub(crate) fn parse_f64(path: &Path, line: Option<usize>, column: &str, v: &str) -> Result<f64> {
    let x: f64 = v.trim().parse().map_err(|_| {
        DataError::format(
            path,
            line,
            format!("column {column}: {v:?} is not a number"),
        )
    })?;
    if !x.is_finite() {
        return Err(DataError::format(
            path,
            line,
            format!("column {column}: {v:?} is not finite"),
        ));
    }
    Ok(x)
}

fn read_samples_csv(dir: &Path, k: usize) -> Result<(Vec<Sample>, Vec<SampleLoc>)> {
    let path = dir.join("landmarks.csv");
    let mut rdr = csv_reader(&path)?;
    let headers = rdr
        .headers()
        .map_err(|e| DataError::format(&path, Some(1), e.to_string()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (ci, cs, cm) = match (col("image"), col("split"), col("mm_per_px")) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => {
            return Err(DataError::format(
                &path,
                Some(1),
                "header must have columns image, split, mm_per_px",
            ))
        }
    };
    let mut xy = Vec::with_capacity(k);
    for i in 1..=k {
        match (col(&format!("x{i}")), col(&format!("y{i}"))) {
            (Some(x), Some(y)) => xy.push((x, y)),
            _ => {
                return Err(DataError::format(
                    &path,
                    Some(1),
                    format!("missing columns x{i},y{i} (dataset.json names {k} landmarks)"),
                ))
            }
        }
    }
    let attr_path = dir.join("attributes.csv");
    let attrs = read_attributes_csv_lines(&attr_path)?;
    let mut samples = Vec::new();
    let mut locs = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(&path, e))?;
        let line = record_line(&rec);
        if rec.len() != headers.len() {
            return Err(DataError::format(
                &path,
                line,
                format!(
                    "{} fields, but the header has {} columns",
                    rec.len(),
                    headers.len()
                ),
            ));
        }
        let get = |c: usize| rec.get(c).unwrap_or("");
        let image = get(ci).to_string();
        if image.is_empty() {
            return Err(DataError::format(&path, line, "empty image path"));
        }
        let split = Split::parse(get(cs)).ok_or_else(|| {
            DataError::format(
                &path,
                line,
                format!("split {:?} is not train/val/test", get(cs)),
            )
        })?;
        let mm_per_px = parse_f64(&path, line, "mm_per_px", get(cm))?;
        let landmarks = xy
            .iter()
            .enumerate()
            .map(|(i, &(cx, cy))| {
                Ok([
                    parse_f64(&path, line, &format!("x{}", i + 1), get(cx))?,
                    parse_f64(&path, line, &format!("y{}", i + 1), get(cy))?,
                ])
            })
            .collect::<Result<Vec<_>>>()?;
        let (attributes, attr_line) = match attrs.get(&image) {
            Some((a, l)) => (a.clone(), Some((attr_path.clone(), *l))),
            None => Default::default(),
        };
        locs.push(SampleLoc {
            path: path.clone(),
            line,
            attributes: attr_line,
        });
        samples.push(Sample {
            image,
            split,
            mm_per_px,
            landmarks,
            attributes,
        });
    }
    Ok((samples, locs))
}

/// Reads an `image,<attribute>…` table; a missing file means no attributes.
pub fn read_attributes_csv(path: &Path) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    Ok(read_attributes_csv_lines(path)?
        .into_iter()
        .map(|(k, (v, _))| (k, v))
        .collect())
}

type AttributeRows = BTreeMap<String, (BTreeMap<String, String>, Option<usize>)>;

/// [`read_attributes_csv`] keeping each row's line, for error messages.
fn read_attributes_csv_lines(path: &Path) -> Result<AttributeRows> {
    if !path.exists() {
        return Ok(BTreeMap::new());
    }
    let mut rdr = csv_reader(path)?;
    let headers = rdr
        .headers()
        .map_err(|e| DataError::format(path, Some(1), e.to_string()))?
        .clone();
    let id_col = headers
        .iter()
        .position(|h| h == "image" || h == "id")
        .ok_or_else(|| DataError::format(path, Some(1), "header needs an image (or id) column"))?;
    let mut out = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let line = record_line(&rec);
        if rec.len() != headers.len() {
            return Err(DataError::format(
                path,
                line,
                format!(
                    "{} fields, but the header has {} columns",
                    rec.len(),
                    headers.len()
                ),
            ));
        }
        let id = rec.get(id_col).unwrap_or("").to_string();
        if id.is_empty() {
            return Err(DataError::format(path, line, "empty image id"));
        }
        let mut attrs = BTreeMap::new();
        for (c, name) in headers.iter().enumerate() {
            if c != id_col {
                let v = rec.get(c).unwrap_or("");
                if !v.is_empty() {
                    attrs.insert(name.to_string(), v.to_string());
                }
            }
        }
        if out.insert(id.clone(), (attrs, line)).is_some() {
            return Err(DataError::format(
                path,
                line,
                format!("image {id:?} listed twice"),
            ));
        }
    }
    Ok(out)
}

/// Path of a sample's image.
pub fn image_path(dir: &Path, sample: &Sample) -> PathBuf {
    dir.join(&sample.image)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn meta() -> DatasetMeta {
        DatasetMeta {
            schema: DATASET_SCHEMA.into(),
            anatomy: None,
            landmark_names: vec!["a".into(), "b".into()],
            attributes: BTreeMap::from([("sex".into(), vec!["F".into(), "M".into()])]),
            description: "test".into(),
            generator: None,
            samples: None,
        }
    }

    fn sample(image: &str, split: Split, sex: &str) -> Sample {
        Sample {
            image: image.into(),
            split,
            mm_per_px: 0.1,
            landmarks: vec![[1.5, 2.25], [3.0, 4.125]],
            attributes: BTreeMap::from([("sex".into(), sex.into())]),
        }
    }

    fn dataset() -> Dataset {
        Dataset::new(
            meta(),
            vec![
                sample("img/a.png", Split::Train, "F"),
                sample("img/b.png", Split::Val, "M"),
                sample("img/c.png", Split::Test, "F"),
            ],
        )
        .unwrap()
    }

    #[test]
    fn csv_form_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let ds = dataset();
        ds.save(tmp.path()).unwrap();
        assert!(tmp.path().join("landmarks.csv").is_file());
        assert_eq!(Dataset::load(tmp.path()).unwrap(), ds);
        assert_eq!(Dataset::load(&tmp.path().join("dataset.json")).unwrap(), ds);
    }

    #[test]
    fn json_manifest_with_inline_samples_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let ds = dataset();
        let mut m = ds.meta.clone();
        m.samples = Some(ds.samples.clone());
        let p = tmp.path().join("set.json");
        std::fs::write(&p, serde_json::to_string_pretty(&m).unwrap()).unwrap();
        assert_eq!(Dataset::load(&p).unwrap(), ds);
    }

    /// Saves the test dataset, applies `edit` to one of its files and returns
    /// the load error's message.
    fn csv_error_after(file: &str, edit: impl Fn(&str) -> String) -> String {
        let tmp = tempfile::tempdir().unwrap();
        dataset().save(tmp.path()).unwrap();
        let p = tmp.path().join(file);
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, edit(&text)).unwrap();
        Dataset::load(tmp.path()).unwrap_err().to_string()
    }

    #[test]
    fn csv_errors_name_file_and_line() {
        let e = csv_error_after("landmarks.csv", |t| t.replacen(",mm_per_px", ",spacing", 1));
        assert!(e.contains("landmarks.csv, line 1: header must have"), "{e}");
        let e = csv_error_after("landmarks.csv", |t| t.replacen(",x2,y2", ",x2", 1));
        assert!(
            e.contains("landmarks.csv, line 1: missing columns x2,y2"),
            "{e}"
        );
        let e = csv_error_after("landmarks.csv", |t| t.replacen("1.500", "NaN", 1));
        assert!(
            e.contains("landmarks.csv, line 2: column x1: \"NaN\" is not finite"),
            "{e}"
        );
        let e = csv_error_after("landmarks.csv", |t| t.replacen(",3.000,4.125\n", "\n", 1));
        assert!(
            e.contains("landmarks.csv, line 2: 5 fields, but the header has 7"),
            "{e}"
        );
        let e = csv_error_after("landmarks.csv", |t| t.replacen("img/b.png", "img/a.png", 1));
        assert!(
            e.contains("landmarks.csv, line 3: sample img/a.png: image listed twice"),
            "{e}"
        );
        let e = csv_error_after("landmarks.csv", |t| t.replacen(",test,", ",holdout,", 1));
        assert!(
            e.contains("landmarks.csv, line 4: split \"holdout\""),
            "{e}"
        );
        let e = csv_error_after("landmarks.csv", |t| t.replacen(",0.1,", ",0,", 1));
        assert!(
            e.contains("landmarks.csv, line 2: sample img/a.png: mm_per_px"),
            "{e}"
        );
        let e = csv_error_after("attributes.csv", |t| {
            t.replacen("img/c.png,F", "img/c.png,X", 1)
        });
        assert!(
            e.contains("attributes.csv, line 4: sample img/c.png: attribute sex has group \"X\""),
            "{e}"
        );
        let e = csv_error_after("attributes.csv", |t| format!("{t}img/a.png,M\n"));
        assert!(
            e.contains("attributes.csv, line 5: image \"img/a.png\" listed twice"),
            "{e}"
        );
        let e = csv_error_after("dataset.json", |t| {
            t.replacen("fairmark.dataset/1", "other/2", 1)
        });
        assert!(e.contains("dataset.json: schema is \"other/2\""), "{e}");
    }

    /// Writes the inline-manifest form, edits its JSON text and returns the error.
    fn json_error_after(edit: impl Fn(&str) -> String) -> String {
        json_error_and_text(edit).0
    }

    fn json_error_and_text(edit: impl Fn(&str) -> String) -> (String, String) {
        let tmp = tempfile::tempdir().unwrap();
        let ds = dataset();
        let mut m = ds.meta.clone();
        m.samples = Some(ds.samples.clone());
        let p = tmp.path().join("dataset.json");
        let text = edit(&serde_json::to_string_pretty(&m).unwrap());
        std::fs::write(&p, &text).unwrap();
        (Dataset::load(tmp.path()).unwrap_err().to_string(), text)
    }

    fn line_of(text: &str, needle: &str, nth: usize) -> usize {
        let at = text.match_indices(needle).nth(nth).unwrap().0;
        text[..at].matches('\n').count() + 1
    }

    #[test]
    fn json_errors_name_file_and_line() {
        let mut m = dataset().meta.clone();
        m.samples = Some(dataset().samples);
        let text = serde_json::to_string_pretty(&m).unwrap();

        let e = json_error_after(|t| t.replacen("1.5", "NaN", 1));
        assert!(
            e.contains("dataset.json, line") && e.contains("invalid dataset manifest"),
            "{e}"
        );
        let e = json_error_after(|t| t.replacen("\"val\"", "\"holdout\"", 1));
        let l = line_of(&text, "\"val\"", 0);
        assert!(
            e.contains(&format!("dataset.json, line {l}: invalid")),
            "{e}"
        );
        let e = json_error_after(|t| t.replacen("\"split\"", "\"spilt\"", 1));
        assert!(e.contains("missing field `split`"), "{e}");

        let e = json_error_after(|t| t.replacen("img/b.png", "img/a.png", 1));
        let l = line_of(&text, "img/b.png", 0);
        assert!(
            e.contains(&format!(
                "dataset.json, line {l}: sample img/a.png: image listed twice"
            )),
            "{e}"
        );
        let e = json_error_after(|t| {
            let mut v: serde_json::Value = serde_json::from_str(t).unwrap();
            v["samples"][2]["landmarks"].as_array_mut().unwrap().pop();
            serde_json::to_string_pretty(&v).unwrap()
        });
        assert!(
            e.contains("dataset.json, line")
                && e.contains("sample img/c.png: 1 landmarks, expected 2"),
            "{e}"
        );
        let (e, edited) = json_error_and_text(|t| {
            let mut v: serde_json::Value = serde_json::from_str(t).unwrap();
            v["samples"][1]["attributes"]["sex"] = "X".into();
            serde_json::to_string_pretty(&v).unwrap()
        });
        let l = line_of(&edited, "img/b.png", 0);
        assert!(
            e.contains(&format!(
                "dataset.json, line {l}: sample img/b.png: attribute sex"
            )),
            "{e}"
        );
    }
}
