//! Agreement of the ISBI 2015 challenge's classes (its second task: ANB,
//! SNB, SNA, ODI, APDI, FHI, FMA and MW, see [`crate::measure::isbi2015`])
//! between a reference annotation and a second set of landmarks — the junior
//! annotator (the human floor) or a model's predictions — per official subset.
use crate::data::formats::isbi::IsbiSubset;
use crate::data::formats::payer_csv::ShapeRow;
use crate::measure::isbi2015::{isbi2015_values, IsbiMeasure};
use crate::metrics::mcnemar::mcnemar_exact;
use crate::metrics::significance::holm;
use crate::metrics::MetricsError;
use serde::Serialize;
use std::collections::HashMap;

/// Agreement of one measurement's classes on one subset of images.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassAgreement {
    /// "ANB", "SNB", …, "MW".
    pub measure: String,
    /// "test1", "test2", "train" or "all".
    pub subset: String,
    pub n_images: usize,
    /// Images whose two classes are equal.
    pub agree: usize,
    /// `agree / n_images`, a fraction.
    pub rate: f64,
    /// The mean, over the classes the reference uses on this subset, of the
    /// share of its images given that class (balanced accuracy): a rare
    /// class counts as much as a common one.
    pub balanced: f64,
    /// `confusion[r][o]`: images of reference class r + 1 given class o + 1
    /// (3 × 3, or 4 × 4 for MW).
    pub confusion: Vec<Vec<usize>>,
}

/// The class (0-based) of every measurement of one shape.
fn classes_of(r: &ShapeRow, mm_per_unit: f64) -> Result<Vec<usize>, MetricsError> {
    let values = isbi2015_values(&r.points, Some(mm_per_unit))
        .map_err(|e| MetricsError::Invalid(format!("image {}: {e}", r.id)))?;
    values
        .into_iter()
        .map(|(m, v)| {
            v.and_then(|v| m.classify(v))
                .map(|(c, _)| usize::from(c) - 1)
                .ok_or_else(|| MetricsError::Invalid(format!("image {}: no {m}", r.id)))
        })
        .collect()
}

/// Agreement of the eight classes of `other` with those of `reference` (19
/// ISBI landmarks each, matched by id, in a unit of length of which
/// `mm_per_unit` makes mm), per measurement, subset and over all images.
pub fn class_agreement(
    reference: &[ShapeRow],
    other: &[ShapeRow],
    mm_per_unit: f64,
) -> Result<Vec<ClassAgreement>, MetricsError> {
    let by_id: HashMap<&str, &ShapeRow> = other.iter().map(|r| (r.id.as_str(), r)).collect();
    let subsets = ["train", "test1", "test2", "all"];
    let mut tables: Vec<ClassAgreement> = IsbiMeasure::ALL
        .iter()
        .flat_map(|m| {
            subsets.iter().map(move |s| ClassAgreement {
                measure: m.name().to_string(),
                subset: s.to_string(),
                n_images: 0,
                agree: 0,
                rate: f64::NAN,
                balanced: f64::NAN,
                confusion: vec![vec![0; m.n_classes()]; m.n_classes()],
            })
        })
        .collect();
    for r in reference {
        let o = by_id
            .get(r.id.as_str())
            .ok_or_else(|| MetricsError::Invalid(format!("image {}: no second landmarks", r.id)))?;
        let subset = subset_of(&r.id)?;
        let (cr, co) = (classes_of(r, mm_per_unit)?, classes_of(o, mm_per_unit)?);
        for (i, m) in IsbiMeasure::ALL.iter().enumerate() {
            for t in tables.iter_mut().filter(|t| {
                t.measure == m.name() && (t.subset == subset.as_str() || t.subset == "all")
            }) {
                t.n_images += 1;
                t.agree += usize::from(cr[i] == co[i]);
                t.confusion[cr[i]][co[i]] += 1;
            }
        }
    }
    tables.retain(|t| t.n_images > 0);
    for t in &mut tables {
        t.rate = t.agree as f64 / t.n_images as f64;
        let recalls: Vec<f64> = t
            .confusion
            .iter()
            .enumerate()
            .filter_map(|(c, row)| {
                let n: usize = row.iter().sum();
                (n > 0).then(|| row[c] as f64 / n as f64)
            })
            .collect();
        t.balanced = recalls.iter().sum::<f64>() / recalls.len() as f64;
    }
    Ok(tables)
}

/// Two readers (e.g. a model and the junior annotator) against one reference
/// on one measurement and subset: who recovers the reference's class more
/// often, image by image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReaderComparison {
    pub measure: String,
    pub subset: String,
    pub n_images: usize,
    /// Images where the first reader's class equals the reference's.
    pub agree_first: usize,
    pub agree_second: usize,
    /// Discordant images: only the first reader right, only the second.
    pub only_first: usize,
    pub only_second: usize,
    /// Exact McNemar test on the discordant images.
    pub p_value: f64,
    /// Holm-corrected over every row of the comparison (all measurements and
    /// subsets).
    pub p_holm: f64,
}

/// Compares `first` and `second` against `reference` per measurement and
/// official subset (exact McNemar, Holm over all rows), on the images of
/// `reference` (all three must have them).
pub fn compare_readers(
    reference: &[ShapeRow],
    first: &[ShapeRow],
    second: &[ShapeRow],
    mm_per_unit: f64,
) -> Result<Vec<ReaderComparison>, MetricsError> {
    let index = |rows: &[ShapeRow]| -> HashMap<String, ShapeRow> {
        rows.iter().map(|r| (r.id.clone(), r.clone())).collect()
    };
    let (first, second) = (index(first), index(second));
    let mut rows: Vec<ReaderComparison> = Vec::new();
    for r in reference {
        let get = |m: &HashMap<String, ShapeRow>| {
            m.get(&r.id).cloned().ok_or_else(|| {
                MetricsError::Invalid(format!("image {}: not read by both readers", r.id))
            })
        };
        let subset = subset_of(&r.id)?;
        let cr = classes_of(r, mm_per_unit)?;
        let c1 = classes_of(&get(&first)?, mm_per_unit)?;
        let c2 = classes_of(&get(&second)?, mm_per_unit)?;
        for (i, m) in IsbiMeasure::ALL.iter().enumerate() {
            let row = match rows
                .iter()
                .position(|x| x.measure == m.name() && x.subset == subset.as_str())
            {
                Some(j) => &mut rows[j],
                None => {
                    rows.push(ReaderComparison {
                        measure: m.name().to_string(),
                        subset: subset.as_str().to_string(),
                        n_images: 0,
                        agree_first: 0,
                        agree_second: 0,
                        only_first: 0,
                        only_second: 0,
                        p_value: f64::NAN,
                        p_holm: f64::NAN,
                    });
                    rows.last_mut().expect("just pushed")
                }
            };
            let (a, b) = (c1[i] == cr[i], c2[i] == cr[i]);
            row.n_images += 1;
            row.agree_first += usize::from(a);
            row.agree_second += usize::from(b);
            row.only_first += usize::from(a && !b);
            row.only_second += usize::from(b && !a);
        }
    }
    // Measurement-major, subsets in the official order.
    let order = |x: &ReaderComparison| {
        let m = IsbiMeasure::ALL.iter().position(|m| m.name() == x.measure);
        let s = ["train", "test1", "test2"]
            .iter()
            .position(|s| *s == x.subset);
        (m, s)
    };
    rows.sort_by_key(order);
    for row in &mut rows {
        row.p_value = mcnemar_exact(row.only_first, row.only_second);
    }
    let adjusted = holm(&rows.iter().map(|r| r.p_value).collect::<Vec<_>>());
    for (row, p) in rows.iter_mut().zip(adjusted) {
        row.p_holm = p;
    }
    Ok(rows)
}

/// The comparison as a Markdown table.
pub fn comparison_markdown(rows: &[ReaderComparison], first: &str, second: &str) -> String {
    let header: Vec<String> = vec![
        "Measurement".to_string(),
        "Subset".to_string(),
        "Images".to_string(),
        format!("{first} agrees (%)"),
        format!("{second} agrees (%)"),
        format!("only {first}"),
        format!("only {second}"),
        "p (McNemar)".to_string(),
        "p_Holm".to_string(),
    ];
    let pct = |n: usize, d: usize| format!("{:.1}", 100.0 * n as f64 / d as f64);
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.measure.clone(),
                r.subset.clone(),
                r.n_images.to_string(),
                pct(r.agree_first, r.n_images),
                pct(r.agree_second, r.n_images),
                r.only_first.to_string(),
                r.only_second.to_string(),
                format!("{:.3}", r.p_value),
                format!("{:.3}", r.p_holm),
            ]
        })
        .collect();
    super::markdown::table(&header, &body)
}

fn subset_of(id: &str) -> Result<IsbiSubset, MetricsError> {
    id.trim()
        .parse::<u32>()
        .ok()
        .and_then(IsbiSubset::of_id)
        .ok_or_else(|| MetricsError::Invalid(format!("image id {id:?} is not an ISBI id 1–400")))
}

/// The predicted landmarks of a predictions CSV (`image,keypoint,x_pred,
/// y_pred,…`) as one shape of `k` points per image, the id being the image's
/// file stem (`…/151.jpg` → `151`), so that a model's classes can be compared
/// with an annotator's. Where the CSV has an `mm_per_px` column, every row
/// must be at `mm_per_px` (the annotation's grid), or the lengths would not
/// compare.
pub fn shapes_from_predictions(
    source_name: &str,
    text: &str,
    k: usize,
    mm_per_px: f64,
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
    let cm = col("mm_per_px").ok();
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
        if let Some(cm) = cm {
            let m = num(cm)?;
            if (m - mm_per_px).abs() > 1e-9 * mm_per_px {
                return Err(err(format!(
                    "{} is at {m} mm/px; the reference is at {mm_per_px}",
                    get(ci)
                )));
            }
        }
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

/// The agreement as Markdown: a summary (one row per measurement, the rate
/// per subset, and the mean of the eight), then every table with its
/// balanced accuracy and confusion matrix.
pub fn agreement_markdown(tables: &[ClassAgreement]) -> String {
    let mut subsets: Vec<&str> = Vec::new();
    for t in tables {
        if !subsets.contains(&t.subset.as_str()) {
            subsets.push(&t.subset);
        }
    }
    let rate = |m: &str, s: &str| {
        tables
            .iter()
            .find(|t| t.measure == m && t.subset == s)
            .map(|t| t.rate)
    };
    let mut header = vec!["Measurement".to_string()];
    header.extend(subsets.iter().map(|s| format!("{s} (%)")));
    let mut rows: Vec<Vec<String>> =
        IsbiMeasure::ALL
            .iter()
            .filter(|m| tables.iter().any(|t| t.measure == m.name()))
            .map(|m| {
                let mut row = vec![m.name().to_string()];
                row.extend(subsets.iter().map(|s| {
                    rate(m.name(), s).map_or("–".into(), |r| format!("{:.1}", 100.0 * r))
                }));
                row
            })
            .collect();
    let mut mean = vec!["mean of the eight".to_string()];
    mean.extend(subsets.iter().map(|s| {
        let r: Vec<f64> = IsbiMeasure::ALL
            .iter()
            .filter_map(|m| rate(m.name(), s))
            .collect();
        format!(
            "{:.1}",
            100.0 * r.iter().sum::<f64>() / r.len().max(1) as f64
        )
    }));
    rows.push(mean);
    let mut md = super::markdown::table(&header, &rows);

    let header: Vec<String> = [
        "Measurement",
        "Subset",
        "Images",
        "Same class",
        "Agreement (%)",
        "Balanced (%)",
        "Confusion (rows: reference C1/C2/…)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = tables
        .iter()
        .map(|t| {
            vec![
                t.measure.clone(),
                t.subset.clone(),
                t.n_images.to_string(),
                t.agree.to_string(),
                format!("{:.1}", 100.0 * t.rate),
                format!("{:.1}", 100.0 * t.balanced),
                t.confusion
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|n| n.to_string())
                            .collect::<Vec<_>>()
                            .join("/")
                    })
                    .collect::<Vec<_>>()
                    .join(" · "),
            ]
        })
        .collect();
    md.push('\n');
    md.push_str(&super::markdown::table(&header, &rows));
    md
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::data::anatomy::isbi_index::{B, L1, N, S, U1};
    use crate::data::anatomy::Anatomy;
    use crate::data::geometry::angle_at;
    use crate::data::shape_model::ShapeModel;

    /// The mean ISBI shape in pixels at 0.1 mm/px, with B point turned about
    /// nasion so that ANB is `anb` degrees.
    fn shape(id: &str, anb: f64) -> ShapeRow {
        let model = ShapeModel::embedded(Anatomy::Ceph);
        let to_px = model.reference_size_mm / 0.1;
        let mut points: Vec<[f64; 2]> = model
            .mean
            .iter()
            .map(|p| [p[0] * to_px + 900.0, p[1] * to_px + 1100.0])
            .collect();
        let (s, n) = (points[S], points[N]);
        let sna = angle_at(n, s, points[4]).unwrap();
        // Rotate the ray N→S towards the face by SNA − anb.
        let t = (sna - anb).to_radians();
        let u = [s[0] - n[0], s[1] - n[1]];
        let len = (points[B][0] - n[0]).hypot(points[B][1] - n[1]) / u[0].hypot(u[1]);
        // The face lies clockwise on screen (y down) from N→S: rotate by −t.
        let r = [
            u[0] * t.cos() + u[1] * t.sin(),
            -u[0] * t.sin() + u[1] * t.cos(),
        ];
        points[B] = [n[0] + r[0] * len, n[1] + r[1] * len];
        ShapeRow {
            id: id.into(),
            points,
        }
    }

    fn anb(r: &ShapeRow) -> f64 {
        isbi2015_values(&r.points, None).unwrap()[0].1.unwrap()
    }

    #[test]
    fn the_test_shapes_have_the_asked_anb() {
        for a in [-2.0, 1.0, 4.0, 7.0] {
            assert!((anb(&shape("1", a)) - a).abs() < 1e-9, "{a}");
        }
    }

    #[test]
    fn predictions_become_shapes_by_image_stem() {
        let csv = "image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px\n\
                   images/151.jpg,2,3.5,4,0,0,0.1\nimages/151.jpg,1,1,2,0,0,0.1\n";
        let s = shapes_from_predictions("p.csv", csv, 2, 0.1).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].id, "151");
        assert_eq!(s[0].points, vec![[1.0, 2.0], [3.5, 4.0]]);
        let e = shapes_from_predictions("p.csv", csv, 3, 0.1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not all 3 keypoints"), "{e}");
        let e = shapes_from_predictions("p.csv", csv, 2, 0.2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("0.1 mm/px"), "{e}");
        let e = shapes_from_predictions("p.csv", "image,keypoint\n", 3, 0.1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no x_pred column"), "{e}");
    }

    #[test]
    fn agreement_and_confusion_by_hand() {
        // Reference ANB classes: 151 I, 152 II, 301 III, 001 I.
        let reference = [
            shape("151", 4.0),
            shape("152", 7.0),
            shape("301", 1.0),
            shape("001", 4.0),
        ];
        // Second: 151 I (agree), 152 I (II read as I), 301 III (agree), 001 II.
        let mut second = [
            shape("151", 5.0),
            shape("152", 5.0),
            shape("301", -2.0),
            shape("001", 6.0),
        ];
        // On 151 the second reader also puts the upper incisal tip 1 mm
        // behind the lower one: MW changes class (to anterior crossbite).
        second[0].points[U1] = [second[0].points[L1][0] - 10.0, second[0].points[L1][1]];
        let t = class_agreement(&reference, &second, 0.1).unwrap();
        let by = |m: &str, s: &str| t.iter().find(|x| x.measure == m && x.subset == s).unwrap();
        assert_eq!(
            (by("ANB", "test1").n_images, by("ANB", "test1").agree),
            (2, 1)
        );
        assert_eq!(by("ANB", "test1").confusion[1][0], 1); // II read as I
        assert_eq!(
            (by("ANB", "test2").n_images, by("ANB", "test2").agree),
            (1, 1)
        );
        assert_eq!(by("ANB", "train").agree, 0);
        assert_eq!((by("ANB", "all").n_images, by("ANB", "all").agree), (4, 2));
        assert_eq!(by("ANB", "all").rate, 0.5);
        // Reference over all: I twice (one kept), II once (lost), III once
        // (kept): balanced = (1/2 + 0 + 1) / 3.
        assert!((by("ANB", "all").balanced - 0.5).abs() < 1e-12);
        // Turning B point moves SNB, and with it possibly its class; SNA
        // and FHI are untouched by B and agree everywhere.
        assert_eq!(by("SNA", "all").agree, 4);
        assert_eq!(by("FHI", "all").agree, 4);
        let mw = by("MW", "test1");
        assert_eq!((mw.agree, mw.confusion.len()), (1, 4));
        assert_eq!(mw.confusion.iter().map(|r| r[2]).sum::<usize>(), 1);
        let md = agreement_markdown(&t);
        assert!(md.contains("| ANB | test1 ") && md.contains("50.0"), "{md}");
        assert!(md.contains("mean of the eight"), "{md}");
        assert!(class_agreement(&reference, &second[..3], 0.1).is_err());
    }

    #[test]
    fn readers_are_compared_image_by_image() {
        let reference = [shape("151", 4.0), shape("152", 7.0), shape("153", 1.0)];
        // First reader: ANB classes right on 151 and 152; second: only 153.
        let first = [shape("151", 4.5), shape("152", 6.5), shape("153", 4.0)];
        let second = [shape("151", 7.0), shape("152", 4.0), shape("153", 0.0)];
        let rows = compare_readers(&reference, &first, &second, 0.1).unwrap();
        assert_eq!(rows.len(), 8); // one subset × eight measurements
        let anb = &rows[0];
        assert_eq!(anb.measure, "ANB");
        assert_eq!(
            (
                anb.agree_first,
                anb.agree_second,
                anb.only_first,
                anb.only_second
            ),
            (2, 1, 2, 1)
        );
        assert_eq!(anb.p_value, 1.0); // 2 against 1 discordant: no evidence
        assert!(rows.iter().all(|r| r.p_holm >= r.p_value));
        let md = comparison_markdown(&rows, "model", "junior");
        assert!(
            md.contains("| ANB | test1 | 3 | 66.7 | 33.3 | 2 | 1 |"),
            "{md}"
        );
        assert!(compare_readers(&reference, &first[..2], &second, 0.1).is_err());
    }
}
