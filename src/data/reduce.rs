//! A smaller copy of a dataset: every image box-averaged by an integer factor
//! and stored as 8-bit grey JPEG, landmarks and pixel spacing converted with
//! it. What it is for: taking real radiographs where bytes are scarce (the
//! GPU machine takes 64 MiB in all; the 150 ISBI training images alone are
//! 46 MB at 0.1 mm) at a resolution that still exceeds what the networks read.
use super::dataset::{image_path, Dataset};
use super::error::{DataError, Result};
use super::formats::image_io::{load_image, GreyImage};
use super::preprocess::letterbox::box_reduce;
use std::path::Path;

/// How to reduce.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReduceOptions {
    /// Original pixels per side of one new pixel (2: 0.1 mm → 0.2 mm).
    pub factor: usize,
    /// JPEG quality, 1–100.
    pub quality: u8,
}

impl Default for ReduceOptions {
    fn default() -> Self {
        Self {
            factor: 2,
            quality: 95,
        }
    }
}

/// Where an original pixel coordinate lands after box-averaging by `f`: box
/// `r` covers original pixels `[r·f, (r+1)·f)` and its centre is at
/// `r·f + (f − 1)/2` (pixel centres at integers, as annotations use).
pub fn reduced_coordinate(x: f64, f: usize) -> f64 {
    (x + 0.5) / f as f64 - 0.5
}

/// Encodes `img` as an 8-bit grey JPEG.
pub fn grey_jpeg(img: &GreyImage, quality: u8) -> Result<Vec<u8>> {
    let px = img.to_u8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode(
            &px,
            img.width as u32,
            img.height as u32,
            image::ExtendedColorType::L8,
        )
        .map_err(|e| DataError::Invalid(format!("cannot encode JPEG: {e}")))?;
    Ok(out)
}

/// Writes the reduced copy of `ds` (images read relative to `src_dir`) into
/// `out_dir` (`images/<n>.jpg` + the dataset files) and returns it. `progress`
/// is called after each image. The output directory must not hold a dataset
/// already: nothing saved before is overwritten.
pub fn reduce_dataset(
    ds: &Dataset,
    src_dir: &Path,
    out_dir: &Path,
    opts: ReduceOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<Dataset> {
    if !(1..=64).contains(&opts.factor) {
        return Err(DataError::Invalid(format!(
            "reduction factor {} outside 1..=64",
            opts.factor
        )));
    }
    if out_dir.join("dataset.json").exists() {
        return Err(DataError::Invalid(format!(
            "{} already holds a dataset; choose an empty directory",
            out_dir.display()
        )));
    }
    let images = out_dir.join("images");
    std::fs::create_dir_all(&images).map_err(|e| DataError::io(&images, e))?;
    let mut out = ds.clone();
    let n = ds.samples.len();
    for (i, s) in out.samples.iter_mut().enumerate() {
        let src = image_path(src_dir, s);
        let img = load_image(&src)?;
        let small = if opts.factor > 1 {
            box_reduce(&img, opts.factor)
        } else {
            img
        };
        // Numbered names: the originals' names may repeat across folders.
        let name = format!("images/{i:05}.jpg");
        let path = out_dir.join(&name);
        crate::io::write_atomic(&path, &grey_jpeg(&small, opts.quality)?)?;
        s.image = name;
        s.mm_per_px *= opts.factor as f64;
        for p in &mut s.landmarks {
            *p = [
                reduced_coordinate(p[0], opts.factor),
                reduced_coordinate(p[1], opts.factor),
            ];
        }
        progress(i + 1, n);
    }
    if !out.meta.description.is_empty() {
        out.meta.description.push(' ');
    }
    out.meta.description.push_str(&format!(
        "Images box-averaged by {} and stored as grey JPEG (quality {}).",
        opts.factor, opts.quality
    ));
    out.save(out_dir)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::{DatasetMeta, Sample, Split, DATASET_SCHEMA};
    use std::collections::BTreeMap;

    #[test]
    fn coordinates_follow_the_box_centres() {
        // f = 2: original pixels 0 and 1 average into new pixel 0, centred at 0.5.
        assert_eq!(reduced_coordinate(0.5, 2), 0.0);
        assert_eq!(reduced_coordinate(2.5, 2), 1.0);
        assert_eq!(reduced_coordinate(4.0, 3), 1.0);
        assert_eq!(reduced_coordinate(7.0, 1), 7.0);
    }

    /// A bright 2×2 square at original (10..12, 20..22) must land on the new
    /// pixel the landmark maps to, and the spacing must double.
    #[test]
    fn a_dataset_keeps_its_landmarks_on_their_pixels() {
        let dir = tempfile::tempdir().unwrap();
        let mut img = GreyImage::zeros(40, 30);
        for y in 20..22 {
            for x in 10..12 {
                img.data[y * 40 + x] = 1.0;
            }
        }
        std::fs::write(dir.path().join("a.png"), img.to_png_bytes().unwrap()).unwrap();
        let meta = DatasetMeta {
            schema: DATASET_SCHEMA.into(),
            anatomy: None,
            landmark_names: vec!["p".into()],
            attributes: BTreeMap::new(),
            description: String::new(),
            generator: None,
            samples: None,
        };
        let sample = Sample {
            image: "a.png".into(),
            split: Split::Test,
            mm_per_px: 0.1,
            landmarks: vec![[10.5, 20.5]],
            attributes: BTreeMap::new(),
        };
        let ds = Dataset::new(meta, vec![sample]).unwrap();
        let out = dir.path().join("small");
        let mut seen = 0;
        let small = reduce_dataset(&ds, dir.path(), &out, ReduceOptions::default(), |i, n| {
            seen = i;
            assert_eq!(n, 1);
        })
        .unwrap();
        assert_eq!(seen, 1);
        let s = &small.samples[0];
        assert_eq!(s.landmarks[0], [5.0, 10.0]);
        assert!((s.mm_per_px - 0.2).abs() < 1e-12);
        let back = Dataset::load(&out).unwrap();
        assert_eq!(back.samples[0].landmarks, s.landmarks);
        let reread = load_image(&image_path(&out, &back.samples[0])).unwrap();
        assert_eq!((reread.width, reread.height), (20, 15));
        let peak = reread.get(5, 10).unwrap();
        assert!(peak > 0.8, "{peak}");
        assert!(reread.get(8, 10).unwrap() < 0.2);
        // A second run into the same folder refuses rather than overwrite.
        let e = reduce_dataset(&ds, dir.path(), &out, ReduceOptions::default(), |_, _| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("already holds a dataset"), "{e}");
    }
}
