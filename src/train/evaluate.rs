//! Inference over prepared samples: heatmaps → landmarks in original pixels.
use super::batches::{make_batch, AttributeSpace, BatchOptions, Prepared};
use super::error::{Result, TrainError};
use crate::model::decode::{decode_batch, to_original};
use crate::model::refiner::RefineBatch;
use crate::model::{Detector, DetectorConfig};
use crate::rng::stream_rng;
use burn::tensor::activation::softmax;
use burn::tensor::Device;

/// Landmarks (original pixels) of every prepared sample. With
/// `use_attributes` false the model sees "unknown" for every attribute. A
/// coarse-to-fine model (`config.refine`) refines each image's points on its
/// patches, as `Landmarker::detect` does.
pub fn predict(
    model: &Detector,
    config: &DetectorConfig,
    items: &[Prepared],
    space: &AttributeSpace,
    use_attributes: bool,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<Vec<[f64; 2]>>> {
    let opts = BatchOptions {
        augment: None,
        sigma: 1.0,
        attribute_dropout: if use_attributes { 0.0 } else { 1.0 },
    };
    let mut rng = stream_rng(0, 0);
    let mut out = Vec::with_capacity(items.len());
    let refs: Vec<&Prepared> = items.iter().collect();
    for chunk in refs.chunks(batch_size.max(1)) {
        let batch = make_batch(chunk, &opts, space, &mut rng, device);
        let maps = model.forward(batch.images, Some(batch.attributes)).heatmaps;
        let [b, k, h, w] = maps.dims();
        // Softmax over space makes logits and similarity maps alike positive,
        // so the log-parabola refinement applies to both.
        let probs = softmax(maps.reshape([b, k, h * w]), 2);
        let data: Vec<f32> = probs
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| TrainError::Compute(format!("{e:?}")))?;
        for (pts, it) in decode_batch(&data, b, k, h, w).into_iter().zip(chunk) {
            let coarse = to_original(&pts, &it.letterbox);
            out.push(match (model.refiner(), &config.refine, &it.patch_source) {
                (Some(refiner), Some(cfg), Some(src)) => {
                    let batch = RefineBatch::new(src, &coarse, cfg, it.letterbox.scale);
                    let probs = refiner
                        .probabilities(&batch, device)
                        .into_data()
                        .try_to_vec::<f32>()
                        .map_err(|e| TrainError::Compute(format!("{e:?}")))?;
                    batch.decode(&probs)
                }
                _ => coarse,
            });
        }
    }
    Ok(out)
}

/// Mean radial error in mm of predictions against the prepared samples' truth.
pub fn mean_radial_error_mm(items: &[Prepared], preds: &[Vec<[f64; 2]>]) -> f64 {
    let mut sum = 0.0;
    let mut n = 0usize;
    for (it, p) in items.iter().zip(preds) {
        for (t, q) in it.sample.landmarks.iter().zip(p) {
            sum += (t[0] - q[0]).hypot(t[1] - q[1]) * it.sample.mm_per_px;
            n += 1;
        }
    }
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}
