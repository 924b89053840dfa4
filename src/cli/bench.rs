//! `fairmark bench train|infer`: images per second of the U-Net on random data
//! with the shapes given, the same work as `bench/torch_unet.py` (forward,
//! spatial cross-entropy, backward and an Adam step; or forward only).
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Distribution, Tensor};
use clap::{Args, ValueEnum};
use fairmark::model::config::{Architecture, DetectorConfig, UNetConfig};
use fairmark::model::Detector;
use fairmark::train::losses::spatial_cross_entropy;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum Mode {
    Train,
    Infer,
}

#[derive(Args)]
pub struct BenchArgs {
    #[arg(value_enum)]
    pub mode: Mode,
    #[arg(long, default_value = "auto")]
    pub backend: String,
    #[arg(long, default_value_t = 512)]
    pub size: usize,
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[arg(long, default_value_t = 16)]
    pub width: usize,
    #[arg(long, default_value_t = 4)]
    pub depth: usize,
    #[arg(long, default_value_t = 10)]
    pub keypoints: usize,
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    #[arg(long, default_value_t = 10)]
    pub iters: usize,
    /// Also write the JSON line here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    let runtime = super::runtime_for(&a.backend)?;
    let (device, why) = (runtime.device, runtime.note);
    let cfg = DetectorConfig::new(
        Architecture::Unet,
        a.keypoints,
        [a.size, a.size],
        UNetConfig::new()
            .with_base_width(a.width)
            .with_depth(a.depth),
    );
    cfg.validate()?;
    let train = a.mode == Mode::Train;
    let dev = if train {
        device.clone().autodiff()
    } else {
        device.clone()
    };
    dev.seed(0);
    let mut model = cfg.init(&dev);
    let mut optim = AdamConfig::new().init();
    let x = Tensor::<4>::random([a.batch, 1, a.size, a.size], Distribution::Default, &dev);
    let target = Tensor::<4>::random(
        [a.batch, a.keypoints, a.size, a.size],
        Distribution::Default,
        &dev,
    );
    let mut step = |model: Detector| -> Detector {
        if train {
            let loss =
                spatial_cross_entropy(model.forward(x.clone(), None).heatmaps, target.clone())
                    .mean();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let model = optim.step(1e-3, model, grads);
            // Reading a value waits for the device, so the timing covers the work.
            let _: f32 = loss.into_scalar();
            model
        } else {
            let _: f32 = model.forward(x.clone(), None).heatmaps.sum().into_scalar();
            model
        }
    };
    for _ in 0..a.warmup {
        model = step(model);
    }
    let t = Instant::now();
    for _ in 0..a.iters {
        model = step(model);
    }
    let s = t.elapsed().as_secs_f64();
    let ips = (a.iters * a.batch) as f64 / s;
    let mode = if train { "train" } else { "infer" };
    let peak = peak_rss_mib();
    println!(
        "fairmark {mode}: {ips:.2} images/s ({0}x{0}, batch {1}, {why}); peak RSS {2}",
        a.size,
        a.batch,
        peak.map_or("n/a".into(), |m| format!("{m:.0} MiB"))
    );
    let json = serde_json::json!({
        "bench": mode, "impl": "fairmark-burn", "backend": why, "size": a.size, "batch": a.batch,
        "width": a.width, "depth": a.depth, "keypoints": a.keypoints, "iters": a.iters, "images_per_s": ips,
        "peak_rss_mib": peak,
    });
    println!("{json}");
    if let Some(p) = a.json {
        fairmark::io::write_atomic(&p, json.to_string().as_bytes())?;
    }
    Ok(())
}

/// Peak resident memory of this process (Linux `VmHWM`), in MiB: host memory,
/// which on a GPU backend leaves out the device's own memory.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}
