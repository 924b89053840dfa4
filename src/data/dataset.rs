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
        let k = self.n_landmarks();
        if k == 0 {
            return Err(DataError::Invalid("dataset has no landmark names".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for s in &self.samples {
            let ctx = |p: String| DataError::Invalid(format!("sample {}: {p}", s.image));
            if !seen.insert(s.image.as_str()) {
                return Err(ctx("image listed twice".into()));
            }
            if s.landmarks.len() != k {
                return Err(ctx(format!(
                    "{} landmarks, expected {k}",
                    s.landmarks.len()
                )));
            }
            if s.landmarks.iter().flatten().any(|v| !v.is_finite()) {
                return Err(ctx("non-finite landmark coordinate".into()));
            }
            if !(s.mm_per_px.is_finite() && s.mm_per_px > 0.0) {
                return Err(ctx(format!("mm_per_px must be > 0, got {}", s.mm_per_px)));
            }
            for (attr, group) in &s.attributes {
                if let Some(groups) = self.meta.attributes.get(attr) {
                    if !groups.contains(group) {
                        return Err(ctx(format!(
                            "attribute {attr} has group {group:?}, not one of {groups:?}"
                        )));
                    }
                }
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
        let samples = match meta.samples.take() {
            Some(s) => s,
            None => read_samples_csv(&dir, meta.landmark_names.len())?,
        };
        Self::new(meta, samples)
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

fn csv_reader(path: &Path) -> Result<csv::Reader<std::fs::File>> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| DataError::format(path, None, e.to_string()))
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

fn read_samples_csv(dir: &Path, k: usize) -> Result<Vec<Sample>> {
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
    let attrs = read_attributes_csv(&dir.join("attributes.csv"))?;
    let mut samples = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| DataError::format(&path, None, e.to_string()))?;
        let line = record_line(&rec);
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
        let attributes = attrs.get(&image).cloned().unwrap_or_default();
        samples.push(Sample {
            image,
            split,
            mm_per_px,
            landmarks,
            attributes,
        });
    }
    Ok(samples)
}

/// Reads an `image,<attribute>…` table; a missing file means no attributes.
pub fn read_attributes_csv(path: &Path) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
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
        let rec = rec.map_err(|e| DataError::format(path, None, e.to_string()))?;
        let line = record_line(&rec);
        let id = rec.get(id_col).unwrap_or("").to_string();
        let mut attrs = BTreeMap::new();
        for (c, name) in headers.iter().enumerate() {
            if c != id_col {
                let v = rec.get(c).unwrap_or("");
                if !v.is_empty() {
                    attrs.insert(name.to_string(), v.to_string());
                }
            }
        }
        if out.insert(id.clone(), attrs).is_some() {
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
