//! The refinement stage of a coarse-to-fine detector (see
//! [`RefineConfig`]): a U-Net on high-resolution patches with one heatmap
//! channel per landmark. Patch n, cut around landmark k, is read on channel k
//! only, so one small network serves all landmarks and is trained on each
//! landmark's own patches.
//!
//! Inference is split in three so that the CLI (synchronous read-back) and
//! the browser (asynchronous read-back, the only kind WebGPU allows) share
//! everything but the read-back: [`RefineBatch::new`] cuts the patches,
//! [`Refiner::probabilities`] runs the network, [`RefineBatch::decode`] maps
//! the peaks back to the image.
use super::config::RefineConfig;
use super::unet::UNet;
use crate::data::preprocess::heatmap::{argmax_subpixel, spread};
use crate::data::preprocess::patch::{PatchFrame, PatchSource};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};

#[derive(Module, Debug)]
pub struct Refiner {
    backbone: UNet,
    head: Conv2d,
}

impl RefineConfig {
    /// A refiner for `n_landmarks`, freshly initialised. Call
    /// [`crate::model::DetectorConfig::validate`] first on outside input.
    pub fn init(&self, n_landmarks: usize, device: &Device) -> Refiner {
        Refiner {
            backbone: self.backbone.init(device),
            head: Conv2dConfig::new([self.backbone.base_width, n_landmarks], [1, 1]).init(device),
        }
    }
}

impl Refiner {
    /// Patches `[N, 1, P, P]` and the landmark of each → `[N, P·P]` logits of
    /// each patch's own landmark channel.
    pub fn forward_selected(&self, patches: Tensor<4>, landmarks: &[usize]) -> Tensor<2> {
        let features = self.backbone.forward_features(patches);
        let full = features
            .levels
            .last()
            .cloned()
            .expect("U-Net has ≥ 1 level");
        let logits = self.head.forward(full);
        let [n, k, h, w] = logits.dims();
        // A one-hot mask summed over channels picks channel k of patch n on
        // the device (no read-back of the other K − 1 maps).
        let mut mask = vec![0f32; n * k];
        for (i, &l) in landmarks.iter().enumerate().take(n) {
            if l < k {
                mask[i * k + l] = 1.0;
            }
        }
        let mask = Tensor::<4>::from_data(TensorData::new(mask, [n, k, 1, 1]), &logits.device());
        (logits * mask).sum_dim(1).reshape([n, h * w])
    }

    /// Spatial softmax of each patch's map, `[N, P·P]`, ready to read back.
    pub fn probabilities(&self, batch: &RefineBatch, device: &Device) -> Tensor<2> {
        let (n, p) = (batch.frames.len(), batch.size);
        let x =
            Tensor::<4>::from_data(TensorData::new(batch.patches.clone(), [n, 1, p, p]), device);
        softmax(self.forward_selected(x, &batch.landmarks), 1)
    }
}

/// The patches of one image, one per landmark, cut around the coarse points.
pub struct RefineBatch {
    /// `[N, P, P]` row-major.
    pub patches: Vec<f32>,
    pub frames: Vec<PatchFrame>,
    pub landmarks: Vec<usize>,
    pub size: usize,
    /// The points the patches are centred on (kept where refinement fails).
    coarse: Vec<[f64; 2]>,
}

impl RefineBatch {
    /// `letterbox_scale`: the coarse stage's input pixels per original pixel.
    pub fn new(
        src: &PatchSource,
        coarse: &[[f64; 2]],
        cfg: &RefineConfig,
        letterbox_scale: f64,
    ) -> Self {
        let step = cfg.step(letterbox_scale);
        let p = cfg.patch_size;
        let mut patches = Vec::with_capacity(coarse.len() * p * p);
        let mut frames = Vec::with_capacity(coarse.len());
        for &c in coarse {
            // A coarse point that is not finite (an empty heatmap) cuts a
            // black patch; its result is then not finite and the point kept.
            let centre = if c[0].is_finite() && c[1].is_finite() {
                c
            } else {
                [0.0, 0.0]
            };
            let frame = PatchFrame::new(centre, step, p);
            frame.sample_into(src, &mut patches);
            frames.push(frame);
        }
        Self {
            patches,
            frames,
            landmarks: (0..coarse.len()).collect(),
            size: p,
            coarse: coarse.to_vec(),
        }
    }

    /// Read-back probabilities `[N, P·P]` → refined points in original
    /// pixels. A point whose coarse estimate or refined peak is not finite
    /// keeps the coarse estimate.
    pub fn decode(&self, probabilities: &[f32]) -> Vec<[f64; 2]> {
        let pp = self.size * self.size;
        self.frames
            .iter()
            .zip(&self.coarse)
            .enumerate()
            .map(|(i, (frame, &c))| {
                let Some(map) = probabilities.get(i * pp..(i + 1) * pp) else {
                    return c;
                };
                let q = argmax_subpixel(map, self.size, self.size);
                let r = frame.to_original(q);
                if c[0].is_finite() && c[1].is_finite() && r[0].is_finite() && r[1].is_finite() {
                    r
                } else {
                    c
                }
            })
            .collect()
    }

    /// Spread of each patch's map around the refined point (see
    /// [`crate::data::preprocess::heatmap::spread`]), in original pixels.
    pub fn spreads(&self, probabilities: &[f32], refined: &[[f64; 2]]) -> Vec<f64> {
        let pp = self.size * self.size;
        self.frames
            .iter()
            .zip(refined)
            .enumerate()
            .map(
                |(i, (frame, &r))| match probabilities.get(i * pp..(i + 1) * pp) {
                    Some(map) => spread(map, self.size, self.size, frame.to_patch(r)) * frame.step,
                    None => f64::NAN,
                },
            )
            .collect()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::data::GreyImage;
    use crate::model::config::UNetConfig;

    #[test]
    fn selects_each_patch_s_own_channel() {
        let device = Device::flex();
        let cfg = RefineConfig {
            patch_size: 16,
            zoom: 2,
            backbone: UNetConfig::new().with_base_width(2).with_depth(2),
        };
        let r = cfg.init(3, &device);
        let x = Tensor::<4>::random([2, 1, 16, 16], burn::tensor::Distribution::Default, &device);
        let all = r
            .head
            .forward(r.backbone.forward_features(x.clone()).levels.pop().unwrap());
        let sel = r.forward_selected(x, &[2, 0]);
        let want: Vec<f32> = Tensor::cat(
            vec![
                all.clone().slice([0..1, 2..3]).reshape([1, 256]),
                all.slice([1..2, 0..1]).reshape([1, 256]),
            ],
            0,
        )
        .into_data()
        .try_to_vec()
        .unwrap();
        let got: Vec<f32> = sel.into_data().try_to_vec().unwrap();
        let diff = want
            .iter()
            .zip(&got)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(diff < 1e-6, "{diff}");
    }

    /// A peak placed in patch coordinates decodes to the image point it
    /// came from; a non-finite coarse point is kept as it is.
    #[test]
    fn decodes_peaks_back_to_the_image() {
        let img = GreyImage::zeros(200, 300);
        let cfg = RefineConfig {
            patch_size: 16,
            zoom: 2,
            backbone: UNetConfig::new(),
        };
        // Letterbox scale 0.1: a patch pixel is 5 original pixels.
        let src = PatchSource::new(&img, cfg.step(0.1));
        let coarse = [[100.0, 150.0], [f64::NAN, 3.0]];
        let batch = RefineBatch::new(&src, &coarse, &cfg, 0.1);
        assert_eq!(batch.patches.len(), 2 * 256);
        let mut probs = vec![0f32; 2 * 256];
        probs[9 * 16 + 4] = 1.0; // patch 0: (4, 9)
        let pts = batch.decode(&probs);
        let want = batch.frames[0].to_original([4.0, 9.0]);
        assert_eq!(pts[0], want);
        assert!((want[0] - (100.0 + (4.0 - 7.5) * 5.0)).abs() < 1e-9);
        assert!(pts[1][0].is_nan() && pts[1][1] == 3.0);
    }
}
