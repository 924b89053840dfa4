//! One image → a [`Detection`]: letterbox → forward → asynchronous read-back →
//! sub-pixel decode → (coarse-to-fine models: patches around each point →
//! refinement → read-back →) landmarks in original pixels, spacing and
//! measurements. `fairmark detect`, the browser and the tests all run this.
//! Read-back is asynchronous only, because a synchronous read panics on WebGPU.
use super::{Detection, DetectionContext, ImageInfo, ModelInfo, Preprocess, Spreads, Timings};
use crate::data::preprocess::letterbox::Letterbox;
use crate::data::preprocess::patch::PatchSource;
use crate::data::preprocess::pixels::grey_from_bytes;
use crate::data::GreyImage;
use crate::gpu::GpuLetterbox;
use crate::measure::MeasurementError;
use crate::model::attributes::{attribute_tensor, AttributeError};
use crate::model::decode::{decode_batch, spreads, to_original};
use crate::model::refiner::RefineBatch;
use crate::model::Landmarker;
use burn::tensor::activation::softmax;
use burn::tensor::{Tensor, TensorData};
use std::collections::BTreeMap;
use web_time::Instant;

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

/// What the caller knows about the image.
#[derive(Clone, Debug, Default)]
pub struct DetectOptions {
    /// Attribute name → group, for models that take attributes; absent = unknown.
    pub attributes: BTreeMap<String, String>,
    /// Pixel spacing of the image, if known (see `measure::spacing`).
    pub mm_per_px: Option<f64>,
    /// File name for the document.
    pub image_name: Option<String>,
    /// The spacing the image file states (a DICOM file's), used when
    /// `mm_per_px` is not given; kept in the document's `image.spacing`.
    pub file_spacing: Option<crate::measure::Spacing>,
}

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(transparent)]
    Attributes(#[from] AttributeError),
    #[error("image: {0}")]
    Image(String),
    #[error("reading the heatmaps back failed: {0}")]
    ReadBack(String),
    #[error(transparent)]
    Measurement(#[from] MeasurementError),
}

/// Letterboxes the image into the model input on the GPU when one is given
/// (falling back to the CPU if the shader path fails), else on the CPU.
pub async fn preprocess(
    pixels: &Pixels<'_>,
    lb: &Letterbox,
    gpu: Option<&GpuLetterbox>,
) -> Result<(GreyImage, Preprocess), DetectError> {
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
            return Ok((img, Preprocess::GpuShader));
        }
    }
    let image_error = |e: crate::data::DataError| DetectError::Image(e.to_string());
    let input = match pixels {
        Pixels::Grey(img) => lb.apply(img),
        Pixels::Bytes {
            data,
            width,
            height,
        } => lb.apply(&grey_from_bytes(data, *width, *height).map_err(image_error)?),
    };
    Ok((input.map_err(image_error)?, Preprocess::Cpu))
}

/// The full-resolution image for the refinement stage's patches.
fn patch_source(pixels: &Pixels<'_>, step: f64) -> Result<PatchSource, DetectError> {
    Ok(match pixels {
        Pixels::Grey(img) => PatchSource::new(img, step),
        Pixels::Bytes {
            data,
            width,
            height,
        } => PatchSource::new(
            &grey_from_bytes(data, *width, *height)
                .map_err(|e| DetectError::Image(e.to_string()))?,
            step,
        ),
    })
}

impl Landmarker {
    /// Detects the landmarks of one image.
    pub async fn detect(
        &self,
        pixels: Pixels<'_>,
        options: &DetectOptions,
    ) -> Result<Detection, DetectError> {
        let spec = self.spec();
        let runtime = self.runtime();
        let attributes = spec.config.attributes.parse_map(&options.attributes)?;
        if let Some(m) = options.mm_per_px {
            crate::measure::spacing::check_spacing(m)?;
        }
        let t0 = Instant::now();
        let (width, height) = pixels.size();
        let (w, h) = spec.config.detector.input_wh();
        let lb =
            Letterbox::new(width, height, w, h).map_err(|e| DetectError::Image(e.to_string()))?;
        // The refinement stage cuts its patches from the full-resolution grey
        // image, which the CPU letterbox also starts from: convert it once.
        let grey;
        let pixels = match pixels {
            Pixels::Bytes {
                data,
                width,
                height,
            } if spec.config.detector.refine.is_some() && runtime.gpu_letterbox.is_none() => {
                grey = grey_from_bytes(data, width, height)
                    .map_err(|e| DetectError::Image(e.to_string()))?;
                Pixels::Grey(&grey)
            }
            other => other,
        };
        let (input, preprocess) =
            preprocess(&pixels, &lb, runtime.gpu_letterbox.as_deref()).await?;
        let t1 = Instant::now();

        let device = &runtime.device;
        let x = Tensor::<4>::from_data(TensorData::new(input.data, [1, 1, h, w]), device);
        let attrs = attribute_tensor(&[attributes], device);
        let maps = self.net().forward(x, Some(attrs)).heatmaps;
        let k = spec.config.detector.n_landmarks;
        // Softmax over space makes logits and similarity maps alike positive, so
        // the log-parabola refinement applies to both (as in training's evaluation).
        let probs = softmax(maps.reshape([1, k, h * w]), 2);
        let data: Vec<f32> = probs
            .into_data_async()
            .await
            .map_err(|e| DetectError::ReadBack(format!("{e:?}")))?
            .try_to_vec::<f32>()
            .map_err(|e| DetectError::ReadBack(format!("{e:?}")))?;

        let coarse = decode_batch(&data, 1, k, h, w).remove(0);
        // The model's own uncertainty per landmark, in original pixels.
        let mut spread: Vec<Spreads> = spreads(&data, 0, k, h, w, &coarse)
            .into_iter()
            .map(|s| Spreads {
                coarse_px: s / lb.scale,
                fine_px: None,
                shift_px: None,
            })
            .collect();
        let mut points = to_original(&coarse, &lb);
        if let (Some(refiner), Some(cfg)) = (self.net().refiner(), &spec.config.detector.refine) {
            let source = patch_source(&pixels, cfg.step(lb.scale))?;
            let batch = RefineBatch::new(&source, &points, cfg, lb.scale);
            let probs: Vec<f32> = refiner
                .probabilities(&batch, device)
                .into_data_async()
                .await
                .map_err(|e| DetectError::ReadBack(format!("{e:?}")))?
                .try_to_vec::<f32>()
                .map_err(|e| DetectError::ReadBack(format!("{e:?}")))?;
            let refined = batch.decode(&probs);
            for ((s, fine), (c, r)) in spread
                .iter_mut()
                .zip(batch.spreads(&probs, &refined))
                .zip(points.iter().zip(&refined))
            {
                s.fine_px = Some(fine);
                s.shift_px = Some((r[0] - c[0]).hypot(r[1] - c[1]));
            }
            points = refined;
        }
        // `forward` covers both stages.
        let t2 = Instant::now();
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        let context = DetectionContext {
            image: ImageInfo {
                name: options.image_name.clone(),
                width,
                height,
                spacing: options.file_spacing,
            },
            model: ModelInfo {
                name: spec.name.clone(),
                method: spec.method.clone(),
                anatomy: spec.anatomy,
                sha256: spec.sha256.clone(),
            },
            backend: runtime.backend,
            preprocess,
            attributes: options.attributes.clone(),
            timings_ms: Timings {
                preprocess: ms(t0, t1),
                forward: ms(t1, t2),
                decode: 0.0,
                total: 0.0,
            },
        };
        let mut det = Detection::new(context, &spec.landmark_names, &points, options.mm_per_px)?
            .with_spreads(&spread);
        let t3 = Instant::now();
        det.timings_ms.decode = ms(t2, t3);
        det.timings_ms.total = ms(t0, t3);
        Ok(det)
    }
}
