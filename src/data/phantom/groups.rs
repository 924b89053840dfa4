//! Demographic group proportions of a phantom set and their deterministic
//! assignment to samples.
use crate::data::anatomy::Anatomy;
use crate::data::error::{DataError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Attribute → group → proportion (normalised to sum 1 per attribute).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupSpec {
    pub attributes: BTreeMap<String, BTreeMap<String, f64>>,
}

impl GroupSpec {
    /// Every group of every attribute equally likely.
    pub fn balanced(anatomy: Anatomy) -> Self {
        let attributes = anatomy
            .attributes()
            .into_iter()
            .map(|(a, groups)| {
                let p = 1.0 / groups.len() as f64;
                (
                    a.to_string(),
                    groups.iter().map(|g| (g.to_string(), p)).collect(),
                )
            })
            .collect();
        Self { attributes }
    }

    /// Parses `group:proportion` lists such as `adult:0.8,adolescent:0.2`
    /// (entries may be split over several strings). Group names are unique
    /// across an anatomy's attributes, so each name finds its attribute.
    /// Groups of a named attribute that are not listed get proportion 0;
    /// attributes not named at all stay balanced.
    pub fn parse(anatomy: Anatomy, specs: &[String]) -> Result<Self> {
        let known = anatomy.attributes();
        let valid = || {
            known
                .iter()
                .map(|(a, g)| format!("{a}: {}", g.join("/")))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let mut given: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        for entry in specs.iter().flat_map(|s| s.split(',')) {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let (name, value) = entry.split_once(':').ok_or_else(|| {
                DataError::Invalid(format!(
                    "group spec {entry:?}: expected group:proportion, e.g. {}:0.5",
                    known[0].1[0]
                ))
            })?;
            let name = name.trim();
            let attr = known
                .iter()
                .find(|(_, groups)| groups.contains(&name))
                .map(|(a, _)| a.to_string())
                .ok_or_else(|| {
                    DataError::Invalid(format!(
                        "unknown {anatomy} group {name:?}; valid groups are {}",
                        valid()
                    ))
                })?;
            let p: f64 = value.trim().parse().map_err(|_| {
                DataError::Invalid(format!(
                    "group {name}: proportion {value:?} is not a number"
                ))
            })?;
            if !(p.is_finite() && p >= 0.0) {
                return Err(DataError::Invalid(format!(
                    "group {name}: proportion must be a finite number >= 0, got {value}"
                )));
            }
            if given
                .entry(attr)
                .or_default()
                .insert(name.to_string(), p)
                .is_some()
            {
                return Err(DataError::Invalid(format!("group {name} given twice")));
            }
        }
        let mut spec = Self::balanced(anatomy);
        for (attr, groups) in given {
            let total: f64 = groups.values().sum();
            if total <= 0.0 {
                return Err(DataError::Invalid(format!(
                    "attribute {attr}: all group proportions are zero"
                )));
            }
            let slot = spec.attributes.entry(attr).or_default();
            for (g, p) in slot.iter_mut() {
                *p = groups.get(g).copied().unwrap_or(0.0) / total;
            }
        }
        Ok(spec)
    }

    /// Checks the spec against the anatomy (also for specs read from JSON).
    pub fn validate(&self, anatomy: Anatomy) -> Result<()> {
        for (attr, groups) in anatomy.attributes() {
            let spec = self
                .attributes
                .get(attr)
                .ok_or_else(|| DataError::Invalid(format!("group spec lacks attribute {attr}")))?;
            for g in spec.keys() {
                if !groups.contains(&g.as_str()) {
                    return Err(DataError::Invalid(format!(
                        "attribute {attr} has no group {g:?} (valid: {})",
                        groups.join(", ")
                    )));
                }
            }
            if spec.values().any(|p| !(p.is_finite() && *p >= 0.0)) {
                return Err(DataError::Invalid(format!(
                    "attribute {attr}: proportions must be finite and >= 0"
                )));
            }
            if spec.values().sum::<f64>() <= 0.0 {
                return Err(DataError::Invalid(format!(
                    "attribute {attr}: all group proportions are zero"
                )));
            }
        }
        Ok(())
    }

    /// Group of each attribute for sample `index`.
    ///
    /// Each attribute walks its own additive-recurrence (Weyl) sequence
    /// `frac(offset + i·α)` with α irrational and independent across
    /// attributes: counts follow the proportions to within a few samples for
    /// any n, attributes combine like independent draws, and the group of
    /// sample i depends only on (seed, i).
    pub fn assign(&self, seed: u64, index: usize) -> BTreeMap<String, String> {
        self.attributes
            .iter()
            .enumerate()
            .map(|(k, (attr, groups))| {
                let u = weyl(seed, k + 1, index);
                let total: f64 = groups.values().sum();
                let mut acc = 0.0;
                let mut pick = None;
                for (g, p) in groups {
                    if *p <= 0.0 {
                        continue;
                    }
                    acc += p / total;
                    pick = Some(g);
                    if u < acc {
                        break;
                    }
                }
                let g = pick
                    .or_else(|| groups.keys().next())
                    .cloned()
                    .unwrap_or_default();
                (attr.clone(), g)
            })
            .collect()
    }
}

/// Irrational steps for the attribute sequences (stream 0 is the split).
const ALPHA: [f64; 4] = [
    0.618_033_988_749_895, // golden ratio - 1
    0.414_213_562_373_095, // sqrt 2 - 1
    0.732_050_807_568_877, // sqrt 3 - 1
    0.236_067_977_499_790, // sqrt 5 - 2
];

/// `frac(offset(seed, stream) + (i + 1)·α_stream)`.
pub fn weyl(seed: u64, stream: usize, index: usize) -> f64 {
    let alpha = ALPHA[stream % ALPHA.len()];
    let offset = (splitmix(seed ^ (stream as u64).wrapping_mul(0x9E37_79B9)) >> 11) as f64
        / (1u64 << 53) as f64;
    (offset + (index as f64 + 1.0) * alpha).fract()
}

/// SplitMix64 finaliser: decorrelates nearby seeds.
pub fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_and_normalises() {
        let g = GroupSpec::parse(Anatomy::Ceph, &s(&["adult:4, adolescent:1"])).unwrap();
        assert!((g.attributes["age_group"]["adult"] - 0.8).abs() < 1e-12);
        let g = GroupSpec::parse(Anatomy::Hand, &s(&["F:1", "young:3,old:1"])).unwrap();
        assert_eq!(g.attributes["sex"]["M"], 0.0);
        assert_eq!(g.attributes["age_group"]["young"], 0.75);
        assert_eq!(
            GroupSpec::parse(Anatomy::Hand, &[]).unwrap(),
            GroupSpec::balanced(Anatomy::Hand)
        );
        g.validate(Anatomy::Hand).unwrap();
    }

    #[test]
    fn parse_errors_are_clear() {
        let e = GroupSpec::parse(Anatomy::Ceph, &s(&["child:1"]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown ceph group \"child\"") && e.contains("adult/adolescent"),
            "{e}"
        );
        let e = GroupSpec::parse(Anatomy::Ceph, &s(&["adult:-1"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(">= 0"), "{e}");
        let e = GroupSpec::parse(Anatomy::Ceph, &s(&["adult:x"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a number"), "{e}");
        let e = GroupSpec::parse(Anatomy::Ceph, &s(&["adult:0,adolescent:0"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("all group proportions are zero"), "{e}");
        let e = GroupSpec::parse(Anatomy::Ceph, &s(&["adult"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("group:proportion"), "{e}");
        assert!(GroupSpec::parse(Anatomy::Hand, &s(&["F:1,F:2"])).is_err());
        assert!(GroupSpec::parse(Anatomy::Hand, &s(&["adult:1"])).is_err());
    }

    #[test]
    fn assignment_follows_the_proportions() {
        let g = GroupSpec::parse(Anatomy::Hand, &s(&["F:0.3,M:0.7,young:0.5,old:0.5"])).unwrap();
        let n = 400;
        let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
        for i in 0..n {
            let a = g.assign(3, i);
            *counts
                .entry((a["sex"].clone(), a["age_group"].clone()))
                .or_default() += 1;
        }
        let f: usize = counts
            .iter()
            .filter(|(k, _)| k.0 == "F")
            .map(|(_, v)| v)
            .sum();
        assert!((f as f64 / n as f64 - 0.3).abs() < 0.02, "{counts:?}");
        let fy = counts[&("F".to_string(), "young".to_string())] as f64 / n as f64;
        assert!((fy - 0.15).abs() < 0.04, "{counts:?}");
        assert_eq!(g.assign(3, 17), g.assign(3, 17));
    }
}
