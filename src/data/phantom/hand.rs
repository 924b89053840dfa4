//! Hand phantom: a left hand, palm down, fingers up, drawn from the 37
//! Digital Hand Atlas landmarks so that every landmark sits on the structure
//! it names.
//!
//! Demographic effects (see `docs/PHANTOMS.md`):
//! - `sex`: M hands are ~7% larger and their metacarpals ~6% longer, which
//!   moves all finger landmarks (KP19–KP37) relative to the wrist.
//! - `age_group` young (9–13 y): hands 4–14% smaller, **open growth plates** — a
//!   dark physis line with a separate epiphysis cap — at the distal radius
//!   and ulna (right next to KP1, KP3–KP5), at the base of every phalanx
//!   (just distal to the MCP/PIP/DIP/IP landmarks KP19–KP20, KP22–KP24,
//!   KP26–KP28, KP30–KP32, KP34–KP36), at the heads of metacarpals 2–5
//!   (just proximal to the MCP landmarks) and the base of the thumb
//!   metacarpal (KP18); carpals are smaller and fainter (less ossified), so
//!   KP7–KP13 sit on small, low-contrast blobs.
use super::raster::*;
use super::Subject;
use rand::{Rng, RngExt};

/// 0-based landmark chains, proximal to distal: thumb (MC base, MCP, IP,
/// tip), then index, middle, ring, little (MC base, MCP, PIP, DIP, tip).
pub const FINGERS: [&[usize]; 5] = [
    &[17, 18, 19, 20],
    &[16, 21, 22, 23, 24],
    &[15, 25, 26, 27, 28],
    &[14, 29, 30, 31, 32],
    &[13, 33, 34, 35, 36],
];
/// Relative bone calibre of each finger (same order).
const CALIBRE: [f32; 5] = [1.12, 1.0, 1.04, 0.94, 0.82];
/// Carpal landmarks (0-based KP7–KP13).
const CARPALS: std::ops::Range<usize> = 6..13;

/// Group effects on the landmark geometry, in model millimetres.
pub fn adjust_shape(shape: &mut [[f64; 2]], subject: &Subject) {
    if subject.male {
        // Longer metacarpals: push each finger out along its metacarpal.
        for chain in FINGERS {
            let (b, m) = (shape[chain[0]], shape[chain[1]]);
            let delta = [(m[0] - b[0]) * 0.06, (m[1] - b[1]) * 0.06];
            for &j in &chain[1..] {
                shape[j][0] += delta[0];
                shape[j][1] += delta[1];
            }
        }
    }
}

/// Overall size factor of the hand.
pub fn size_factor(subject: &Subject) -> f64 {
    let age = if subject.young {
        0.86 + 0.02 * (subject.age_years - 9.0)
    } else {
        0.97 + 0.01 * (subject.age_years - 14.0)
    };
    age * if subject.male { 1.07 } else { 1.0 }
}

/// Which end of a bone carries the epiphysis in a child.
#[derive(Clone, Copy, PartialEq)]
enum Epi {
    None,
    Proximal,
    Distal,
}

/// Draws a bone whose outer surface spans `p` (proximal) to `d` (distal);
/// a young bone gets a physis line `plate` px wide after an epiphysis of
/// `epi_len` px.
#[allow(clippy::too_many_arguments)]
fn long_bone(
    c: &mut Canvas,
    p: P,
    d: P,
    ra: f32,
    rb: f32,
    waist: f32,
    density: f32,
    epi: Epi,
    epi_len: f32,
    plate: f32,
) {
    let u = unit(sub(d, p));
    let len = dist(p, d);
    let (ra, rb) = (ra.min(len * 0.45), rb.min(len * 0.45));
    let a = add(p, mul(u, ra * CAP));
    let b = sub(d, mul(u, rb * CAP));
    let (a, b) = if dot(sub(b, a), u) > 0.0 {
        (a, b)
    } else {
        let m = lerp(p, d, 0.5);
        (m, m)
    };
    let inner = dist(a, b);
    let cut = match epi {
        Epi::None => None,
        // Axial distances from `a`; the cap's surface is `CAP·ra` before `a`.
        Epi::Proximal => Some((epi_len - CAP * ra, epi_len - CAP * ra + plate)),
        Epi::Distal => {
            let end = inner + CAP * rb - epi_len;
            Some((end - plate, end))
        }
    };
    c.bone(&Bone {
        a,
        b,
        ra,
        rb,
        waist,
        cortex: 0.3,
        density,
        cut,
    });
}

/// Draws the hand; `mm` is pixels per model millimetre (50 mm wrist
/// convention, about 1.2 real mm).
pub fn draw<R: Rng + ?Sized>(c: &mut Canvas, lm: &[P], mm: f32, subject: &Subject, rng: &mut R) {
    let young = subject.young;
    let gap = 1.6 * mm;
    let plate = 1.4 * mm;
    let epi_len = 2.4 * mm;
    // Forearm axis (proximal), and the radial side.
    let wrist_mid = lerp(lm[1], lm[5], 0.5);
    let prox = unit(sub(wrist_mid, lm[15]));
    let mut radial = perp(prox);
    if dot(radial, sub(lm[5], lm[1])) < 0.0 {
        radial = mul(radial, -1.0);
    }
    let far = 400.0 * mm;

    // --- soft tissue: fingers, thenar, palm and forearm.
    for (f, chain) in FINGERS.iter().enumerate() {
        let tip = lm[*chain.last().unwrap_or(&0)];
        let dir = unit(sub(tip, lm[chain[chain.len() - 2]]));
        let r = 9.5 * mm * CALIBRE[f];
        let start = if f == 0 { lm[chain[0]] } else { lm[chain[1]] };
        c.soft_capsule(start, add(tip, mul(dir, 2.5 * mm - r * 0.55)), r, 0.95);
        // Pad of the distal phalanx.
        c.soft_capsule(
            lm[chain[chain.len() - 2]],
            add(tip, mul(dir, 3.0 * mm - r * 0.5)),
            r * 0.9,
            0.95,
        );
    }
    c.soft_capsule(lm[17], lm[18], 11.0 * mm, 1.0);
    let mut palm: Vec<P> = vec![
        add(lm[0], mul(radial, -7.0 * mm)),
        add(add(lm[0], mul(radial, -9.0 * mm)), mul(prox, far)),
        add(add(lm[5], mul(radial, 9.0 * mm)), mul(prox, far)),
        add(lm[5], mul(radial, 7.0 * mm)),
        add(lm[17], mul(radial, 6.0 * mm)),
    ];
    // Finger webs lie about a third of the way up the proximal phalanges.
    for &k in &[21usize, 25, 29, 33] {
        palm.push(lerp(lm[k], lm[k + 1], 0.3));
    }
    palm.push(add(lm[33], mul(radial, -8.0 * mm)));
    palm.push(add(lm[13], mul(radial, -9.0 * mm)));
    c.soft_polygon(&convex_hull(palm), 1.0);

    // --- forearm: radius and ulna.
    let r_poly = {
        let (k3, k4, k5, k6) = (lm[2], lm[3], lm[4], lm[5]);
        let c_u = sub(k4, mul(prox, 6.5 * mm));
        let mid = add(lerp(c_u, k6, 0.5), mul(prox, 1.0 * mm));
        // The metaphysis flares: the shaft is a third narrower 30 mm up.
        let neck_r = add(lerp(k5, k3, 0.2), mul(prox, 30.0 * mm));
        let neck_u = add(lerp(k3, k5, 0.12), mul(prox, 30.0 * mm));
        let shaft_r = add(neck_r, mul(prox, far));
        let shaft_u = add(neck_u, mul(prox, far));
        vec![
            k6,
            add(k5, mul(radial, 0.3 * mm)),
            add(k5, mul(prox, 8.0 * mm)),
            neck_r,
            shaft_r,
            shaft_u,
            neck_u,
            k3,
            k4,
            c_u,
            mid,
        ]
    };
    let (half, cortex, dens) = (8.0 * mm, 2.0 * mm, 0.55);
    if young {
        // Physis just distal to KP4/KP5: they sit on the metaphysis corners.
        let o = sub(lerp(lm[3], lm[4], 0.5), mul(prox, 2.5 * mm));
        let epi = clip_halfplane(&r_poly, sub(o, mul(prox, plate * 0.5)), prox);
        let meta = clip_halfplane(&r_poly, add(o, mul(prox, plate * 0.5)), mul(prox, -1.0));
        c.polygon_bone(&epi, half * 0.7, cortex, dens);
        c.polygon_bone(&meta, half, cortex, dens);
    } else {
        c.polygon_bone(&r_poly, half, cortex, dens);
    }
    let ru = 5.5 * mm;
    let axis = add(lm[0], mul(radial, ru));
    let top = add(axis, mul(prox, dot(sub(lm[1], axis), prox) + 3.0 * mm));
    let a = add(top, mul(prox, ru * CAP));
    let cut = young.then(|| {
        let t = dot(sub(lm[0], a), prox) - 2.0 * mm;
        (t - plate, t)
    });
    c.bone(&Bone {
        a,
        b: add(a, mul(prox, far)),
        ra: ru,
        rb: ru * 0.8,
        waist: 0.0,
        cortex: 0.36,
        density: 1.0,
        cut,
    });
    // Ulnar styloid ends at KP2.
    c.bone(&Bone {
        a: add(lm[1], mul(prox, 1.3 * CAP * mm)),
        b: add(add(lm[1], mul(prox, 6.0 * mm)), mul(radial, 1.5 * mm)),
        ra: 1.3 * mm,
        rb: 2.0 * mm,
        waist: 0.0,
        cortex: 0.6,
        density: 1.0,
        cut: None,
    });

    // --- carpals: one ossification centre on each of KP7–KP13, plus the
    // trapezium and hamate, which carry no landmark.
    let ossified = if young {
        0.62 + 0.05 * (subject.age_years as f32 - 9.0)
    } else {
        1.0
    };
    let ossified = ossified.min(1.0);
    let thumb_dir = unit(sub(lm[18], lm[17]));
    let centres: Vec<P> = CARPALS.map(|k| lm[k]).collect();
    let neighbours: Vec<P> = centres
        .iter()
        .copied()
        .chain((13..18).map(|k| lm[k]))
        .chain([lm[1], lm[3], lm[5]])
        .collect();
    for &ctr in &centres {
        let nearest = neighbours
            .iter()
            .filter(|q| dist(**q, ctr) > 0.5)
            .map(|q| dist(*q, ctr))
            .fold(f32::MAX, f32::min);
        let r = (0.8 * nearest).clamp(4.0 * mm, 9.0 * mm) * ossified;
        let angle = rng.random_range(0.0..std::f32::consts::PI);
        let elong = 1.0 + 0.25 * rng.random::<f32>();
        let dens = if young { 0.75 } else { 1.0 };
        c.ellipse(ctr, r * elong, r / elong.sqrt(), angle, 0.75, dens);
    }
    // Distal carpal row under the metacarpal bases: trapezium (thumb),
    // trapezoid (index), capitate (middle), hamate (ring and little).
    for (base, r, long) in [
        (lm[17], 5.5, 1.1),
        (lm[16], 5.0, 1.0),
        (lm[15], 7.0, 1.35),
        (lerp(lm[13], lm[14], 0.5), 6.5, 1.2),
    ] {
        let axis = if base == lm[17] {
            mul(thumb_dir, -1.0)
        } else {
            prox
        };
        let ctr = add(base, mul(axis, (r * long + 1.2) * mm * ossified));
        let dens = if young { 0.75 } else { 1.0 };
        c.ellipse(
            ctr,
            r * long * mm * ossified,
            r * mm * ossified,
            axis[1].atan2(axis[0]),
            0.75,
            dens,
        );
    }

    // --- metacarpals and phalanges.
    for (f, chain) in FINGERS.iter().enumerate() {
        let k = CALIBRE[f] * mm;
        let thumb = f == 0;
        for (j, w) in chain.windows(2).enumerate() {
            let (p0, p1) = (lm[w[0]], lm[w[1]]);
            let u = unit(sub(p1, p0));
            let is_tip = j + 2 == chain.len();
            let is_mc = j == 0;
            // Bone surfaces: a joint landmark is the middle of the gap.
            let p = if is_mc {
                p0
            } else {
                add(p0, mul(u, gap * 0.5))
            };
            let d = if is_tip {
                p1
            } else {
                sub(p1, mul(u, gap * 0.5))
            };
            let (ra, rb, waist) = if is_mc {
                (6.2, 6.8, 0.3)
            } else if is_tip {
                (4.8, 3.0, 0.22)
            } else if j == 1 {
                (6.6, 5.5, 0.26)
            } else {
                (5.5, 4.8, 0.24)
            };
            let epi = match (young, is_mc, thumb) {
                (false, _, _) => Epi::None,
                (true, true, false) => Epi::Distal,
                _ => Epi::Proximal,
            };
            let dens = if is_tip { 1.1 } else { 1.0 };
            long_bone(
                c,
                p,
                d,
                ra * k,
                rb * k,
                waist,
                dens,
                epi,
                epi_len * CALIBRE[f],
                plate,
            );
        }
    }
    // Sesamoid of the thumb MCP, ossified only in the older children.
    if !young {
        let u = unit(sub(lm[19], lm[18]));
        let s = add(sub(lm[18], mul(u, 3.0 * mm)), mul(radial, -4.0 * mm));
        c.ellipse(s, 2.0 * mm, 1.7 * mm, 0.0, 0.4, 1.0);
    }
}

/// Convex hull (monotone chain), counter-clockwise.
pub fn convex_hull(mut pts: Vec<P>) -> Vec<P> {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    let cross = |o: P, a: P, b: P| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    let mut hull: Vec<P> = Vec::new();
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &P>> = if pass == 0 {
            Box::new(pts.iter())
        } else {
            Box::new(pts.iter().rev())
        };
        for &p in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0
            {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}
