//! Agreement of skeletal classes (ISBI 2015's ANB classification, see
//! [`crate::data::skeletal`]) between a reference annotation and a second set
//! of landmarks — the junior annotator (the human floor) or a model's
//! predictions — per official subset: the challenge's second task for ANB.
use crate::data::formats::isbi::{skeletal_class, IsbiSubset};
use crate::data::formats::payer_csv::ShapeRow;
use crate::data::skeletal::SkeletalClass;
use crate::metrics::MetricsError;
use serde::Serialize;
use std::collections::HashMap;

/// Class agreement on one subset of images.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassAgreement {
    /// "test1", "test2", "train" or "all".
    pub subset: String,
    pub n_images: usize,
    /// Images whose two classes are equal.
    pub agree: usize,
    /// `agree / n_images`, a fraction.
    pub rate: f64,
    /// `confusion[r][o]`: images of reference class r (I, II, III) given class o.
    pub confusion: [[usize; 3]; 3],
}

/// Agreement of the ANB class of `other` with that of `reference` (19 ISBI
/// landmarks each, matched by id), per subset and over all images.
pub fn skeletal_class_agreement(
    reference: &[ShapeRow],
    other: &[ShapeRow],
) -> Result<Vec<ClassAgreement>, MetricsError> {
    let by_id: HashMap<&str, &ShapeRow> = other.iter().map(|r| (r.id.as_str(), r)).collect();
    let class = |r: &ShapeRow| {
        skeletal_class(&r.points).ok_or_else(|| {
            MetricsError::Invalid(format!(
                "image {}: no ANB (missing or coinciding S, N, A, B)",
                r.id
            ))
        })
    };
    let index = |c: SkeletalClass| SkeletalClass::ALL.iter().position(|x| *x == c).unwrap_or(0);
    let mut tables: Vec<ClassAgreement> = ["train", "test1", "test2", "all"]
        .iter()
        .map(|s| ClassAgreement {
            subset: s.to_string(),
            n_images: 0,
            agree: 0,
            rate: f64::NAN,
            confusion: [[0; 3]; 3],
        })
        .collect();
    for r in reference {
        let o = by_id
            .get(r.id.as_str())
            .ok_or_else(|| MetricsError::Invalid(format!("image {}: no second landmarks", r.id)))?;
        let subset =
            r.id.trim()
                .parse::<u32>()
                .ok()
                .and_then(IsbiSubset::of_id)
                .ok_or_else(|| {
                    MetricsError::Invalid(format!("image id {:?} is not an ISBI id 1–400", r.id))
                })?;
        let (a, b) = (index(class(r)?), index(class(o)?));
        for t in tables
            .iter_mut()
            .filter(|t| t.subset == subset.as_str() || t.subset == "all")
        {
            t.n_images += 1;
            t.agree += usize::from(a == b);
            t.confusion[a][b] += 1;
        }
    }
    tables.retain(|t| t.n_images > 0);
    for t in &mut tables {
        t.rate = t.agree as f64 / t.n_images as f64;
    }
    Ok(tables)
}

/// The predicted landmarks of a predictions CSV (`image,keypoint,x_pred,
/// y_pred,…`) as one shape of `k` points per image, the id being the image's
/// file stem (`…/151.jpg` → `151`), so that a model's classes can be compared
/// with an annotator's.
pub fn shapes_from_predictions(
    source_name: &str,
    text: &str,
    k: usize,
) -> Result<Vec<ShapeRow>, MetricsError> {
    let err = |p: String| MetricsError::format(source_name, None, p);
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| err(e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| err(format!("no {name} column")))
    };
    let (ci, ck, cx, cy) = (
        col("image")?,
        col("keypoint")?,
        col("x_pred")?,
        col("y_pred")?,
    );
    let mut shapes: Vec<ShapeRow> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| err(e.to_string()))?;
        let get = |c: usize| rec.get(c).unwrap_or("");
        let num = |c: usize| -> Result<f64, MetricsError> {
            get(c)
                .parse()
                .map_err(|_| err(format!("{:?} is not a number", get(c))))
        };
        let kp: usize = get(ck)
            .parse()
            .ok()
            .filter(|&v| (1..=k).contains(&v))
            .ok_or_else(|| err(format!("keypoint {:?} is not in 1–{k}", get(ck))))?;
        let image = get(ci);
        let id = std::path::Path::new(image)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(image)
            .to_string();
        let i = *index.entry(id.clone()).or_insert_with(|| {
            shapes.push(ShapeRow {
                id,
                points: vec![[f64::NAN, f64::NAN]; k],
            });
            shapes.len() - 1
        });
        shapes[i].points[kp - 1] = [num(cx)?, num(cy)?];
    }
    if let Some(s) = shapes
        .iter()
        .find(|s| s.points.iter().any(|p| p[0].is_nan()))
    {
        return Err(err(format!(
            "image {}: not all {k} keypoints predicted",
            s.id
        )));
    }
    Ok(shapes)
}

/// The agreement as a Markdown table.
pub fn agreement_markdown(tables: &[ClassAgreement]) -> String {
    let header: Vec<String> = [
        "Subset",
        "Images",
        "Same class",
        "Agreement (%)",
        "Confusion (rows: reference I/II/III)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = tables
        .iter()
        .map(|t| {
            vec![
                t.subset.clone(),
                t.n_images.to_string(),
                t.agree.to_string(),
                format!("{:.1}", 100.0 * t.rate),
                t.confusion
                    .iter()
                    .map(|r| format!("{}/{}/{}", r[0], r[1], r[2]))
                    .collect::<Vec<_>>()
                    .join(" · "),
            ]
        })
        .collect();
    super::markdown::table(&header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 19 points whose ANB is `anb` degrees: N at the origin, S behind it,
    /// A at SNA = 82°, B at SNB = 82° − anb.
    fn shape(id: &str, anb: f64) -> ShapeRow {
        let ray = |deg: f64, len: f64| {
            let r = deg.to_radians();
            [-r.cos() * len, r.sin() * len]
        };
        let mut points = vec![[10.0, 10.0]; 19];
        points[0] = [-100.0, 0.0];
        points[1] = [0.0, 0.0];
        points[4] = ray(82.0, 60.0);
        points[5] = ray(82.0 - anb, 90.0);
        ShapeRow {
            id: id.into(),
            points,
        }
    }

    #[test]
    fn predictions_become_shapes_by_image_stem() {
        let csv = "image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px\n\
                   images/151.jpg,2,3.5,4,0,0,0.1\nimages/151.jpg,1,1,2,0,0,0.1\n";
        let s = shapes_from_predictions("p.csv", csv, 2).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].id, "151");
        assert_eq!(s[0].points, vec![[1.0, 2.0], [3.5, 4.0]]);
        let e = shapes_from_predictions("p.csv", csv, 3)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not all 3 keypoints"), "{e}");
        let e = shapes_from_predictions("p.csv", "image,keypoint\n", 3)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no x_pred column"), "{e}");
    }

    #[test]
    fn agreement_and_confusion_by_hand() {
        // Reference classes: 151 I, 152 II, 301 III, 001 I.
        let reference = [
            shape("151", 4.0),
            shape("152", 7.0),
            shape("301", 1.0),
            shape("001", 4.0),
        ];
        // Second: 151 I (agree), 152 I (II read as I), 301 III (agree), 001 II.
        let second = [
            shape("151", 5.0),
            shape("152", 5.0),
            shape("301", -2.0),
            shape("001", 6.0),
        ];
        let t = skeletal_class_agreement(&reference, &second).unwrap();
        let by = |s: &str| t.iter().find(|x| x.subset == s).unwrap();
        assert_eq!((by("test1").n_images, by("test1").agree), (2, 1));
        assert_eq!(by("test1").confusion[1][0], 1); // II read as I
        assert_eq!((by("test2").n_images, by("test2").agree), (1, 1));
        assert_eq!(by("train").agree, 0);
        assert_eq!((by("all").n_images, by("all").agree), (4, 2));
        assert_eq!(by("all").rate, 0.5);
        let md = agreement_markdown(&t);
        assert!(md.contains("| test1 ") && md.contains("50.0"), "{md}");
        assert!(skeletal_class_agreement(&reference, &second[..3]).is_err());
    }
}
