//! A detection as a terminal table: the landmarks the model is least sure of
//! first (the order to check them in), each with its position, in mm where
//! the spacing is known, and its uncertainty radius; `check` marks the ones
//! whose radius exceeds [`super::LOW_CONFIDENCE_MM`].
use super::Detection;
use std::fmt::Write;

pub fn render(d: &Detection) -> String {
    let mm = d.mm_per_px.is_some();
    let unit = if mm { "mm" } else { "px" };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>3} {:<24} {:>9} {:>9} {:>9}",
        "KP",
        "name",
        format!("x {unit}"),
        format!("y {unit}"),
        format!("± {unit}")
    );
    for i in d.check_order() {
        let l = &d.landmarks[i];
        let (x, y) = match (l.x_mm, l.y_mm) {
            (Some(x), Some(y)) => (x, y),
            _ => (l.x, l.y),
        };
        let (radius, flag) = match &l.uncertainty {
            Some(u) => (
                format!("{:.2}", u.radius_mm.unwrap_or(u.radius_px)),
                if u.low { "  check" } else { "" },
            ),
            None => ("-".into(), ""),
        };
        let name: String = l.name.chars().take(24).collect();
        let _ = writeln!(
            s,
            "{:>3} {name:<24} {x:>9.2} {y:>9.2} {radius:>9}{flag}",
            l.keypoint
        );
    }
    let low = d
        .landmarks
        .iter()
        .filter(|l| l.uncertainty.as_ref().is_some_and(|u| u.low))
        .count();
    let _ = writeln!(
        s,
        "±: the model's uncertainty radius (spread of its finest heatmap around the point); {low} marked check (over {} mm){}",
        super::LOW_CONFIDENCE_MM,
        if mm { "" } else { "; no spacing: nothing can be marked" }
    );
    s
}
