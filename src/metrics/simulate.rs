//! Simulated predictions with a known error model, so that educators can show
//! bias without a model and tests know the true answer.
//!
//! Each (image, keypoint) prediction is the truth plus an isotropic Gaussian
//! offset whose scale σ makes the *mean* radial error equal to the target
//! (radial error is Rayleigh-distributed with mean σ·√(π/2)). The target is the
//! keypoint's base error, plus `extra_mm` for each injected bias whose keypoint
//! and group match the image.
use super::error::{MetricsError, Result};
use super::predictions::{LabelledRow, PredictionRow};
use crate::data::{Dataset, Split};
use crate::rng::stream_rng;
use rand_distr::{Distribution, Normal};

/// "kp=4,group=adolescent,extra_mm=1.5": keypoint 4 is `extra_mm` worse for
/// images in `group` (of whichever attribute has that group).
#[derive(Clone, Debug, PartialEq)]
pub struct InjectedBias {
    pub keypoint: usize,
    pub group: String,
    pub extra_mm: f64,
}

impl std::str::FromStr for InjectedBias {
    type Err = MetricsError;
    fn from_str(s: &str) -> Result<Self> {
        let bad = |m: &str| {
            MetricsError::Invalid(format!(
                "bias {s:?}: {m} (expected kp=N,group=NAME,extra_mm=X)"
            ))
        };
        let (mut kp, mut group, mut extra) = (None, None, None);
        for part in s.split(',') {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| bad("each part must be key=value"))?;
            match k.trim() {
                "kp" | "keypoint" => {
                    kp = Some(
                        v.trim()
                            .parse::<usize>()
                            .map_err(|_| bad("kp must be a 1-based integer"))?,
                    )
                }
                "group" => group = Some(v.trim().to_string()),
                "extra_mm" => {
                    extra = Some(
                        v.trim()
                            .parse::<f64>()
                            .map_err(|_| bad("extra_mm must be a number"))?,
                    )
                }
                other => return Err(bad(&format!("unknown key {other:?}"))),
            }
        }
        let keypoint = kp
            .filter(|&k| k >= 1)
            .ok_or_else(|| bad("kp is missing or 0"))?;
        let extra_mm = extra.ok_or_else(|| bad("extra_mm is missing"))?;
        if !extra_mm.is_finite() {
            return Err(bad("extra_mm must be finite"));
        }
        Ok(Self {
            keypoint,
            group: group
                .filter(|g| !g.is_empty())
                .ok_or_else(|| bad("group is missing"))?,
            extra_mm,
        })
    }
}

#[derive(Clone, Debug)]
pub struct ErrorModel {
    /// Mean radial error per keypoint in mm; one value applies to all.
    pub base_mm: Vec<f64>,
    pub biases: Vec<InjectedBias>,
    pub seed: u64,
}

/// Simulated prediction rows for the samples of `split` (all when `None`),
/// with each sample's attributes in the order of `attr_names`.
pub fn simulate(
    dataset: &Dataset,
    split: Option<Split>,
    model: &ErrorModel,
) -> Result<(Vec<LabelledRow>, Vec<String>)> {
    let k = dataset.n_landmarks();
    let base = match model.base_mm.len() {
        1 => vec![model.base_mm[0]; k],
        n if n == k => model.base_mm.clone(),
        n => {
            return Err(MetricsError::Invalid(format!(
                "{n} base errors given for {k} keypoints (give 1 or {k})"
            )))
        }
    };
    if base.iter().any(|b| !(b.is_finite() && *b >= 0.0)) {
        return Err(MetricsError::Invalid(format!(
            "base errors must be ≥ 0 mm, got {base:?}"
        )));
    }
    let attr_names: Vec<String> = dataset.meta.attributes.keys().cloned().collect();
    for b in &model.biases {
        if b.keypoint > k {
            return Err(MetricsError::Invalid(format!(
                "bias on keypoint {} but the data set has {k}",
                b.keypoint
            )));
        }
        if !dataset
            .meta
            .attributes
            .values()
            .any(|gs| gs.contains(&b.group))
        {
            return Err(MetricsError::Invalid(format!(
                "bias group {:?} is not a group of this data set ({:?})",
                b.group, dataset.meta.attributes
            )));
        }
    }
    let rayleigh_mean = (std::f64::consts::PI / 2.0).sqrt();
    let mut rows = Vec::new();
    for (i, s) in dataset.samples.iter().enumerate() {
        if split.is_some_and(|sp| sp != s.split) {
            continue;
        }
        let mut rng = stream_rng(model.seed, i as u64);
        let attrs: Vec<String> = attr_names
            .iter()
            .map(|a| s.attributes.get(a).cloned().unwrap_or_default())
            .collect();
        for (kp, base_kp) in base.iter().enumerate() {
            let extra: f64 = model
                .biases
                .iter()
                .filter(|b| b.keypoint == kp + 1 && s.attributes.values().any(|g| *g == b.group))
                .map(|b| b.extra_mm)
                .sum();
            let target_mm = (base_kp + extra).max(0.0);
            let sigma_px = target_mm / rayleigh_mean / s.mm_per_px;
            let (dx, dy) = if sigma_px > 0.0 {
                let n =
                    Normal::new(0.0, sigma_px).map_err(|e| MetricsError::Invalid(e.to_string()))?;
                (n.sample(&mut rng), n.sample(&mut rng))
            } else {
                (0.0, 0.0)
            };
            let t = s.landmarks[kp];
            rows.push((
                PredictionRow {
                    image: s.image.clone(),
                    keypoint: kp + 1,
                    pred: [t[0] + dx, t[1] + dy],
                    truth: t,
                    mm_per_px: s.mm_per_px,
                },
                attrs.clone(),
            ));
        }
    }
    if rows.is_empty() {
        return Err(MetricsError::Invalid(
            "no sample in the requested split".into(),
        ));
    }
    Ok((rows, attr_names))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::data::{DatasetMeta, Sample};
    use std::collections::BTreeMap;

    pub(crate) fn toy_dataset(n: usize) -> Dataset {
        let meta = DatasetMeta {
            schema: crate::data::dataset::DATASET_SCHEMA.into(),
            anatomy: None,
            landmark_names: vec!["a".into(), "b".into(), "c".into()],
            attributes: BTreeMap::from([(
                "age_group".to_string(),
                vec!["adult".to_string(), "adolescent".to_string()],
            )]),
            description: String::new(),
            generator: None,
            samples: None,
        };
        let samples = (0..n)
            .map(|i| Sample {
                image: format!("img{i}.png"),
                split: Split::Test,
                mm_per_px: 0.1,
                landmarks: vec![[100.0, 100.0], [200.0, 150.0], [50.0, 300.0]],
                attributes: BTreeMap::from([(
                    "age_group".to_string(),
                    if i % 2 == 0 { "adult" } else { "adolescent" }.to_string(),
                )]),
            })
            .collect();
        Dataset::new(meta, samples).unwrap()
    }

    #[test]
    fn parses_bias_specs() {
        let b: InjectedBias = "kp=4,group=adolescent,extra_mm=1.5".parse().unwrap();
        assert_eq!(
            b,
            InjectedBias {
                keypoint: 4,
                group: "adolescent".into(),
                extra_mm: 1.5
            }
        );
        for bad in [
            "kp=0,group=a,extra_mm=1",
            "kp=1,extra_mm=1",
            "kp=1,group=a",
            "kp=x,group=a,extra_mm=1",
            "foo",
        ] {
            assert!(bad.parse::<InjectedBias>().is_err(), "{bad}");
        }
    }

    #[test]
    fn mean_error_matches_the_model() {
        let ds = toy_dataset(4000);
        let model = ErrorModel {
            base_mm: vec![1.0],
            biases: vec!["kp=2,group=adolescent,extra_mm=1.5".parse().unwrap()],
            seed: 3,
        };
        let (rows, attrs) = simulate(&ds, None, &model).unwrap();
        assert_eq!(attrs, vec!["age_group"]);
        let mean_err = |kp: usize, group: &str| {
            let e: Vec<f64> = rows
                .iter()
                .filter(|(r, a)| r.keypoint == kp && a[0] == group)
                .map(|(r, _)| {
                    ((r.pred[0] - r.truth[0]).hypot(r.pred[1] - r.truth[1])) * r.mm_per_px
                })
                .collect();
            e.iter().sum::<f64>() / e.len() as f64
        };
        assert!((mean_err(1, "adult") - 1.0).abs() < 0.05);
        assert!((mean_err(2, "adult") - 1.0).abs() < 0.05);
        assert!((mean_err(2, "adolescent") - 2.5).abs() < 0.1);
        // deterministic per seed
        assert_eq!(rows, simulate(&ds, None, &model).unwrap().0);
    }

    #[test]
    fn rejects_unknown_groups_and_keypoints() {
        let ds = toy_dataset(4);
        let m = |b: &str| ErrorModel {
            base_mm: vec![1.0],
            biases: vec![b.parse().unwrap()],
            seed: 0,
        };
        assert!(simulate(&ds, None, &m("kp=9,group=adult,extra_mm=1"))
            .unwrap_err()
            .to_string()
            .contains("has 3"));
        assert!(simulate(&ds, None, &m("kp=1,group=old,extra_mm=1"))
            .unwrap_err()
            .to_string()
            .contains("not a group"));
        let two = ErrorModel {
            base_mm: vec![1.0, 2.0],
            biases: vec![],
            seed: 0,
        };
        assert!(simulate(&ds, None, &two).is_err());
    }
}
