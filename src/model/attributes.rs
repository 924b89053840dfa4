//! The demographic attributes a model knows, in a fixed order, and their
//! encoding as group indices (the group count of an attribute means unknown).
use crate::data::Dataset;
#[cfg(feature = "model")]
use burn::tensor::{Device, Int, Tensor, TensorData};

/// An attribute value a model does not know, or a malformed `NAME=GROUP`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeError {
    #[error("attribute {0:?}: expected NAME=GROUP, e.g. age_group=adolescent")]
    Syntax(String),
    #[error("unknown attribute {name:?}; this model knows: {known}")]
    UnknownAttribute { name: String, known: String },
    #[error("attribute {attribute}: unknown group {group:?}; groups: {known}")]
    UnknownGroup {
        attribute: String,
        group: String,
        known: String,
    },
}

/// The attributes a model knows: names and groups, in a fixed order.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttributeSpace {
    pub names: Vec<String>,
    pub groups: Vec<Vec<String>>,
}

impl AttributeSpace {
    pub fn of(ds: &Dataset) -> Self {
        Self {
            names: ds.meta.attributes.keys().cloned().collect(),
            groups: ds.meta.attributes.values().cloned().collect(),
        }
    }

    pub fn group_counts(&self) -> Vec<usize> {
        self.groups.iter().map(Vec::len).collect()
    }

    /// Group index per attribute; the group count stands for unknown.
    pub fn indices(&self, attrs: &std::collections::BTreeMap<String, String>) -> Vec<usize> {
        self.names
            .iter()
            .zip(&self.groups)
            .map(|(n, gs)| {
                attrs
                    .get(n)
                    .and_then(|g| gs.iter().position(|x| x == g))
                    .unwrap_or(gs.len())
            })
            .collect()
    }

    /// Index of the joint group (cross product), `None` when an attribute is unknown.
    pub fn joint_index(&self, idx: &[usize]) -> Option<usize> {
        let mut j = 0;
        for (i, gs) in idx.iter().zip(&self.groups) {
            if *i >= gs.len() {
                return None;
            }
            j = j * gs.len() + i;
        }
        Some(j)
    }

    pub fn n_joint(&self) -> usize {
        self.groups.iter().map(Vec::len).product::<usize>().max(1)
    }
}

impl AttributeSpace {
    /// Parses `name=group` pairs given by a user into indices, with errors that
    /// name the known attributes and groups.
    pub fn parse_pairs(&self, pairs: &[String]) -> Result<Vec<usize>, AttributeError> {
        let mut map = std::collections::BTreeMap::new();
        for p in pairs {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| AttributeError::Syntax(p.clone()))?;
            map.insert(k.trim().to_string(), v.trim().to_string());
        }
        self.parse_map(&map)
    }

    /// Checks a `name → group` map (from the CLI or from JavaScript) against
    /// the known attributes and groups, then encodes it; absent names are unknown.
    pub fn parse_map(
        &self,
        map: &std::collections::BTreeMap<String, String>,
    ) -> Result<Vec<usize>, AttributeError> {
        for (k, v) in map {
            let Some(a) = self.names.iter().position(|n| n == k) else {
                return Err(AttributeError::UnknownAttribute {
                    name: k.clone(),
                    known: if self.names.is_empty() {
                        "none".into()
                    } else {
                        self.names.join(", ")
                    },
                });
            };
            if !self.groups[a].iter().any(|g| g == v) {
                return Err(AttributeError::UnknownGroup {
                    attribute: k.clone(),
                    group: v.clone(),
                    known: self.groups[a].join(", "),
                });
            }
        }
        Ok(self.indices(map))
    }
}

/// `[B, n_a]` group indices as the model's attribute input (a model without
/// attributes gets one dummy column).
#[cfg(feature = "model")]
pub fn attribute_tensor(indices: &[Vec<usize>], device: &Device) -> Tensor<2, Int> {
    let b = indices.len();
    let n_a = indices.first().map_or(1, |v| v.len().max(1));
    let flat: Vec<i64> = indices
        .iter()
        .flat_map(|v| {
            if v.is_empty() {
                vec![0]
            } else {
                v.iter().map(|&x| x as i64).collect()
            }
        })
        .collect();
    Tensor::from_data(TensorData::new(flat, [b, n_a]), device)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn indices_and_joint_groups() {
        let s = AttributeSpace {
            names: vec!["age_group".into(), "sex".into()],
            groups: vec![
                vec!["old".into(), "young".into()],
                vec!["F".into(), "M".into()],
            ],
        };
        assert_eq!(s.parse_pairs(&["sex=M".into()]).unwrap(), vec![2, 1]);
        assert_eq!(s.joint_index(&[1, 1]), Some(3));
        assert_eq!(s.joint_index(&[2, 1]), None);
        assert_eq!(s.n_joint(), 4);
        assert!(s
            .parse_pairs(&["age=old".into()])
            .unwrap_err()
            .to_string()
            .contains("knows: age_group, sex"));
        assert!(s
            .parse_pairs(&["sex=X".into()])
            .unwrap_err()
            .to_string()
            .contains("groups: F, M"));
        assert!(s.parse_pairs(&["sex".into()]).is_err());
    }
}
