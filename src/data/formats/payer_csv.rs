//! The annotation layout of Payer et al.'s public setup files: no header, one row
//! per image, `id,x1,y1,…,xK,yK`. Used by the ISBI 2015 cephalometric CSVs
//! (millimetres at 0.1 mm/px) and the Digital Hand Atlas `all.csv` (pixels).
use crate::data::dataset::parse_f64;
use crate::data::error::{DataError, Result};
use std::path::Path;

/// One annotated image: its id and K landmarks.
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeRow {
    pub id: String,
    pub points: Vec<[f64; 2]>,
}

/// Reads a Payer-layout CSV with `k` landmarks, multiplying every coordinate by
/// `scale` (10 turns the ISBI millimetres into pixels; 1 keeps pixels).
pub fn read_payer_csv(path: &Path, k: usize, scale: f64) -> Result<Vec<ShapeRow>> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    parse_payer_csv(path, &text, k, scale)
}

/// Parses Payer-layout text; `path` only names the source in errors.
pub fn parse_payer_csv(path: &Path, text: &str, k: usize, scale: f64) -> Result<Vec<ShapeRow>> {
    let mut rows = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = Some(i + 1);
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let cols: Vec<&str> = raw.split(',').map(str::trim).collect();
        if cols.len() != 1 + 2 * k {
            return Err(DataError::format(
                path,
                line,
                format!(
                    "{} columns, expected {} (id and {k} x,y pairs)",
                    cols.len(),
                    1 + 2 * k
                ),
            ));
        }
        let id = cols[0].to_string();
        if !ids.insert(id.clone()) {
            return Err(DataError::format(
                path,
                line,
                format!("id {id:?} appears twice"),
            ));
        }
        let points = (0..k)
            .map(|j| {
                let x = parse_f64(path, line, &format!("x{}", j + 1), cols[1 + 2 * j])?;
                let y = parse_f64(path, line, &format!("y{}", j + 1), cols[2 + 2 * j])?;
                Ok([x * scale, y * scale])
            })
            .collect::<Result<Vec<_>>>()?;
        rows.push(ShapeRow { id, points });
    }
    if rows.is_empty() {
        return Err(DataError::format(path, None, "no annotation rows"));
    }
    Ok(rows)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn parses_and_scales() {
        let rows =
            parse_payer_csv(Path::new("t.csv"), "001,1.5,2,3,4\n002,5,6,7,8\n", 2, 10.0).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].id, "001");
        assert_eq!(rows[0].points, vec![[15.0, 20.0], [30.0, 40.0]]);
    }

    #[test]
    fn errors_name_line_and_problem() {
        let e =
            parse_payer_csv(Path::new("t.csv"), "001,1,2,3,4\n002,1,2,3\n", 2, 1.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv, line 2: 4 columns, expected 5 (id and 2 x,y pairs)"
        );
        let e = parse_payer_csv(Path::new("t.csv"), "001,1,NaN,3,4\n", 2, 1.0).unwrap_err();
        assert!(e.to_string().contains("line 1: column y1"), "{e}");
        let e = parse_payer_csv(Path::new("t.csv"), "001,1,abc,3,4\n", 2, 1.0).unwrap_err();
        assert!(e.to_string().contains("not a number"), "{e}");
        let e =
            parse_payer_csv(Path::new("t.csv"), "001,1,2,3,4\n001,1,2,3,4\n", 2, 1.0).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        assert!(parse_payer_csv(Path::new("t.csv"), "\n", 2, 1.0).is_err());
    }
}
