//! `Model`: a published model loaded from its weights and manifest bytes into
//! a [`Landmarker`], running on WebGPU when the browser has it, on the CPU
//! otherwise. A thin shell: JavaScript values are checked and converted here,
//! everything else is the core's.
use super::convert::{byte_length, bytes, count, err, field, from_js, string, to_js, type_name};
use crate::data::preprocess::pixels::channels_of;
use crate::detection::pipeline::{DetectOptions, Pixels};
use crate::detection::{Backend, Detection};
use crate::gpu::GpuLetterbox;
use crate::model::backend::BackendError;
use crate::model::manifest::MANIFEST_FILE;
use crate::model::{BackendChoice, Landmarker, ModelManifest, Runtime};
use burn::tensor::Device;
use js_sys::Reflect;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

thread_local! {
    /// burn's WebGPU runtime can be initialised once per page; every model shares it.
    static WEBGPU: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

fn navigator_has_gpu() -> bool {
    let global = js_sys::global();
    Reflect::get(&global, &"navigator".into())
        .ok()
        .filter(|n| n.is_object())
        .and_then(|n| Reflect::get(&n, &"gpu".into()).ok())
        .is_some_and(|g| !g.is_undefined() && !g.is_null())
}

async fn webgpu() -> Result<Runtime, BackendError> {
    if let Some(w) = WEBGPU.with(|w| w.borrow().clone()) {
        return Ok(w);
    }
    if !navigator_has_gpu() {
        return Err(BackendError::NoWebGpu(
            "navigator.gpu is missing: this browser has no WebGPU".into(),
        ));
    }
    let (device, setup): (Device, _) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| BackendError::NoWebGpu(format!("WebGPU did not start: {e}")))?;
    let info = setup.adapter.get_info();
    let adapter = if info.name.is_empty() {
        format!("{:?}", info.backend)
    } else {
        info.name
    };
    // The wasm build is single-threaded; Arc is only there for native callers.
    #[allow(clippy::arc_with_non_send_sync)]
    let letterbox = Arc::new(GpuLetterbox::new(&setup));
    let runtime = Runtime {
        device,
        backend: Backend::Webgpu,
        note: format!("WebGPU adapter: {adapter}"),
        gpu_letterbox: Some(letterbox),
    };
    WEBGPU.with(|cell| *cell.borrow_mut() = Some(runtime.clone()));
    Ok(runtime)
}

/// The runtime for a choice: WebGPU, the CPU, or WebGPU if it starts.
async fn runtime(choice: BackendChoice) -> Result<Runtime, BackendError> {
    match choice {
        BackendChoice::Cpu => Ok(Runtime::cpu("CPU chosen")),
        BackendChoice::Gpu => webgpu().await,
        BackendChoice::Auto => Ok(match webgpu().await {
            Ok(r) => r,
            Err(why) => Runtime::cpu(format!("{why}; running on the CPU")),
        }),
    }
}

/// A loaded model. `Model.load(weights, manifest, backend)` in JavaScript.
#[wasm_bindgen]
pub struct Model {
    inner: Landmarker,
}

#[wasm_bindgen]
impl Model {
    /// Loads a published model: `weights` (Uint8Array or ArrayBuffer), the
    /// manifest (JSON text or object; validated, and its sha256 must match
    /// the weights) and the backend: "auto" (WebGPU if available, else CPU),
    /// "webgpu" or "cpu".
    pub async fn load(
        weights: JsValue,
        manifest: JsValue,
        backend: JsValue,
    ) -> Result<Model, JsError> {
        let weights = bytes(&weights, "weights")?;
        let manifest_text = if let Some(s) = manifest.as_string() {
            s
        } else if manifest.is_object() && !manifest.is_array() {
            js_sys::JSON::stringify(&manifest)
                .map_err(|_| err("manifest object cannot be turned into JSON"))?
                .into()
        } else {
            return Err(err(format!(
                "manifest must be JSON text or an object, got {}",
                type_name(&manifest)
            )));
        };
        let choice: BackendChoice = if backend.is_undefined() || backend.is_null() {
            BackendChoice::Auto
        } else {
            string(&backend, "backend")?
                .parse()
                .map_err(|_| err("backend: expected \"auto\", \"webgpu\" or \"cpu\""))?
        };
        // The manifest (schema, bounded config) is checked before any GPU
        // work starts; `from_manifest` then checks the weights' size and hash.
        let manifest =
            ModelManifest::from_json(Path::new(MANIFEST_FILE), &manifest_text).map_err(err)?;
        let runtime = runtime(choice).await.map_err(err)?;
        let inner = Landmarker::from_manifest(manifest, &weights, runtime).map_err(err)?;
        Ok(Model { inner })
    }

    /// Detects the landmarks of one image: `pixels` RGBA (canvas
    /// `getImageData().data`) or grey bytes, `width` × `height` (at most
    /// [`super::max_pixels`] pixels); `options` `{attributes: {name: group}, mmPerPx:
    /// number, imageName: string}`, all optional. Returns the
    /// `fairmark.detect/2` document.
    pub async fn detect(
        &self,
        pixels: JsValue,
        width: JsValue,
        height: JsValue,
        options: JsValue,
    ) -> Result<JsValue, JsError> {
        let width = count(&width, "width", 1.0)?;
        let height = count(&height, "height", 1.0)?;
        // Size and buffer are checked against each other and the pixel cap
        // before the pixels are copied into wasm memory.
        channels_of(byte_length(&pixels, "pixels")?, width, height)
            .map_err(|e| err(format!("image: {e}")))?;
        let data = bytes(&pixels, "pixels")?;
        let options = detect_options(&options)?;
        let pixels = Pixels::Bytes {
            data: &data,
            width,
            height,
        };
        let det = self.inner.detect(pixels, &options).await.map_err(err)?;
        to_js(&det)
    }

    /// Detects the landmarks of an image file's bytes (`file`: Uint8Array or
    /// ArrayBuffer; DICOM, PNG, JPEG, BMP or TIFF), decoded in wasm by the
    /// core as `fairmark detect FILE` decodes it, so both give the same
    /// document. A DICOM file's own spacing is used unless `mmPerPx` is given
    /// (the document's `spacing_source` says which); `options` as for `detect`.
    #[wasm_bindgen(js_name = detectFile)]
    pub async fn detect_file(&self, file: JsValue, options: JsValue) -> Result<JsValue, JsError> {
        let mut options = detect_options(&options)?;
        let name = options
            .image_name
            .clone()
            .unwrap_or_else(|| "<file>".into());
        let radiograph = super::radiograph::radiograph_of(&file, &name)?;
        options.file_spacing = radiograph.spacing;
        let det = self
            .inner
            .detect(Pixels::Grey(&radiograph.image), &options)
            .await
            .map_err(err)?;
        to_js(&det)
    }

    /// "webgpu" or "cpu": what runs this model.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.inner.runtime().backend.as_str().into()
    }

    /// Why that backend (adapter name, or why WebGPU was not used).
    #[wasm_bindgen(getter, js_name = backendNote)]
    pub fn backend_note(&self) -> String {
        self.inner.runtime().note.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.spec().name.clone().unwrap_or_default()
    }

    #[wasm_bindgen(getter)]
    pub fn method(&self) -> String {
        self.inner.spec().method.clone()
    }

    /// "ceph", "hand" or null.
    #[wasm_bindgen(getter)]
    pub fn anatomy(&self) -> Option<String> {
        self.inner.spec().anatomy.map(|a| a.as_str().to_string())
    }

    /// `[width, height]` of the model input.
    #[wasm_bindgen(getter, js_name = inputSize)]
    pub fn input_size(&self) -> Vec<u32> {
        self.inner
            .spec()
            .config
            .detector
            .input_size
            .iter()
            .map(|&v| v as u32)
            .collect()
    }

    #[wasm_bindgen(getter, js_name = landmarkNames)]
    pub fn landmark_names(&self) -> Vec<String> {
        self.inner.spec().landmark_names.clone()
    }

    /// `[{name, groups}]` the model can be told about.
    #[wasm_bindgen(getter)]
    pub fn attributes(&self) -> Result<JsValue, JsError> {
        let space = &self.inner.spec().config.attributes;
        let list: Vec<serde_json::Value> = space
            .names
            .iter()
            .zip(&space.groups)
            .map(|(n, g)| serde_json::json!({"name": n, "groups": g}))
            .collect();
        to_js(&list)
    }

    #[wasm_bindgen(getter)]
    pub fn manifest(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.manifest())
    }
}

/// A detection with its landmarks moved to `points` (`[[x, y], …]`, original
/// pixels) and the spacing `mmPerPx` (a number, or null for the policy's
/// default): mm values and measurements recomputed, everything else kept.
/// What the page calls after a clinician corrects a point or the spacing.
#[wasm_bindgen(js_name = relocate)]
pub fn relocate(
    detection: JsValue,
    points: JsValue,
    mm_per_px: JsValue,
) -> Result<JsValue, JsError> {
    let value: serde_json::Value = from_js(detection, "detection (a fairmark.detect/2 document)")?;
    let det = Detection::from_json_value(value).map_err(err)?;
    let points: Vec<[f64; 2]> = from_js(points, "points (an array of [x, y])")?;
    let mm = optional_number(&mm_per_px, "mmPerPx")?;
    to_js(&det.relocate(&points, mm).map_err(err)?)
}

/// Landmark indices (0-based) of a detection, the least certain first: the
/// order in which the page lists them for checking by hand.
#[wasm_bindgen(js_name = checkOrder)]
pub fn check_order(detection: JsValue) -> Result<Vec<u32>, JsError> {
    let value: serde_json::Value = from_js(detection, "detection (a fairmark.detect/2 document)")?;
    let det = Detection::from_json_value(value).map_err(err)?;
    Ok(det.check_order().into_iter().map(|i| i as u32).collect())
}

/// `{attributes, mmPerPx, imageName}` of `detect` and `detectFile`.
fn detect_options(options: &JsValue) -> Result<DetectOptions, JsError> {
    let image_name = field(options, "imageName")?;
    Ok(DetectOptions {
        attributes: attributes(&field(options, "attributes")?)?,
        mm_per_px: optional_number(&field(options, "mmPerPx")?, "mmPerPx")?,
        image_name: if image_name.is_undefined() || image_name.is_null() {
            None
        } else {
            Some(string(&image_name, "imageName")?)
        },
        file_spacing: None,
    })
}

fn optional_number(v: &JsValue, what: &str) -> Result<Option<f64>, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_f64()
        .map(Some)
        .ok_or_else(|| err(format!("{what} must be a number, got {}", type_name(v))))
}

/// `{name: group}` from JavaScript; an empty or null group means "not given",
/// as in a form left blank.
fn attributes(v: &JsValue) -> Result<BTreeMap<String, String>, JsError> {
    let map: BTreeMap<String, Option<String>> = if v.is_undefined() || v.is_null() {
        BTreeMap::new()
    } else {
        from_js(v.clone(), "attributes (an object of name: group)")?
    };
    Ok(map
        .into_iter()
        .filter_map(|(k, g)| g.filter(|g| !g.is_empty()).map(|g| (k, g)))
        .collect())
}
