//! Seeded, reproducible augmentation of an image and its landmarks.
//!
//! Order: a small affine warp about the image centre (rotation, isotropic
//! scale, translation) applied to image *and* landmarks, then contrast about
//! the image mean, brightness, and additive Gaussian noise; values are clamped
//! to [0, 1]. The warp is applied by inverse mapping: each output pixel
//! samples the source bilinearly at the inverse-transformed position, so the
//! output has no holes; samples from outside the source are 0 (black, like the
//! letterbox padding). Landmarks may leave the image under strong settings;
//! they are returned as they are, for the caller to drop or keep.
use crate::data::GreyImage;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

/// Ranges of the random changes; each is drawn uniformly in `[-v, +v]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AugmentConfig {
    /// Largest rotation, degrees.
    pub rotation_deg: f64,
    /// Largest relative scale change (0.05 → factor in [0.95, 1.05]).
    pub scale: f64,
    /// Largest shift, as a fraction of the image width/height.
    pub translate_frac: f64,
    /// Largest additive brightness change (image values are in [0, 1]).
    pub brightness: f32,
    /// Largest relative contrast change (0.1 → factor in [0.9, 1.1]).
    pub contrast: f32,
    /// Standard deviation of the additive Gaussian noise (fixed, not drawn).
    pub noise_std: f32,
}

impl Default for AugmentConfig {
    /// Modest settings: radiographs are taken in a standard pose, so large
    /// warps would teach the model poses it never sees.
    fn default() -> Self {
        Self {
            rotation_deg: 5.0,
            scale: 0.05,
            translate_frac: 0.03,
            brightness: 0.05,
            contrast: 0.1,
            noise_std: 0.01,
        }
    }
}

impl AugmentConfig {
    /// No augmentation at all: output equals input.
    pub fn none() -> Self {
        Self {
            rotation_deg: 0.0,
            scale: 0.0,
            translate_frac: 0.0,
            brightness: 0.0,
            contrast: 0.0,
            noise_std: 0.0,
        }
    }

    /// Wide settings for closing the gap between phantoms and real
    /// radiographs: real images frame the anatomy larger or smaller, tilt it
    /// more and differ far more in exposure than phantoms do (measured on the
    /// four real DHA hands, docs/RESULTS.md).
    pub fn wide() -> Self {
        Self {
            rotation_deg: 12.0,
            scale: 0.25,
            translate_frac: 0.08,
            brightness: 0.15,
            contrast: 0.35,
            noise_std: 0.03,
        }
    }

    /// `default`, `wide` or `none`.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "default" => Some(Self::default()),
            "wide" => Some(Self::wide()),
            "none" => Some(Self::none()),
            _ => None,
        }
    }

    /// Draws one set of parameters for a `w × h` image.
    pub fn sample<R: Rng>(&self, rng: &mut R, w: usize, h: usize) -> AugmentParams {
        fn sym<R: Rng>(rng: &mut R, v: f64) -> f64 {
            if v > 0.0 && v.is_finite() {
                rng.random_range(-v..=v)
            } else {
                0.0
            }
        }
        AugmentParams {
            rotation_deg: sym(rng, self.rotation_deg),
            scale: 1.0 + sym(rng, self.scale),
            translate: [
                sym(rng, self.translate_frac * w as f64),
                sym(rng, self.translate_frac * h as f64),
            ],
            brightness: sym(rng, self.brightness as f64) as f32,
            contrast: 1.0 + sym(rng, self.contrast as f64) as f32,
            noise_std: self.noise_std.max(0.0),
        }
    }
}

/// One drawn augmentation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AugmentParams {
    pub rotation_deg: f64,
    /// Scale factor (1 = unchanged).
    pub scale: f64,
    /// Shift in pixels.
    pub translate: [f64; 2],
    /// Added to every value.
    pub brightness: f32,
    /// Factor on the deviation from the image mean (1 = unchanged).
    pub contrast: f32,
    pub noise_std: f32,
}

impl AugmentParams {
    fn is_identity_warp(&self) -> bool {
        self.rotation_deg == 0.0 && self.scale == 1.0 && self.translate == [0.0, 0.0]
    }

    /// The forward warp as `p' = A (p − c) + c + t`, returning (A, c, t).
    fn warp(&self, w: usize, h: usize) -> ([[f64; 2]; 2], [f64; 2], [f64; 2]) {
        let (s, c) = self.rotation_deg.to_radians().sin_cos();
        let a = [
            [self.scale * c, -self.scale * s],
            [self.scale * s, self.scale * c],
        ];
        // Centre of the image in the pixel-centre convention.
        let centre = [(w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0];
        (a, centre, self.translate)
    }

    /// Where a point of a `w × h` image goes under the warp.
    pub fn map_point(&self, p: [f64; 2], w: usize, h: usize) -> [f64; 2] {
        let (a, c, t) = self.warp(w, h);
        let d = [p[0] - c[0], p[1] - c[1]];
        [
            a[0][0] * d[0] + a[0][1] * d[1] + c[0] + t[0],
            a[1][0] * d[0] + a[1][1] * d[1] + c[1] + t[1],
        ]
    }

    /// Applies these parameters; `rng` only drives the noise.
    pub fn apply<R: Rng>(
        &self,
        img: &GreyImage,
        landmarks: &[[f64; 2]],
        rng: &mut R,
    ) -> (GreyImage, Vec<[f64; 2]>) {
        let (w, h) = (img.width, img.height);
        // The warp samples through `bilinear`, which is safe on an
        // inconsistent image; the photometric part only maps values.
        let mut out = if self.is_identity_warp() {
            img.clone()
        } else {
            let (a, c, t) = self.warp(w, h);
            // Inverse of s·R is R⁻¹/s = transpose / s².
            let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
            let inv = [
                [a[1][1] / det, -a[0][1] / det],
                [-a[1][0] / det, a[0][0] / det],
            ];
            let mut o = GreyImage::zeros(w, h);
            for y in 0..h {
                for x in 0..w {
                    let d = [x as f64 - c[0] - t[0], y as f64 - c[1] - t[1]];
                    let sx = inv[0][0] * d[0] + inv[0][1] * d[1] + c[0];
                    let sy = inv[1][0] * d[0] + inv[1][1] * d[1] + c[1];
                    o.data[y * w + x] = img.bilinear(sx, sy, 0.0);
                }
            }
            o
        };
        let lms = landmarks
            .iter()
            .map(|&p| {
                if self.is_identity_warp() {
                    p
                } else {
                    self.map_point(p, w, h)
                }
            })
            .collect();

        let photometric = self.contrast != 1.0 || self.brightness != 0.0;
        let noise = if self.noise_std > 0.0 {
            Normal::new(0.0f32, self.noise_std).ok()
        } else {
            None
        };
        if photometric || noise.is_some() {
            let mean = out.mean() as f32;
            for v in &mut out.data {
                let mut x = (*v - mean) * self.contrast + mean + self.brightness;
                if let Some(n) = &noise {
                    x += n.sample(rng);
                }
                *v = x.clamp(0.0, 1.0);
            }
        }
        (out, lms)
    }
}

/// An augmented sample and the parameters that made it.
#[derive(Clone, Debug, PartialEq)]
pub struct Augmented {
    pub image: GreyImage,
    pub landmarks: Vec<[f64; 2]>,
    pub params: AugmentParams,
}

/// Augments with a generator seeded by `seed`: the same seed gives the same
/// output, on every platform.
pub fn augment(
    img: &GreyImage,
    landmarks: &[[f64; 2]],
    cfg: &AugmentConfig,
    seed: u64,
) -> Augmented {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    augment_with_rng(img, landmarks, cfg, &mut rng)
}

/// Augments drawing from `rng` (e.g. one generator per training epoch).
pub fn augment_with_rng(
    img: &GreyImage,
    landmarks: &[[f64; 2]],
    cfg: &AugmentConfig,
    rng: &mut ChaCha8Rng,
) -> Augmented {
    let params = cfg.sample(rng, img.width, img.height);
    let (image, landmarks) = params.apply(img, landmarks, rng);
    Augmented {
        image,
        landmarks,
        params,
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn presets_by_name() {
        assert_eq!(
            AugmentConfig::preset("default"),
            Some(AugmentConfig::default())
        );
        assert_eq!(AugmentConfig::preset("none"), Some(AugmentConfig::none()));
        let (w, d) = (AugmentConfig::wide(), AugmentConfig::default());
        assert!(w.scale > d.scale && w.rotation_deg > d.rotation_deg && w.contrast > d.contrast);
        assert_eq!(AugmentConfig::preset("strong"), None);
    }

    /// A smooth random-ish test image in (0.2, 0.8).
    fn test_image(w: usize, h: usize) -> GreyImage {
        let data = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                0.5 + 0.3 * (x * 0.21).sin() * (y * 0.13).cos()
            })
            .collect();
        GreyImage::new(w, h, data).unwrap()
    }

    #[test]
    fn same_seed_same_output() {
        let img = test_image(40, 30);
        let lm = [[10.0, 12.0], [30.5, 4.25]];
        let cfg = AugmentConfig::default();
        let a = augment(&img, &lm, &cfg, 9);
        assert_eq!(a, augment(&img, &lm, &cfg, 9));
        assert_ne!(a.image, augment(&img, &lm, &cfg, 10).image);
    }

    #[test]
    fn identity_config_changes_nothing() {
        let img = test_image(17, 11);
        let lm = vec![[1.0, 2.0], [16.0, 10.0]];
        let a = augment(&img, &lm, &AugmentConfig::none(), 3);
        assert_eq!(a.image, img);
        assert_eq!(a.landmarks, lm);
    }

    #[test]
    fn bright_dot_stays_under_its_landmark() {
        let cfg = AugmentConfig {
            rotation_deg: 15.0,
            scale: 0.15,
            translate_frac: 0.1,
            ..AugmentConfig::none()
        };
        for seed in 0..20 {
            let mut img = GreyImage::zeros(64, 48);
            let lm = [[20.0, 15.0], [45.0, 30.0]];
            for p in lm {
                img.data[p[1] as usize * 64 + p[0] as usize] = 1.0;
            }
            let a = augment(&img, &lm, &cfg, seed);
            for q in &a.landmarks {
                // The brightest pixel near the predicted spot.
                let (mut best, mut at) = (0.0, [0usize, 0]);
                for y in 0..48 {
                    for x in 0..64 {
                        let d = (x as f64 - q[0]).hypot(y as f64 - q[1]);
                        let v = a.image.data[y * 64 + x];
                        if d < 4.0 && v > best {
                            (best, at) = (v, [x, y]);
                        }
                    }
                }
                assert!(best > 0.2, "seed {seed}: dot lost near {q:?}");
                let d = (at[0] as f64 - q[0]).hypot(at[1] as f64 - q[1]);
                assert!(d <= 1.0, "seed {seed}: dot at {at:?}, landmark at {q:?}");
            }
        }
    }

    #[test]
    fn brightness_and_contrast_move_mean_and_std() {
        let img = test_image(50, 40);
        let (m0, s0) = (img.mean(), img.std());
        let cfg = AugmentConfig {
            brightness: 0.1,
            contrast: 0.3,
            ..AugmentConfig::none()
        };
        for seed in 0..5 {
            let a = augment(&img, &[], &cfg, seed);
            let p = &a.params;
            assert!(
                (a.image.mean() - (m0 + p.brightness as f64)).abs() < 1e-4,
                "{p:?}"
            );
            assert!(
                (a.image.std() - s0 * p.contrast as f64).abs() < 1e-4,
                "{p:?}"
            );
        }
    }

    #[test]
    fn noise_has_the_requested_std() {
        let img = GreyImage::new(200, 200, vec![0.5; 40_000]).unwrap();
        let cfg = AugmentConfig {
            noise_std: 0.04,
            ..AugmentConfig::none()
        };
        let a = augment(&img, &[], &cfg, 1);
        assert!((a.image.std() - 0.04).abs() < 0.002, "{}", a.image.std());
        assert!((a.image.mean() - 0.5).abs() < 0.002);
    }

    #[test]
    fn config_serde_defaults() {
        let c: AugmentConfig = serde_json::from_str(r#"{"rotation_deg": 2}"#).unwrap();
        assert_eq!(c.rotation_deg, 2.0);
        assert_eq!(c.noise_std, AugmentConfig::default().noise_std);
    }
}
