//! Landmarks drawn over a radiograph (`fairmark detect --overlay out.png`, and
//! the clinician page): a cross and circle per landmark, its name beside it,
//! optional measurement lines and a scale bar. Pure pixels, so it runs in wasm.
//!
//! Sizes follow the image: a 2,000-pixel radiograph gets thicker marks and
//! larger letters than a 256-pixel model input, so both stay readable.
use crate::data::GreyImage;
use image::{Rgb, RgbImage};

/// Landmarks and their labels: a saturated yellow stands out on grey bone and
/// on black background alike.
pub const LANDMARK_COLOUR: Rgb<u8> = Rgb([255, 214, 0]);
/// Measurement lines, distinct from the landmarks.
pub const LINE_COLOUR: Rgb<u8> = Rgb([0, 200, 255]);
/// Outline under text, so labels stay legible over bright bone.
const SHADOW: Rgb<u8> = Rgb([0, 0, 0]);
/// Radius of the circle drawn when the pixel spacing is known: the 2 mm
/// success radius of SDR, so a reader sees the tolerance directly.
pub const SUCCESS_RADIUS_MM: f64 = 2.0;
/// Length of the scale bar, in mm.
const SCALE_BAR_MM: f64 = 10.0;

/// The grey image as RGB (values in [0, 1] → 0–255; NaN → black).
pub fn grey_to_rgb(img: &GreyImage) -> RgbImage {
    let (w, h) = (to_u32(img.width), to_u32(img.height));
    RgbImage::from_fn(w, h, |x, y| {
        let v = img.get(x as usize, y as usize).unwrap_or(0.0);
        // `as u8` saturates and maps NaN to 0.
        let g = (v * 255.0).round() as u8;
        Rgb([g, g, g])
    })
}

/// Landmarks of `points` (original-image pixels) over `img`, labelled with
/// `names` (`KP<n>` where a name is missing). With `px_per_mm` each landmark
/// also gets a circle of the 2 mm success radius and the image a 10 mm scale
/// bar. Points outside the image or not finite are skipped.
pub fn draw_overlay(
    img: &GreyImage,
    points: &[[f64; 2]],
    names: &[String],
    px_per_mm: Option<f64>,
) -> RgbImage {
    draw_overlay_with_lines(img, points, names, px_per_mm, &[])
}

/// [`draw_overlay`] plus lines between pairs of landmarks (0-based indices),
/// drawn first so that the landmarks stay on top.
pub fn draw_overlay_with_lines(
    img: &GreyImage,
    points: &[[f64; 2]],
    names: &[String],
    px_per_mm: Option<f64>,
    pairs: &[(usize, usize)],
) -> RgbImage {
    let mut canvas = grey_to_rgb(img);
    let unit = unit(&canvas);
    draw_lines(&mut canvas, points, pairs);
    let px_per_mm = px_per_mm.filter(|s| s.is_finite() && *s > 0.0);
    let visible: Vec<(usize, [f64; 2])> = points
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, p)| inside(&canvas, *p))
        .collect();
    // Labels before markers: a neighbour's label must not hide a landmark.
    for &(i, p) in &visible {
        let label = names
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("KP{}", i + 1));
        draw_label(&mut canvas, p, &label, unit);
    }
    for &(_, p) in &visible {
        let radius = px_per_mm.map_or(3.0 * unit as f64, |s| SUCCESS_RADIUS_MM * s);
        draw_circle(&mut canvas, p, radius, unit, LANDMARK_COLOUR);
        draw_cross(&mut canvas, p, 3 * unit, unit, LANDMARK_COLOUR);
    }
    if let Some(s) = px_per_mm {
        draw_scale_bar(&mut canvas, s, unit);
    }
    canvas
}

/// Lines between landmark pairs (e.g. S–N), clipped to the image; pairs with
/// an index out of range or a non-finite point are skipped.
pub fn draw_lines(canvas: &mut RgbImage, points: &[[f64; 2]], pairs: &[(usize, usize)]) {
    let unit = unit(canvas);
    for &(a, b) in pairs {
        if let (Some(p), Some(q)) = (points.get(a), points.get(b)) {
            draw_segment(canvas, *p, *q, unit.div_ceil(2), LINE_COLOUR);
        }
    }
}

/// Text in the 8×8 font, scaled `scale` times, top-left at `(x, y)`, with a
/// dark outline. Characters outside ASCII are drawn as '?'.
pub fn draw_text(canvas: &mut RgbImage, x: i64, y: i64, text: &str, scale: u32, colour: Rgb<u8>) {
    let scale = scale.max(1) as i64;
    for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1), (1, 1)] {
        text_pixels(canvas, x + dx * scale, y + dy * scale, text, scale, SHADOW);
    }
    text_pixels(canvas, x, y, text, scale, colour);
}

fn text_pixels(canvas: &mut RgbImage, x: i64, y: i64, text: &str, scale: i64, colour: Rgb<u8>) {
    for (ci, ch) in text.chars().enumerate() {
        let code = if ch.is_ascii() {
            ch as usize
        } else {
            '?' as usize
        };
        let glyph = font8x8::legacy::BASIC_LEGACY[code];
        let x0 = x + ci as i64 * 8 * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                // font8x8 stores the leftmost pixel in the lowest bit.
                if bits >> col & 1 == 1 {
                    fill_square(
                        canvas,
                        x0 + col * scale,
                        y + row as i64 * scale,
                        scale,
                        colour,
                    );
                }
            }
        }
    }
}

/// Line thickness and text scale in pixels: 1 up to ~384 px, then growing
/// with the image.
fn unit(canvas: &RgbImage) -> u32 {
    (canvas.width().min(canvas.height()) / 384).max(1)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn inside(canvas: &RgbImage, p: [f64; 2]) -> bool {
    p[0].is_finite()
        && p[1].is_finite()
        && p[0] >= -0.5
        && p[1] >= -0.5
        && p[0] < canvas.width() as f64 - 0.5
        && p[1] < canvas.height() as f64 - 0.5
}

fn put(canvas: &mut RgbImage, x: i64, y: i64, colour: Rgb<u8>) {
    if x >= 0 && y >= 0 && x < canvas.width() as i64 && y < canvas.height() as i64 {
        canvas.put_pixel(x as u32, y as u32, colour);
    }
}

fn fill_square(canvas: &mut RgbImage, x: i64, y: i64, size: i64, colour: Rgb<u8>) {
    for dy in 0..size {
        for dx in 0..size {
            put(canvas, x + dx, y + dy, colour);
        }
    }
}

/// A dot of `thickness` pixels centred on `(x, y)`.
fn dot(canvas: &mut RgbImage, x: f64, y: f64, thickness: u32, colour: Rgb<u8>) {
    let t = thickness.max(1) as i64;
    let (cx, cy) = (x.round() as i64, y.round() as i64);
    fill_square(canvas, cx - (t - 1) / 2, cy - (t - 1) / 2, t, colour);
}

fn draw_cross(canvas: &mut RgbImage, p: [f64; 2], arm: u32, thickness: u32, colour: Rgb<u8>) {
    let a = arm as f64;
    draw_segment(
        canvas,
        [p[0] - a, p[1]],
        [p[0] + a, p[1]],
        thickness,
        colour,
    );
    draw_segment(
        canvas,
        [p[0], p[1] - a],
        [p[0], p[1] + a],
        thickness,
        colour,
    );
}

fn draw_circle(canvas: &mut RgbImage, c: [f64; 2], r: f64, thickness: u32, colour: Rgb<u8>) {
    let span = (canvas.width() + canvas.height()) as f64;
    // A circle larger than the image is no help to the reader (and a silly
    // spacing must not make us walk millions of points).
    if !(r.is_finite() && r >= 1.0 && r <= span) {
        return;
    }
    let steps = (2.0 * std::f64::consts::PI * r).ceil() as usize + 8;
    for i in 0..steps {
        let t = i as f64 / steps as f64 * std::f64::consts::TAU;
        dot(
            canvas,
            c[0] + r * t.cos(),
            c[1] + r * t.sin(),
            thickness,
            colour,
        );
    }
}

/// Segment from `p` to `q`, clipped to the image first (Liang–Barsky) so that
/// far-away or huge coordinates cost nothing.
fn draw_segment(canvas: &mut RgbImage, p: [f64; 2], q: [f64; 2], thickness: u32, colour: Rgb<u8>) {
    if !(p.iter().chain(&q).all(|v| v.is_finite())) {
        return;
    }
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (den, num) in [
        (-dx, p[0] + 1.0),
        (dx, w - p[0]),
        (-dy, p[1] + 1.0),
        (dy, h - p[1]),
    ] {
        if den == 0.0 {
            if num < 0.0 {
                return;
            }
        } else {
            let t = num / den;
            if den < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return;
    }
    let a = [p[0] + t0 * dx, p[1] + t0 * dy];
    let b = [p[0] + t1 * dx, p[1] + t1 * dy];
    let n = (b[0] - a[0]).abs().max((b[1] - a[1]).abs()).ceil() as usize;
    for i in 0..=n {
        let t = if n == 0 { 0.0 } else { i as f64 / n as f64 };
        dot(
            canvas,
            a[0] + t * (b[0] - a[0]),
            a[1] + t * (b[1] - a[1]),
            thickness,
            colour,
        );
    }
}

fn draw_label(canvas: &mut RgbImage, p: [f64; 2], label: &str, unit: u32) {
    let scale = unit as i64;
    let width = label.chars().count() as i64 * 8 * scale;
    let gap = 5 * scale;
    let (px, py) = (p[0].round() as i64, p[1].round() as i64);
    // Right of the landmark, or left of it where the text would leave the image.
    let x = if px + gap + width <= canvas.width() as i64 {
        px + gap
    } else {
        px - gap - width
    };
    let y = (py - 4 * scale).clamp(0, (canvas.height() as i64 - 8 * scale).max(0));
    draw_text(canvas, x, y, label, unit, LANDMARK_COLOUR);
}

fn draw_scale_bar(canvas: &mut RgbImage, px_per_mm: f64, unit: u32) {
    let len = SCALE_BAR_MM * px_per_mm;
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    // Only when the bar fits comfortably; otherwise it would mislead.
    if !(len >= 4.0 && len <= 0.5 * w) {
        return;
    }
    let margin = 8.0 * unit as f64;
    let y = h - margin - 1.0;
    draw_segment(
        canvas,
        [margin, y],
        [margin + len, y],
        unit * 2,
        LINE_COLOUR,
    );
    let text_y = y as i64 - 12 * unit as i64;
    draw_text(
        canvas,
        margin as i64,
        text_y,
        &format!("{SCALE_BAR_MM} mm"),
        unit,
        LINE_COLOUR,
    );
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn grey(w: usize, h: usize) -> GreyImage {
        GreyImage::new(w, h, vec![0.5; w * h]).unwrap()
    }

    #[test]
    fn landmarks_are_coloured_and_size_is_kept() {
        let img = grey(300, 200);
        let pts = [[20.0, 30.0], [150.4, 99.6], [290.0, 190.0]];
        let names: Vec<String> = ["S", "N", "Me"].iter().map(|s| s.to_string()).collect();
        for spacing in [None, Some(10.0)] {
            let out = draw_overlay(&img, &pts, &names, spacing);
            assert_eq!(out.dimensions(), (300, 200));
            for p in pts {
                let px = out.get_pixel(p[0].round() as u32, p[1].round() as u32);
                assert_eq!(*px, LANDMARK_COLOUR, "{p:?}");
            }
            // The label of S is to its right: some yellow pixels there.
            let label = (25..33)
                .flat_map(|x| (26..34).map(move |y| (x, y)))
                .filter(|&(x, y)| *out.get_pixel(x, y) == LANDMARK_COLOUR)
                .count();
            assert!(label > 5, "{label}");
            // Far from every landmark the radiograph shows through.
            assert_eq!(*out.get_pixel(100, 180), Rgb([128, 128, 128]));
        }
    }

    #[test]
    fn outside_and_broken_points_are_skipped() {
        let img = grey(64, 48);
        let pts = [
            [-10.0, 5.0],
            [64.0, 10.0],
            [f64::NAN, 3.0],
            [1e300, -1e300],
            [10.0, 10.0],
        ];
        let out = draw_overlay_with_lines(&img, &pts, &[], Some(f64::INFINITY), &[(3, 4), (0, 9)]);
        assert_eq!(out.dimensions(), (64, 48));
        assert_eq!(*out.get_pixel(10, 10), LANDMARK_COLOUR);
        // An empty image is fine too.
        let empty = draw_overlay(&GreyImage::zeros(0, 0), &pts, &[], None);
        assert_eq!(empty.dimensions(), (0, 0));
    }

    #[test]
    fn lines_join_landmarks() {
        let mut canvas = grey_to_rgb(&grey(100, 100));
        draw_lines(&mut canvas, &[[10.0, 10.0], [90.0, 90.0]], &[(0, 1)]);
        assert_eq!(*canvas.get_pixel(50, 50), LINE_COLOUR);
        assert_eq!(*canvas.get_pixel(50, 10), Rgb([128, 128, 128]));
        // A line from far outside is clipped, not walked.
        draw_lines(&mut canvas, &[[-1e12, 20.0], [1e12, 20.0]], &[(0, 1)]);
        assert_eq!(*canvas.get_pixel(0, 20), LINE_COLOUR);
        assert_eq!(*canvas.get_pixel(99, 20), LINE_COLOUR);
    }
}
