//! Statistical shape models (point distribution models) of the two anatomies,
//! fitted to the real annotations so that phantom anatomy varies the way real
//! anatomy does.
//!
//! Fitting: generalised Procrustes alignment (translation, rotation, scale to
//! unit centroid size), then PCA of the aligned coordinates; modes are kept
//! until they explain 98% of the variance (at most [`MAX_MODES`]). The mean is
//! turned to the average orientation of the raw shapes, so a shape drawn from
//! the model stands the way the real images do (hand fingers up, face right).
//!
//! The fitted models ship inside the library (`src/data/shape_models/*.json`,
//! rounded to 5 decimals); a test refits them from the shared data and fails
//! when the embedded copies are stale.
use crate::data::anatomy::Anatomy;
use crate::data::error::{DataError, Result};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// Fraction of the shape variance the kept modes must explain.
pub const VARIANCE_KEPT: f64 = 0.98;
/// Upper bound on the number of modes.
pub const MAX_MODES: usize = 20;
/// Coefficients are truncated at this many standard deviations.
pub const TRUNCATE_SIGMA: f64 = 3.0;

/// Mean shape and main modes of variation of one anatomy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShapeModel {
    pub anatomy: Anatomy,
    /// Mean shape, centred, unit centroid size (sqrt of the summed squared
    /// distances to the centroid).
    pub mean: Vec<[f64; 2]>,
    /// Orthonormal modes (as flattened vectors), strongest first.
    pub modes: Vec<Vec<[f64; 2]>>,
    /// Standard deviation of the coefficient of each mode.
    pub std: Vec<f64>,
    /// Mean centroid size of the training shapes in millimetres: multiply a
    /// model shape by it to get millimetres.
    pub reference_size_mm: f64,
    pub n_shapes: usize,
}

fn centroid(s: &[[f64; 2]]) -> [f64; 2] {
    let n = s.len() as f64;
    let (x, y) = s.iter().fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
    [x / n, y / n]
}

fn centroid_size(s: &[[f64; 2]]) -> f64 {
    s.iter()
        .map(|p| p[0] * p[0] + p[1] * p[1])
        .sum::<f64>()
        .sqrt()
}

/// Centred copy of `s` and its centroid size.
fn normalise(s: &[[f64; 2]]) -> (Vec<[f64; 2]>, f64) {
    let c = centroid(s);
    let centred: Vec<[f64; 2]> = s.iter().map(|p| [p[0] - c[0], p[1] - c[1]]).collect();
    let size = centroid_size(&centred);
    (centred, size)
}

fn rotate(s: &[[f64; 2]], angle: f64) -> Vec<[f64; 2]> {
    let (sn, cs) = angle.sin_cos();
    s.iter()
        .map(|p| [cs * p[0] - sn * p[1], sn * p[0] + cs * p[1]])
        .collect()
}

/// Angle that rotates centred `s` onto centred `target` in the least-squares sense.
fn best_rotation(s: &[[f64; 2]], target: &[[f64; 2]]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (p, q) in s.iter().zip(target) {
        num += p[0] * q[1] - p[1] * q[0];
        den += p[0] * q[0] + p[1] * q[1];
    }
    num.atan2(den)
}

impl ShapeModel {
    /// Fits a model to shapes given in millimetres (one `Vec` per image, all
    /// with the anatomy's full landmark count: 19 ISBI points for ceph).
    pub fn fit(anatomy: Anatomy, shapes_mm: &[Vec<[f64; 2]>]) -> Result<Self> {
        let k = shapes_mm
            .first()
            .map(Vec::len)
            .ok_or_else(|| DataError::Invalid("no shapes to fit a shape model to".into()))?;
        if shapes_mm.len() < 3 || k < 3 {
            return Err(DataError::Invalid(format!(
                "a shape model needs at least 3 shapes of at least 3 points, got {} of {k}",
                shapes_mm.len()
            )));
        }
        let mut raw = Vec::with_capacity(shapes_mm.len());
        let mut size_sum = 0.0;
        for (i, s) in shapes_mm.iter().enumerate() {
            if s.len() != k {
                return Err(DataError::Invalid(format!(
                    "shape {i} has {} points, expected {k}",
                    s.len()
                )));
            }
            if s.iter().flatten().any(|v| !v.is_finite()) {
                return Err(DataError::Invalid(format!("shape {i} is not finite")));
            }
            let (c, size) = normalise(s);
            if size < 1e-9 {
                return Err(DataError::Invalid(format!("shape {i} is degenerate")));
            }
            size_sum += size;
            raw.push(
                c.iter()
                    .map(|p| [p[0] / size, p[1] / size])
                    .collect::<Vec<_>>(),
            );
        }
        let n = raw.len();

        // Generalised Procrustes: rotate everything onto the running mean
        // until the mean stops moving.
        let mut mean = raw[0].clone();
        let mut aligned = raw.clone();
        for _ in 0..50 {
            for (a, r) in aligned.iter_mut().zip(&raw) {
                *a = rotate(r, best_rotation(r, &mean));
            }
            let (m, size) = normalise(&mean_shape(&aligned));
            let m: Vec<[f64; 2]> = m.iter().map(|p| [p[0] / size, p[1] / size]).collect();
            let m = rotate(&m, best_rotation(&m, &mean));
            let change: f64 = m
                .iter()
                .zip(&mean)
                .map(|(a, b)| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2))
                .sum();
            mean = m;
            if change < 1e-20 {
                break;
            }
        }
        // Stand the model the way the images stand: mean direction of the
        // rotations taking the mean onto each raw shape.
        let (mut sx, mut sy) = (0.0, 0.0);
        for r in &raw {
            let a = best_rotation(&mean, r);
            sx += a.cos();
            sy += a.sin();
        }
        let turn = sy.atan2(sx);
        mean = rotate(&mean, turn);
        for (a, r) in aligned.iter_mut().zip(&raw) {
            *a = rotate(r, best_rotation(r, &mean));
        }
        // Exact mean of the aligned shapes (equal to `mean` up to the
        // convergence tolerance), so that coefficient 0 is the data mean.
        let m = mean_shape(&aligned);
        mean = m;

        let d = 2 * k;
        let mut cov = nalgebra::DMatrix::<f64>::zeros(d, d);
        let mut x = nalgebra::DVector::<f64>::zeros(d);
        for a in &aligned {
            for (j, (p, mp)) in a.iter().zip(&mean).enumerate() {
                x[2 * j] = p[0] - mp[0];
                x[2 * j + 1] = p[1] - mp[1];
            }
            cov.ger(1.0 / (n as f64 - 1.0), &x, &x, 1.0);
        }
        let eig = nalgebra::SymmetricEigen::new(cov);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let total: f64 = eig.eigenvalues.iter().map(|v| v.max(0.0)).sum();
        let (mut modes, mut std, mut explained) = (Vec::new(), Vec::new(), 0.0);
        for &j in &order {
            let ev = eig.eigenvalues[j].max(0.0);
            if explained >= VARIANCE_KEPT * total || modes.len() >= MAX_MODES || ev <= 0.0 {
                break;
            }
            explained += ev;
            let v = eig.eigenvectors.column(j);
            // Eigenvector signs are arbitrary; fix them so refits compare equal.
            let big = (0..d)
                .max_by(|&a, &b| v[a].abs().total_cmp(&v[b].abs()))
                .unwrap_or(0);
            let sign = if v[big] < 0.0 { -1.0 } else { 1.0 };
            modes.push(
                (0..k)
                    .map(|i| [sign * v[2 * i], sign * v[2 * i + 1]])
                    .collect(),
            );
            std.push(ev.sqrt());
        }
        Ok(Self {
            anatomy,
            mean,
            modes,
            std,
            reference_size_mm: size_sum / n as f64,
            n_shapes: n,
        })
    }

    pub fn n_points(&self) -> usize {
        self.mean.len()
    }

    /// Model shape for the given mode coefficients (missing ones are 0),
    /// in model units (multiply by `reference_size_mm` for millimetres).
    pub fn shape(&self, coeffs: &[f64]) -> Vec<[f64; 2]> {
        let mut s = self.mean.clone();
        for (mode, &b) in self.modes.iter().zip(coeffs) {
            for (p, m) in s.iter_mut().zip(mode) {
                p[0] += b * m[0];
                p[1] += b * m[1];
            }
        }
        s
    }

    /// Coefficients of a shape (any position, size, rotation) after aligning
    /// it to the mean.
    pub fn project(&self, shape: &[[f64; 2]]) -> Vec<f64> {
        let (c, size) = normalise(shape);
        let c: Vec<[f64; 2]> = c.iter().map(|p| [p[0] / size, p[1] / size]).collect();
        let a = rotate(&c, best_rotation(&c, &self.mean));
        self.modes
            .iter()
            .map(|mode| {
                a.iter()
                    .zip(&self.mean)
                    .zip(mode)
                    .map(|((p, m), v)| (p[0] - m[0]) * v[0] + (p[1] - m[1]) * v[1])
                    .sum()
            })
            .collect()
    }

    /// Draws coefficients b_j ~ N(0, (spread·σ_j)²) truncated at ±3σ_j.
    pub fn sample_coeffs<R: Rng + ?Sized>(&self, rng: &mut R, spread: f64) -> Vec<f64> {
        self.std
            .iter()
            .map(|&s| {
                let z: f64 = StandardNormal.sample(rng);
                (z * spread).clamp(-TRUNCATE_SIGMA, TRUNCATE_SIGMA) * s
            })
            .collect()
    }

    /// A random plausible shape in model units.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R, spread: f64) -> Vec<[f64; 2]> {
        self.shape(&self.sample_coeffs(rng, spread))
    }

    /// The model shipped with the library.
    pub fn embedded(anatomy: Anatomy) -> ShapeModel {
        let text = match anatomy {
            // The ceph model is fitted to all 19 ISBI landmarks.
            Anatomy::Ceph | Anatomy::Isbi => include_str!("shape_models/ceph.json"),
            Anatomy::Hand => include_str!("shape_models/hand.json"),
        };
        // The JSON is generated by `write_embedded` and checked by a test.
        serde_json::from_str(text).expect("embedded shape model is valid JSON")
    }

    /// Copy with every number rounded to 5 decimals (what is embedded).
    pub fn rounded(&self) -> Self {
        let r = |v: f64| (v * 1e5).round() / 1e5;
        let rp = |s: &Vec<[f64; 2]>| s.iter().map(|p| [r(p[0]), r(p[1])]).collect();
        Self {
            anatomy: self.anatomy,
            mean: rp(&self.mean),
            modes: self.modes.iter().map(rp).collect(),
            std: self.std.iter().map(|&v| r(v)).collect(),
            reference_size_mm: r(self.reference_size_mm),
            n_shapes: self.n_shapes,
        }
    }
}

/// Fits a shape model (see [`ShapeModel::fit`]).
pub fn fit(anatomy: Anatomy, shapes_mm: &[Vec<[f64; 2]>]) -> Result<ShapeModel> {
    ShapeModel::fit(anatomy, shapes_mm)
}

/// The model shipped with the library (see [`ShapeModel::embedded`]).
pub fn embedded(anatomy: Anatomy) -> ShapeModel {
    ShapeModel::embedded(anatomy)
}

/// The mean shape of `anatomy`'s landmarks (the 10 ceph landmarks picked from
/// the 19 of the shape model), scaled and centred into a `width × height` box
/// with a 5 % margin, y down: a reference anatomy to draw per-keypoint results on.
pub fn mean_landmarks_in_box(anatomy: Anatomy, width: f64, height: f64) -> Vec<[f64; 2]> {
    let model = ShapeModel::embedded(anatomy);
    let points: Vec<[f64; 2]> = match anatomy {
        Anatomy::Ceph => crate::data::anatomy::CEPH_LANDMARKS
            .iter()
            .map(|(_, _, isbi)| model.mean[*isbi])
            .collect(),
        Anatomy::Hand | Anatomy::Isbi => model.mean.clone(),
    };
    let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
    for p in &points {
        for d in 0..2 {
            lo[d] = lo[d].min(p[d]);
            hi[d] = hi[d].max(p[d]);
        }
    }
    let span = [(hi[0] - lo[0]).max(1e-9), (hi[1] - lo[1]).max(1e-9)];
    let scale = (0.9 * width / span[0]).min(0.9 * height / span[1]);
    let offset = [
        (width - span[0] * scale) / 2.0,
        (height - span[1] * scale) / 2.0,
    ];
    points
        .iter()
        .map(|p| {
            [
                (p[0] - lo[0]) * scale + offset[0],
                (p[1] - lo[1]) * scale + offset[1],
            ]
        })
        .collect()
}

/// One annotated shape: landmark coordinates in keypoint order.
pub type Shape = Vec<[f64; 2]>;

/// Reads the real shapes in millimetres: ceph (senior and junior annotators,
/// all 19 ISBI points) and hand (37 points, 50 mm wrist convention).
#[cfg(not(target_arch = "wasm32"))]
pub fn shared_shapes_mm(data_dir: &std::path::Path) -> Result<(Vec<Shape>, Vec<Shape>)> {
    use crate::data::anatomy::{hand_mm_per_px, HAND_LANDMARKS, ISBI_LANDMARKS};
    use crate::data::formats::payer_csv::read_payer_csv;
    let ann = data_dir.join("annotations");
    let mut ceph = Vec::new();
    for f in ["isbi2015_ceph_senior.csv", "isbi2015_ceph_junior.csv"] {
        ceph.extend(
            read_payer_csv(&ann.join(f), ISBI_LANDMARKS, 1.0)?
                .into_iter()
                .map(|r| r.points),
        );
    }
    let hand = read_payer_csv(&ann.join("dha_hand_all.csv"), HAND_LANDMARKS, 1.0)?
        .into_iter()
        .filter_map(|r| {
            let s = hand_mm_per_px(&r.points)?;
            Some(r.points.iter().map(|p| [p[0] * s, p[1] * s]).collect())
        })
        .collect();
    Ok((ceph, hand))
}

/// Fits the ceph and hand models to the shared real annotations.
#[cfg(not(target_arch = "wasm32"))]
pub fn fit_from_shared(data_dir: &std::path::Path) -> Result<(ShapeModel, ShapeModel)> {
    let (ceph, hand) = shared_shapes_mm(data_dir)?;
    Ok((
        ShapeModel::fit(Anatomy::Ceph, &ceph)?,
        ShapeModel::fit(Anatomy::Hand, &hand)?,
    ))
}

/// Refits both models from `data_dir` and writes `ceph.json` and `hand.json`
/// (rounded) into `out_dir` — `src/data/shape_models` regenerates the
/// embedded models.
#[cfg(not(target_arch = "wasm32"))]
pub fn write_embedded(data_dir: &std::path::Path, out_dir: &std::path::Path) -> Result<()> {
    let (ceph, hand) = fit_from_shared(data_dir)?;
    for m in [ceph, hand] {
        let json =
            serde_json::to_string(&m.rounded()).map_err(|e| DataError::Invalid(e.to_string()))?;
        crate::io::write_atomic(
            &out_dir.join(format!("{}.json", m.anatomy.as_str())),
            json.as_bytes(),
        )?;
    }
    Ok(())
}

/// Point-wise mean of equally long shapes.
fn mean_shape(shapes: &[Vec<[f64; 2]>]) -> Vec<[f64; 2]> {
    let n = shapes.len() as f64;
    let mut m = vec![[0.0; 2]; shapes.first().map_or(0, Vec::len)];
    for s in shapes {
        for (mp, p) in m.iter_mut().zip(s) {
            mp[0] += p[0] / n;
            mp[1] += p[1] / n;
        }
    }
    m
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn max_diff(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(p, q)| (p[0] - q[0]).abs().max((p[1] - q[1]).abs()))
            .fold(0.0, f64::max)
    }

    #[test]
    fn embedded_models_load_and_are_sane() {
        for (a, k) in [(Anatomy::Ceph, 19), (Anatomy::Hand, 37)] {
            let m = ShapeModel::embedded(a);
            assert_eq!(m.anatomy, a);
            assert_eq!(m.n_points(), k);
            assert!(!m.modes.is_empty() && m.modes.len() <= MAX_MODES);
            assert_eq!(m.modes.len(), m.std.len());
            assert!(m.std.windows(2).all(|w| w[0] >= w[1]));
            // Averaging aligned unit shapes shrinks the mean a little.
            let size = centroid_size(&m.mean);
            assert!(size > 0.95 && size < 1.0 + 1e-3, "{size}");
            assert!(m.reference_size_mm > 50.0, "{}", m.reference_size_mm);
        }
        // Orientation of the images: hand fingers up (middle tip above the
        // wrist), ceph face right (nasion right of sella).
        let h = ShapeModel::embedded(Anatomy::Hand).mean;
        assert!(h[28][1] < h[1][1] && h[28][1] < h[5][1]);
        let c = ShapeModel::embedded(Anatomy::Ceph).mean;
        assert!(c[1][0] > c[0][0]);
    }

    #[test]
    fn fit_recovers_a_known_model() {
        // Shapes = a square plus one known mode, then moved, turned and scaled.
        let base = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let shapes: Vec<Vec<[f64; 2]>> = (0..200)
            .map(|_| {
                let b: f64 = StandardNormal.sample(&mut rng);
                let ang: f64 = StandardNormal.sample(&mut rng);
                let s = 10.0 + ang.abs();
                let pts: Vec<[f64; 2]> = base
                    .iter()
                    .enumerate()
                    .map(|(i, p)| [p[0] + if i == 1 { 0.1 * b } else { 0.0 }, p[1]])
                    .collect();
                rotate(&pts, 0.3 * ang)
                    .iter()
                    .map(|p| [s * p[0] + 5.0, s * p[1] - 3.0])
                    .collect()
            })
            .collect();
        let m = ShapeModel::fit(Anatomy::Ceph, &shapes).unwrap();
        assert!(m.std[0] > 5.0 * m.std.get(1).copied().unwrap_or(0.0));
        // Every training shape is reproduced by its projection.
        for s in &shapes {
            let rec = m.shape(&m.project(s));
            let (c, size) = normalise(s);
            let c: Vec<[f64; 2]> = c.iter().map(|p| [p[0] / size, p[1] / size]).collect();
            let c = rotate(&c, best_rotation(&c, &m.mean));
            assert!(max_diff(&rec, &c) < 0.02, "{}", max_diff(&rec, &c));
        }
        assert!(ShapeModel::fit(Anatomy::Ceph, &shapes[..2]).is_err());
    }

    #[test]
    fn samples_are_truncated_and_deterministic() {
        let m = ShapeModel::embedded(Anatomy::Hand);
        let mut r1 = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut r2 = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..200 {
            let c = m.sample_coeffs(&mut r1, 2.0);
            assert!(c
                .iter()
                .zip(&m.std)
                .all(|(b, s)| b.abs() <= 3.0 * s + 1e-12));
            assert_eq!(c, m.sample_coeffs(&mut r2, 2.0));
        }
        assert_eq!(m.shape(&[]), m.mean);
    }

    #[test]
    fn embedded_models_match_a_fresh_fit_of_the_shared_data() {
        let Some(dir) = crate::data::shared_data_dir() else {
            println!("skipped: shared data not found (set FAIRMARK_SHARED_DATA)");
            return;
        };
        let (ceph_shapes, hand_shapes) = shared_shapes_mm(&dir).unwrap();
        assert_eq!(ceph_shapes.len(), 800);
        assert!(hand_shapes.len() > 900);
        for (shapes, anatomy) in [(ceph_shapes, Anatomy::Ceph), (hand_shapes, Anatomy::Hand)] {
            let fresh = ShapeModel::fit(anatomy, &shapes).unwrap();
            let emb = ShapeModel::embedded(anatomy);
            let stale =
                "embedded shape model is stale: regenerate with shape_model::write_embedded";
            assert_eq!(fresh.n_shapes, emb.n_shapes, "{stale}");
            assert_eq!(fresh.modes.len(), emb.modes.len(), "{stale}");
            assert!(max_diff(&fresh.mean, &emb.mean) < 1e-4, "{stale}");
            for (a, b) in fresh.modes.iter().zip(&emb.modes) {
                assert!(max_diff(a, b) < 1e-4, "{stale}");
            }
            assert!((fresh.reference_size_mm - emb.reference_size_mm).abs() < 1e-4);
            // The model mean is the mean of the real shapes once aligned, and
            // the kept modes reproduce real shapes closely.
            let mut err = 0.0;
            let mut mean_coeffs = vec![0.0; fresh.modes.len()];
            for s in &shapes {
                let b = fresh.project(s);
                for (m, v) in mean_coeffs.iter_mut().zip(&b) {
                    *m += v / shapes.len() as f64;
                }
                let (c, size) = normalise(s);
                let c: Vec<[f64; 2]> = c.iter().map(|p| [p[0] / size, p[1] / size]).collect();
                let c = rotate(&c, best_rotation(&c, &fresh.mean));
                err += max_diff(&fresh.shape(&b), &c);
            }
            let err_mm = err / shapes.len() as f64 * fresh.reference_size_mm;
            assert!(
                mean_coeffs
                    .iter()
                    .zip(&fresh.std)
                    .all(|(m, s)| m.abs() < 0.05 * s),
                "{mean_coeffs:?}"
            );
            assert!(
                err_mm < 5.0,
                "{anatomy}: mean worst-point error {err_mm} mm"
            );
        }
    }

    #[test]
    fn mean_landmarks_fill_the_box_in_image_orientation() {
        for an in [Anatomy::Ceph, Anatomy::Hand] {
            let pts = mean_landmarks_in_box(an, 400.0, 500.0);
            assert_eq!(pts.len(), an.n_landmarks());
            assert!(pts
                .iter()
                .all(|p| (0.0..=400.0).contains(&p[0]) && (0.0..=500.0).contains(&p[1])));
        }
        // Lateral cephalograms face right: sella lies behind (left of) nasion,
        // menton below sella.
        let c = mean_landmarks_in_box(Anatomy::Ceph, 400.0, 500.0);
        assert!(c[0][0] < c[1][0], "S {:?} N {:?}", c[0], c[1]);
        assert!(c[7][1] > c[0][1], "Me {:?} S {:?}", c[7], c[0]);
    }
}
