//! A minimal GitHub-flavoured Markdown table writer.

/// `header` and `rows` as a Markdown table; the first column left-aligned,
/// the others right-aligned (numbers).
pub fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut s = format!("| {} |\n|", header.join(" | "));
    for i in 0..header.len() {
        s += if i == 0 { "---|" } else { "---:|" };
    }
    s.push('\n');
    for r in rows {
        s += &format!("| {} |\n", r.join(" | "));
    }
    s
}

/// `mean ± std` with `digits` decimals; std left out when not finite.
pub fn pm(mean: f64, std: f64, digits: usize) -> String {
    if std.is_finite() {
        format!("{mean:.digits$} ± {std:.digits$}")
    } else {
        format!("{mean:.digits$}")
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn writes_aligned_table() {
        let t = table(
            &["model".into(), "MRE".into()],
            &[vec!["unet".into(), pm(1.2345, 0.5, 2)]],
        );
        assert_eq!(t, "| model | MRE |\n|---|---:|\n| unet | 1.23 ± 0.50 |\n");
        assert_eq!(pm(1.0, f64::NAN, 1), "1.0");
    }
}
