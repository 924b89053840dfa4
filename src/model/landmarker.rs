//! [`Landmarker`]: a loaded, validated model that owns its network, its spec
//! and its device, and detects (see `detection::pipeline`). The CLI, the
//! browser, the tests and the benchmarks all load models through it.
use super::backend::Runtime;
use super::detector::Detector;
use super::error::{ModelError, Result};
use super::manifest::ModelManifest;
use super::spec::ModelSpec;
use super::store;
use std::path::Path;

pub struct Landmarker {
    net: Detector,
    spec: ModelSpec,
    runtime: Runtime,
    manifest: Option<ModelManifest>,
}

impl Landmarker {
    /// Builds the network of `spec` on the runtime's device with `weights`
    /// (burnpack bytes). The spec is validated first: a bad config is an
    /// error here, never a panic or a huge allocation in `init`.
    pub fn new(spec: ModelSpec, weights: &[u8], runtime: Runtime) -> Result<Self> {
        let label = spec.name.clone().unwrap_or_else(|| "model".into());
        spec.validate().map_err(|source| ModelError::Config {
            path: label.clone().into(),
            source,
        })?;
        let net = store::from_bytes(&spec.config.detector, weights, &runtime.device).map_err(
            |source| ModelError::Weights {
                file: label,
                source,
            },
        )?;
        Ok(Self {
            net,
            spec,
            runtime,
            manifest: None,
        })
    }

    /// A published model: the weights must match the manifest's size and
    /// SHA-256, and the manifest must validate.
    pub fn from_manifest(
        manifest: ModelManifest,
        weights: &[u8],
        runtime: Runtime,
    ) -> Result<Self> {
        manifest.validate(Path::new(super::manifest::MANIFEST_FILE))?;
        super::weights::verify_weights(&manifest, weights)?;
        let mut me = Self::new(ModelSpec::from_manifest(&manifest), weights, runtime)?;
        me.manifest = Some(manifest);
        Ok(me)
    }

    /// A published model from the text of its manifest and its weights (what
    /// the browser fetched).
    pub fn from_parts(manifest_json: &str, weights: &[u8], runtime: Runtime) -> Result<Self> {
        let path = Path::new(super::manifest::MANIFEST_FILE);
        let manifest = ModelManifest::from_json(path, manifest_json)?;
        Self::from_manifest(manifest, weights, runtime)
    }

    /// A published model directory (`models/NAME`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_dir(dir: &Path, runtime: Runtime) -> Result<Self> {
        let (manifest, weights) = super::weights::read_dir(dir)?;
        Self::from_manifest(manifest, &weights, runtime)
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    pub fn net(&self) -> &Detector {
        &self.net
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The manifest, for a published model.
    pub fn manifest(&self) -> Option<&ModelManifest> {
        self.manifest.as_ref()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::detection::pipeline::{DetectOptions, Pixels};
    use crate::model::config::{ModelConfig, UNetConfig};

    fn spec(input_size: [usize; 2]) -> ModelSpec {
        let mut config = ModelConfig::unet(3, input_size);
        config.detector.backbone = UNetConfig::new().with_base_width(2).with_depth(2);
        ModelSpec {
            name: Some("tiny".into()),
            method: "unet".into(),
            config,
            landmark_names: vec!["a".into(), "b".into(), "c".into()],
            anatomy: None,
            sha256: None,
        }
    }

    /// A non-square input and a portrait image run end to end: the input
    /// tensor, the letterbox and the decoding agree on `[width, height]`
    /// (a mismatch of tensor and letterbox sizes is an error or lands the
    /// points outside the mapped input).
    #[test]
    fn detects_with_a_non_square_input_on_a_portrait_image() {
        let s = spec([32, 48]);
        let net = s.config.detector.init(&burn::tensor::Device::flex());
        let weights = store::to_bytes(&net).unwrap();
        let model = Landmarker::new(s, &weights, Runtime::cpu("test")).unwrap();
        let (w, h) = (60, 200);
        let grey: Vec<u8> = (0..w * h).map(|i| (i % 251) as u8).collect();
        let px = Pixels::Bytes {
            data: &grey,
            width: w,
            height: h,
        };
        let det =
            futures_lite::future::block_on(model.detect(px, &DetectOptions::default())).unwrap();
        assert_eq!((det.image.width, det.image.height), (w, h));
        assert_eq!(det.landmarks.len(), 3);
        // Untrained, the network may point into the padding, but never
        // outside the input rectangle mapped back to the image.
        let lb = crate::data::preprocess::letterbox::Letterbox::new(w, h, 32, 48).unwrap();
        let corners = crate::model::decode::to_original(&[[-0.5, -0.5], [31.5, 47.5]], &lb);
        for l in &det.landmarks {
            assert!(
                (corners[0][0]..=corners[1][0]).contains(&l.x)
                    && (corners[0][1]..=corners[1][1]).contains(&l.y),
                "{l:?} outside {corners:?}"
            );
        }
    }

    #[test]
    fn bad_specs_and_weights_are_errors() {
        let mut s = spec([32, 48]);
        s.config.detector.n_landmarks = 4; // three names
        let e = Landmarker::new(s, b"", Runtime::cpu("test"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("3 landmark names for 4 landmarks"), "{e}");
        let e = Landmarker::new(spec([32, 48]), b"not burnpack", Runtime::cpu("test"))
            .err()
            .unwrap();
        assert!(matches!(e, ModelError::Weights { .. }), "{e}");
        let mut s = spec([32, 48]);
        s.config.detector.backbone.depth = 40;
        let e = Landmarker::new(s, b"", Runtime::cpu("test"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("depth is 40"), "{e}");
    }
}
