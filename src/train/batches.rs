//! Training data in memory: images letterboxed to the model input once, then
//! per batch augmented (seeded), turned into heatmap targets and tensors.
use crate::data::formats::image_io::load_image;
use crate::data::preprocess::augment::{augment_with_rng, AugmentConfig};
use crate::data::preprocess::heatmap::gaussian_heatmaps;
use crate::data::preprocess::letterbox::{letterbox, Letterbox};
use crate::data::preprocess::patch::PatchSource;
use crate::data::{DataError, Dataset, GreyImage, Sample, Split};
use crate::model::DetectorConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

pub use crate::model::attributes::AttributeSpace;

pub struct Prepared {
    pub sample: Sample,
    pub image: GreyImage,
    pub letterbox: Letterbox,
    /// Landmarks in model-input pixels.
    pub landmarks: Vec<[f64; 2]>,
    pub attributes: Vec<usize>,
    /// The original image reduced for the refinement stage's patches (models
    /// with one).
    pub patch_source: Option<PatchSource>,
}

/// Loads and letterboxes the samples of `split` (all when `None`) for the
/// model `detector`, in parallel.
pub fn prepare(
    ds: &Dataset,
    dir: &Path,
    split: Option<Split>,
    detector: &DetectorConfig,
    space: &AttributeSpace,
) -> Result<Vec<Prepared>, DataError> {
    let input = detector.input_size;
    use rayon::prelude::*;
    let samples: Vec<&Sample> = ds
        .samples
        .iter()
        .filter(|s| split.is_none_or(|sp| s.split == sp))
        .collect();
    samples
        .par_iter()
        .map(|s| {
            let img = load_image(&dir.join(&s.image))?;
            // `input` is [width, height], as every size in fairmark.
            let (image, lb) = letterbox(&img, input[0], input[1])?;
            let patch_source = detector
                .refine
                .as_ref()
                .map(|r| PatchSource::new(&img, r.step(lb.scale)));
            Ok(Prepared {
                patch_source,
                landmarks: s.landmarks.iter().map(|p| lb.to_input(*p)).collect(),
                attributes: space.indices(&s.attributes),
                sample: (*s).clone(),
                image,
                letterbox: lb,
            })
        })
        .collect()
}

pub struct Batch {
    pub images: Tensor<4>,
    pub targets: Tensor<4>,
    /// `[B, n_a]` group indices after attribute dropout.
    pub attributes: Tensor<2, Int>,
    /// True group per attribute per image (`[a][i]`, group count = unknown).
    pub labels: Vec<Vec<usize>>,
    /// Landmarks normalised to [0, 1], `[B, K, 2]` (positions ȳ for mining).
    pub positions: Tensor<3>,
}

pub struct BatchOptions<'a> {
    pub augment: Option<&'a AugmentConfig>,
    pub sigma: f64,
    /// Probability that an attribute is replaced by "unknown" (identity attention).
    pub attribute_dropout: f64,
}

pub fn make_batch(
    items: &[&Prepared],
    opts: &BatchOptions,
    space: &AttributeSpace,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Batch {
    let b = items.len();
    let (h, w) = (items[0].image.height, items[0].image.width);
    let k = items[0].landmarks.len();
    let n_a = space.names.len();
    let mut images = Vec::with_capacity(b * h * w);
    let mut targets = Vec::with_capacity(b * k * h * w);
    let mut positions = Vec::with_capacity(b * k * 2);
    let mut attrs = Vec::with_capacity(b * n_a.max(1));
    let mut labels = vec![Vec::with_capacity(b); n_a];
    for it in items {
        let (img, lm) = match opts.augment {
            Some(cfg) => {
                let a = augment_with_rng(&it.image, &it.landmarks, cfg, rng);
                (a.image, a.landmarks)
            }
            None => (it.image.clone(), it.landmarks.clone()),
        };
        images.extend_from_slice(&img.data);
        targets.extend(gaussian_heatmaps(&lm, w, h, opts.sigma));
        for p in &lm {
            positions.push((p[0] / w as f64) as f32);
            positions.push((p[1] / h as f64) as f32);
        }
        for (a, &g) in it.attributes.iter().enumerate() {
            labels[a].push(g);
            let dropped = rng.random_bool(opts.attribute_dropout.clamp(0.0, 1.0));
            attrs.push(if dropped { space.groups[a].len() } else { g } as i64);
        }
        if n_a == 0 {
            attrs.push(0);
        }
    }
    Batch {
        images: Tensor::from_data(TensorData::new(images, [b, 1, h, w]), device),
        targets: Tensor::from_data(TensorData::new(targets, [b, k, h, w]), device),
        attributes: Tensor::from_data(TensorData::new(attrs, [b, n_a.max(1)]), device),
        labels,
        positions: Tensor::from_data(TensorData::new(positions, [b, k, 2]), device),
    }
}
