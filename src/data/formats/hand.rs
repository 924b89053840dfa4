//! The Digital Hand Atlas as set up by Payer et al. (2019): three separate
//! inputs, named by a [`HandLayout`]:
//! - `annotations`: `all.csv`, no header, `id,x1,y1,…,x37,y37` in pixels;
//! - `attributes` (optional): a CSV with an `image` or `id` column and attribute
//!   columns such as `sex`, `age` (years) or `age_group`, `ethnicity`;
//! - `images`: a directory holding `ID.png` (or .jpg/.bmp/.tif).
//!
//! There is no pixel spacing: each image's mm/px is set so that the wrist
//! endpoints (KP2, KP6) are 50 mm apart ([`hand_mm_per_px`]).
//!
//! Attributes: `sex` is normalised to `F`/`M`; an `age` column in years gives
//! `age_group` = young (9 ≤ age < 14) or old (14 ≤ age < 19) unless an
//! `age_group` column is present; ages outside 9–18 get no group (the fairness
//! analysis covers 9–18 year olds). The raw age is not kept as an attribute,
//! since attributes are group labels. Other columns are kept as they are.
//!
//! Split: a seeded shuffle of all annotated ids (sorted first, so file order
//! does not matter) puts `test_fraction` in test (the paper's 75/25) and then
//! `val_fraction` of the rest in val. It is computed over *all* annotation
//! rows before images are looked up, so an image's split does not depend on
//! which other images happen to be present.
use crate::data::dataset::Split;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where the three parts of a hand data set are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandLayout {
    pub annotations: PathBuf,
    #[serde(default)]
    pub attributes: Option<PathBuf>,
    pub images: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HandOptions {
    /// Seed of the train/test shuffle.
    pub seed: u64,
    /// Fraction of all ids in test (0.25 in the paper).
    pub test_fraction: f64,
    /// Fraction of the non-test ids moved to val.
    pub val_fraction: f64,
    /// Drop annotation rows whose image is missing instead of failing
    /// (for partial copies of the atlas).
    pub skip_missing_images: bool,
}

impl Default for HandOptions {
    fn default() -> Self {
        Self {
            seed: 42,
            test_fraction: 0.25,
            val_fraction: 0.0,
            skip_missing_images: false,
        }
    }
}

/// `young` for 9 ≤ age < 14, `old` for 14 ≤ age < 19, else none.
pub fn age_group(years: f64) -> Option<&'static str> {
    if (9.0..14.0).contains(&years) {
        Some("young")
    } else if (14.0..19.0).contains(&years) {
        Some("old")
    } else {
        None
    }
}

/// `F` or `M` from the spellings atlases use.
pub fn normalise_sex(v: &str) -> Option<&'static str> {
    match v.trim().to_ascii_lowercase().as_str() {
        "f" | "female" | "w" => Some("F"),
        "m" | "male" => Some("M"),
        _ => None,
    }
}

/// Deterministic splits for `ids` (any order): seeded Fisher–Yates shuffle of
/// the sorted ids, first `round(n·test_fraction)` test, then
/// `round(rest·val_fraction)` val, the others train.
pub fn hand_splits(
    ids: &[String],
    seed: u64,
    test_fraction: f64,
    val_fraction: f64,
) -> BTreeMap<String, Split> {
    let mut order: Vec<&String> = ids.iter().collect();
    order.sort();
    order.dedup();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // Own shuffle on the raw stream so the splits stay fixed across rand
    // versions (the library's shuffle algorithm is not a stability promise).
    for i in (1..order.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let n = order.len();
    let n_test = ((n as f64) * test_fraction.clamp(0.0, 1.0)).round() as usize;
    let n_val = (((n - n_test) as f64) * val_fraction.clamp(0.0, 1.0)).round() as usize;
    order
        .into_iter()
        .enumerate()
        .map(|(i, id)| {
            let s = if i < n_test {
                Split::Test
            } else if i < n_test + n_val {
                Split::Val
            } else {
                Split::Train
            };
            (id.clone(), s)
        })
        .collect()
}

/// Turns one attributes row into group labels (see the module notes);
/// `Err` holds the problem.
pub fn normalise_attributes(
    raw: &BTreeMap<String, String>,
) -> std::result::Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (k, v) in raw {
        match k.as_str() {
            "sex" | "gender" => {
                let s = normalise_sex(v)
                    .ok_or_else(|| format!("sex {v:?} is not F/M (female/male)"))?;
                out.insert("sex".into(), s.into());
            }
            "age" => {
                let years: f64 = v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|a: &f64| a.is_finite())
                    .ok_or_else(|| format!("age {v:?} is not a number of years"))?;
                if !raw.contains_key("age_group") {
                    if let Some(g) = age_group(years) {
                        out.insert("age_group".into(), g.into());
                    }
                }
            }
            "age_group" => {
                let g = v.trim().to_ascii_lowercase();
                if g != "young" && g != "old" {
                    return Err(format!("age_group {v:?} is not young/old"));
                }
                out.insert("age_group".into(), g);
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(out)
}

/// Reads a hand data set.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_hand(
    layout: &HandLayout,
    opts: &HandOptions,
) -> crate::data::error::Result<crate::data::Dataset> {
    use super::payer_csv::read_payer_csv;
    use crate::data::anatomy::{hand_mm_per_px, Anatomy, HAND_LANDMARKS};
    use crate::data::dataset::{read_attributes_csv, DatasetMeta, Sample, DATASET_SCHEMA};
    use crate::data::error::DataError;
    use std::collections::BTreeSet;

    let rows = read_payer_csv(&layout.annotations, HAND_LANDMARKS, 1.0)?;
    if !layout.images.is_dir() {
        return Err(DataError::format(
            &layout.images,
            None,
            "image directory does not exist",
        ));
    }
    let attrs = match &layout.attributes {
        Some(p) if !p.is_file() => {
            return Err(DataError::format(p, None, "attributes file does not exist"))
        }
        Some(p) => {
            let mut by_id = BTreeMap::new();
            for (key, raw) in read_attributes_csv(p)? {
                // Attribute tables may name images with or without extension.
                let id = key
                    .rsplit_once('.')
                    .filter(|(_, ext)| super::IMAGE_EXTENSIONS.contains(ext))
                    .map(|(stem, _)| stem.to_string())
                    .unwrap_or(key);
                let norm = normalise_attributes(&raw).map_err(|problem| {
                    DataError::format(p, None, format!("image {id}: {problem}"))
                })?;
                by_id.insert(id, norm);
            }
            by_id
        }
        None => BTreeMap::new(),
    };
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let splits = hand_splits(&ids, opts.seed, opts.test_fraction, opts.val_fraction);

    let mut samples = Vec::with_capacity(rows.len());
    let mut missing = Vec::new();
    for row in rows {
        let Some(img) = super::find_image(std::slice::from_ref(&layout.images), &row.id) else {
            missing.push(row.id);
            continue;
        };
        let mm_per_px = hand_mm_per_px(&row.points).ok_or_else(|| {
            DataError::format(
                &layout.annotations,
                None,
                format!(
                    "id {}: wrist endpoints KP2 and KP6 coincide, no pixel spacing",
                    row.id
                ),
            )
        })?;
        samples.push(Sample {
            image: img.to_string_lossy().into_owned(),
            split: splits.get(&row.id).copied().unwrap_or(Split::Train),
            mm_per_px,
            landmarks: row.points,
            attributes: attrs.get(&row.id).cloned().unwrap_or_default(),
        });
    }
    if !missing.is_empty() && !opts.skip_missing_images {
        return Err(DataError::format(
            &layout.images,
            None,
            format!(
                "{} annotated ids have no image, e.g. {} (set skip_missing_images to read the rest)",
                missing.len(),
                missing.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    if samples.is_empty() {
        return Err(DataError::format(
            &layout.images,
            None,
            "none of the annotated ids has an image here",
        ));
    }

    let mut groups: BTreeMap<String, Vec<String>> = Anatomy::Hand
        .attributes()
        .into_iter()
        .map(|(a, g)| (a.to_string(), g.into_iter().map(String::from).collect()))
        .collect();
    let mut extra: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &samples {
        for (k, v) in &s.attributes {
            if !groups.contains_key(k) {
                extra.entry(k.clone()).or_default().insert(v.clone());
            }
        }
    }
    groups.extend(extra.into_iter().map(|(k, v)| (k, v.into_iter().collect())));

    let meta = DatasetMeta {
        schema: DATASET_SCHEMA.into(),
        anatomy: Some(Anatomy::Hand),
        landmark_names: Anatomy::Hand.landmark_names(),
        attributes: groups,
        description: format!(
            "Digital Hand Atlas (Payer et al. layout) from {}; mm from the 50 mm wrist \
             convention; seeded split (seed {}, test {:.0}%, val {:.0}% of the rest)",
            layout.annotations.display(),
            opts.seed,
            opts.test_fraction * 100.0,
            opts.val_fraction * 100.0
        ),
        generator: None,
        samples: None,
    };
    crate::data::Dataset::new(meta, samples)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::data::anatomy::Anatomy;
    use std::path::Path;

    const REAL: [&str; 4] = ["3167", "3177", "3229", "3231"];

    #[test]
    fn age_groups_and_sex() {
        assert_eq!(age_group(9.0), Some("young"));
        assert_eq!(age_group(13.99), Some("young"));
        assert_eq!(age_group(14.0), Some("old"));
        assert_eq!(age_group(18.9), Some("old"));
        assert_eq!(age_group(5.0), None);
        assert_eq!(age_group(19.0), None);
        assert_eq!(normalise_sex("Female"), Some("F"));
        assert_eq!(normalise_sex(" m "), Some("M"));
        assert_eq!(normalise_sex("x"), None);
    }

    #[test]
    fn splits_are_seeded_and_sized() {
        let ids: Vec<String> = (0..100).map(|i| format!("{i}")).collect();
        let a = hand_splits(&ids, 7, 0.25, 0.2);
        let mut rev = ids.clone();
        rev.reverse();
        assert_eq!(
            a,
            hand_splits(&rev, 7, 0.25, 0.2),
            "file order must not matter"
        );
        assert_ne!(a, hand_splits(&ids, 8, 0.25, 0.2));
        let count = |s| a.values().filter(|&&v| v == s).count();
        assert_eq!(count(Split::Test), 25);
        assert_eq!(count(Split::Val), 15);
        assert_eq!(count(Split::Train), 60);
    }

    fn real_layout(attributes: Option<PathBuf>) -> Option<HandLayout> {
        let shared = crate::data::shared_data_dir()?;
        Some(HandLayout {
            annotations: shared.join("annotations/dha_hand_all.csv"),
            attributes,
            images: shared.join("real-hand"),
        })
    }

    #[test]
    fn reads_the_real_radiographs() {
        let tmp = tempfile::tempdir().unwrap();
        let attr = tmp.path().join("attrs.csv");
        std::fs::write(
            &attr,
            "id,sex,age,ethnicity\n3167,female,10.5,asian\n3177.png,M,15,black\n3229,F,4,asian\n",
        )
        .unwrap();
        let Some(layout) = real_layout(Some(attr)) else {
            eprintln!("shared data missing: skipping real hand test");
            return;
        };
        let e = read_hand(&layout, &HandOptions::default()).unwrap_err();
        assert!(
            e.to_string().contains("906 annotated ids have no image"),
            "{e}"
        );

        let opts = HandOptions {
            skip_missing_images: true,
            ..Default::default()
        };
        let ds = read_hand(&layout, &opts).unwrap();
        let ids: Vec<String> = ds
            .samples
            .iter()
            .map(|s| {
                Path::new(&s.image)
                    .file_stem()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(ids, REAL);
        assert_eq!(ds.n_landmarks(), 37);
        assert_eq!(ds.meta.anatomy, Some(Anatomy::Hand));
        assert_eq!(ds.meta.attributes["ethnicity"], vec!["asian", "black"]);
        let s0 = &ds.samples[0].attributes;
        assert_eq!(
            (s0["sex"].as_str(), s0["age_group"].as_str()),
            ("F", "young")
        );
        let s1 = &ds.samples[1].attributes;
        assert_eq!((s1["sex"].as_str(), s1["age_group"].as_str()), ("M", "old"));
        assert!(!ds.samples[2].attributes.contains_key("age_group"));
        assert!(ds.samples[3].attributes.is_empty());
        for s in &ds.samples {
            assert_eq!(s.landmarks.len(), 37);
            assert!((0.05..0.3).contains(&s.mm_per_px), "{} mm/px", s.mm_per_px);
            let (w, h) = super::super::image_io::image_dimensions(Path::new(&s.image)).unwrap();
            for p in &s.landmarks {
                assert!(p[0] >= 0.0 && p[0] < w as f64 && p[1] >= 0.0 && p[1] < h as f64);
            }
        }
        // The four images load as grey radiographs.
        let img = super::super::image_io::load_image(Path::new(&ds.samples[3].image)).unwrap();
        assert!(img.width > 500 && img.height > 500 && img.std() > 0.01);
    }

    #[test]
    fn bad_attributes_name_file_and_image() {
        let tmp = tempfile::tempdir().unwrap();
        let attr = tmp.path().join("attrs.csv");
        std::fs::write(&attr, "image,sex,age\n3167,F,ten\n").unwrap();
        let Some(layout) = real_layout(Some(attr)) else {
            return;
        };
        let opts = HandOptions {
            skip_missing_images: true,
            ..Default::default()
        };
        let e = read_hand(&layout, &opts).unwrap_err().to_string();
        assert!(
            e.contains("attrs.csv") && e.contains("3167") && e.contains("age"),
            "{e}"
        );
        let layout = HandLayout {
            attributes: Some(tmp.path().join("nope.csv")),
            ..layout
        };
        assert!(read_hand(&layout, &opts)
            .unwrap_err()
            .to_string()
            .contains("nope.csv"));
    }
}
