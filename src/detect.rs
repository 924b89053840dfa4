//! One image → named landmarks in original pixels, measurements and timings:
//! the step `fairmark detect` and the browser share. Read-back is
//! asynchronous only, because a synchronous read panics on WebGPU.
use crate::data::anatomy::{hand_mm_per_px, Anatomy};
use crate::data::preprocess::letterbox::Letterbox;
use crate::data::preprocess::pixels::grey_from_bytes;
use crate::data::GreyImage;
use crate::gpu::GpuLetterbox;
use crate::model::attributes::attribute_tensor;
use crate::model::decode::{decode_batch, to_original};
use crate::model::spec::ModelSpec;
use crate::model::Detector;
use crate::publish::measurements::{measure, Measurements};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use web_time::Instant;

pub const DETECT_SCHEMA: &str = "fairmark.detect/1";

/// An image as the caller has it.
pub enum Pixels<'a> {
    /// Decoded grey image, values in [0, 1] (files read natively).
    Grey(&'a GreyImage),
    /// 8-bit grey or RGBA bytes, row-major (a browser canvas).
    Bytes {
        data: &'a [u8],
        width: usize,
        height: usize,
    },
}

impl Pixels<'_> {
    pub fn size(&self) -> (usize, usize) {
        match self {
            Pixels::Grey(img) => (img.width, img.height),
            Pixels::Bytes { width, height, .. } => (*width, *height),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Landmark {
    /// 1-based, in the model's landmark order.
    pub keypoint: usize,
    pub name: String,
    /// Original image pixels (pixel centres at integers).
    pub x: f64,
    pub y: f64,
    pub x_mm: Option<f64>,
    pub y_mm: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Grey conversion and letterbox (WGSL shader on the GPU path).
    pub preprocess: f64,
    /// Network forward pass, softmax and read-back of the heatmaps.
    pub forward: f64,
    /// Sub-pixel argmax and mapping back to original pixels.
    pub decode: f64,
    pub total: f64,
}

/// The result of one detection (schema `fairmark.detect/1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub schema: String,
    pub width: usize,
    pub height: usize,
    /// What ran: "webgpu", "wgpu" or "cpu".
    pub backend: String,
    /// "gpu-shader" or "cpu".
    pub preprocess: String,
    pub method: String,
    /// Spacing used for mm values: given, or the hand wrist convention.
    pub mm_per_px: Option<f64>,
    pub landmarks: Vec<Landmark>,
    pub measurements: Option<Measurements>,
    pub timings_ms: Timings,
}

/// What runs the detection.
pub struct Engine<'a> {
    pub model: &'a Detector,
    pub spec: &'a ModelSpec,
    pub device: &'a Device,
    /// Name of the backend for the report.
    pub backend: &'a str,
    /// The WGSL preprocessing on the model's GPU, when it runs on one.
    pub gpu: Option<&'a GpuLetterbox>,
}

/// Letterboxes the image into the model input on the GPU when one is given
/// (falling back to the CPU if the shader path fails), else on the CPU.
pub async fn preprocess(
    pixels: &Pixels<'_>,
    lb: &Letterbox,
    gpu: Option<&GpuLetterbox>,
) -> Result<(GreyImage, &'static str), String> {
    if let (
        Pixels::Bytes {
            data,
            width,
            height,
        },
        Some(g),
    ) = (pixels, gpu)
    {
        if let Ok(img) = g.apply(data, *width, *height, lb).await {
            return Ok((img, "gpu-shader"));
        }
    }
    let input = match pixels {
        Pixels::Grey(img) => lb.apply(img),
        Pixels::Bytes {
            data,
            width,
            height,
        } => lb.apply(&grey_from_bytes(data, *width, *height).map_err(|e| e.to_string())?),
    };
    Ok((input.map_err(|e| e.to_string())?, "cpu"))
}

/// Detects the landmarks of one image. `attributes` are group indices (see
/// `AttributeSpace::parse_map`; unknown where not given); `mm_per_px` the
/// image's pixel spacing, if known.
pub async fn detect(
    engine: &Engine<'_>,
    pixels: Pixels<'_>,
    attributes: &[usize],
    mm_per_px: Option<f64>,
) -> Result<Detection, String> {
    if let Some(m) = mm_per_px {
        if !(m.is_finite() && m > 0.0) {
            return Err(format!("mm per pixel must be a positive number, got {m}"));
        }
    }
    let spec = engine.spec;
    if attributes.len() != spec.attributes.names.len() {
        return Err(format!(
            "{} attribute values given, the model knows {}",
            attributes.len(),
            spec.attributes.names.len()
        ));
    }
    let t0 = Instant::now();
    let (width, height) = pixels.size();
    let [h, w] = spec.detector.input_size;
    let lb = Letterbox::new(width, height, w, h).map_err(|e| e.to_string())?;
    let (input, preprocess_path) = preprocess(&pixels, &lb, engine.gpu).await?;
    let t1 = Instant::now();

    let x = Tensor::<4>::from_data(TensorData::new(input.data, [1, 1, h, w]), engine.device);
    let attrs = attribute_tensor(&[attributes.to_vec()], engine.device);
    let maps = engine.model.forward(x, Some(attrs)).heatmaps;
    let k = spec.detector.n_landmarks;
    // Softmax over space makes logits and similarity maps alike positive, so
    // the log-parabola refinement applies to both (as in training's evaluation).
    let probs = softmax(maps.reshape([1, k, h * w]), 2);
    let data: Vec<f32> = probs
        .into_data_async()
        .await
        .map_err(|e| format!("reading the heatmaps back failed: {e:?}"))?
        .try_to_vec::<f32>()
        .map_err(|e| format!("{e:?}"))?;
    let t2 = Instant::now();

    let points = to_original(&decode_batch(&data, 1, k, h, w)[0], &lb);
    let mm_per_px = mm_per_px.or_else(|| {
        (spec.anatomy == Some(Anatomy::Hand))
            .then(|| hand_mm_per_px(&points))
            .flatten()
    });
    let measurements = match spec.anatomy {
        Some(a) => Some(measure(a, &points, mm_per_px).map_err(|e| e.to_string())?),
        None => None,
    };
    let landmarks = points
        .iter()
        .zip(&spec.landmark_names)
        .enumerate()
        .map(|(i, (p, name))| Landmark {
            keypoint: i + 1,
            name: name.clone(),
            x: p[0],
            y: p[1],
            x_mm: mm_per_px.map(|m| p[0] * m),
            y_mm: mm_per_px.map(|m| p[1] * m),
        })
        .collect();
    let t3 = Instant::now();
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
    Ok(Detection {
        schema: DETECT_SCHEMA.into(),
        width,
        height,
        backend: engine.backend.into(),
        preprocess: preprocess_path.into(),
        method: spec.method.clone(),
        mm_per_px,
        landmarks,
        measurements,
        timings_ms: Timings {
            preprocess: ms(t0, t1),
            forward: ms(t1, t2),
            decode: ms(t2, t3),
            total: ms(t0, t3),
        },
    })
}
