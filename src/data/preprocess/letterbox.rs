//! Fitting an image into a fixed model input without distorting anatomy:
//! scale to fit, keep the aspect ratio, centre, pad with 0.
//!
//! Point convention: pixel `i` spans `[i - 0.5, i + 0.5)` and is centred at
//! `i`. The image content is scaled about the *edges*, so in edge coordinates
//! `u = x + 0.5` the map is `u' = u · scale + pad`. Hence
//! `x' = (x + 0.5) · scale + pad − 0.5`: the centre of a source pixel lands on
//! the centre of the region it covers in the input, and the outer edges of the
//! image land exactly on the padding's edges.
use crate::data::error::{DataError, Result};
use crate::data::GreyImage;
use serde::{Deserialize, Serialize};

/// The transform from original image pixels to model-input pixels.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Letterbox {
    /// Input pixels per original pixel (same on both axes).
    pub scale: f64,
    /// Padding left of / above the content, in input pixels (may be fractional).
    pub pad_x: f64,
    pub pad_y: f64,
    pub src_w: usize,
    pub src_h: usize,
    pub dst_w: usize,
    pub dst_h: usize,
}

impl Letterbox {
    /// The largest centred fit of `src` into `dst`.
    pub fn new(src_w: usize, src_h: usize, dst_w: usize, dst_h: usize) -> Result<Self> {
        if src_w == 0 || src_h == 0 || dst_w == 0 || dst_h == 0 {
            return Err(DataError::Invalid(format!(
                "letterbox needs non-empty sizes, got {src_w}x{src_h} -> {dst_w}x{dst_h}"
            )));
        }
        let scale = (dst_w as f64 / src_w as f64).min(dst_h as f64 / src_h as f64);
        Ok(Self {
            scale,
            pad_x: (dst_w as f64 - src_w as f64 * scale) / 2.0,
            pad_y: (dst_h as f64 - src_h as f64 * scale) / 2.0,
            src_w,
            src_h,
            dst_w,
            dst_h,
        })
    }

    /// Original-image point → model-input point.
    pub fn to_input(&self, p: [f64; 2]) -> [f64; 2] {
        [
            (p[0] + 0.5) * self.scale + self.pad_x - 0.5,
            (p[1] + 0.5) * self.scale + self.pad_y - 0.5,
        ]
    }

    /// Model-input point → original-image point (inverse of [`Self::to_input`]).
    pub fn to_original(&self, p: [f64; 2]) -> [f64; 2] {
        [
            (p[0] + 0.5 - self.pad_x) / self.scale - 0.5,
            (p[1] + 0.5 - self.pad_y) / self.scale - 0.5,
        ]
    }

    /// Box-averaging factor applied before bilinear sampling: `⌊1/scale⌋`
    /// when shrinking by 2× or more, else 1 (shared with the WGSL shader).
    pub fn box_factor(&self) -> usize {
        (1.0 / self.scale).floor().max(1.0) as usize
    }

    /// Resamples `img` (which must be `src_w × src_h`) into the model input.
    ///
    /// Enlarging and mild shrinking are bilinear. Shrinking by 2× or more
    /// first averages `f × f` boxes (`f = ⌊1/scale⌋`), because bilinear alone
    /// would skip most source pixels and alias fine bone edges and noise.
    pub fn apply(&self, img: &GreyImage) -> Result<GreyImage> {
        if (img.width, img.height) != (self.src_w, self.src_h) || !img.is_consistent() {
            return Err(DataError::Invalid(format!(
                "letterbox made for {}x{}, image is {}x{} with {} values",
                self.src_w,
                self.src_h,
                img.width,
                img.height,
                img.data.len()
            )));
        }
        let f = self.box_factor();
        let reduced;
        let src = if f >= 2 {
            reduced = box_reduce(img, f);
            &reduced
        } else {
            img
        };
        let (sw, sh) = (self.src_w as f64, self.src_h as f64);
        let mut out = GreyImage::zeros(self.dst_w, self.dst_h);
        for y in 0..self.dst_h {
            // Edge coordinate of this row's centre in the original image.
            let v = (y as f64 + 0.5 - self.pad_y) / self.scale;
            if !(0.0..=sh).contains(&v) {
                continue;
            }
            for x in 0..self.dst_w {
                let u = (x as f64 + 0.5 - self.pad_x) / self.scale;
                if !(0.0..=sw).contains(&u) {
                    continue;
                }
                out.data[y * self.dst_w + x] =
                    src.bilinear(u / f as f64 - 0.5, v / f as f64 - 0.5, 0.0);
            }
        }
        Ok(out)
    }
}

/// Mean of each `f × f` box; boxes cut by the right/bottom edge average the
/// pixels they have.
pub(crate) fn box_reduce(img: &GreyImage, f: usize) -> GreyImage {
    let (rw, rh) = (img.width.div_ceil(f), img.height.div_ceil(f));
    let mut out = GreyImage::zeros(rw, rh);
    for ry in 0..rh {
        for rx in 0..rw {
            let (mut sum, mut n) = (0.0f64, 0usize);
            for y in ry * f..((ry + 1) * f).min(img.height) {
                let row = &img.data[y * img.width..(y + 1) * img.width];
                for &v in &row[rx * f..((rx + 1) * f).min(img.width)] {
                    sum += v as f64;
                    n += 1;
                }
            }
            out.data[ry * rw + rx] = (sum / n.max(1) as f64) as f32;
        }
    }
    out
}

/// Letterboxes `img` into `dst_w × dst_h`, returning the input image and the
/// transform for its landmarks.
pub fn letterbox(img: &GreyImage, dst_w: usize, dst_h: usize) -> Result<(GreyImage, Letterbox)> {
    let lb = Letterbox::new(img.width, img.height, dst_w, dst_h)?;
    Ok((lb.apply(img)?, lb))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn centroid(img: &GreyImage) -> [f64; 2] {
        let (mut sx, mut sy, mut s) = (0.0, 0.0, 0.0);
        for y in 0..img.height {
            for x in 0..img.width {
                let v = img.data[y * img.width + x] as f64;
                sx += v * x as f64;
                sy += v * y as f64;
                s += v;
            }
        }
        [sx / s, sy / s]
    }

    #[test]
    fn inverse_undoes_forward() {
        for (sw, sh, dw, dh) in [(1935, 2400, 512, 512), (300, 100, 64, 48), (10, 20, 40, 40)] {
            let lb = Letterbox::new(sw, sh, dw, dh).unwrap();
            for p in [[0.0, 0.0], [12.25, 7.5], [sw as f64 - 1.0, sh as f64 - 1.0]] {
                let q = lb.to_original(lb.to_input(p));
                assert!((q[0] - p[0]).abs() < 1e-9 && (q[1] - p[1]).abs() < 1e-9);
            }
            // The image edges land on the padding edges.
            let tl = lb.to_input([-0.5, -0.5]);
            assert!((tl[0] + 0.5 - lb.pad_x).abs() < 1e-9 && (tl[1] + 0.5 - lb.pad_y).abs() < 1e-9);
        }
        assert!(Letterbox::new(0, 5, 5, 5).is_err());
    }

    #[test]
    fn aspect_is_preserved_and_padding_is_black() {
        let img = GreyImage::new(200, 100, vec![1.0; 20_000]).unwrap();
        let (out, lb) = letterbox(&img, 64, 64).unwrap();
        assert_eq!((out.width, out.height), (64, 64));
        assert!((lb.scale - 0.32).abs() < 1e-12);
        assert_eq!((lb.pad_x, lb.pad_y), (0.0, 16.0));
        let rows: Vec<usize> = (0..64)
            .filter(|&y| out.data[y * 64..(y + 1) * 64].iter().any(|&v| v > 0.0))
            .collect();
        assert_eq!(rows.len(), 32, "content height = 100 × 0.32");
        assert_eq!((rows[0], rows[31]), (16, 47));
        assert!(out.data[..16 * 64].iter().all(|&v| v == 0.0));
        assert!((out.data[30 * 64 + 10] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn bright_block_moves_where_the_transform_says() {
        // Shrinking a lot (box filter then bilinear).
        let mut img = GreyImage::zeros(400, 200);
        for y in 100..120 {
            for x in 250..270 {
                img.data[y * 400 + x] = 1.0;
            }
        }
        let (out, lb) = letterbox(&img, 100, 100).unwrap();
        let want = lb.to_input([259.5, 109.5]);
        let got = centroid(&out);
        assert!(
            (got[0] - want[0]).abs() < 0.3 && (got[1] - want[1]).abs() < 0.3,
            "{got:?} vs {want:?}"
        );
        let total: f64 = out.data.iter().map(|&v| v as f64).sum();
        assert!(
            (total - 400.0 * lb.scale * lb.scale).abs() < 2.0,
            "mass {total}"
        );

        // Enlarging (bilinear only): one bright pixel.
        let mut img = GreyImage::zeros(10, 20);
        img.data[5 * 10 + 3] = 1.0;
        let (out, lb) = letterbox(&img, 40, 40).unwrap();
        let want = lb.to_input([3.0, 5.0]);
        assert_eq!(want, [16.5, 10.5]);
        let got = centroid(&out);
        assert!(
            (got[0] - want[0]).abs() < 1e-6 && (got[1] - want[1]).abs() < 1e-6,
            "{got:?}"
        );
    }

    #[test]
    fn wrong_image_size_is_an_error() {
        let lb = Letterbox::new(5, 5, 10, 10).unwrap();
        assert!(lb.apply(&GreyImage::zeros(4, 5)).is_err());
        let broken = GreyImage {
            width: 5,
            height: 5,
            data: vec![1.0; 3],
        };
        assert!(lb.apply(&broken).is_err());
        let cfg = crate::data::preprocess::AugmentConfig::default();
        let a = crate::data::preprocess::augment(&broken, &[], &cfg, 0);
        assert!(a.image.data.iter().all(|v| v.is_finite()));
    }
}
