//! Draws the figures of `docs/PHANTOMS.md`:
//! `cargo run --release --example phantom_figure [-- OUT_DIR [--landmarks]]`.
//! - `phantom_vs_real_hand.png`: a real Digital Hand Atlas radiograph next to
//!   a young and an old hand phantom, same height;
//! - `phantom_ceph.png`: an adult and an adolescent cephalogram phantom.
use anyhow::{Context, Result};
use fairmark::data::phantom::{render, GroupSpec, PhantomConfig};
use fairmark::data::{Anatomy, Sample};
use image::{imageops, GrayImage, Luma};
use std::path::PathBuf;

fn phantom(anatomy: Anatomy, groups: &str, seed: u64, marks: bool) -> Result<GrayImage> {
    let mut cfg = PhantomConfig::new(anatomy);
    cfg.seed = seed;
    cfg.groups = GroupSpec::parse(anatomy, &[groups.to_string()])?;
    let (mut img, sample) = render(&cfg, 0)?;
    if marks {
        mark(&mut img, &sample);
    }
    Ok(img)
}

/// Small black-and-white crosses on the landmarks (to check placement).
fn mark(img: &mut GrayImage, s: &Sample) {
    for p in &s.landmarks {
        for d in -3i32..=3 {
            for (dx, dy, v) in [(d, 0, 255u8), (0, d, 255), (d, 1, 0), (1, d, 0)] {
                let (x, y) = (p[0].round() as i32 + dx, p[1].round() as i32 + dy);
                if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
                    img.put_pixel(x as u32, y as u32, Luma([v]));
                }
            }
        }
    }
}

fn side_by_side(parts: &[GrayImage], gap: u32) -> GrayImage {
    let h = parts.iter().map(|p| p.height()).max().unwrap_or(1);
    let w =
        parts.iter().map(|p| p.width()).sum::<u32>() + gap * (parts.len() as u32).saturating_sub(1);
    let mut out = GrayImage::from_pixel(w, h, Luma([255]));
    let mut x = 0;
    for p in parts {
        imageops::replace(&mut out, p, x as i64, 0);
        x += p.width() + gap;
    }
    out
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let marks = args.iter().any(|a| a == "--landmarks");
    let out = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/img"));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;

    let young = phantom(Anatomy::Hand, "young:1,F:1", 3, marks)?;
    let old = phantom(Anatomy::Hand, "old:1,M:1", 4, marks)?;
    let h = young.height();
    let shared = fairmark::data::shared_data_dir()
        .context("shared data not found (set FAIRMARK_SHARED_DATA)")?;
    let real_path = shared.join("real-hand/3167.png");
    let real = image::open(&real_path)
        .with_context(|| format!("reading {}", real_path.display()))?
        .to_luma8();
    let rw = (real.width() as f64 * h as f64 / real.height() as f64).round() as u32;
    let real = imageops::resize(&real, rw, h, imageops::FilterType::Triangle);
    let hand = side_by_side(&[real, young, old], 6);
    hand.save(out.join("phantom_vs_real_hand.png"))?;

    let adult = phantom(Anatomy::Ceph, "adult:1", 5, marks)?;
    let adolescent = phantom(Anatomy::Ceph, "adolescent:1", 5, marks)?;
    side_by_side(&[adult, adolescent], 6).save(out.join("phantom_ceph.png"))?;
    println!("wrote {}", out.display());
    Ok(())
}
