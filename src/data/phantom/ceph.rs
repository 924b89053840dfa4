//! Lateral cephalogram phantom, face to the right, drawn from the 19 ISBI
//! 2015 landmarks (the dataset annotates the 10 of `CEPH_LANDMARKS`).
//!
//! Demographic effect (`age_group`): adolescents (10–16 y) have a ~10%
//! smaller skull and a shape offset of +0.8σ along the first shape mode, and
//! **unerupted tooth buds and mixed dentition**: bright developing crowns
//! high in the maxilla around A point and ANS (the permanent canines and
//! premolars), below the lower incisor roots around B point, and extra
//! overlapping primary/permanent teeth along the tooth row. These clutter
//! the neighbourhoods of A (KP5), B (KP6) and ANS (KP10 of the dataset, ISBI
//! 18), making those landmarks harder for adolescents.
use super::raster::*;
use super::Subject;
use crate::data::shape_model::ShapeModel;
use rand::{Rng, RngExt};
use std::f32::consts::PI;

/// Adolescent shape offset along the first mode, in standard deviations.
pub const ADOLESCENT_MODE_SHIFT: f64 = 0.8;

/// Applies the age group's shape effect; returns the size factor.
pub fn adjust_coeffs(coeffs: &mut [f64], model: &ShapeModel, subject: &Subject) -> f64 {
    if subject.adolescent {
        if let (Some(b), Some(s)) = (coeffs.first_mut(), model.std.first()) {
            *b += ADOLESCENT_MODE_SHIFT * s;
        }
        0.86 + 0.01 * (subject.age_years - 10.0)
    } else {
        1.0
    }
}

use crate::data::anatomy::isbi_index::*;

/// Draws the skull; `mm` is pixels per millimetre of anatomy.
pub fn draw<R: Rng + ?Sized>(c: &mut Canvas, lm: &[P], mm: f32, subject: &Subject, rng: &mut R) {
    let ex = unit(sub(lm[N], lm[S]));
    let ey = perp(ex);
    let frame_angle = ex[1].atan2(ex[0]);
    // Point in the S–N frame, in millimetres from `o`.
    let at = |o: P, x: f32, y: f32| add(o, add(mul(ex, x * mm), mul(ey, y * mm)));
    let to_frame = |p: P| {
        let d = sub(p, lm[S]);
        [dot(d, ex) / mm, dot(d, ey) / mm]
    };

    // --- cranial vault as a thick shell, kept above the cranial base.
    let vc = at(lm[S], -12.0, -25.0);
    let (va, vb) = (84.0 * mm, 72.0 * mm);
    let keep = |p: P| {
        let f = to_frame(p);
        let clip = 4.0 + 0.3 * (-f[0]).max(0.0);
        ((clip - f[1]) / 6.0).clamp(0.0, 1.0)
    };
    c.shell(vc, va, vb, frame_angle, 6.0 * mm, 0.2, keep);

    // --- soft tissue: scalp, face profile through the soft-tissue landmarks, neck.
    let mut head: Vec<P> = Vec::new();
    for k in 0..=24 {
        // From behind the neck over the top to the forehead.
        let t = (150.0 + 205.0 * k as f32 / 24.0).to_radians();
        head.push(add(
            vc,
            add(
                mul(ex, t.cos() * (va + 6.0 * mm)),
                mul(ey, t.sin() * (vb + 6.0 * mm)),
            ),
        ));
    }
    let soft_n = at(lm[N], 7.0, 0.0);
    let tip = at(lm[SN], 15.0, -7.0);
    let stomion = sub(lerp(lm[UL], lm[LL], 0.5), mul(ex, 3.0 * mm));
    let soft_b = sub(lerp(lm[LL], lm[SPOG], 0.5), mul(ex, 4.5 * mm));
    let soft_me = at(lm[ME], 0.0, 8.0);
    let throat = at(lm[ME], -24.0, 16.0);
    let far = 300.0 * mm;
    head.extend([
        at(lm[N], 6.0, -14.0),
        soft_n,
        lerp(soft_n, tip, 0.6),
        tip,
        at(lm[SN], 4.0, -1.0),
        lm[SN],
        lm[UL],
        stomion,
        lm[LL],
        soft_b,
        lm[SPOG],
        soft_me,
        throat,
        add(throat, mul(ey, far)),
        add(at(lm[AR], -40.0, 0.0), mul(ey, far)),
    ]);
    // The head is wide but mostly brain behind bone; keep its soft-tissue
    // share moderate so the vault reads as a rim over grey.
    c.soft_polygon(&head, 0.6);

    // Temporal and sphenoid bones overlapping behind the orbit.
    c.ellipse(
        at(lm[S], -2.0, 16.0),
        30.0 * mm,
        16.0 * mm,
        frame_angle + 0.15,
        0.9,
        0.25,
    );

    // --- cranial base, sella, petrous bone, ear rods.
    c.bone(&Bone {
        a: at(lm[S], 4.0, 2.0),
        b: at(lm[N], -4.0, 2.0),
        ra: 3.0 * mm,
        rb: 3.5 * mm,
        waist: 0.3,
        cortex: 0.5,
        density: 0.8,
        cut: None,
    });
    c.ellipse(
        at(lm[S], 4.0, 11.0),
        11.0 * mm,
        8.0 * mm,
        frame_angle + 0.5,
        0.3,
        0.9,
    );
    // Clivus down to basion.
    c.bone(&Bone {
        a: at(lm[S], -6.0, 5.0),
        b: at(lm[AR], 6.0, 14.0),
        ra: 4.5 * mm,
        rb: 3.0 * mm,
        waist: 0.0,
        cortex: 0.4,
        density: 0.9,
        cut: None,
    });
    // Sella turcica: the cup whose centre is S, and the clinoid processes.
    c.arc(
        lm[S],
        5.5 * mm,
        1.3 * mm,
        frame_angle - 0.3,
        frame_angle + PI + 0.4,
        1.6,
    );
    c.bone(&Bone {
        a: at(lm[S], 6.5, -2.0),
        b: at(lm[S], 2.0, -6.0),
        ra: 1.3 * mm,
        rb: 0.8 * mm,
        waist: 0.0,
        cortex: 0.6,
        density: 1.4,
        cut: None,
    });
    c.bone(&Bone {
        a: at(lm[S], -6.0, 1.0),
        b: at(lm[S], -4.0, -6.5),
        ra: 1.4 * mm,
        rb: 1.0 * mm,
        waist: 0.0,
        cortex: 0.6,
        density: 1.4,
        cut: None,
    });
    c.ellipse(
        at(lm[PO], 6.0, 10.0),
        15.0 * mm,
        10.0 * mm,
        frame_angle - 0.4,
        0.5,
        1.0,
    );
    // Ear rod ring: porion is its top.
    let rod_r = 4.5 * mm;
    let rod_c = at(lm[PO], 0.0, 4.5);
    c.arc(rod_c, rod_r, 1.2 * mm, -PI, PI, 4.0);
    c.bone(&Bone {
        a: at(lm[PO], 0.0, -1.0),
        b: at(lm[PO], 0.0, -60.0),
        ra: 2.2 * mm,
        rb: 2.2 * mm,
        waist: 0.0,
        cortex: 1.0,
        density: 0.35,
        cut: None,
    });

    // --- orbit rim (orbitale is its lowest point), nasal bone, zygoma.
    c.arc(
        at(lm[OR], 0.0, -17.0),
        17.0 * mm,
        1.4 * mm,
        frame_angle - 1.2,
        frame_angle + 3.5,
        1.1,
    );
    c.ellipse(
        at(lm[OR], -12.0, 12.0),
        17.0 * mm,
        11.0 * mm,
        frame_angle - 0.2,
        0.3,
        0.7,
    );
    let nasal_dir = unit(add(mul(ex, 0.55), mul(ey, 0.85)));
    c.bone(&Bone {
        a: lm[N],
        b: add(lm[N], mul(nasal_dir, 21.0 * mm)),
        ra: 1.8 * mm,
        rb: 1.0 * mm,
        waist: 0.0,
        cortex: 0.7,
        density: 1.1,
        cut: None,
    });

    // --- teeth geometry: occlusal plane from the incisors to the molars.
    let o1 = lerp(lm[U1], lm[L1], 0.5);
    let below_pns = dot(sub(lm[U1], lm[PNS]), ey);
    let o2 = add(add(lm[PNS], mul(ey, below_pns * 0.66)), mul(ex, 4.0 * mm));
    let occ = unit(sub(o2, o1));
    let mut down = perp(occ);
    if dot(down, ey) < 0.0 {
        down = mul(down, -1.0);
    }
    let u_apex = at(lm[A], -4.0, 1.5);
    let l_apex = add(
        lm[L1],
        mul(unit(sub(at(lm[B], -4.0, 0.0), lm[L1])), 21.0 * mm),
    );
    let infradentale = add(lm[L1], mul(unit(sub(l_apex, lm[L1])), 9.0 * mm));
    let prosthion = add(lm[U1], mul(unit(sub(u_apex, lm[U1])), 9.5 * mm));

    // --- maxilla: palate, alveolar process, anterior nasal spine.
    let maxilla = vec![
        lm[PNS],
        at(lm[PNS], 10.0, -5.0),
        at(lm[ANS], -10.0, -3.0),
        lm[ANS],
        at(lm[ANS], -3.0, 2.0),
        lm[A],
        prosthion,
        add(o1, mul(occ, 10.0 * mm)),
        add(sub(o2, mul(down, 9.0 * mm)), mul(occ, -6.0 * mm)),
        sub(o2, mul(down, 14.0 * mm)),
    ];
    c.polygon_bone(&maxilla, 5.0 * mm, 1.6 * mm, 0.75);
    c.bone(&Bone {
        a: lm[PNS],
        b: at(lm[ANS], -6.0, 0.0),
        ra: 2.0 * mm,
        rb: 1.8 * mm,
        waist: 0.2,
        cortex: 0.6,
        density: 1.1,
        cut: None,
    });
    c.bone(&Bone {
        a: at(lm[ANS], -9.0, 0.5),
        b: sub(lm[ANS], mul(ex, 0.8 * mm)),
        ra: 2.2 * mm,
        rb: 0.8 * mm,
        waist: 0.0,
        cortex: 0.7,
        density: 1.2,
        cut: None,
    });

    // --- mandible.
    let coronoid = at(lm[AR], 30.0, -2.0);
    let ramus_front = add(sub(o2, mul(occ, 6.0 * mm)), mul(down, 8.0 * mm));
    let mandible = vec![
        at(lm[AR], 4.0, -7.0),
        at(lm[AR], -1.5, -3.0),
        lm[AR],
        lerp(lm[AR], lm[GO], 0.5),
        at(lm[GO], -1.0, -1.0),
        lm[GO],
        at(lm[GO], 3.0, 3.5),
        add(lerp(lm[GO], lm[ME], 0.35), mul(ey, -mm)),
        lerp(lm[GO], lm[ME], 0.75),
        lm[ME],
        lm[GN],
        lm[POG],
        lm[B],
        add(infradentale, mul(occ, -0.5 * mm)),
        add(add(o1, mul(occ, 12.0 * mm)), mul(down, 9.0 * mm)),
        add(o2, mul(down, 8.0 * mm)),
        ramus_front,
        coronoid,
        at(lm[AR], 16.0, 8.0),
        at(lm[AR], 8.0, -4.0),
    ];
    c.polygon_bone(&mandible, 6.0 * mm, 2.4 * mm, 0.8);

    // --- incisors: crown tips at U1 and L1, roots towards A and B.
    c.bone(&Bone {
        a: add(lm[U1], mul(unit(sub(u_apex, lm[U1])), CAP * 3.2 * mm)),
        b: u_apex,
        ra: 3.2 * mm,
        rb: 1.6 * mm,
        waist: 0.0,
        cortex: 0.45,
        density: 2.0,
        cut: None,
    });
    c.bone(&Bone {
        a: add(lm[L1], mul(unit(sub(l_apex, lm[L1])), CAP * 2.6 * mm)),
        b: l_apex,
        ra: 2.6 * mm,
        rb: 1.4 * mm,
        waist: 0.0,
        cortex: 0.45,
        density: 2.0,
        cut: None,
    });

    // --- posterior teeth: canine, two premolars, three molars per jaw.
    let widths = [8.0f32, 7.0, 7.0, 10.0, 10.0, 9.0];
    let row_len = dist(o1, o2) + 14.0 * mm;
    let total: f32 = widths.iter().sum();
    let mut t = 6.0 * mm;
    let tooth_angle = occ[1].atan2(occ[0]);
    for (i, w) in widths.iter().enumerate() {
        let w = w / total * row_len * 0.92;
        let centre = add(o1, mul(occ, t + w / 2.0));
        t += w;
        if subject.adolescent && i == 5 {
            continue; // the third molars are not there yet
        }
        for side in [-1.0f32, 1.0] {
            let crown = add(centre, mul(down, side * 3.8 * mm));
            c.ellipse(crown, w / 2.0, 4.2 * mm, tooth_angle, 0.5, 1.3);
            let root_end = add(centre, mul(down, side * 17.0 * mm));
            c.bone(&Bone {
                a: add(centre, mul(down, side * 7.0 * mm)),
                b: root_end,
                ra: w * 0.32,
                rb: 1.3 * mm,
                waist: 0.0,
                cortex: 0.5,
                density: 1.2,
                cut: None,
            });
        }
    }

    // --- adolescents: developing crowns around A, ANS and B, and mixed
    // dentition along the tooth row.
    if subject.adolescent {
        let bud = |rng: &mut R, c: &mut Canvas, centre: P, size: f32| {
            let jitter = [
                rng.random_range(-2.0..2.0) * mm,
                rng.random_range(-2.0..2.0) * mm,
            ];
            let a = rng.random_range(-0.6..0.6) + frame_angle + PI / 2.0;
            c.ellipse(
                add(centre, jitter),
                size * 1.15 * mm,
                size * 0.8 * mm,
                a,
                0.5,
                2.3,
            );
        };
        for (o, x, y, s) in [
            (A, -3.0, -2.0, 4.2), // upper permanent canine, high beside A
            (A, -8.0, 3.0, 3.8),
            (ANS, -7.0, 6.0, 3.6),
            (ANS, -13.0, 9.0, 3.5), // upper premolar buds
            (B, -4.0, 2.0, 4.0),    // lower canine below the incisor roots
            (B, -10.0, -1.0, 3.6),  // lower premolar buds
            (B, -1.0, 7.0, 3.2),
        ] {
            bud(rng, c, at(lm[o], x, y), s);
        }
        // Primary molars still in place over their successors.
        for k in 0..3 {
            let centre = add(o1, mul(occ, (12.0 + 7.5 * k as f32) * mm));
            for side in [-1.0f32, 1.0] {
                bud(rng, c, add(centre, mul(down, side * 12.0 * mm)), 3.4);
            }
        }
    }

    // --- cervical vertebrae C2–C5 behind the ramus.
    let col = at(lm[AR], -10.0, 14.0);
    let spine = unit(add(ey, mul(ex, -0.12)));
    c.bone(&Bone {
        a: at(lm[AR], -8.0, 6.0),
        b: add(col, mul(spine, 8.0 * mm)),
        ra: 4.0 * mm,
        rb: 6.0 * mm,
        waist: 0.0,
        cortex: 0.4,
        density: 0.8,
        cut: None,
    });
    for k in 0..4 {
        let ctr = add(col, mul(spine, (16.0 + 15.0 * k as f32) * mm));
        let side = perp(spine);
        let (hx, hy) = (7.5 * mm, 6.0 * mm);
        let body = vec![
            add(add(ctr, mul(side, hx)), mul(spine, -hy)),
            add(add(ctr, mul(side, hx)), mul(spine, hy)),
            add(add(ctr, mul(side, -hx)), mul(spine, hy)),
            add(add(ctr, mul(side, -hx)), mul(spine, -hy)),
        ];
        c.polygon_bone(&body, 6.0 * mm, 1.5 * mm, 0.75);
    }
    // Hyoid.
    c.bone(&Bone {
        a: at(lm[ME], -30.0, 14.0),
        b: at(lm[ME], -20.0, 12.0),
        ra: 1.8 * mm,
        rb: 1.5 * mm,
        waist: 0.0,
        cortex: 0.5,
        density: 0.8,
        cut: None,
    });
}
