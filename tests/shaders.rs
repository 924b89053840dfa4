//! The WGSL in shaders/ is valid, and the GPU preprocessing it implements
//! gives the same model input and the same landmarks as the CPU path (on
//! Mesa's lavapipe in CI, where FAIRMARK_REQUIRE_WGPU=1 turns a missing
//! adapter into a failure).
#![cfg(all(feature = "model", not(target_arch = "wasm32")))]
use burn::tensor::wgpu::WgpuSetup;
use burn::tensor::Device;
use fairmark::data::phantom::{render, PhantomConfig};
use fairmark::data::preprocess::letterbox::Letterbox;
use fairmark::data::preprocess::pixels::grey_from_bytes;
use fairmark::data::Anatomy;
use fairmark::detection::pipeline::{DetectOptions, Pixels};
use fairmark::detection::{Backend, Preprocess};
use fairmark::gpu::GpuLetterbox;
use fairmark::model::{Landmarker, Runtime};
use futures_lite::future::block_on;
use std::path::Path;
use std::sync::Arc;
use std::sync::OnceLock;

#[test]
fn every_wgsl_file_parses_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "wgsl") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        let module = naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&src)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        n += 1;
    }
    assert!(n >= 1, "no WGSL files in {}", dir.display());
    // The library compiles in the very file it validates here.
    assert_eq!(
        fairmark::gpu::LETTERBOX_WGSL,
        std::fs::read_to_string(dir.join("letterbox.wgsl")).unwrap()
    );
}

/// burn's wgpu runtime with its handles, once per test binary (it can only be
/// initialised once).
fn gpu() -> Option<&'static (Device, WgpuSetup)> {
    static GPU: OnceLock<Option<(Device, WgpuSetup)>> = OnceLock::new();
    let g = GPU
        .get_or_init(|| {
            std::panic::catch_unwind(|| Device::wgpu_options().init_with_setup().ok())
                .ok()
                .flatten()
        })
        .as_ref();
    if g.is_none() {
        assert!(
            std::env::var("FAIRMARK_REQUIRE_WGPU").is_err(),
            "FAIRMARK_REQUIRE_WGPU is set but no wgpu adapter started"
        );
        eprintln!("no wgpu adapter: skipped (install mesa-vulkan-drivers)");
    }
    g
}

/// A deterministic test pattern with edges and gradients in every channel.
fn pattern(w: usize, h: usize, channels: usize) -> Vec<u8> {
    (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            let v = ((x * 7 + y * 13) % 256) as u8;
            let c = if (x / 5 + y / 3) % 2 == 0 { 255 } else { v };
            match channels {
                1 => vec![c],
                _ => vec![c, v, (x * 255 / w) as u8, 255],
            }
        })
        .collect()
}

#[test]
fn gpu_letterbox_matches_the_cpu() {
    let Some((_, setup)) = gpu() else { return };
    let shader = GpuLetterbox::new(setup);
    // Shrinking ≥2× (box averaging), mild shrinking, enlarging, odd sizes
    // and both pixel layouts.
    for (w, h, dw, dh, ch) in [
        (517, 389, 128, 128, 4),
        (400, 512, 128, 96, 1),
        (150, 90, 128, 128, 1),
        (61, 203, 64, 64, 4),
        (1935, 2400, 256, 256, 1),
    ] {
        let px = pattern(w, h, ch);
        let lb = Letterbox::new(w, h, dw, dh).unwrap();
        let cpu = lb.apply(&grey_from_bytes(&px, w, h).unwrap()).unwrap();
        let on_gpu = block_on(shader.apply(&px, w, h, &lb)).unwrap();
        assert_eq!((on_gpu.width, on_gpu.height), (dw, dh));
        let max = cpu
            .data
            .iter()
            .zip(&on_gpu.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            max < 1e-4,
            "{w}x{h}x{ch} -> {dw}x{dh}: GPU and CPU differ by {max}"
        );
    }
    // Wrong sizes are errors, not panics.
    let lb = Letterbox::new(10, 10, 8, 8).unwrap();
    assert!(block_on(shader.apply(&[0; 99], 10, 10, &lb)).is_err());
    assert!(block_on(shader.apply(&[0; 120], 12, 10, &lb)).is_err());
}

#[test]
fn detection_with_the_shader_finds_the_cpu_landmarks() {
    let Some((device, setup)) = gpu() else { return };
    let shader = Arc::new(GpuLetterbox::new(setup));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ceph-unet-phantom");
    let (img, _) = render(&PhantomConfig::new(Anatomy::Ceph), 0).unwrap();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let rgba: Vec<u8> = img.as_raw().iter().flat_map(|&v| [v, v, v, 255]).collect();
    let run = |gpu_letterbox| {
        let runtime = Runtime {
            device: device.clone(),
            backend: Backend::Wgpu,
            note: "lavapipe".into(),
            gpu_letterbox,
        };
        let model = Landmarker::load_dir(&dir, runtime).unwrap();
        let px = Pixels::Bytes {
            data: &rgba,
            width: w,
            height: h,
        };
        let options = DetectOptions {
            mm_per_px: Some(0.1),
            ..Default::default()
        };
        block_on(model.detect(px, &options)).unwrap()
    };
    let a = run(Some(shader.clone()));
    let b = run(None);
    assert_eq!(a.preprocess, Preprocess::GpuShader);
    assert_eq!(b.preprocess, Preprocess::Cpu);
    for (p, q) in a.landmarks.iter().zip(&b.landmarks) {
        let d = (p.x - q.x).hypot(p.y - q.y);
        assert!(
            d < 0.05,
            "{}: shader path {:?} vs CPU {:?}",
            p.name,
            (p.x, p.y),
            (q.x, q.y)
        );
    }
}
