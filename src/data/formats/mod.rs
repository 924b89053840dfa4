//! Readers for the real data formats users bring, each producing a
//! [`Dataset`](crate::data::Dataset).
//!
//! [`load_any`] recognises a fairmark dataset directory and the ISBI 2015
//! layout by their files. The Digital Hand Atlas layout spreads over separate
//! files chosen by the user, so it is read with [`hand::read_hand`] and a
//! [`HandLayout`].
pub mod dicom;
pub mod hand;
pub mod image_io;
pub mod isbi;
pub mod payer_csv;

pub use hand::{HandLayout, HandOptions};
pub use image_io::{decode_image, decode_radiograph, GreyImage, Radiograph};
pub use isbi::{IsbiGroundTruth, IsbiOptions};

#[cfg(not(target_arch = "wasm32"))]
pub use hand::read_hand;
#[cfg(not(target_arch = "wasm32"))]
pub use image_io::{load_image, load_radiograph};
#[cfg(not(target_arch = "wasm32"))]
pub use isbi::read_isbi;

#[cfg(not(target_arch = "wasm32"))]
use crate::data::{error::DataError, error::Result, Dataset};
#[cfg(not(target_arch = "wasm32"))]
use std::path::{Path, PathBuf};

/// Image file extensions tried, in order, when a layout names images by id.
pub const IMAGE_EXTENSIONS: [&str; 10] = [
    "bmp", "png", "jpg", "jpeg", "tif", "tiff", "dcm", "BMP", "PNG", "DCM",
];

/// Loads a dataset, detecting its layout:
/// - a directory with `dataset.json` (or a path to a `.json` manifest): fairmark's own format;
/// - a directory with `AnnotationsByMD/`: ISBI 2015 with default [`IsbiOptions`].
#[cfg(not(target_arch = "wasm32"))]
pub fn load_any(path: &Path) -> Result<Dataset> {
    if path.is_file() && path.extension().is_some_and(|e| e == "json") {
        return Dataset::load(path);
    }
    if !path.exists() {
        return Err(DataError::format(path, None, "no such file or directory"));
    }
    if path.join("dataset.json").is_file() {
        return Dataset::load(path);
    }
    if path.join("AnnotationsByMD").is_dir() {
        return read_isbi(path, &IsbiOptions::default());
    }
    Err(DataError::format(
        path,
        None,
        "not a dataset layout fairmark recognises; understood are a fairmark dataset \
         directory (dataset.json [+ landmarks.csv, attributes.csv]) and the ISBI 2015 \
         layout (AnnotationsByMD/400_senior/NNN.txt + RawImage/); Digital Hand Atlas \
         data (all.csv + attributes + images) is read with formats::hand::read_hand",
    ))
}

/// The first `dir/stem.ext` that exists, over `dirs` then [`IMAGE_EXTENSIONS`].
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn find_image(dirs: &[PathBuf], stem: &str) -> Option<PathBuf> {
    dirs.iter().find_map(|d| {
        IMAGE_EXTENSIONS
            .iter()
            .map(|e| d.join(format!("{stem}.{e}")))
            .find(|p| p.is_file())
    })
}

/// `path` relative to `base` with `/` separators (the dataset format's image
/// field), or the full path when it is not under `base`.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn relative_to(base: &Path, path: &Path) -> String {
    let Ok(rel) = path.strip_prefix(base) else {
        return path.to_string_lossy().into_owned();
    };
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn load_any_detects_layouts_and_explains_failures() {
        let tmp = tempfile::tempdir().unwrap();
        let e = load_any(tmp.path()).unwrap_err().to_string();
        assert!(
            e.contains("dataset.json") && e.contains("AnnotationsByMD"),
            "{e}"
        );
        assert!(e.contains("read_hand"), "{e}");
        assert!(load_any(&tmp.path().join("absent")).is_err());

        // ISBI: annotation-only layout fails on missing images, by the ISBI reader.
        let ann = tmp.path().join("AnnotationsByMD/400_senior");
        std::fs::create_dir_all(&ann).unwrap();
        let txt: String = (0..19).map(|i| format!("{i},{i}\n")).collect();
        std::fs::write(ann.join("001.txt"), &txt).unwrap();
        let e = load_any(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("no image, e.g. 001"), "{e}");
        let raw = tmp.path().join("RawImage/TrainingData");
        std::fs::create_dir_all(&raw).unwrap();
        image::GrayImage::new(3, 3)
            .save(raw.join("001.bmp"))
            .unwrap();
        let ds = load_any(tmp.path()).unwrap();
        assert_eq!(ds.samples.len(), 1);
        assert_eq!(ds.samples[0].landmarks[9], [17.0, 17.0]); // ANS

        // fairmark format, by directory and by manifest path.
        let out = tmp.path().join("fm");
        ds.save(&out).unwrap();
        assert_eq!(load_any(&out).unwrap().samples, ds.samples);
        assert_eq!(
            load_any(&out.join("dataset.json")).unwrap().samples,
            ds.samples
        );
    }
}
