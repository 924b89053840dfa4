//! `fairmark bench train|infer`: images per second of the U-Net on random data
//! with the shapes given, the same work as `bench/torch_unet.py` (forward,
//! spatial cross-entropy, backward and an Adam step; or forward only).
//! `fairmark bench detect --model M --image F`: a model as users run it (both
//! stages of a coarse-to-fine model, pre- and post-processing), cold (load +
//! first detection) and warm, per stage.
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
    Detect,
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
    /// detect: a published model (models/NAME) or a run directory.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// detect: the image to detect on.
    #[arg(long)]
    pub image: Option<PathBuf>,
}

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    if a.mode == Mode::Detect {
        return detect(a);
    }
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

/// Cold (model load + first detection) and warm detections of a real model
/// on a real image, as `fairmark detect` runs them.
fn detect(a: BenchArgs) -> anyhow::Result<()> {
    use fairmark::detection::pipeline::{DetectOptions, Pixels};
    let (Some(model_dir), Some(image)) = (&a.model, &a.image) else {
        anyhow::bail!("bench detect needs --model and --image");
    };
    let img = fairmark::data::formats::image_io::load_image(image)?;
    let t0 = Instant::now();
    let model =
        fairmark::train::inference::load_landmarker(model_dir, super::runtime_for(&a.backend)?)?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let options = DetectOptions::default();
    let run_once = || futures_lite::future::block_on(model.detect(Pixels::Grey(&img), &options));
    let first = run_once()?;
    let cold_ms = t0.elapsed().as_secs_f64() * 1e3;
    for _ in 0..a.warmup {
        run_once()?;
    }
    let iters = a.iters.max(1);
    let (mut total, mut forward, mut pre) = (0.0, 0.0, 0.0);
    for _ in 0..iters {
        let d = run_once()?;
        total += d.timings_ms.total;
        forward += d.timings_ms.forward;
        pre += d.timings_ms.preprocess;
    }
    let n = iters as f64;
    let spec = model.spec();
    let refine = spec.config.detector.refine.is_some();
    println!(
        "fairmark detect {}x{} with {} ({}): cold {cold_ms:.0} ms (load {load_ms:.0}, first {:.0}); warm {:.1} ms (preprocess {:.1}, forward{} {:.1})",
        img.width,
        img.height,
        model_dir.display(),
        model.runtime().note,
        first.timings_ms.total,
        total / n,
        pre / n,
        if refine { " both stages" } else { "" },
        forward / n,
    );
    let json = serde_json::json!({
        "bench": "detect", "impl": "fairmark-burn", "backend": model.runtime().note,
        "model": model_dir.display().to_string(), "image": image.display().to_string(),
        "width": img.width, "height": img.height, "input_size": spec.config.detector.input_size,
        "refine": spec.config.detector.refine, "cold_ms": cold_ms, "load_ms": load_ms,
        "first_ms": first.timings_ms.total, "warm_ms": total / n, "warm_preprocess_ms": pre / n,
        "warm_forward_ms": forward / n, "iters": iters, "peak_rss_mib": peak_rss_mib(),
    });
    println!("{json}");
    if let Some(p) = &a.json {
        fairmark::io::write_atomic(p, json.to_string().as_bytes())?;
    }
    Ok(())
}
