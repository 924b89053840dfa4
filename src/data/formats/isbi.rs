//! The ISBI 2015 cephalometric challenge layout (Wang et al. 2016):
//!
//! ```text
//! DIR/AnnotationsByMD/400_senior/001.txt … 400.txt
//! DIR/AnnotationsByMD/400_junior/001.txt … 400.txt
//! DIR/RawImage/TrainingData/001.bmp … 150.bmp
//! DIR/RawImage/Test1Data/151.bmp … 300.bmp
//! DIR/RawImage/Test2Data/301.bmp … 400.bmp
//! ```
//!
//! Each annotation file starts with 19 lines `x,y` in pixels (0.1 mm/px); any
//! later lines are the challenge's classification labels and are ignored.
//! Images may also lie flat in `DIR/RawImage/` or `DIR/images/`.
//!
//! Without `AnnotationsByMD/`, the annotations are read from the two CSVs of
//! Payer et al.'s layout (`isbi2015_ceph_senior.csv`, `…_junior.csv`: no
//! header, `id,x1,y1,…,x19,y19` in millimetres), looked for in
//! `DIR/annotations/` and `DIR/../annotations/` (the layout of
//! `../shared/data`: `isbi2015/images/NNN.jpg` beside `annotations/`).
//!
//! With the senior annotation at hand, every image gets the attribute
//! `skeletal_class` (I, II, III) from the senior landmarks' ANB angle (see
//! [`crate::data::skeletal`]): the images carry no demographics, and the
//! skeletal class is the clinically relevant grouping the audit can use.
//!
//! Splits follow the challenge: ids 1–150 train, 151–300 (Test1) and 301–400
//! (Test2) test. [`IsbiOptions::val_fraction`] moves the *last* ids of the
//! training range to val (e.g. 0.1 → ids 136–150), so val never changes with a
//! seed and never overlaps the official test sets.
//!
//! A missing image is an error (listing the first few missing ids), because a
//! dataset whose images silently vanish would bias every later metric; set
//! [`IsbiOptions::require_images`] to false to read annotations only.
use crate::data::anatomy::{Anatomy, CEPH_LANDMARKS, ISBI_LANDMARKS};
use crate::data::dataset::{parse_f64, DatasetMeta, Sample, Split, DATASET_SCHEMA};
use crate::data::error::{DataError, Result};
use crate::data::skeletal::{anb_deg, SkeletalClass};
use crate::data::Dataset;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The attribute the reader derives from the senior annotation.
pub const SKELETAL_CLASS: &str = "skeletal_class";

/// Pixel spacing of every ISBI 2015 image.
pub const ISBI_MM_PER_PX: f64 = 0.1;

/// Which annotation is the ground truth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IsbiGroundTruth {
    /// The senior orthodontist (the challenge's usual ground truth).
    #[default]
    Senior,
    Junior,
    /// Mean of senior and junior, per landmark.
    Mean,
}

/// Test ids whose images are byte-identical copies of training images
/// (283 = 038, 173 = 144): left out with [`IsbiOptions::drop_duplicates`].
pub const DUPLICATE_TEST_IDS: [u32; 2] = [173, 283];

/// Which of the two official test sets to keep in the test split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IsbiTestSets {
    /// Test1 and Test2 (ids 151–400).
    #[default]
    Both,
    /// Test1 only (151–300); Test2 is left out.
    Test1,
    /// Test2 only (301–400); Test1 is left out.
    Test2,
}

/// The official subset an id belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsbiSubset {
    Train,
    Test1,
    Test2,
}

impl IsbiSubset {
    /// 1–150 train, 151–300 Test1, 301–400 Test2; `None` outside 1–400.
    pub fn of_id(id: u32) -> Option<Self> {
        match id {
            1..=150 => Some(Self::Train),
            151..=300 => Some(Self::Test1),
            301..=400 => Some(Self::Test2),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Test1 => "test1",
            Self::Test2 => "test2",
        }
    }

    /// The folder of `RawImage/` holding this subset's images.
    pub fn image_dir(self) -> &'static str {
        match self {
            Self::Train => "TrainingData",
            Self::Test1 => "Test1Data",
            Self::Test2 => "Test2Data",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IsbiOptions {
    pub ground_truth: IsbiGroundTruth,
    /// Keep all 19 ISBI landmarks (anatomy [`Anatomy::Isbi`], with the
    /// challenge's names) instead of the 10 fairmark ceph landmarks.
    pub all_landmarks: bool,
    /// Fraction of the training ids, taken from the end, moved to val.
    pub val_fraction: f64,
    /// Fail when an annotated id has no image (default). When false, samples
    /// point at the image's expected path `RawImage/<subset>/NNN.bmp`.
    pub require_images: bool,
    /// Directory of the annotation CSVs when there is no `AnnotationsByMD/`
    /// (default: `DIR/annotations`, then `DIR/../annotations`).
    pub annotations: Option<PathBuf>,
    /// The test set(s) kept in the test split, so that a model is evaluated
    /// on Test1 and Test2 separately, as the literature reports them.
    pub test_sets: IsbiTestSets,
    /// Leave out the test images that copy training images ([`DUPLICATE_TEST_IDS`]).
    pub drop_duplicates: bool,
}

impl IsbiOptions {
    /// Whether an id goes into the dataset under these options.
    pub fn keeps(&self, id: u32) -> bool {
        if self.drop_duplicates && DUPLICATE_TEST_IDS.contains(&id) {
            return false;
        }
        !matches!(
            (IsbiSubset::of_id(id), self.test_sets),
            (Some(IsbiSubset::Test1), IsbiTestSets::Test2)
                | (Some(IsbiSubset::Test2), IsbiTestSets::Test1)
        )
    }
}

impl Default for IsbiOptions {
    fn default() -> Self {
        Self {
            ground_truth: IsbiGroundTruth::Senior,
            all_landmarks: false,
            val_fraction: 0.0,
            require_images: true,
            annotations: None,
            test_sets: IsbiTestSets::Both,
            drop_duplicates: false,
        }
    }
}

/// Parses one annotation file: the first 19 lines as `x,y` pixels; later lines
/// are ignored. `path` only names the file in errors.
pub fn parse_isbi_txt(path: &Path, text: &str) -> Result<Vec<[f64; 2]>> {
    let mut points = Vec::with_capacity(ISBI_LANDMARKS);
    for (i, raw) in text.lines().take(ISBI_LANDMARKS).enumerate() {
        let line = Some(i + 1);
        let raw = raw.trim();
        let mut parts = raw.split(',');
        let (x, y) = match (parts.next(), parts.next(), parts.next()) {
            (Some(x), Some(y), None) => (x, y),
            _ => {
                return Err(DataError::format(
                    path,
                    line,
                    format!("expected \"x,y\" for landmark {}, got {raw:?}", i + 1),
                ))
            }
        };
        let x = parse_f64(path, line, "x", x)?;
        let y = parse_f64(path, line, "y", y)?;
        points.push([x, y]);
    }
    if points.len() < ISBI_LANDMARKS {
        return Err(DataError::format(
            path,
            Some(points.len() + 1),
            format!(
                "file ends after {} lines, expected {ISBI_LANDMARKS} landmark lines",
                points.len()
            ),
        ));
    }
    Ok(points)
}

/// The split of an id under the challenge's partition, moving the last
/// `ceil(val_fraction × 150)` training ids to val.
pub fn isbi_split(id: u32, val_fraction: f64) -> Option<Split> {
    let n_val = (val_fraction.clamp(0.0, 1.0) * 150.0).ceil() as u32;
    Some(match IsbiSubset::of_id(id)? {
        IsbiSubset::Train if id > 150 - n_val => Split::Val,
        IsbiSubset::Train => Split::Train,
        IsbiSubset::Test1 | IsbiSubset::Test2 => Split::Test,
    })
}

/// The anatomy of the output for the chosen landmark set.
fn anatomy(all: bool) -> Anatomy {
    if all {
        Anatomy::Isbi
    } else {
        Anatomy::Ceph
    }
}

/// The skeletal class of 19 ISBI landmarks (pixels), from their ANB.
pub fn skeletal_class(points: &[[f64; 2]]) -> Option<SkeletalClass> {
    let p = |i: usize| points.get(i).copied();
    SkeletalClass::from_anb(anb_deg(p(0)?, p(1)?, p(4)?, p(5)?)?)
}

/// One image's parsed annotations; only the one(s) the ground truth needs
/// must be present.
#[derive(Clone, Debug, PartialEq)]
pub struct IsbiRow {
    pub id: u32,
    /// Image path relative to the data set directory.
    pub image: String,
    pub senior: Option<Vec<[f64; 2]>>,
    pub junior: Option<Vec<[f64; 2]>>,
}

/// Builds a dataset from parsed annotations. Pure, so it also serves wasm
/// callers that read the files themselves.
pub fn build_isbi_dataset(rows: Vec<IsbiRow>, opts: &IsbiOptions) -> Result<Dataset> {
    let rows: Vec<IsbiRow> = rows.into_iter().filter(|r| opts.keeps(r.id)).collect();
    // The class needs the senior annotation of every image.
    let classes: Option<Vec<SkeletalClass>> = rows
        .iter()
        .map(|r| r.senior.as_deref().and_then(skeletal_class))
        .collect();
    let mut samples = Vec::with_capacity(rows.len());
    for (
        i,
        IsbiRow {
            id,
            image,
            senior,
            junior,
        },
    ) in rows.into_iter().enumerate()
    {
        let missing =
            |who: &str| DataError::Invalid(format!("ISBI id {id:03}: no {who} annotation"));
        let pts = match opts.ground_truth {
            IsbiGroundTruth::Senior => senior.ok_or_else(|| missing("senior"))?,
            IsbiGroundTruth::Junior => junior.ok_or_else(|| missing("junior"))?,
            IsbiGroundTruth::Mean => {
                let s = senior.ok_or_else(|| missing("senior"))?;
                let j = junior.ok_or_else(|| missing("junior"))?;
                s.iter()
                    .zip(&j)
                    .map(|(a, b)| [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0])
                    .collect()
            }
        };
        let landmarks = if opts.all_landmarks {
            pts
        } else {
            CEPH_LANDMARKS.iter().map(|l| pts[l.2]).collect()
        };
        let split = isbi_split(id, opts.val_fraction).ok_or_else(|| {
            DataError::Invalid(format!("ISBI id {id} is outside the challenge's 1–400"))
        })?;
        let attributes = match &classes {
            Some(c) => [(SKELETAL_CLASS.to_string(), c[i].as_str().to_string())].into(),
            None => Default::default(),
        };
        samples.push(Sample {
            image,
            split,
            mm_per_px: ISBI_MM_PER_PX,
            landmarks,
            attributes,
        });
    }
    let gt = match opts.ground_truth {
        IsbiGroundTruth::Senior => "senior",
        IsbiGroundTruth::Junior => "junior",
        IsbiGroundTruth::Mean => "mean of senior and junior",
    };
    let attributes = match classes {
        Some(_) => [(
            SKELETAL_CLASS.to_string(),
            SkeletalClass::ALL
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
        )]
        .into(),
        None => Default::default(),
    };
    let meta = DatasetMeta {
        schema: DATASET_SCHEMA.into(),
        anatomy: Some(anatomy(opts.all_landmarks)),
        landmark_names: anatomy(opts.all_landmarks).landmark_names(),
        attributes,
        description: format!(
            "ISBI 2015 cephalometric challenge, ground truth: {gt}; splits 1-150 train \
             (last {:.0}% val), test: {}{}",
            opts.val_fraction.clamp(0.0, 1.0) * 100.0,
            match opts.test_sets {
                IsbiTestSets::Both => "Test1 (151-300) and Test2 (301-400)",
                IsbiTestSets::Test1 => "Test1 (151-300)",
                IsbiTestSets::Test2 => "Test2 (301-400)",
            },
            if opts.drop_duplicates {
                ", without 173 and 283 (copies of training images 144 and 038)"
            } else {
                ""
            }
        ),
        generator: None,
        samples: None,
    };
    Dataset::new(meta, samples)
}

/// The second annotator's landmarks as "predictions" of the reference
/// annotator's: their distance is the inter-observer error, the floor below
/// which no model's error against either annotator is meaningful. Rows are
/// Payer-layout shapes in pixels (ISBI millimetres × 10); the official subset
/// (train, test1, test2) becomes the attribute `subset`.
pub fn observer_predictions(
    reference: &[super::payer_csv::ShapeRow],
    second: &[super::payer_csv::ShapeRow],
    all_landmarks: bool,
) -> Result<Vec<crate::metrics::predictions::ImagePredictions>> {
    let by_id: std::collections::HashMap<&str, &Vec<[f64; 2]>> =
        second.iter().map(|r| (r.id.as_str(), &r.points)).collect();
    let pick = |pts: &[[f64; 2]]| -> Vec<[f64; 2]> {
        if all_landmarks {
            pts.to_vec()
        } else {
            CEPH_LANDMARKS.iter().map(|l| pts[l.2]).collect()
        }
    };
    reference
        .iter()
        .map(|r| {
            let other = by_id.get(r.id.as_str()).ok_or_else(|| {
                DataError::Invalid(format!("ISBI id {}: no second annotation", r.id))
            })?;
            let id = r.id.parse::<u32>().ok();
            let subset = id.and_then(IsbiSubset::of_id).ok_or_else(|| {
                DataError::Invalid(format!(
                    "ISBI id {:?} is outside the challenge's 1–400",
                    r.id
                ))
            })?;
            if r.points.len() != ISBI_LANDMARKS || other.len() != ISBI_LANDMARKS {
                return Err(DataError::Invalid(format!(
                    "ISBI id {}: {} and {} landmarks, expected {ISBI_LANDMARKS}",
                    r.id,
                    r.points.len(),
                    other.len()
                )));
            }
            Ok(crate::metrics::predictions::ImagePredictions {
                image: format!("{:03}", id.unwrap_or_default()),
                attributes: [("subset".to_string(), subset.as_str().to_string())].into(),
                truth: pick(&r.points),
                pred: pick(other),
                mm_per_px: ISBI_MM_PER_PX,
            })
        })
        .collect()
}

/// File names of Payer et al.'s annotation CSVs (millimetres, 0.1 mm/px).
pub const SENIOR_CSV: &str = "isbi2015_ceph_senior.csv";
pub const JUNIOR_CSV: &str = "isbi2015_ceph_junior.csv";

#[cfg(not(target_arch = "wasm32"))]
type ById = std::collections::BTreeMap<u32, Vec<[f64; 2]>>;

/// Both annotators' landmarks (pixels) by id, and where they were read.
#[cfg(not(target_arch = "wasm32"))]
struct Annotations {
    source: PathBuf,
    senior: ById,
    junior: ById,
}

/// The annotations of an ISBI directory: `AnnotationsByMD/` when it exists,
/// else the two CSVs. The senior annotation is read whenever it is there
/// (the skeletal class comes from it); the junior one when the ground truth
/// needs it.
#[cfg(not(target_arch = "wasm32"))]
fn read_annotations(dir: &Path, opts: &IsbiOptions) -> Result<Annotations> {
    let need_senior = opts.ground_truth != IsbiGroundTruth::Junior;
    let need_junior = opts.ground_truth != IsbiGroundTruth::Senior;
    let ann = dir.join("AnnotationsByMD");
    if ann.is_dir() {
        let senior = if need_senior || ann.join("400_senior").is_dir() {
            read_txt_dir(&ann.join("400_senior"))?
        } else {
            ById::new()
        };
        let junior = if need_junior {
            read_txt_dir(&ann.join("400_junior"))?
        } else {
            ById::new()
        };
        return Ok(Annotations {
            source: ann,
            senior,
            junior,
        });
    }
    let candidates = match &opts.annotations {
        Some(d) => vec![d.clone()],
        None => vec![dir.join("annotations"), dir.join("..").join("annotations")],
    };
    let Some(csv_dir) = candidates
        .iter()
        .find(|d| d.join(SENIOR_CSV).is_file() || d.join(JUNIOR_CSV).is_file())
    else {
        return Err(DataError::format(
            &ann,
            None,
            format!(
                "no annotations: expected AnnotationsByMD/400_senior and 400_junior, or {SENIOR_CSV} and {JUNIOR_CSV} in {}",
                candidates
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ));
    };
    let senior_path = csv_dir.join(SENIOR_CSV);
    let senior = if need_senior || senior_path.is_file() {
        read_csv(&senior_path)?
    } else {
        ById::new()
    };
    let junior = if need_junior {
        read_csv(&csv_dir.join(JUNIOR_CSV))?
    } else {
        ById::new()
    };
    Ok(Annotations {
        source: csv_dir.clone(),
        senior,
        junior,
    })
}

/// `NNN.txt` files of one annotator (pixels).
#[cfg(not(target_arch = "wasm32"))]
fn read_txt_dir(d: &Path) -> Result<ById> {
    let entries = std::fs::read_dir(d).map_err(|e| DataError::io(d, e))?;
    let mut out = ById::new();
    for entry in entries {
        let p = entry.map_err(|e| DataError::io(d, e))?.path();
        if p.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let Some(id) = p
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue; // not an annotation file (e.g. a readme)
        };
        let text = std::fs::read_to_string(&p).map_err(|e| DataError::io(&p, e))?;
        out.insert(id, parse_isbi_txt(&p, &text)?);
    }
    if out.is_empty() {
        return Err(DataError::format(d, None, "no NNN.txt annotation files"));
    }
    Ok(out)
}

/// One annotator's CSV (Payer layout, millimetres → pixels).
#[cfg(not(target_arch = "wasm32"))]
fn read_csv(path: &Path) -> Result<ById> {
    let rows = super::payer_csv::read_payer_csv(path, ISBI_LANDMARKS, 1.0 / ISBI_MM_PER_PX)?;
    rows.into_iter()
        .map(|r| {
            let id = r.id.trim().parse::<u32>().map_err(|_| {
                DataError::format(path, None, format!("id {:?} is not a number", r.id))
            })?;
            Ok((id, r.points))
        })
        .collect()
}

/// Reads an ISBI 2015 directory.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_isbi(dir: &Path, opts: &IsbiOptions) -> Result<Dataset> {
    let need_senior = opts.ground_truth != IsbiGroundTruth::Junior;
    let need_junior = opts.ground_truth != IsbiGroundTruth::Senior;
    let Annotations {
        source,
        senior,
        mut junior,
    } = read_annotations(dir, opts)?;
    let ids: Vec<u32> = if need_senior {
        senior.keys().copied().collect()
    } else {
        junior.keys().copied().collect()
    };
    if let Some(&bad) = ids.iter().find(|&&id| IsbiSubset::of_id(id).is_none()) {
        return Err(DataError::format(
            &source,
            None,
            format!("annotation of id {bad:03} is outside the challenge's ids 001-400"),
        ));
    }
    if need_senior && need_junior {
        if let Some(id) = ids.iter().find(|id| !junior.contains_key(id)) {
            return Err(DataError::format(
                &source,
                None,
                format!("id {id:03} has no junior annotation, but the mean ground truth needs both annotators"),
            ));
        }
    }
    let mut senior = senior;
    let mut rows = Vec::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        let subset = IsbiSubset::of_id(id).unwrap_or(IsbiSubset::Train);
        let stem = format!("{id:03}");
        let dirs = [
            dir.join("RawImage").join(subset.image_dir()),
            dir.join("RawImage"),
            dir.join("images"),
        ];
        let image = match super::find_image(&dirs, &stem) {
            Some(p) => super::relative_to(dir, &p),
            None => {
                missing.push(stem.clone());
                format!("RawImage/{}/{stem}.bmp", subset.image_dir())
            }
        };
        rows.push(IsbiRow {
            id,
            image,
            senior: senior.remove(&id),
            junior: junior.remove(&id),
        });
    }
    if opts.require_images && !missing.is_empty() {
        return Err(DataError::format(
            dir.join("RawImage"),
            None,
            format!(
                "{} annotated ids have no image, e.g. {} (looked in RawImage/<subset>/, \
                 RawImage/, images/ for .bmp/.png/.jpg/.tif)",
                missing.len(),
                missing
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    build_isbi_dataset(rows, opts)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    #[test]
    fn observer_error_of_the_real_isbi_files() {
        use crate::data::formats::payer_csv::read_payer_csv;
        let Some(shared) = crate::data::shared_data_dir() else {
            eprintln!("skipped: ../shared/data not found (set FAIRMARK_SHARED_DATA)");
            return;
        };
        let dir = shared.join("annotations");
        let senior = dir.join("isbi2015_ceph_senior.csv");
        let s = read_payer_csv(&senior, ISBI_LANDMARKS, 10.0).unwrap();
        let j =
            read_payer_csv(&dir.join("isbi2015_ceph_junior.csv"), ISBI_LANDMARKS, 10.0).unwrap();
        let p = super::observer_predictions(&s, &j, true).unwrap();
        assert_eq!(p.len(), 400);
        assert_eq!(p[0].attributes["subset"], "train");
        assert_eq!(p[399].attributes["subset"], "test2");
        // Independent check of image 001, landmark 1 (sella), from the raw rows.
        let d = ((s[0].points[0][0] - j[0].points[0][0]).powi(2)
            + (s[0].points[0][1] - j[0].points[0][1]).powi(2))
        .sqrt();
        let got = ((p[0].truth[0][0] - p[0].pred[0][0]).powi(2)
            + (p[0].truth[0][1] - p[0].pred[0][1]).powi(2))
        .sqrt();
        assert!((d - got).abs() < 1e-12);
        // The literature's inter-observer MRE on ISBI 2015 is about 1–2 mm.
        let mre: f64 = p
            .iter()
            .flat_map(|im| im.truth.iter().zip(&im.pred))
            .map(|(a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt() * ISBI_MM_PER_PX)
            .sum::<f64>()
            / (400.0 * ISBI_LANDMARKS as f64);
        assert!((0.5..3.0).contains(&mre), "inter-observer MRE {mre} mm");
        let ten = super::observer_predictions(&s, &j, false).unwrap();
        assert_eq!(ten[0].truth.len(), 10);
        let e = super::observer_predictions(&s, &j[..10], false).unwrap_err();
        assert!(e.to_string().contains("no second annotation"), "{e}");
    }

    use super::*;
    use crate::data::formats::payer_csv::read_payer_csv;

    #[test]
    fn parse_ignores_label_lines_and_names_bad_lines() {
        let mut text: String = (0..19).map(|i| format!("{i},{}\n", i * 2)).collect();
        text.push_str("3\n1\nlabel\n");
        let pts = parse_isbi_txt(Path::new("a.txt"), &text).unwrap();
        assert_eq!(pts.len(), 19);
        assert_eq!(pts[18], [18.0, 36.0]);

        let short: String = (0..5).map(|i| format!("{i},{i}\n")).collect();
        let e = parse_isbi_txt(Path::new("a.txt"), &short).unwrap_err();
        assert!(e.to_string().contains("a.txt, line 6"), "{e}");
        assert!(e.to_string().contains("after 5 lines"), "{e}");

        let bad = text.replacen("4,8", "4,eight", 1);
        let e = parse_isbi_txt(Path::new("b.txt"), &bad).unwrap_err();
        assert!(e.to_string().starts_with("b.txt, line 5: column y"), "{e}");
        let bad = text.replacen("4,8", "4 8", 1);
        let e = parse_isbi_txt(Path::new("b.txt"), &bad).unwrap_err();
        assert!(e.to_string().starts_with("b.txt, line 5: expected"), "{e}");
    }

    #[test]
    fn splits_follow_the_challenge() {
        assert_eq!(isbi_split(1, 0.0), Some(Split::Train));
        assert_eq!(isbi_split(150, 0.0), Some(Split::Train));
        assert_eq!(isbi_split(150, 0.1), Some(Split::Val));
        assert_eq!(isbi_split(136, 0.1), Some(Split::Val));
        assert_eq!(isbi_split(135, 0.1), Some(Split::Train));
        assert_eq!(isbi_split(151, 0.1), Some(Split::Test));
        assert_eq!(isbi_split(400, 0.1), Some(Split::Test));
        assert_eq!(isbi_split(401, 0.1), None);
    }

    /// Writes the shared Payer CSVs out as an ISBI directory: txt files with
    /// label lines, and tiny BMPs in the three official image folders.
    fn write_layout(
        dir: &Path,
        data: &Path,
        images: bool,
    ) -> (
        Vec<super::super::payer_csv::ShapeRow>,
        Vec<super::super::payer_csv::ShapeRow>,
    ) {
        let senior = read_payer_csv(&data.join("isbi2015_ceph_senior.csv"), 19, 10.0).unwrap();
        let junior = read_payer_csv(&data.join("isbi2015_ceph_junior.csv"), 19, 10.0).unwrap();
        for (who, rows) in [("400_senior", &senior), ("400_junior", &junior)] {
            let d = dir.join("AnnotationsByMD").join(who);
            std::fs::create_dir_all(&d).unwrap();
            for r in rows {
                let mut t: String = r
                    .points
                    .iter()
                    .map(|p| format!("{},{}\n", p[0], p[1]))
                    .collect();
                t.push_str("2\n1\n3\n");
                std::fs::write(d.join(format!("{}.txt", r.id)), t).unwrap();
            }
        }
        if images {
            let img = image::GrayImage::from_pixel(4, 5, image::Luma([9]));
            for r in &senior {
                let id: u32 = r.id.parse().unwrap();
                let sub = IsbiSubset::of_id(id).unwrap().image_dir();
                let d = dir.join("RawImage").join(sub);
                std::fs::create_dir_all(&d).unwrap();
                img.save(d.join(format!("{}.bmp", r.id))).unwrap();
            }
        }
        (senior, junior)
    }

    #[test]
    fn reads_the_real_annotations_in_isbi_layout() {
        let Some(shared) = crate::data::shared_data_dir() else {
            eprintln!("shared data missing: skipping ISBI layout test");
            return;
        };
        let tmp = tempfile::tempdir().unwrap();
        let (senior, junior) = write_layout(tmp.path(), &shared.join("annotations"), true);
        assert_eq!(senior.len(), 400);

        let ds = read_isbi(tmp.path(), &IsbiOptions::default()).unwrap();
        assert_eq!(ds.samples.len(), 400);
        assert_eq!(ds.n_landmarks(), 10);
        assert_eq!(ds.meta.anatomy, Some(Anatomy::Ceph));
        assert_eq!(ds.split(Split::Train).count(), 150);
        assert_eq!(ds.split(Split::Test).count(), 250);
        for (s, r) in ds.samples.iter().zip(&senior) {
            assert!(s.image.ends_with(&format!("{}.bmp", r.id)), "{}", s.image);
            assert!(tmp.path().join(&s.image).is_file());
            assert_eq!(s.mm_per_px, 0.1);
            for (k, l) in CEPH_LANDMARKS.iter().enumerate() {
                for c in 0..2 {
                    assert!((s.landmarks[k][c] - r.points[l.2][c]).abs() < 1e-6);
                }
            }
        }
        assert_eq!(ds.samples[300].image, "RawImage/Test2Data/301.bmp");
        assert_eq!(ds.samples[150].image, "RawImage/Test1Data/151.bmp");

        let opts = IsbiOptions {
            ground_truth: IsbiGroundTruth::Mean,
            all_landmarks: true,
            val_fraction: 0.1,
            ..Default::default()
        };
        let ds = read_isbi(tmp.path(), &opts).unwrap();
        assert_eq!(ds.n_landmarks(), 19);
        assert_eq!(ds.meta.landmark_names[18], "Ar");
        assert_eq!(ds.meta.anatomy, Some(Anatomy::Isbi));
        assert_eq!(ds.split(Split::Train).count(), 135);
        assert_eq!(ds.split(Split::Val).count(), 15);
        assert_eq!(ds.split(Split::Test).count(), 250);
        for ((s, a), b) in ds.samples.iter().zip(&senior).zip(&junior) {
            for k in 0..19 {
                for c in 0..2 {
                    let m = (a.points[k][c] + b.points[k][c]) / 2.0;
                    assert!((s.landmarks[k][c] - m).abs() < 1e-6);
                }
            }
        }

        let opts = IsbiOptions {
            ground_truth: IsbiGroundTruth::Junior,
            all_landmarks: true,
            ..Default::default()
        };
        let ds = read_isbi(tmp.path(), &opts).unwrap();
        assert!((ds.samples[399].landmarks[5][1] - junior[399].points[5][1]).abs() < 1e-6);
    }

    /// The layout of `../shared/data`: `isbi2015/images/NNN.jpg` beside
    /// `annotations/isbi2015_ceph_{senior,junior}.csv` (millimetres).
    #[test]
    fn reads_the_shared_jpeg_and_csv_layout_with_skeletal_classes() {
        let Some(shared) = crate::data::shared_data_dir() else {
            eprintln!("shared data missing: skipping ISBI CSV layout test");
            return;
        };
        let dir = shared.join("isbi2015");
        if !dir.join("images").is_dir() {
            eprintln!("no ISBI images in {}: skipped", dir.display());
            return;
        }
        let opts = IsbiOptions {
            all_landmarks: true,
            val_fraction: 0.1,
            ..Default::default()
        };
        let ds = read_isbi(&dir, &opts).unwrap();
        assert_eq!(ds.samples.len(), 400);
        assert_eq!(ds.meta.anatomy, Some(Anatomy::Isbi));
        assert_eq!(ds.meta.landmark_names, Anatomy::Isbi.landmark_names());
        assert_eq!(
            (
                ds.split(Split::Train).count(),
                ds.split(Split::Val).count(),
                ds.split(Split::Test).count()
            ),
            (135, 15, 250)
        );
        let first = &ds.samples[0];
        assert_eq!(first.image, "images/001.jpg");
        // Senior 001 in mm: S (83.5, 99.6), N (147.3, 102.9), A (137.5, 165.4),
        // B (138.6, 201.9); pixels are mm × 10.
        assert_eq!(first.landmarks[0], [835.0, 996.0]);
        // NS = (−63.8, −3.3), NA = (−9.8, 62.5), NB = (−8.7, 99.0) mm:
        // cos SNA = 418.99 / (63.885 × 63.264) = 0.10367 → SNA = 84.05°;
        // cos SNB = 228.36 / (63.885 × 99.382) = 0.035968 → SNB = 87.94°;
        // ANB = −3.89°, below 3.2°: Class III.
        let anb = anb_deg(
            first.landmarks[0],
            first.landmarks[1],
            first.landmarks[4],
            first.landmarks[5],
        )
        .unwrap();
        assert!((anb - (-3.889)).abs() < 0.001, "{anb}");
        assert_eq!(first.attributes[SKELETAL_CLASS], "III");
        let groups = &ds.meta.attributes[SKELETAL_CLASS];
        assert_eq!(groups, &["I", "II", "III"]);
        let counts: Vec<usize> = groups
            .iter()
            .map(|g| {
                ds.samples
                    .iter()
                    .filter(|s| &s.attributes[SKELETAL_CLASS] == g)
                    .count()
            })
            .collect();
        assert!(counts.iter().all(|&c| c >= 20), "{counts:?}");
        // The 10-landmark set from the same files.
        let ds10 = read_isbi(&dir, &IsbiOptions::default()).unwrap();
        assert_eq!(ds10.meta.anatomy, Some(Anatomy::Ceph));
        assert_eq!(ds10.samples[0].landmarks[4], first.landmarks[4]);
        // Test1 alone, without the duplicated images: 148 test images, all 151–300.
        let t1 = IsbiOptions {
            test_sets: IsbiTestSets::Test1,
            drop_duplicates: true,
            ..Default::default()
        };
        let ds1 = read_isbi(&dir, &t1).unwrap();
        let test: Vec<&Sample> = ds1.split(Split::Test).collect();
        assert_eq!(test.len(), 148);
        assert!(test.iter().all(|s| s.image.as_str() >= "images/151"
            && s.image.as_str() < "images/301"
            && s.image != "images/173.jpg"
            && s.image != "images/283.jpg"));
        assert_eq!(ds1.split(Split::Train).count(), 150);
        let t2 = IsbiOptions {
            test_sets: IsbiTestSets::Test2,
            ..Default::default()
        };
        assert_eq!(
            read_isbi(&dir, &t2).unwrap().split(Split::Test).count(),
            100
        );
        // Junior ground truth: the class still comes from the senior annotation.
        let junior = IsbiOptions {
            ground_truth: IsbiGroundTruth::Junior,
            ..Default::default()
        };
        let dsj = read_isbi(&dir, &junior).unwrap();
        assert_eq!(dsj.samples[0].attributes[SKELETAL_CLASS], "III");
        assert_ne!(dsj.samples[0].landmarks, ds10.samples[0].landmarks);
    }

    #[test]
    fn missing_images_and_annotations_are_errors() {
        let Some(shared) = crate::data::shared_data_dir() else {
            eprintln!("shared data missing: skipping ISBI error test");
            return;
        };
        let tmp = tempfile::tempdir().unwrap();
        let e = read_isbi(tmp.path(), &IsbiOptions::default()).unwrap_err();
        assert!(e.to_string().contains("AnnotationsByMD"), "{e}");

        write_layout(tmp.path(), &shared.join("annotations"), false);
        let e = read_isbi(tmp.path(), &IsbiOptions::default()).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("400 annotated ids have no image, e.g. 001, 002"),
            "{msg}"
        );

        let opts = IsbiOptions {
            require_images: false,
            ..Default::default()
        };
        let ds = read_isbi(tmp.path(), &opts).unwrap();
        assert_eq!(ds.samples[0].image, "RawImage/TrainingData/001.bmp");

        // A flat image folder is accepted too.
        let flat = tmp.path().join("images");
        std::fs::create_dir_all(&flat).unwrap();
        let img = image::GrayImage::from_pixel(2, 2, image::Luma([1]));
        for id in 1..=400 {
            img.save(flat.join(format!("{id:03}.png"))).unwrap();
        }
        let ds = read_isbi(tmp.path(), &IsbiOptions::default()).unwrap();
        assert_eq!(ds.samples[7].image, "images/008.png");

        let p = tmp.path().join("AnnotationsByMD/400_senior/007.txt");
        std::fs::write(&p, "1,2\n3,4\n").unwrap();
        let e = read_isbi(tmp.path(), &IsbiOptions::default()).unwrap_err();
        assert!(e.to_string().contains("007.txt, line 3"), "{e}");
    }
}
