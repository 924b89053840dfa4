//! Synthetic X-ray phantoms: deterministic, fast radiograph-like images with
//! exactly known landmarks and known demographic differences.
//!
//! Each sample draws a shape from the statistical shape model fitted to real
//! annotations ([`crate::data::shape_model`]), applies the anatomical effect
//! of its demographic groups, poses it in the image (rotation ±8°, scale
//! ±4%, shift) and draws the anatomy as projected thickness of bone and soft
//! tissue (see [`raster`]), exposed with per-image contrast, gamma,
//! background gradient and film grain.
//!
//! Demographic effects (which keypoints they make harder) are documented in
//! [`ceph`] and [`hand`] and in `docs/PHANTOMS.md`.
//!
//! Determinism: sample `i` depends only on `(seed, i)` (its own ChaCha8
//! stream; groups and split from additive-recurrence sequences), so serial
//! and parallel rendering give the same bytes.
pub mod ceph;
pub mod groups;
pub mod hand;
pub mod raster;

pub use groups::GroupSpec;

use crate::data::anatomy::{hand_mm_per_px, Anatomy, CEPH_LANDMARKS};
use crate::data::dataset::{Sample, Split};
use crate::data::error::{DataError, Result};
use crate::data::shape_model::ShapeModel;
use image::GrayImage;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use raster::{Canvas, Exposure, P};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a phantom set is made; stored in the dataset's `generator` field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhantomConfig {
    pub anatomy: Anatomy,
    /// Number of images.
    pub n: usize,
    pub seed: u64,
    pub width: u32,
    pub height: u32,
    /// Pixel spacing the anatomy is drawn at. Ceph: also the annotated
    /// spacing. Hand: the annotated spacing follows the 50 mm wrist
    /// convention per image, as for the real Digital Hand Atlas.
    pub mm_per_px: f64,
    pub groups: GroupSpec,
    /// Train, validation and test fractions (normalised).
    pub split: [f64; 3],
    /// Film grain standard deviation (fraction of the grey range).
    pub noise: f64,
}

impl PhantomConfig {
    /// Defaults: 384×480 px (portrait, like both real sets). Ceph at
    /// 0.5 mm/px shows 192×240 mm, the ISBI 2015 field of view; hands at
    /// 0.48 mm/px (model millimetres, 50 mm wrist) fill most of the
    /// frame with an older hand, as in the Digital Hand Atlas.
    pub fn new(anatomy: Anatomy) -> Self {
        Self {
            anatomy,
            n: 100,
            seed: 0,
            width: 384,
            height: 480,
            mm_per_px: match anatomy {
                Anatomy::Ceph | Anatomy::Isbi => 0.5,
                Anatomy::Hand => 0.48,
            },
            groups: GroupSpec::balanced(anatomy),
            split: [0.7, 0.1, 0.2],
            noise: 0.015,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(DataError::Invalid(format!("phantom config: {m}")));
        if !self.anatomy.has_phantoms() {
            return bad(format!(
                "there are no {} phantoms: they draw the structures of the 10 ceph landmarks only (use ceph)",
                self.anatomy
            ));
        }
        if self.n == 0 {
            return bad("n must be at least 1 image".into());
        }
        if !(32..=8192).contains(&self.width) || !(32..=8192).contains(&self.height) {
            return bad(format!(
                "image size {}x{} must be 32..8192 px",
                self.width, self.height
            ));
        }
        // 8192 × 8192 passes the side limits but not the pixel cap every
        // image reader applies: a phantom nothing could load back is refused.
        crate::data::formats::image_io::check_pixel_count(
            self.width.into(),
            self.height.into(),
            crate::data::formats::image_io::DEFAULT_MAX_PIXELS,
        )
        .or_else(|p| bad(format!("image {p}")))?;
        if !(self.mm_per_px.is_finite() && self.mm_per_px > 0.0) {
            return bad(format!("mm_per_px must be > 0, got {}", self.mm_per_px));
        }
        if self.split.iter().any(|f| !(f.is_finite() && *f >= 0.0))
            || self.split.iter().sum::<f64>() <= 0.0
        {
            return bad(format!(
                "split fractions {:?} must be >= 0, not all 0",
                self.split
            ));
        }
        if !(self.noise.is_finite() && (0.0..=1.0).contains(&self.noise)) {
            return bad(format!("noise must be in 0..1, got {}", self.noise));
        }
        self.groups.validate(self.anatomy)
    }

    /// Image path of sample `index` inside the dataset directory.
    pub fn image_name(&self, index: usize) -> String {
        format!("images/{}_{:05}.png", self.anatomy.as_str(), index + 1)
    }
}

/// The demographic draw of one sample, as the drawing code needs it.
#[derive(Clone, Debug)]
pub struct Subject {
    pub groups: BTreeMap<String, String>,
    pub age_years: f64,
    pub young: bool,
    pub male: bool,
    pub adolescent: bool,
}

fn split_of(cfg: &PhantomConfig, index: usize) -> Split {
    let total: f64 = cfg.split.iter().sum();
    let u = groups::weyl(cfg.seed, 0, index) * total;
    if u < cfg.split[0] {
        Split::Train
    } else if u < cfg.split[0] + cfg.split[1] {
        Split::Val
    } else {
        Split::Test
    }
}

fn rng_for(seed: u64, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(groups::splitmix(seed));
    rng.set_stream(index as u64);
    rng
}

/// Renders sample `index` of the set described by `cfg`.
pub fn render(cfg: &PhantomConfig, index: usize) -> Result<(GrayImage, Sample)> {
    cfg.validate()?;
    Ok(render_unchecked(
        cfg,
        &ShapeModel::embedded(cfg.anatomy),
        index,
    ))
}

fn render_unchecked(cfg: &PhantomConfig, model: &ShapeModel, index: usize) -> (GrayImage, Sample) {
    let mut rng = rng_for(cfg.seed, index);
    let groups = cfg.groups.assign(cfg.seed, index);
    let group = |a: &str| groups.get(a).map(String::as_str).unwrap_or("");
    let (young, male, adolescent) = (
        group("age_group") == "young",
        group("sex") == "M",
        group("age_group") == "adolescent",
    );
    let age_years = match cfg.anatomy {
        Anatomy::Hand if young => rng.random_range(9.0..14.0),
        Anatomy::Hand => rng.random_range(14.0..19.0),
        Anatomy::Ceph | Anatomy::Isbi if adolescent => rng.random_range(10.0..17.0),
        Anatomy::Ceph | Anatomy::Isbi => rng.random_range(18.0..45.0),
    };
    let subject = Subject {
        groups: groups.clone(),
        age_years,
        young,
        male,
        adolescent,
    };

    // Shape in millimetres, with the groups' anatomical effects.
    let mut coeffs = model.sample_coeffs(&mut rng, 1.0);
    let size = match cfg.anatomy {
        Anatomy::Ceph | Anatomy::Isbi => ceph::adjust_coeffs(&mut coeffs, model, &subject),
        Anatomy::Hand => hand::size_factor(&subject),
    };
    let mut shape: Vec<[f64; 2]> = model
        .shape(&coeffs)
        .iter()
        .map(|p| {
            [
                p[0] * model.reference_size_mm,
                p[1] * model.reference_size_mm,
            ]
        })
        .collect();
    if cfg.anatomy == Anatomy::Hand {
        hand::adjust_shape(&mut shape, &subject);
    }

    // Pose: anatomy size jitter, rotation, placement, then fit in the image.
    let (w, h) = (cfg.width as f64, cfg.height as f64);
    let scale = size * rng.random_range(0.96..1.04) / cfg.mm_per_px;
    let angle = rng.random_range(-8.0f64..8.0).to_radians();
    let (sn, cs) = angle.sin_cos();
    let anchor = match cfg.anatomy {
        Anatomy::Ceph | Anatomy::Isbi => [0.62, 0.62],
        Anatomy::Hand => [0.50, 0.50],
    };
    let centre = [
        w * (anchor[0] + rng.random_range(-0.03..0.03)),
        h * (anchor[1] + rng.random_range(-0.03..0.03)),
    ];
    let mut lm: Vec<[f64; 2]> = shape
        .iter()
        .map(|p| {
            let (x, y) = (p[0] * scale, p[1] * scale);
            [cs * x - sn * y + centre[0], sn * x + cs * y + centre[1]]
        })
        .collect();
    let shrink = fit_inside(&mut lm, w, h, 0.03 * w.min(h));
    // Pixels per model millimetre, for the sizes of drawn structures.
    let mm = (scale * shrink) as f32;

    let lm_f32: Vec<P> = lm.iter().map(|p| [p[0] as f32, p[1] as f32]).collect();
    let mut canvas = Canvas::new(cfg.width as usize, cfg.height as usize);
    let px_per_mm = (1.0 / cfg.mm_per_px) as f32;
    match cfg.anatomy {
        Anatomy::Ceph | Anatomy::Isbi => ceph::draw(&mut canvas, &lm_f32, mm, &subject, &mut rng),
        Anatomy::Hand => hand::draw(&mut canvas, &lm_f32, mm, &subject, &mut rng),
    }
    canvas.smooth_soft((2.5 * px_per_mm).round().max(1.0) as usize);
    let exposure = Exposure::sample(&mut rng, px_per_mm, cfg.noise as f32);
    let img = raster::expose(&mut canvas, &exposure, 1, &mut rng);

    let (landmarks, mm_per_px) = match cfg.anatomy {
        Anatomy::Ceph => (
            CEPH_LANDMARKS.iter().map(|l| lm[l.2]).collect(),
            cfg.mm_per_px,
        ),
        // Refused by `validate`; all 19 if it ever got here.
        Anatomy::Isbi => (lm, cfg.mm_per_px),
        Anatomy::Hand => {
            let s = hand_mm_per_px(&lm).unwrap_or(cfg.mm_per_px);
            (lm, s)
        }
    };
    let sample = Sample {
        image: cfg.image_name(index),
        split: split_of(cfg, index),
        mm_per_px,
        landmarks,
        attributes: groups,
    };
    (img, sample)
}

/// Shrinks (about the centroid) and shifts landmarks so that all lie at
/// least `margin` px inside the image; returns the shrink factor.
fn fit_inside(lm: &mut [[f64; 2]], w: f64, h: f64, margin: f64) -> f64 {
    let lo = lm
        .iter()
        .fold([f64::MAX; 2], |m, p| [m[0].min(p[0]), m[1].min(p[1])]);
    let hi = lm
        .iter()
        .fold([f64::MIN; 2], |m, p| [m[0].max(p[0]), m[1].max(p[1])]);
    let s = ((w - 2.0 * margin) / (hi[0] - lo[0]).max(1e-9))
        .min((h - 2.0 * margin) / (hi[1] - lo[1]).max(1e-9))
        .min(1.0);
    let c = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
    let (half_w, half_h) = ((hi[0] - lo[0]) * s / 2.0, (hi[1] - lo[1]) * s / 2.0);
    // Rounding can leave lo a hair above hi when the shape fills the image.
    let fit = |v: f64, lo: f64, hi: f64| {
        if lo < hi {
            v.clamp(lo, hi)
        } else {
            (lo + hi) / 2.0
        }
    };
    let target = [
        fit(c[0], margin + half_w, w - margin - half_w),
        fit(c[1], margin + half_h, h - margin - half_h),
    ];
    for p in lm.iter_mut() {
        *p = [target[0] + (p[0] - c[0]) * s, target[1] + (p[1] - c[1]) * s];
    }
    s
}

/// Dataset description of a phantom set (no samples).
pub fn dataset_meta(cfg: &PhantomConfig) -> Result<crate::data::dataset::DatasetMeta> {
    Ok(crate::data::dataset::DatasetMeta {
        schema: crate::data::dataset::DATASET_SCHEMA.to_string(),
        anatomy: Some(cfg.anatomy),
        landmark_names: cfg.anatomy.landmark_names(),
        attributes: cfg
            .anatomy
            .attributes()
            .into_iter()
            .map(|(a, g)| (a.to_string(), g.iter().map(|s| s.to_string()).collect()))
            .collect(),
        description: format!(
            "{} synthetic {} phantoms (fairmark shape-model phantoms, seed {})",
            cfg.n, cfg.anatomy, cfg.seed
        ),
        generator: Some(serde_json::to_value(cfg).map_err(|e| DataError::Invalid(e.to_string()))?),
        samples: None,
    })
}

/// Renders all `cfg.n` samples (in parallel), writes their PNGs under
/// `out_dir/images/` (each atomically) and saves the dataset files.
/// `progress` is called with the number of images done so far.
#[cfg(not(target_arch = "wasm32"))]
pub fn generate(
    cfg: &PhantomConfig,
    out_dir: &std::path::Path,
    progress: impl Fn(usize) + Sync,
) -> Result<crate::data::Dataset> {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    cfg.validate()?;
    let model = ShapeModel::embedded(cfg.anatomy);
    let done = AtomicUsize::new(0);
    let samples = (0..cfg.n)
        .into_par_iter()
        .map(|i| {
            let (img, sample) = render_unchecked(cfg, &model, i);
            let path = out_dir.join(&sample.image);
            let mut png = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .map_err(|e| DataError::Image {
                    path: path.clone(),
                    problem: e.to_string(),
                })?;
            crate::io::write_atomic(&path, &png)?;
            progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            Ok(sample)
        })
        .collect::<Result<Vec<_>>>()?;
    let ds = crate::data::Dataset::new(dataset_meta(cfg)?, samples)?;
    ds.save(out_dir)?;
    Ok(ds)
}

/// Renders samples `range` serially or in parallel (for benchmarks and
/// in-memory training sets).
pub fn render_many(
    cfg: &PhantomConfig,
    range: std::ops::Range<usize>,
    parallel: bool,
) -> Result<Vec<(GrayImage, Sample)>> {
    cfg.validate()?;
    let model = ShapeModel::embedded(cfg.anatomy);
    #[cfg(not(target_arch = "wasm32"))]
    if parallel {
        use rayon::prelude::*;
        return Ok(range
            .into_par_iter()
            .map(|i| render_unchecked(cfg, &model, i))
            .collect());
    }
    let _ = parallel;
    Ok(range.map(|i| render_unchecked(cfg, &model, i)).collect())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn cfg(anatomy: Anatomy, groups: &str) -> PhantomConfig {
        let mut c = PhantomConfig::new(anatomy);
        c.seed = 11;
        c.groups = GroupSpec::parse(anatomy, &[groups.to_string()]).unwrap();
        c
    }

    #[test]
    fn same_seed_same_bytes_different_seed_different() {
        for anatomy in [Anatomy::Ceph, Anatomy::Hand] {
            let c = cfg(anatomy, "");
            let (a, sa) = render(&c, 3).unwrap();
            let (b, sb) = render(&c, 3).unwrap();
            assert_eq!(a.as_raw(), b.as_raw());
            assert_eq!(sa, sb);
            let mut c2 = c.clone();
            c2.seed = 12;
            let (d, _) = render(&c2, 3).unwrap();
            assert_ne!(a.as_raw(), d.as_raw());
            let (e, _) = render(&c, 4).unwrap();
            assert_ne!(a.as_raw(), e.as_raw());
        }
    }

    #[test]
    fn sizes_past_the_pixel_cap_are_refused() {
        let mut c = cfg(Anatomy::Ceph, "");
        (c.width, c.height) = (8192, 8192);
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("8192x8192 = 67108864 pixels exceeds the limit of 64000000"),
            "{e}"
        );
        (c.width, c.height) = (8000, 8000);
        c.validate().unwrap();
    }

    #[test]
    fn parallel_rendering_matches_serial() {
        let c = cfg(Anatomy::Hand, "");
        let serial = render_many(&c, 0..6, false).unwrap();
        let parallel = render_many(&c, 0..6, true).unwrap();
        for ((a, sa), (b, sb)) in serial.iter().zip(&parallel) {
            assert_eq!(a.as_raw(), b.as_raw());
            assert_eq!(sa, sb);
        }
    }

    #[test]
    fn landmarks_are_inside_and_counted() {
        for anatomy in [Anatomy::Ceph, Anatomy::Hand] {
            let c = cfg(anatomy, "");
            for (img, s) in render_many(&c, 0..24, true).unwrap() {
                assert_eq!(s.landmarks.len(), anatomy.n_landmarks());
                assert_eq!((img.width(), img.height()), (c.width, c.height));
                for p in &s.landmarks {
                    assert!(
                        p[0] >= 0.0
                            && p[1] >= 0.0
                            && p[0] < c.width as f64
                            && p[1] < c.height as f64,
                        "{p:?}"
                    );
                }
                assert!(s.mm_per_px > 0.0);
                assert_eq!(s.attributes.len(), anatomy.attributes().len());
            }
        }
    }

    #[test]
    fn images_use_the_grey_range_and_bone_is_bright() {
        let c = cfg(Anatomy::Hand, "");
        for (img, s) in render_many(&c, 0..8, true).unwrap() {
            let mut v: Vec<u8> = img.as_raw().clone();
            v.sort_unstable();
            let (p2, p98) = (v[v.len() / 50] as f64, v[v.len() * 49 / 50] as f64);
            assert!(p98 - p2 > 80.0, "range {p2}..{p98}");
            // Inside the distal phalanx, 2 px short of each fingertip.
            for chain in hand::FINGERS {
                let tip = s.landmarks[chain[chain.len() - 1]];
                let dip = s.landmarks[chain[chain.len() - 2]];
                let d = ((dip[0] - tip[0]).powi(2) + (dip[1] - tip[1]).powi(2))
                    .sqrt()
                    .max(1e-9);
                let at = [
                    tip[0] + (dip[0] - tip[0]) * 3.0 / d,
                    tip[1] + (dip[1] - tip[1]) * 3.0 / d,
                ];
                let px = img.get_pixel(at[0] as u32, at[1] as u32)[0] as f64;
                assert!(px > p2 + 40.0, "distal phalanx {px} vs background {p2}");
            }
        }
    }

    #[test]
    fn groups_and_splits_follow_the_proportions() {
        let mut c = cfg(Anatomy::Ceph, "adult:0.8,adolescent:0.2");
        c.n = 400;
        let mut adolescents = 0;
        let mut splits = [0usize; 3];
        for i in 0..c.n {
            let g = c.groups.assign(c.seed, i);
            adolescents += (g["age_group"] == "adolescent") as usize;
            splits[split_of(&c, i) as usize] += 1;
        }
        assert!(
            (adolescents as f64 / 400.0 - 0.2).abs() < 0.02,
            "{adolescents}"
        );
        for (got, want) in splits.iter().zip(c.split) {
            assert!((*got as f64 / 400.0 - want).abs() < 0.02, "{splits:?}");
        }
        let (_, s) = render(&c, 7).unwrap();
        assert_eq!(s.attributes, c.groups.assign(c.seed, 7));
        assert_eq!(s.split, split_of(&c, 7));
    }

    #[test]
    fn invalid_configs_are_errors() {
        let mut c = PhantomConfig::new(Anatomy::Hand);
        c.mm_per_px = 0.0;
        assert!(render(&c, 0).is_err());
        let mut c = PhantomConfig::new(Anatomy::Hand);
        c.split = [0.0; 3];
        assert!(render(&c, 0).is_err());
        let mut c = PhantomConfig::new(Anatomy::Hand);
        c.groups = GroupSpec::balanced(Anatomy::Ceph);
        assert!(render(&c, 0).unwrap_err().to_string().contains("sex"));
    }

    /// Mean absolute difference of neighbouring samples along a line.
    fn profile_variation(img: &GrayImage, a: [f64; 2], b: [f64; 2]) -> f64 {
        let n = 24;
        let v: Vec<f64> = (0..=n)
            .map(|k| {
                let t = k as f64 / n as f64;
                let (x, y) = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t);
                img.get_pixel(x.round() as u32, y.round() as u32)[0] as f64
            })
            .collect();
        v.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / n as f64
    }

    #[test]
    fn young_hands_show_growth_plates_at_the_finger_joints() {
        // Same samples drawn young and old: the axial profile over the base
        // of each proximal phalanx (MCP side) crosses the physis only in
        // the young; the mid-shaft is the control.
        let measure = |groups: &str| {
            let mut c = cfg(Anatomy::Hand, groups);
            c.noise = 0.0;
            let (mut base, mut shaft) = (0.0, 0.0);
            for (img, s) in render_many(&c, 0..12, true).unwrap() {
                for chain in &hand::FINGERS[1..] {
                    let (mcp, pip) = (s.landmarks[chain[1]], s.landmarks[chain[2]]);
                    let at = |t: f64| {
                        [
                            mcp[0] + (pip[0] - mcp[0]) * t,
                            mcp[1] + (pip[1] - mcp[1]) * t,
                        ]
                    };
                    base += profile_variation(&img, at(0.05), at(0.3));
                    shaft += profile_variation(&img, at(0.4), at(0.65));
                }
            }
            base / shaft
        };
        let (young, old) = (measure("young:1"), measure("old:1"));
        assert!(young > 1.3 * old, "young {young:.3} old {old:.3}");
    }

    /// Standard deviation of the grey levels in a square window.
    fn window_std(img: &GrayImage, c: [f64; 2], r: i64) -> f64 {
        let mut v = Vec::new();
        for dy in -r..=r {
            for dx in -r..=r {
                let (x, y) = (c[0] as i64 + dx, c[1] as i64 + dy);
                if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
                    v.push(img.get_pixel(x as u32, y as u32)[0] as f64);
                }
            }
        }
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    }

    #[test]
    fn adolescent_cephs_are_cluttered_around_a_b_and_ans() {
        let measure = |groups: &str| {
            let mut c = cfg(Anatomy::Ceph, groups);
            c.noise = 0.0;
            let (mut near, mut control) = (0.0, 0.0);
            for (img, s) in render_many(&c, 0..12, true).unwrap() {
                // Dataset order: A = 4, B = 5, ANS = 9; porion = 3 is the control.
                for k in [4, 5, 9] {
                    near += window_std(&img, s.landmarks[k], 10);
                }
                control += 3.0 * window_std(&img, s.landmarks[3], 10);
            }
            near / control
        };
        let (adolescent, adult) = (measure("adolescent:1"), measure("adult:1"));
        assert!(
            adolescent > 1.15 * adult,
            "adolescent {adolescent:.3} adult {adult:.3}"
        );
    }

    #[test]
    fn generate_writes_a_loadable_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = cfg(Anatomy::Ceph, "");
        c.n = 5;
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let ds = generate(&c, dir.path(), |_| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(calls.into_inner(), 5);
        let back = crate::data::Dataset::load(dir.path()).unwrap();
        assert_eq!(back.samples.len(), 5);
        assert_eq!(back.meta.anatomy, Some(Anatomy::Ceph));
        let gen: PhantomConfig =
            serde_json::from_value(back.meta.generator.clone().unwrap()).unwrap();
        assert_eq!(gen, c);
        for (a, b) in ds.samples.iter().zip(&back.samples) {
            assert_eq!(a.image, b.image);
            assert!(dir.path().join(&a.image).is_file());
            let img = image::open(dir.path().join(&a.image)).unwrap().to_luma8();
            assert_eq!(
                img.as_raw(),
                render(&c, ds.samples.iter().position(|s| s == a).unwrap())
                    .unwrap()
                    .0
                    .as_raw()
            );
        }
    }
}
