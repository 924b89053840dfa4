//! Training batches and loss of the refinement stage (method `refine`).
//!
//! One training unit is an (image, landmark) pair. Its patch is cut around the
//! true landmark moved by a simulated coarse error, on a frame rotated and
//! scaled by the run's augmentation (translation is the simulated error), and
//! its intensities get the same contrast, brightness and noise as the coarse
//! stage's images. The target is a Gaussian of `sigma` patch pixels at the
//! true landmark; the loss is the spatial cross-entropy of the patch's own
//! landmark channel. The coarse stage is not run: its weights stay as `--init`
//! left them (only the refiner is in the loss, so only it gets gradients).
use super::batches::Prepared;
use super::error::{Result, TrainError};
use super::losses::spatial_cross_entropy;
use super::trainer::checked_loss;
use super::TrainConfig;
use crate::data::preprocess::augment::AugmentParams;
use crate::data::preprocess::heatmap::gaussian_heatmaps;
use crate::data::preprocess::patch::PatchFrame;
use crate::data::GreyImage;
use crate::model::{Detector, DetectorConfig};
use burn::tensor::{Device, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

pub struct RefineBatchData {
    /// `[N, P·P]` patches and targets, row-major.
    patches: Vec<f32>,
    targets: Vec<f32>,
    landmarks: Vec<usize>,
    size: usize,
}

/// The patches of the units in `chunk` (unit = image · K + landmark).
pub fn make_batch(
    set: &[Prepared],
    chunk: &[usize],
    detector: &DetectorConfig,
    cfg: &TrainConfig,
    rng: &mut ChaCha8Rng,
) -> Result<RefineBatchData> {
    let (Some(stage), Some(train)) = (&detector.refine, &cfg.refine) else {
        return Err(TrainError::Invalid(
            "method refine needs a model with a refinement stage".into(),
        ));
    };
    let k = detector.n_landmarks;
    let p = stage.patch_size;
    let mut out = RefineBatchData {
        patches: Vec::with_capacity(chunk.len() * p * p),
        targets: Vec::with_capacity(chunk.len() * p * p),
        landmarks: Vec::with_capacity(chunk.len()),
        size: p,
    };
    for &unit in chunk {
        let (item, landmark) = (&set[unit / k], unit % k);
        let src = item.patch_source.as_ref().ok_or_else(|| {
            TrainError::Invalid("refinement data prepared without patch sources".into())
        })?;
        let truth = item.sample.landmarks[landmark];
        let step = stage.step(item.letterbox.scale);
        let draw = cfg.augment.sample(rng, p, p);
        // The simulated coarse error, kept well inside the patch so the
        // target is always there to be found.
        let limit = 0.4 * p as f64 * step;
        let sd = train.offset_sd / item.letterbox.scale;
        let mut offset = || {
            let z: f64 = StandardNormal.sample(rng);
            (z * sd).clamp(-limit, limit)
        };
        let centre = [truth[0] + offset(), truth[1] + offset()];
        let frame =
            PatchFrame::rotated(centre, step * draw.scale, p, draw.rotation_deg.to_radians());
        let mut pixels = Vec::with_capacity(p * p);
        frame.sample_into(src, &mut pixels);
        let photometric = AugmentParams {
            rotation_deg: 0.0,
            scale: 1.0,
            translate: [0.0, 0.0],
            ..draw
        };
        let patch = GreyImage::new(p, p, pixels).map_err(TrainError::from)?;
        let (patch, _) = photometric.apply(&patch, &[], rng);
        out.patches.extend_from_slice(&patch.data);
        out.targets
            .extend(gaussian_heatmaps(&[frame.to_patch(truth)], p, p, cfg.sigma));
        out.landmarks.push(landmark);
    }
    Ok(out)
}

/// Spatial cross-entropy of each patch's own landmark channel, averaged.
pub fn loss(model: &Detector, batch: RefineBatchData, device: &Device) -> Result<(Tensor<1>, f64)> {
    let refiner = model
        .refiner()
        .ok_or_else(|| TrainError::Invalid("the model has no refinement stage".into()))?;
    let (n, p) = (batch.landmarks.len(), batch.size);
    let x = Tensor::<4>::from_data(TensorData::new(batch.patches, [n, 1, p, p]), device);
    let t = Tensor::<4>::from_data(TensorData::new(batch.targets, [n, 1, p, p]), device);
    let logits = refiner
        .forward_selected(x, &batch.landmarks)
        .reshape([n, 1, p, p]);
    checked_loss(spatial_cross_entropy(logits, t).mean())
}
