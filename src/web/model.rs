//! `Model`: a published model loaded from its weights and manifest bytes,
//! running on WebGPU when the browser has it, on the CPU otherwise.
use super::convert::{bytes, count, err, field, from_js, string, to_js, type_name};
use crate::detect::{detect, Engine, Pixels};
use crate::gpu::GpuLetterbox;
use crate::model::spec::ModelSpec;
use crate::model::{store, Detector};
use crate::publish::{load_from_parts, ModelManifest};
use burn::tensor::Device;
use js_sys::Reflect;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// burn's WebGPU runtime can be initialised once per page; every model shares it.
#[derive(Clone)]
struct WebGpu {
    device: Device,
    letterbox: Rc<GpuLetterbox>,
    adapter: String,
}

thread_local! {
    static WEBGPU: RefCell<Option<WebGpu>> = const { RefCell::new(None) };
}

fn navigator_has_gpu() -> bool {
    let global = js_sys::global();
    Reflect::get(&global, &"navigator".into())
        .ok()
        .filter(|n| n.is_object())
        .and_then(|n| Reflect::get(&n, &"gpu".into()).ok())
        .is_some_and(|g| !g.is_undefined() && !g.is_null())
}

async fn webgpu() -> Result<WebGpu, String> {
    if let Some(w) = WEBGPU.with(|w| w.borrow().clone()) {
        return Ok(w);
    }
    if !navigator_has_gpu() {
        return Err("navigator.gpu is missing: this browser has no WebGPU".into());
    }
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| format!("WebGPU did not start: {e}"))?;
    let info = setup.adapter.get_info();
    let w = WebGpu {
        device,
        letterbox: Rc::new(GpuLetterbox::new(&setup)),
        adapter: if info.name.is_empty() {
            format!("{:?}", info.backend)
        } else {
            info.name
        },
    };
    WEBGPU.with(|cell| *cell.borrow_mut() = Some(w.clone()));
    Ok(w)
}

/// A loaded model. `Model.load(weights, manifest, backend)` in JavaScript.
#[wasm_bindgen]
pub struct Model {
    model: Detector,
    spec: ModelSpec,
    manifest: ModelManifest,
    device: Device,
    backend: &'static str,
    note: String,
    letterbox: Option<Rc<GpuLetterbox>>,
}

#[wasm_bindgen]
impl Model {
    /// Loads a published model: `weights` (Uint8Array or ArrayBuffer), the
    /// manifest (JSON text or object; its sha256 must match the weights) and
    /// the backend: "auto" (WebGPU if available, else CPU), "webgpu" or "cpu".
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
        let choice = if backend.is_undefined() || backend.is_null() {
            "auto".to_string()
        } else {
            string(&backend, "backend")?
        };
        let manifest = load_from_parts(&manifest_text, &weights).map_err(err)?;
        let spec = ModelSpec::from_manifest(&manifest).map_err(err)?;

        let (device, name, note, letterbox) = match choice.as_str() {
            "cpu" => (Device::flex(), "cpu", "CPU chosen".to_string(), None),
            "webgpu" => {
                let w = webgpu().await.map_err(err)?;
                let note = format!("WebGPU adapter: {}", w.adapter);
                (w.device, "webgpu", note, Some(w.letterbox))
            }
            "auto" => match webgpu().await {
                Ok(w) => {
                    let note = format!("WebGPU adapter: {}", w.adapter);
                    (w.device, "webgpu", note, Some(w.letterbox))
                }
                Err(why) => (
                    Device::flex(),
                    "cpu",
                    format!("{why}; running on the CPU"),
                    None,
                ),
            },
            other => {
                return Err(err(format!(
                    "backend {other:?}: expected \"auto\", \"webgpu\" or \"cpu\""
                )))
            }
        };
        let model = store::from_bytes(&spec.detector, &weights, &device).map_err(err)?;
        Ok(Model {
            model,
            spec,
            manifest,
            device,
            backend: name,
            note,
            letterbox,
        })
    }

    /// Detects the landmarks of one image: `pixels` RGBA (canvas
    /// `getImageData().data`) or grey bytes, `width` × `height`; `options`
    /// `{attributes: {name: group}, mmPerPx: number}`, both optional.
    pub async fn detect(
        &self,
        pixels: JsValue,
        width: JsValue,
        height: JsValue,
        options: JsValue,
    ) -> Result<JsValue, JsError> {
        let data = bytes(&pixels, "pixels")?;
        let width = count(&width, "width", 1.0)?;
        let height = count(&height, "height", 1.0)?;
        let attributes = self.attribute_indices(&field(&options, "attributes")?)?;
        let mm = field(&options, "mmPerPx")?;
        let mm_per_px =
            if mm.is_undefined() || mm.is_null() {
                None
            } else {
                Some(mm.as_f64().ok_or_else(|| {
                    err(format!("mmPerPx must be a number, got {}", type_name(&mm)))
                })?)
            };
        let engine = Engine {
            model: &self.model,
            spec: &self.spec,
            device: &self.device,
            backend: self.backend,
            gpu: self.letterbox.as_deref(),
        };
        let pixels = Pixels::Bytes {
            data: &data,
            width,
            height,
        };
        let det = detect(&engine, pixels, &attributes, mm_per_px)
            .await
            .map_err(err)?;
        to_js(&det)
    }

    fn attribute_indices(&self, v: &JsValue) -> Result<Vec<usize>, JsError> {
        let map: BTreeMap<String, Option<String>> = if v.is_undefined() || v.is_null() {
            BTreeMap::new()
        } else {
            from_js(v.clone(), "attributes (an object of name: group)")?
        };
        // An empty or null group means "not given", as in a form left blank.
        let map: BTreeMap<String, String> = map
            .into_iter()
            .filter_map(|(k, g)| g.filter(|g| !g.is_empty()).map(|g| (k, g)))
            .collect();
        self.spec.attributes.parse_map(&map).map_err(err)
    }

    /// "webgpu" or "cpu": what runs this model.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.into()
    }

    /// Why that backend (adapter name, or why WebGPU was not used).
    #[wasm_bindgen(getter, js_name = backendNote)]
    pub fn backend_note(&self) -> String {
        self.note.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.manifest.name.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn method(&self) -> String {
        self.spec.method.clone()
    }

    /// "ceph", "hand" or null.
    #[wasm_bindgen(getter)]
    pub fn anatomy(&self) -> Option<String> {
        self.spec.anatomy.map(|a| a.as_str().to_string())
    }

    /// `[height, width]` of the model input.
    #[wasm_bindgen(getter, js_name = inputSize)]
    pub fn input_size(&self) -> Vec<u32> {
        self.spec
            .detector
            .input_size
            .iter()
            .map(|&v| v as u32)
            .collect()
    }

    #[wasm_bindgen(getter, js_name = landmarkNames)]
    pub fn landmark_names(&self) -> Vec<String> {
        self.spec.landmark_names.clone()
    }

    /// `[{name, groups}]` the model can be told about.
    #[wasm_bindgen(getter)]
    pub fn attributes(&self) -> Result<JsValue, JsError> {
        let list: Vec<serde_json::Value> = self
            .spec
            .attributes
            .names
            .iter()
            .zip(&self.spec.attributes.groups)
            .map(|(n, g)| serde_json::json!({"name": n, "groups": g}))
            .collect();
        to_js(&list)
    }

    #[wasm_bindgen(getter)]
    pub fn manifest(&self) -> Result<JsValue, JsError> {
        to_js(&self.manifest)
    }
}
