//! Heatmap training targets and their decoding.
//!
//! Layout: `K × H × W` f32, landmark-major, row-major within a landmark, in
//! model-input pixels with pixel centres at integers (the letterbox
//! convention). Two targets:
//! - Gaussian: `exp(-d² / 2σ²)`, peak 1 at the (sub-pixel) landmark;
//!   truncated to 0 beyond 3σ, where it is < 0.011, so that rendering costs
//!   `O(σ²)` per landmark instead of `O(H·W)`;
//! - one-hot: 1 at the nearest pixel, the fairness paper's baseline target.
//!
//! A landmark outside the heatmap gets whatever part of its Gaussian falls
//! inside (one-hot: an empty channel), so augmentation that pushes points out
//! does not invent a wrong peak at the border.

/// Renders one Gaussian into `out` (`w × h`), keeping the larger value where
/// it overlaps what is there.
pub fn render_gaussian(out: &mut [f32], w: usize, h: usize, p: [f64; 2], sigma: f64) {
    if !(sigma > 0.0 && p[0].is_finite() && p[1].is_finite()) || out.len() < w * h {
        return;
    }
    let r = 3.0 * sigma;
    let x0 = (p[0] - r).ceil().max(0.0);
    let x1 = (p[0] + r).floor().min(w as f64 - 1.0);
    let y0 = (p[1] - r).ceil().max(0.0);
    let y1 = (p[1] + r).floor().min(h as f64 - 1.0);
    if x0 > x1 || y0 > y1 {
        return;
    }
    let inv = 1.0 / (2.0 * sigma * sigma);
    for y in y0 as usize..=y1 as usize {
        let dy2 = (y as f64 - p[1]).powi(2);
        for x in x0 as usize..=x1 as usize {
            let d2 = (x as f64 - p[0]).powi(2) + dy2;
            if d2 <= r * r {
                let v = (-d2 * inv).exp() as f32;
                let o = &mut out[y * w + x];
                *o = o.max(v);
            }
        }
    }
}

/// One Gaussian channel per landmark, `sigma` in heatmap pixels.
pub fn gaussian_heatmaps(points: &[[f64; 2]], w: usize, h: usize, sigma: f64) -> Vec<f32> {
    let mut out = vec![0.0f32; points.len() * w * h];
    if w * h == 0 {
        return out;
    }
    for (chan, &p) in out.chunks_exact_mut(w * h).zip(points) {
        render_gaussian(chan, w, h, p, sigma);
    }
    out
}

/// One channel per landmark with a single 1 at the nearest pixel.
pub fn one_hot_heatmaps(points: &[[f64; 2]], w: usize, h: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; points.len() * w * h];
    if w * h == 0 {
        return out;
    }
    for (chan, p) in out.chunks_exact_mut(w * h).zip(points) {
        let (x, y) = (p[0].round(), p[1].round());
        if x >= 0.0 && y >= 0.0 && x < w as f64 && y < h as f64 {
            chan[y as usize * w + x as usize] = 1.0;
        }
    }
    out
}

/// Sub-pixel offset of a peak from three samples around it. A parabola
/// through the logs is exact for a Gaussian; with non-positive samples the
/// parabola goes through the values themselves.
fn peak_offset(l: Option<f32>, c: f32, r: Option<f32>) -> f64 {
    let (Some(l), Some(r)) = (l, r) else {
        return 0.0;
    };
    let (l, c, r) = if l > 0.0 && c > 0.0 && r > 0.0 {
        ((l as f64).ln(), (c as f64).ln(), (r as f64).ln())
    } else {
        (l as f64, c as f64, r as f64)
    };
    let denom = l - 2.0 * c + r;
    // Flat, NaN or not a maximum: keep the argmax.
    if denom.is_nan() || denom >= 0.0 {
        return 0.0;
    }
    (0.5 * (l - r) / denom).clamp(-0.5, 0.5)
}

/// Location of the maximum of a `w × h` heatmap, refined to sub-pixel by a
/// (log-)parabola through the neighbours on each axis. Non-finite values are
/// ignored; an empty or all-NaN heatmap gives `[NaN, NaN]`.
pub fn argmax_subpixel(heatmap: &[f32], w: usize, h: usize) -> [f64; 2] {
    let n = (w * h).min(heatmap.len());
    let best = heatmap[..n]
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .fold(None, |best: Option<(usize, f32)>, (i, &v)| match best {
            Some((_, bv)) if bv >= v => best,
            _ => Some((i, v)),
        });
    let Some((i, c)) = best else {
        return [f64::NAN, f64::NAN];
    };
    let (x, y) = (i % w, i / w);
    let at = |xx: isize, yy: isize| -> Option<f32> {
        if xx < 0 || yy < 0 || xx as usize >= w || yy as usize >= h {
            return None;
        }
        heatmap
            .get(yy as usize * w + xx as usize)
            .copied()
            .filter(|v| v.is_finite())
    };
    let (xi, yi) = (x as isize, y as isize);
    [
        x as f64 + peak_offset(at(xi - 1, yi), c, at(xi + 1, yi)),
        y as f64 + peak_offset(at(xi, yi - 1), c, at(xi, yi + 1)),
    ]
}

/// How spread out a probability map is around a point: the root-mean-square
/// distance of its (normalised, non-negative) mass from `at`, in map pixels.
/// One sharp peak at `at` gives about 0; mass split between two places or
/// smeared over a region gives a large value. NaN when the map has no mass.
pub fn spread(map: &[f32], w: usize, h: usize, at: [f64; 2]) -> f64 {
    let n = (w * h).min(map.len());
    let (mut mass, mut moment) = (0.0f64, 0.0f64);
    for (i, &v) in map[..n].iter().enumerate() {
        if !(v.is_finite() && v > 0.0) {
            continue;
        }
        let (dx, dy) = ((i % w) as f64 - at[0], (i / w) as f64 - at[1]);
        mass += v as f64;
        moment += v as f64 * (dx * dx + dy * dy);
    }
    if mass > 0.0 {
        (moment / mass).sqrt()
    } else {
        f64::NAN
    }
}

/// Decodes `K × H × W` heatmaps to K points.
pub fn decode_heatmaps(heatmaps: &[f32], w: usize, h: usize) -> Vec<[f64; 2]> {
    if w * h == 0 {
        return Vec::new();
    }
    heatmaps
        .chunks_exact(w * h)
        .map(|c| argmax_subpixel(c, w, h))
        .collect()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn peak_is_at_the_landmark() {
        let hm = gaussian_heatmaps(&[[10.0, 5.0], [3.0, 12.0]], 32, 16, 2.0);
        assert_eq!(hm.len(), 2 * 32 * 16);
        assert_eq!(hm[5 * 32 + 10], 1.0);
        let max = hm[..512].iter().cloned().fold(f32::MIN, f32::max);
        assert_eq!(max, 1.0);
        assert_eq!(hm[512 + 12 * 32 + 3], 1.0);
        assert_eq!(decode_heatmaps(&hm, 32, 16), vec![[10.0, 5.0], [3.0, 12.0]]);
    }

    #[test]
    fn sigma_controls_width_and_truncation() {
        for sigma in [1.0, 2.5, 4.0] {
            let hm = gaussian_heatmaps(&[[20.0, 20.0]], 48, 48, sigma);
            let s = sigma as usize;
            if (s as f64 - sigma).abs() < 1e-12 {
                let v = hm[20 * 48 + 20 + s];
                assert!((v - (-0.5f32).exp()).abs() < 1e-6, "σ={sigma}: {v}");
            }
            let r3 = (3.0 * sigma).floor() as usize;
            assert!(hm[20 * 48 + 20 + r3] > 0.0);
            assert_eq!(hm[20 * 48 + 20 + r3 + 1], 0.0, "truncated beyond 3σ");
        }
    }

    #[test]
    fn subpixel_decode_recovers_the_point() {
        for p in [[10.3, 7.8], [5.5, 5.5], [20.91, 3.02], [0.2, 15.7]] {
            for sigma in [1.0, 2.0, 3.0] {
                let hm = gaussian_heatmaps(&[p], 24, 18, sigma);
                let q = argmax_subpixel(&hm, 24, 18);
                let tol = if p[0] < 0.5 { 0.5 } else { 0.05 }; // border: no left neighbour
                assert!(
                    (q[0] - p[0]).abs() < tol && (q[1] - p[1]).abs() < 0.05,
                    "{p:?} σ={sigma}: {q:?}"
                );
            }
        }
    }

    #[test]
    fn spread_by_hand() {
        // Half the mass at the point, half 4 pixels right: √(½·16) = 2√2.
        let mut map = vec![0f32; 5 * 3];
        map[5] = 0.5;
        map[5 + 4] = 0.5;
        assert!((spread(&map, 5, 3, [0.0, 1.0]) - 8f64.sqrt()).abs() < 1e-12);
        // Unnormalised and one-hot: 0 at the peak, the distance elsewhere.
        let mut one = vec![0f32; 16];
        one[2 * 4 + 1] = 3.0;
        assert_eq!(spread(&one, 4, 4, [1.0, 2.0]), 0.0);
        assert!((spread(&one, 4, 4, [1.0, 0.0]) - 2.0).abs() < 1e-12);
        assert!(spread(&[0.0; 4], 2, 2, [0.0, 0.0]).is_nan());
        assert!(spread(&[f32::NAN, -1.0, 0.0, 0.0], 2, 2, [0.0, 0.0]).is_nan());
    }

    #[test]
    fn one_hot_and_edge_cases() {
        let hm = one_hot_heatmaps(&[[2.4, 1.6], [-3.0, 1.0]], 4, 3);
        assert_eq!(hm.iter().filter(|&&v| v == 1.0).count(), 1);
        assert_eq!(hm[2 * 4 + 2], 1.0);
        assert_eq!(argmax_subpixel(&hm[..12], 4, 3), [2.0, 2.0]);
        assert!(argmax_subpixel(&[], 0, 0)[0].is_nan());
        assert!(argmax_subpixel(&[f32::NAN; 4], 2, 2)[0].is_nan());
        assert!(gaussian_heatmaps(&[[100.0, 100.0]], 8, 8, 1.0)
            .iter()
            .all(|&v| v == 0.0));
    }
}
