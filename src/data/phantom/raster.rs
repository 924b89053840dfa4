//! Rasterisation of projected anatomy: every primitive adds the length of
//! material a ray crosses (an attenuation "thickness") to an f32 field, only
//! inside its bounding box; `expose` turns the fields into an 8-bit
//! radiograph (Beer–Lambert, film response, grain, blur).
use image::GrayImage;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

pub type P = [f32; 2];

pub fn add(a: P, b: P) -> P {
    [a[0] + b[0], a[1] + b[1]]
}
pub fn sub(a: P, b: P) -> P {
    [a[0] - b[0], a[1] - b[1]]
}
pub fn mul(a: P, s: f32) -> P {
    [a[0] * s, a[1] * s]
}
pub fn lerp(a: P, b: P, t: f32) -> P {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]
}
pub fn norm(a: P) -> f32 {
    (a[0] * a[0] + a[1] * a[1]).sqrt()
}
pub fn dist(a: P, b: P) -> f32 {
    norm(sub(a, b))
}
/// Unit vector (x-axis for a zero vector).
pub fn unit(a: P) -> P {
    let n = norm(a);
    if n > 1e-9 {
        [a[0] / n, a[1] / n]
    } else {
        [1.0, 0.0]
    }
}
/// `a` turned 90° (counter-clockwise on screen with y down is clockwise).
pub fn perp(a: P) -> P {
    [-a[1], a[0]]
}
pub fn dot(a: P, b: P) -> f32 {
    a[0] * b[0] + a[1] * b[1]
}
pub fn rot(a: P, angle: f32) -> P {
    let (s, c) = angle.sin_cos();
    [c * a[0] - s * a[1], s * a[0] + c * a[1]]
}

/// Chord of a disc of radius `r` at distance `d` from its centre.
#[inline]
fn chord(r: f32, d: f32) -> f32 {
    if d < r {
        (r * r - d * d).sqrt()
    } else {
        0.0
    }
}

/// Share of the marrow cavity's chord that is subtracted: cancellous bone is
/// not empty, so the shaft centre stays grey while the cortices show bright.
const MARROW: f32 = 0.95;
/// Axial length of a bone's end cap as a share of its radius: joint ends
/// are flattened rather than hemispherical.
pub const CAP: f32 = 0.5;

/// A long bone between `a` and `b`: a tube whose radius goes from `ra` to
/// `rb`, narrowed mid-shaft by `waist` (0..1), with flattened ends
/// reaching `CAP`·radius beyond `a` and `b`, hollow
/// inside `1 - cortex` of the radius; `cut` is an open growth plate, an
/// interval of axial distance from `a` (px) where the bone is cartilage.
#[derive(Clone, Copy, Debug)]
pub struct Bone {
    pub a: P,
    pub b: P,
    pub ra: f32,
    pub rb: f32,
    pub waist: f32,
    pub cortex: f32,
    pub density: f32,
    pub cut: Option<(f32, f32)>,
}

pub struct Canvas {
    pub w: usize,
    pub h: usize,
    /// Bone-equivalent thickness (px).
    pub bone: Vec<f32>,
    /// Soft-tissue presence, 0..1 after smoothing.
    pub soft: Vec<f32>,
}

impl Canvas {
    pub fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            bone: vec![0.0; w * h],
            soft: vec![0.0; w * h],
        }
    }

    /// Pixel range covering `[lo, hi]` clipped to the canvas, or None.
    fn bbox(&self, lo: P, hi: P) -> Option<(usize, usize, usize, usize)> {
        let x0 = lo[0].floor().max(0.0);
        let y0 = lo[1].floor().max(0.0);
        let x1 = hi[0].ceil().min(self.w as f32 - 1.0);
        let y1 = hi[1].ceil().min(self.h as f32 - 1.0);
        (x0 <= x1 && y0 <= y1).then_some((x0 as usize, y0 as usize, x1 as usize, y1 as usize))
    }

    /// Long bone (see [`Bone`]).
    pub fn bone(&mut self, bone: &Bone) {
        let Bone {
            a,
            b,
            ra,
            rb,
            waist,
            cortex,
            density,
            cut,
        } = *bone;
        let r_max = ra.max(rb);
        let lo = [a[0].min(b[0]) - r_max, a[1].min(b[1]) - r_max];
        let hi = [a[0].max(b[0]) + r_max, a[1].max(b[1]) + r_max];
        let Some((x0, y0, x1, y1)) = self.bbox(lo, hi) else {
            return;
        };
        let ab = sub(b, a);
        let len = norm(ab).max(1e-3);
        let axis = mul(ab, 1.0 / len);
        let (c0, c1) = cut.unwrap_or((f32::MAX, f32::MAX));
        for y in y0..=y1 {
            let row = y * self.w;
            for x in x0..=x1 {
                let p = [x as f32 + 0.5, y as f32 + 0.5];
                let t = dot(sub(p, a), axis);
                let s = (t / len).clamp(0.0, 1.0);
                let radial = dist(p, add(a, mul(axis, t)));
                let beyond = (t - s * len) / CAP;
                let d = (radial * radial + beyond * beyond).sqrt();
                let r = (ra + (rb - ra) * s) * (1.0 - waist * 4.0 * s * (1.0 - s));
                if d < r {
                    let ri = r * (1.0 - cortex);
                    // The physis is cartilage: nearly transparent.
                    let k = if t > c0 && t < c1 { 0.1 } else { 1.0 };
                    self.bone[row + x] += k * density * (chord(r, d) - MARROW * chord(ri, d));
                }
            }
        }
    }

    /// Projected ellipsoid (carpal bone, tooth crown, epiphysis) centred at
    /// `c` with semi-axes `ax` (along `angle`) and `ay`; `rim` is the share of
    /// the radius that is dense shell.
    #[allow(clippy::too_many_arguments)]
    pub fn ellipse(&mut self, c: P, ax: f32, ay: f32, angle: f32, rim: f32, density: f32) {
        let r = ax.max(ay);
        let Some((x0, y0, x1, y1)) = self.bbox(sub(c, [r, r]), add(c, [r, r])) else {
            return;
        };
        let (s, co) = angle.sin_cos();
        let depth = ax.min(ay);
        for y in y0..=y1 {
            let row = y * self.w;
            for x in x0..=x1 {
                let d = [x as f32 + 0.5 - c[0], y as f32 + 0.5 - c[1]];
                let u = (co * d[0] + s * d[1]) / ax;
                let v = (-s * d[0] + co * d[1]) / ay;
                let rho = (u * u + v * v).sqrt();
                if rho < 1.0 {
                    let t = chord(1.0, rho) - MARROW * chord(1.0 - rim, rho);
                    self.bone[row + x] += density * depth * t;
                }
            }
        }
    }

    /// Thick elliptical shell (skull vault): the chord through the shell
    /// peaks at its projected edge. `keep(x, y)` in 0..1 fades parts away.
    #[allow(clippy::too_many_arguments)]
    pub fn shell(
        &mut self,
        c: P,
        ax: f32,
        ay: f32,
        angle: f32,
        thickness: f32,
        density: f32,
        keep: impl Fn(P) -> f32,
    ) {
        let e = ax.max(ay);
        let Some((x0, y0, x1, y1)) = self.bbox(sub(c, [e, e]), add(c, [e, e])) else {
            return;
        };
        let (sn, cs) = angle.sin_cos();
        let inner = 1.0 - thickness / ax.min(ay);
        for y in y0..=y1 {
            let row = y * self.w;
            for x in x0..=x1 {
                let p = [x as f32 + 0.5, y as f32 + 0.5];
                let d = sub(p, c);
                let u = (cs * d[0] + sn * d[1]) / ax;
                let v = (-sn * d[0] + cs * d[1]) / ay;
                let rho = (u * u + v * v).sqrt();
                if rho < 1.0 {
                    let k = keep(p);
                    if k > 0.0 {
                        let t = chord(1.0, rho) - chord(inner, rho);
                        self.bone[row + x] += k * density * ax.min(ay) * t;
                    }
                }
            }
        }
    }

    /// Ring segment (sella floor, orbit rim, ear rod) of radius `r` and
    /// half-width `hw`, between angles `a0..a1` (radians, y down).
    #[allow(clippy::too_many_arguments)]
    pub fn arc(&mut self, c: P, r: f32, hw: f32, a0: f32, a1: f32, density: f32) {
        let e = r + hw;
        let Some((x0, y0, x1, y1)) = self.bbox(sub(c, [e, e]), add(c, [e, e])) else {
            return;
        };
        for y in y0..=y1 {
            let row = y * self.w;
            for x in x0..=x1 {
                let d = [x as f32 + 0.5 - c[0], y as f32 + 0.5 - c[1]];
                let rr = norm(d);
                let off = (rr - r).abs();
                if off < hw {
                    let rel = (d[1].atan2(d[0]) - a0).rem_euclid(std::f32::consts::TAU);
                    if rel <= a1 - a0 {
                        self.bone[row + x] += density * chord(hw, off);
                    }
                }
            }
        }
    }

    /// Flat bone with a dense rim (mandible, maxilla, distal radius):
    /// thickness grows like a cylinder of radius `half` from the outline
    /// inwards, hollow beyond `cortex` from the outline.
    pub fn polygon_bone(&mut self, poly: &[P], half: f32, cortex: f32, density: f32) {
        if poly.len() < 3 {
            return;
        }
        let (lo, hi) = poly_bounds(poly);
        let Some((x0, y0, x1, y1)) = self.bbox(lo, hi) else {
            return;
        };
        let prof = |d: f32, w: f32| if d < w { (d * (2.0 * w - d)).sqrt() } else { w };
        for y in y0..=y1 {
            let row = y * self.w;
            for x in x0..=x1 {
                let p = [x as f32 + 0.5, y as f32 + 0.5];
                if !inside(poly, p) {
                    continue;
                }
                let d = edge_distance(poly, p);
                let inner = (d - cortex).max(0.0);
                let t = prof(d, half)
                    - MARROW * prof(inner, (half - cortex).max(0.5)) * (inner > 0.0) as u8 as f32;
                self.bone[row + x] += density * t;
            }
        }
    }

    /// Marks a filled polygon in the soft-tissue mask.
    pub fn soft_polygon(&mut self, poly: &[P], value: f32) {
        if poly.len() < 3 {
            return;
        }
        let (lo, hi) = poly_bounds(poly);
        let Some((x0, y0, x1, y1)) = self.bbox(lo, hi) else {
            return;
        };
        let mut xs = Vec::new();
        for y in y0..=y1 {
            // Scanline fill: crossings of the pixel-centre row with each edge.
            let py = y as f32 + 0.5;
            xs.clear();
            for i in 0..poly.len() {
                let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
                if (a[1] <= py) != (b[1] <= py) {
                    xs.push(a[0] + (py - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
                }
            }
            xs.sort_by(f32::total_cmp);
            for pair in xs.chunks_exact(2) {
                let xa = (pair[0] - 0.5).ceil().max(x0 as f32) as usize;
                let xb = (pair[1] - 0.5).floor().min(x1 as f32);
                if xb < xa as f32 {
                    continue;
                }
                for x in xa..=xb as usize {
                    let v = &mut self.soft[y * self.w + x];
                    *v = v.max(value);
                }
            }
        }
    }

    /// Adds a cylinder of soft tissue (finger, thenar) to the soft-tissue
    /// field, combined by maximum so overlaps do not double.
    pub fn soft_capsule(&mut self, a: P, b: P, r: f32, value: f32) {
        let lo = [a[0].min(b[0]) - r, a[1].min(b[1]) - r];
        let hi = [a[0].max(b[0]) + r, a[1].max(b[1]) + r];
        let Some((x0, y0, x1, y1)) = self.bbox(lo, hi) else {
            return;
        };
        let ab = sub(b, a);
        let l2 = dot(ab, ab).max(1e-6);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let p = [x as f32 + 0.5, y as f32 + 0.5];
                let s = (dot(sub(p, a), ab) / l2).clamp(0.0, 1.0);
                let d = dist(p, add(a, mul(ab, s)));
                if d < r {
                    // A limb is roughly a cylinder: thinner at its silhouette.
                    let v = &mut self.soft[y * self.w + x];
                    *v = v.max(value * chord(1.0, d / r).sqrt());
                }
            }
        }
    }

    /// Rounds the soft-tissue mask into a thickness profile (tissue is
    /// thinnest at the silhouette).
    pub fn smooth_soft(&mut self, radius: usize) {
        for _ in 0..2 {
            box_blur(&mut self.soft, self.w, self.h, radius);
        }
    }
}

/// Even-odd point-in-polygon test.
/// Corners of a polygon's axis-aligned bounding box.
fn poly_bounds(poly: &[P]) -> (P, P) {
    poly.iter()
        .fold(([f32::MAX; 2], [f32::MIN; 2]), |(lo, hi), p| {
            (
                [lo[0].min(p[0]), lo[1].min(p[1])],
                [hi[0].max(p[0]), hi[1].max(p[1])],
            )
        })
}

pub fn inside(poly: &[P], p: P) -> bool {
    let mut c = false;
    let n = poly.len();
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + n - 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            c = !c;
        }
    }
    c
}

fn edge_distance(poly: &[P], p: P) -> f32 {
    let n = poly.len();
    (0..n)
        .map(|i| {
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            let ab = sub(b, a);
            let s = (dot(sub(p, a), ab) / dot(ab, ab).max(1e-9)).clamp(0.0, 1.0);
            dist(p, add(a, mul(ab, s)))
        })
        .fold(f32::MAX, f32::min)
}

/// Part of a polygon on the side of the line through `o` that `n` points
/// away from (`dot(p - o, n) <= 0`), Sutherland–Hodgman.
pub fn clip_halfplane(poly: &[P], o: P, n: P) -> Vec<P> {
    let f = |p: P| dot(sub(p, o), n);
    let mut out = Vec::with_capacity(poly.len() + 2);
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
        let (fa, fb) = (f(a), f(b));
        if fa <= 0.0 {
            out.push(a);
        }
        if (fa <= 0.0) != (fb <= 0.0) {
            out.push(lerp(a, b, fa / (fa - fb)));
        }
    }
    out
}

/// In-place separable box blur of radius `r` (window 2r+1), edges clamped.
pub fn box_blur(f: &mut [f32], w: usize, h: usize, r: usize) {
    if r == 0 {
        return;
    }
    let norm = 1.0 / (2 * r + 1) as f32;
    let mut line = vec![0.0f32; w.max(h)];
    let pass = |get: &dyn Fn(usize) -> f32, n: usize, out: &mut [f32]| {
        let clampi = |i: isize| i.clamp(0, n as isize - 1) as usize;
        let mut acc: f32 = (-(r as isize)..=r as isize).map(|i| get(clampi(i))).sum();
        for (i, o) in out.iter_mut().enumerate().take(n) {
            *o = acc * norm;
            acc += get(clampi(i as isize + r as isize + 1)) - get(clampi(i as isize - r as isize));
        }
    };
    for y in 0..h {
        let row = &f[y * w..(y + 1) * w];
        pass(&|i| row[i], w, &mut line);
        f[y * w..(y + 1) * w].copy_from_slice(&line[..w]);
    }
    for x in 0..w {
        {
            let col = |i: usize| f[i * w + x];
            pass(&col, h, &mut line);
        }
        for (y, v) in line.iter().take(h).enumerate() {
            f[y * w + x] = *v;
        }
    }
}

/// How one image is exposed: drawn per image so that contrast, brightness
/// and noise vary like they do between real radiographs.
#[derive(Clone, Debug)]
pub struct Exposure {
    /// Attenuation per px of bone and for full soft tissue.
    pub mu_bone: f32,
    pub mu_soft: f32,
    /// Grey level of the empty detector and the span above it.
    pub background: f32,
    pub span: f32,
    pub gamma: f32,
    /// Background gradient (per image width) and its direction.
    pub gradient: f32,
    pub gradient_angle: f32,
    /// Grain standard deviation in grey levels / 255.
    pub grain: f32,
    /// Amplitude of the trabecular mottling of bone.
    pub texture: f32,
}

impl Exposure {
    pub fn sample<R: Rng + ?Sized>(rng: &mut R, px_per_mm: f32, noise: f32) -> Self {
        let u = |rng: &mut R, a: f32, b: f32| a + (b - a) * rng.random::<f32>();
        Self {
            mu_bone: u(rng, 0.15, 0.2) / px_per_mm,
            mu_soft: u(rng, 0.6, 0.85),
            background: u(rng, 0.2, 0.36),
            span: u(rng, 0.6, 0.75),
            gamma: u(rng, 0.85, 1.25),
            gradient: u(rng, -0.08, 0.08),
            gradient_angle: u(rng, 0.0, std::f32::consts::TAU),
            grain: noise * u(rng, 0.7, 1.3),
            texture: u(rng, 0.3, 0.5),
        }
    }
}

/// Beer–Lambert projection of the fields, film response, grain; `blur`
/// softens the focal spot first.
pub fn expose<R: Rng + ?Sized>(
    canvas: &mut Canvas,
    e: &Exposure,
    blur: usize,
    rng: &mut R,
) -> GrayImage {
    let (w, h) = (canvas.w, canvas.h);
    // Trabecular mottling: bone thickness modulated by a coarse random
    // field (bilinear on a 3 px grid).
    let cell = 3usize;
    let (gw, gh) = (w / cell + 2, h / cell + 2);
    let grid: Vec<f32> = (0..gw * gh)
        .map(|_| 1.0 + e.texture * (rng.random::<f32>() - 0.5))
        .collect();
    for y in 0..h {
        let (gy, fy) = (y / cell, (y % cell) as f32 / cell as f32);
        for x in 0..w {
            let (gx, fx) = (x / cell, (x % cell) as f32 / cell as f32);
            let g = |i: usize, j: usize| grid[(gy + j) * gw + gx + i];
            let top = g(0, 0) + (g(1, 0) - g(0, 0)) * fx;
            let bot = g(0, 1) + (g(1, 1) - g(0, 1)) * fx;
            canvas.bone[y * w + x] *= top + (bot - top) * fy;
        }
    }
    box_blur(&mut canvas.bone, w, h, blur);
    let (gs, gc) = e.gradient_angle.sin_cos();
    let mut img = GrayImage::new(w as u32, h as u32);
    let buf: &mut [u8] = &mut img;
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let t = e.mu_bone * canvas.bone[i] + e.mu_soft * canvas.soft[i];
            let a = (1.0 - (-t).exp()).max(0.0).powf(e.gamma);
            let g =
                e.gradient * ((x as f32 / w as f32 - 0.5) * gc + (y as f32 / h as f32 - 0.5) * gs);
            let z: f32 = StandardNormal.sample(rng);
            let v = e.background + g + e.span * a + e.grain * z;
            buf[i] = (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        }
    }
    img
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn bone_is_brighter_at_the_cortex_than_mid_shaft() {
        let mut c = Canvas::new(64, 64);
        c.bone(&Bone {
            a: [10.0, 32.0],
            b: [54.0, 32.0],
            ra: 10.0,
            rb: 10.0,
            waist: 0.0,
            cortex: 0.3,
            density: 1.0,
            cut: None,
        });
        let mid = c.bone[32 * 64 + 32];
        let edge = c.bone[24 * 64 + 32];
        assert!(edge > mid, "edge {edge} mid {mid}");
        assert_eq!(c.bone[5 * 64 + 32], 0.0);
    }

    #[test]
    fn polygon_fill_and_clip() {
        let sq = [[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 30.0]];
        assert!(inside(&sq, [20.0, 20.0]) && !inside(&sq, [5.0, 20.0]));
        let half = clip_halfplane(&sq, [20.0, 0.0], [1.0, 0.0]);
        assert!(half.iter().all(|p| p[0] <= 20.0 + 1e-4));
        let mut c = Canvas::new(40, 40);
        c.soft_polygon(&sq, 1.0);
        let filled: f32 = c.soft.iter().sum();
        assert!((filled - 400.0).abs() <= 40.0, "{filled}");
    }
}
