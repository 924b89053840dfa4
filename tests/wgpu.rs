//! The same detector on the wgpu backend (Mesa's lavapipe CPU Vulkan in CI):
//! forward and backward run, and the outputs match the CPU backend. The test
//! command installs lavapipe and sets FAIRMARK_REQUIRE_WGPU=1, so a missing
//! adapter fails the run there instead of skipping.
#![cfg(all(feature = "model", not(target_arch = "wasm32")))]
use burn::tensor::{Device, Distribution, Tensor};
use fairmark::model::backend::try_wgpu;
use fairmark::model::config::{Architecture, DetectorConfig, UNetConfig};
use fairmark::model::store;

#[test]
fn detector_runs_on_wgpu_like_on_cpu() {
    let Some((gpu, adapter)) = try_wgpu() else {
        assert!(
            std::env::var("FAIRMARK_REQUIRE_WGPU").is_err(),
            "FAIRMARK_REQUIRE_WGPU is set but no wgpu adapter started"
        );
        eprintln!("no wgpu adapter: skipped (install mesa-vulkan-drivers)");
        return;
    };
    // The adapter is named, so a run says which Vulkan driver it used.
    assert!(
        adapter.contains("Vulkan") || adapter.contains("Gl") || adapter.contains("Metal"),
        "{adapter}"
    );
    eprintln!("adapter: {adapter}");
    let cfg = DetectorConfig::new(
        Architecture::Unet,
        3,
        [32, 32],
        UNetConfig::new().with_base_width(4).with_depth(2),
    );
    let cpu = Device::flex();
    let model = cfg.init(&cpu);
    let bytes = store::to_bytes(&model).unwrap();
    let on_gpu = store::from_bytes(&cfg, &bytes, &gpu).unwrap();
    let x = Tensor::<4>::random([1, 1, 32, 32], Distribution::Default, &cpu);
    let data = x.clone().into_data();
    let a: Vec<f32> = model
        .forward(x, None)
        .heatmaps
        .into_data()
        .try_to_vec()
        .unwrap();
    let b: Vec<f32> = on_gpu
        .forward(Tensor::from_data(data, &gpu), None)
        .heatmaps
        .into_data()
        .try_to_vec()
        .unwrap();
    let max_diff = a
        .iter()
        .zip(&b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0f32, f32::max);
    assert!(max_diff < 1e-3, "CPU and wgpu differ by {max_diff}");

    // Training works there too: one backward pass gives finite gradients.
    let ad = gpu.autodiff();
    let m = store::from_bytes(&cfg, &bytes, &ad).unwrap();
    let y = m
        .forward(Tensor::<4>::ones([1, 1, 32, 32], &ad), None)
        .heatmaps;
    let grads = y.powf_scalar(2.0).mean().backward();
    let g = burn::optim::GradientsParams::from_grads(grads, &m);
    assert!(!g.is_empty());
}
