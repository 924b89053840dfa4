//! Partitions of the images into demographic groups, one per attribute, and the
//! joint partition over several attributes (e.g. young-F vs old-F).
use super::error::{MetricsError, Result};
use super::predictions::PredictionTable;
use std::collections::{BTreeSet, HashMap};

/// Most groups of one attribute (or joint) that an audit compares.
pub const MAX_GROUPS: usize = 4096;

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
        Self::from_labels(attr, table.attrs.iter().map(|row| row[a].clone()).collect())
    }

    /// The cross product of the groups of `attrs` (only combinations present);
    /// group names join the labels with '-', e.g. "young-F".
    pub fn joint(table: &PredictionTable, attrs: &[String]) -> Result<Self> {
        let idx = attrs
            .iter()
            .map(|a| table.attr_index(a))
            .collect::<Result<Vec<_>>>()?;
        let tuples: Vec<Option<Vec<String>>> = table
            .attrs
            .iter()
            .map(|row| {
                idx.iter()
                    .map(|&a| row[a].clone())
                    .collect::<Option<Vec<String>>>()
            })
            .collect();
        // "young-F" reads well, but labels may hold '-' themselves: ("a-b",
        // "c") and ("a", "b-c") must not merge into one group "a-b-c". When
        // two distinct combinations would share a name, every name is the
        // JSON array of its labels instead.
        let dashed = |v: &Vec<String>| v.join("-");
        let mut names: std::collections::HashMap<String, &Vec<String>> = Default::default();
        let collide = tuples
            .iter()
            .flatten()
            .any(|t| *names.entry(dashed(t)).or_insert(t) != t);
        let labels = tuples
            .iter()
            .map(|t| {
                t.as_ref().map(|t| match collide {
                    false => dashed(t),
                    true => serde_json::to_string(t).unwrap_or_else(|_| dashed(t)),
                })
            })
            .collect();
        Self::from_labels("joint", labels)
    }

    /// Groups from each image's label; more than [`MAX_GROUPS`] distinct
    /// labels is an error (a per-group gap over that many groups means
    /// nothing, and labels are stored in 16 bits).
    pub fn from_labels(name: &str, raw: Vec<Option<String>>) -> Result<Self> {
        let groups: Vec<String> = raw
            .iter()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if groups.len() > MAX_GROUPS {
            return Err(MetricsError::Invalid(format!(
                "{name}: {} groups, more than the {MAX_GROUPS} an audit can compare (is it an identifier rather than an attribute?)",
                groups.len()
            )));
        }
        let index: HashMap<&str, u16> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.as_str(), i as u16))
            .collect();
        let labels = raw
            .iter()
            .map(|l| l.as_deref().and_then(|l| index.get(l).copied()))
            .collect();
        Ok(Self {
            name: name.to_string(),
            groups,
            labels,
        })
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

    /// ("a-b", "c") and ("a", "b-c") stay two groups.
    #[test]
    fn joint_names_never_merge_distinct_combinations() {
        let text = "image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px,p,q\n\
                    a,1,0,0,0,0,1,a-b,c\nb,1,0,0,0,0,1,a,b-c\nc,1,0,0,0,0,1,a,b-c\n";
        let t = PredictionTable::parse_csv("t", text).unwrap();
        let joint = Grouping::joint(&t, &["p".into(), "q".into()]).unwrap();
        assert_eq!(joint.groups, vec![r#"["a","b-c"]"#, r#"["a-b","c"]"#]);
        assert_eq!(joint.sizes(), vec![2, 1]);
    }

    /// Past MAX_GROUPS labels the audit says so instead of wrapping 16-bit
    /// labels into each other; many groups are indexed, not searched.
    #[test]
    fn too_many_groups_is_an_error() {
        let labels = |n: usize| (0..n).map(|i| Some(format!("id{i}"))).collect::<Vec<_>>();
        let g = Grouping::from_labels("ok", labels(MAX_GROUPS)).unwrap();
        assert_eq!(g.n_groups(), MAX_GROUPS);
        assert_eq!(
            g.labels[MAX_GROUPS - 1],
            Some(g.groups.iter().position(|x| x == "id4095").unwrap() as u16)
        );
        let e = Grouping::from_labels("patient_id", labels(70_000))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("70000 groups") && e.contains("patient_id"),
            "{e}"
        );
    }
}
