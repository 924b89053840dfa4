//! Partitions of the images into demographic groups, one per attribute, and the
//! joint partition over several attributes (e.g. young-F vs old-F).
use super::error::{MetricsError, Result};
use super::predictions::PredictionTable;
use std::collections::BTreeSet;

/// Group labels of the images for one attribute (or a joint of several).
#[derive(Clone, Debug, PartialEq)]
pub struct Grouping {
    /// Attribute name, or "joint".
    pub name: String,
    /// Group names, sorted.
    pub groups: Vec<String>,
    /// Per image: index into `groups`, `None` when the image has no label.
    pub labels: Vec<Option<u16>>,
}

impl Grouping {
    /// The groups of attribute `attr`.
    pub fn from_attribute(table: &PredictionTable, attr: &str) -> Result<Self> {
        let a = table.attr_index(attr)?;
        Ok(Self::from_labels(
            attr,
            table.attrs.iter().map(|row| row[a].clone()).collect(),
        ))
    }

    /// The cross product of the groups of `attrs` (only combinations present);
    /// group names join the labels with '-', e.g. "young-F".
    pub fn joint(table: &PredictionTable, attrs: &[String]) -> Result<Self> {
        let idx = attrs
            .iter()
            .map(|a| table.attr_index(a))
            .collect::<Result<Vec<_>>>()?;
        let labels = table
            .attrs
            .iter()
            .map(|row| {
                idx.iter()
                    .map(|&a| row[a].clone())
                    .collect::<Option<Vec<String>>>()
                    .map(|v| v.join("-"))
            })
            .collect();
        Ok(Self::from_labels("joint", labels))
    }

    pub fn from_labels(name: &str, raw: Vec<Option<String>>) -> Self {
        let groups: Vec<String> = raw
            .iter()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let labels = raw
            .iter()
            .map(|l| {
                l.as_ref()
                    .and_then(|l| groups.iter().position(|g| g == l))
                    .map(|p| p as u16)
            })
            .collect();
        Self {
            name: name.to_string(),
            groups,
            labels,
        }
    }

    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    /// Number of images in each group.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s = vec![0; self.groups.len()];
        for l in self.labels.iter().flatten() {
            s[*l as usize] += 1;
        }
        s
    }

    /// Indices of the images in group `g`.
    pub fn members(&self, g: usize) -> Vec<usize> {
        (0..self.labels.len())
            .filter(|&i| self.labels[i] == Some(g as u16))
            .collect()
    }

    /// Problems that weaken conclusions without stopping the audit.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let unlabelled = self.labels.iter().filter(|l| l.is_none()).count();
        if unlabelled > 0 {
            w.push(format!(
                "{}: {unlabelled} image(s) have no label and are left out of its groups",
                self.name
            ));
        }
        if self.groups.len() < 2 {
            w.push(format!(
                "{}: only {} group(s) ({}); group gaps are 0 by definition",
                self.name,
                self.groups.len(),
                self.groups.join(", ")
            ));
        }
        for (g, n) in self.groups.iter().zip(self.sizes()) {
            if n < 2 {
                w.push(format!(
                    "{}: group {g} has {n} image; its rates are unreliable",
                    self.name
                ));
            }
        }
        w
    }

    /// Fails when the attribute cannot be audited at all.
    pub fn require_labels(&self) -> Result<()> {
        if self.groups.is_empty() {
            return Err(MetricsError::Invalid(format!(
                "attribute {} has no labelled image",
                self.name
            )));
        }
        Ok(())
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn table() -> PredictionTable {
        let text = "image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,sex,age\n\
                    a,1,0,0,0,0,1,F,young\nb,1,0,0,0,0,1,M,old\nc,1,0,0,0,0,1,F,old\nd,1,0,0,0,0,1,,old\n";
        PredictionTable::parse_csv("t", text).unwrap()
    }

    #[test]
    fn attribute_and_joint_groups() {
        let t = table();
        let sex = Grouping::from_attribute(&t, "sex").unwrap();
        assert_eq!(sex.groups, vec!["F", "M"]);
        assert_eq!(sex.labels, vec![Some(0), Some(1), Some(0), None]);
        assert_eq!(sex.sizes(), vec![2, 1]);
        let joint = Grouping::joint(&t, &["age".into(), "sex".into()]).unwrap();
        assert_eq!(joint.groups, vec!["old-F", "old-M", "young-F"]);
        assert_eq!(joint.labels, vec![Some(2), Some(1), Some(0), None]);
        let w = sex.warnings();
        assert!(w.iter().any(|w| w.contains("1 image(s) have no label")));
        assert!(w.iter().any(|w| w.contains("group M has 1 image")));
    }
}
