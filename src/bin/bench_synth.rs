//! Phantom rendering speed: `cargo run --release --bin bench-synth -- --n 200`.
//! Renders N images per anatomy serially and in parallel (rayon, all cores),
//! prints images/s and one JSON line per anatomy.
// The CLI and benchmarks are native; on wasm32 (browser tests build every
// binary of the package) each compiles to an empty module.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]
use anyhow::{bail, Context, Result};
use fairmark::data::phantom::{render_many, PhantomConfig};
use fairmark::data::Anatomy;
use std::time::Instant;

fn main() -> Result<()> {
    let mut n = 200usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--n" => {
                n = args
                    .next()
                    .context("--n needs a number")?
                    .parse()
                    .context("--n needs a number")?
            }
            "-h" | "--help" => {
                println!("bench-synth [--n N]   (default N = 200 images per anatomy)");
                return Ok(());
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    let threads = rayon::current_num_threads();
    for anatomy in [Anatomy::Ceph, Anatomy::Hand] {
        let mut cfg = PhantomConfig::new(anatomy);
        cfg.n = n;
        let t = Instant::now();
        let serial = render_many(&cfg, 0..n, false)?;
        let serial_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let parallel = render_many(&cfg, 0..n, true)?;
        let parallel_s = t.elapsed().as_secs_f64();
        let identical = serial
            .iter()
            .zip(&parallel)
            .all(|(a, b)| a.0.as_raw() == b.0.as_raw());
        let (s_ips, p_ips) = (n as f64 / serial_s, n as f64 / parallel_s);
        println!(
            "{anatomy}: {n} images {}x{}: serial {s_ips:.1} images/s, parallel ({threads} threads) {p_ips:.1} images/s, identical: {identical}",
            cfg.width, cfg.height
        );
        println!(
            "{}",
            serde_json::json!({
                "bench": "synth",
                "anatomy": anatomy.as_str(),
                "n": n,
                "width": cfg.width,
                "height": cfg.height,
                "threads": threads,
                "serial_images_per_s": s_ips,
                "parallel_images_per_s": p_ips,
                "serial_parallel_identical": identical,
            })
        );
    }
    Ok(())
}
