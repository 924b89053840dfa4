//! From heatmaps to landmark coordinates: per map the argmax with sub-pixel
//! refinement (on the CPU, after an asynchronous-safe read-back), then the
//! letterbox inverse back to original-image pixels.
use crate::data::preprocess::heatmap::{argmax_subpixel, spread};
use crate::data::preprocess::letterbox::Letterbox;

/// `heatmaps` row-major `[B, K, H, W]` → per image K points in input pixels.
pub fn decode_batch(
    heatmaps: &[f32],
    b: usize,
    k: usize,
    h: usize,
    w: usize,
) -> Vec<Vec<[f64; 2]>> {
    (0..b)
        .map(|i| {
            (0..k)
                .map(|j| {
                    let off = (i * k + j) * h * w;
                    argmax_subpixel(&heatmaps[off..off + h * w], w, h)
                })
                .collect()
        })
        .collect()
}

/// Spread of each map of image `i` around its decoded point, in map pixels
/// (see [`spread`]): the model's own uncertainty, per landmark.
pub fn spreads(
    heatmaps: &[f32],
    i: usize,
    k: usize,
    h: usize,
    w: usize,
    points: &[[f64; 2]],
) -> Vec<f64> {
    (0..k)
        .map(|j| {
            let off = (i * k + j) * h * w;
            match (heatmaps.get(off..off + h * w), points.get(j)) {
                (Some(map), Some(p)) => spread(map, w, h, *p),
                _ => f64::NAN,
            }
        })
        .collect()
}

/// Input-pixel points → original-image pixels.
pub fn to_original(points: &[[f64; 2]], letterbox: &Letterbox) -> Vec<[f64; 2]> {
    points.iter().map(|p| letterbox.to_original(*p)).collect()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_map_of_each_image() {
        let (b, k, h, w) = (2, 2, 4, 5);
        let mut maps = vec![0f32; b * k * h * w];
        let peaks = [(1usize, 3usize), (0, 0), (4, 2), (2, 1)];
        for (m, (x, y)) in peaks.iter().enumerate() {
            maps[m * h * w + y * w + x] = 1.0;
        }
        let pts = decode_batch(&maps, b, k, h, w);
        assert_eq!(pts[0][0], [1.0, 3.0]);
        assert_eq!(pts[1][1], [2.0, 1.0]);
    }
}
