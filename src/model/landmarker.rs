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
        let manifest = super::weights::load_from_parts(manifest_json, weights)?;
        Self::from_manifest(manifest, weights, runtime)
    }

    /// A published model directory (`models/NAME`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_dir(dir: &Path, runtime: Runtime) -> Result<Self> {
        let (manifest, weights) = super::weights::load_dir(dir)?;
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
