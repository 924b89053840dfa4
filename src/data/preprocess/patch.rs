//! Patches for the refinement stage of a coarse-to-fine detector: a square
//! window of the original image around a point, sampled on a (possibly rotated
//! and scaled) grid, and the maps between patch and image coordinates.
//!
//! A patch pixel covers `step` original pixels. Sampling a full-resolution
//! radiograph bilinearly at a step of 3 would skip most pixels and alias bone
//! edges and noise, so the image is first box-averaged by `⌊step⌋` once
//! ([`PatchSource`]), as the letterbox does; the same source then serves all
//! patches of the image, in training and at inference alike.
use super::letterbox::box_reduce;
use crate::data::GreyImage;

/// An image prepared for patch sampling at one step.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchSource {
    /// The original image averaged over `factor × factor` boxes.
    pub reduced: GreyImage,
    pub factor: usize,
    /// Size of the original image.
    pub width: usize,
    pub height: usize,
}

impl PatchSource {
    /// `step` = original pixels per patch pixel (from the coarse letterbox).
    pub fn new(img: &GreyImage, step: f64) -> Self {
        let factor = if step.is_finite() {
            step.floor().clamp(1.0, 64.0) as usize
        } else {
            1
        };
        let reduced = if factor >= 2 {
            box_reduce(img, factor)
        } else {
            img.clone()
        };
        Self {
            reduced,
            factor,
            width: img.width,
            height: img.height,
        }
    }

    /// Bilinear sample at the original-image point `p` (0 outside).
    pub fn sample(&self, p: [f64; 2]) -> f32 {
        // Box r covers original pixels [r·f, (r+1)·f): its centre is at
        // r·f + (f − 1)/2, hence r = (x + 0.5)/f − 0.5.
        let f = self.factor as f64;
        self.reduced
            .bilinear((p[0] + 0.5) / f - 0.5, (p[1] + 0.5) / f - 0.5, 0.0)
    }
}

/// Where a patch lies in the original image: its centre, the original pixels
/// per patch pixel, and a rotation (training augmentation; 0 at inference).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PatchFrame {
    pub centre: [f64; 2],
    pub step: f64,
    pub size: usize,
    pub cos: f64,
    pub sin: f64,
}

impl PatchFrame {
    pub fn new(centre: [f64; 2], step: f64, size: usize) -> Self {
        Self::rotated(centre, step, size, 0.0)
    }

    pub fn rotated(centre: [f64; 2], step: f64, size: usize, angle_rad: f64) -> Self {
        let (sin, cos) = angle_rad.sin_cos();
        Self {
            centre,
            step,
            size,
            cos,
            sin,
        }
    }

    fn half(&self) -> f64 {
        (self.size as f64 - 1.0) / 2.0
    }

    /// Patch pixel coordinates → original-image point.
    pub fn to_original(&self, q: [f64; 2]) -> [f64; 2] {
        let (dx, dy) = (
            (q[0] - self.half()) * self.step,
            (q[1] - self.half()) * self.step,
        );
        [
            self.centre[0] + self.cos * dx - self.sin * dy,
            self.centre[1] + self.sin * dx + self.cos * dy,
        ]
    }

    /// Original-image point → patch pixel coordinates.
    pub fn to_patch(&self, p: [f64; 2]) -> [f64; 2] {
        let (dx, dy) = (p[0] - self.centre[0], p[1] - self.centre[1]);
        [
            (self.cos * dx + self.sin * dy) / self.step + self.half(),
            (-self.sin * dx + self.cos * dy) / self.step + self.half(),
        ]
    }

    /// The patch's pixels, row-major, appended to `out`.
    pub fn sample_into(&self, src: &PatchSource, out: &mut Vec<f32>) {
        out.reserve(self.size * self.size);
        for y in 0..self.size {
            for x in 0..self.size {
                out.push(src.sample(self.to_original([x as f64, y as f64])));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: usize, h: usize) -> GreyImage {
        let data = (0..w * h)
            .map(|i| ((i % w) + 2 * (i / w)) as f32 / (w + 2 * h) as f32)
            .collect();
        GreyImage::new(w, h, data).unwrap()
    }

    #[test]
    fn frame_maps_are_inverse_and_centre_the_patch() {
        let f = PatchFrame::rotated([100.0, 50.0], 3.0, 64, 0.3);
        let c = f.to_patch([100.0, 50.0]);
        assert!((c[0] - 31.5).abs() < 1e-12 && (c[1] - 31.5).abs() < 1e-12);
        for p in [[0.0, 0.0], [123.4, 56.7], [-5.0, 300.0]] {
            let back = f.to_original(f.to_patch(p));
            assert!((back[0] - p[0]).abs() < 1e-9 && (back[1] - p[1]).abs() < 1e-9);
        }
        // One patch pixel to the right is `step` original pixels along the
        // rotated x axis.
        let a = f.to_original([10.0, 10.0]);
        let b = f.to_original([11.0, 10.0]);
        assert!(((b[0] - a[0]).hypot(b[1] - a[1]) - 3.0).abs() < 1e-12);
    }

    /// A linear ramp is reproduced exactly by box averaging + bilinear
    /// sampling away from the border: the reduced grid is centred where the
    /// source pixels it averages are.
    #[test]
    fn reduced_source_samples_a_ramp_at_the_right_place() {
        let img = ramp(90, 60);
        let src = PatchSource::new(&img, 3.4);
        assert_eq!(src.factor, 3);
        for p in [[20.0, 20.0], [45.5, 30.25], [61.0, 17.0]] {
            let want = img.bilinear(p[0], p[1], 0.0);
            assert!((src.sample(p) - want).abs() < 1e-5, "{p:?}");
        }
        let mut out = Vec::new();
        PatchFrame::new([45.0, 30.0], 3.4, 8).sample_into(&src, &mut out);
        assert_eq!(out.len(), 64);
        // Outside the image the patch is black.
        assert_eq!(src.sample([-10.0, 5.0]), 0.0);
    }
}
