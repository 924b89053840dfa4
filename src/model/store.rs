//! Weights as burnpack bytes: the same bytes load natively and in the browser.
use super::{Detector, DetectorConfig};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};

/// Weights bytes that cannot become (or be made from) a detector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    #[error("not a burnpack weights file: {0}")]
    NotBurnpack(String),
    #[error("weights do not fit the model configuration: {0}")]
    Mismatch(String),
    #[error("serialising weights: {0}")]
    Serialise(String),
}

pub fn to_bytes(model: &Detector) -> Result<Vec<u8>, WeightsError> {
    model
        .clone()
        .into_record()
        .into_bytes()
        .map(|b| b.to_vec())
        .map_err(|e| WeightsError::Serialise(format!("{e:?}")))
}

/// A detector of `config` with the weights in `bytes`; refuses weights that do
/// not fit the configuration (missing, extra or misshapen tensors).
pub fn from_bytes(
    config: &DetectorConfig,
    bytes: &[u8],
    device: &Device,
) -> Result<Detector, WeightsError> {
    // Half-precision files load into the f32 model.
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| WeightsError::NotBurnpack(format!("{e:?}")))?
        .cast_to_module_dtype();
    config
        .init(device)
        .try_load_record(record)
        .map_err(|e| WeightsError::Mismatch(format!("{e:?}")))
}

/// Casts every float parameter (for half-precision weights files).
struct CastFloats(burn::tensor::DType);

impl burn::module::ModuleMapper for CastFloats {
    fn map_float<const D: usize>(
        &mut self,
        param: burn::module::Param<burn::tensor::Tensor<D>>,
    ) -> burn::module::Param<burn::tensor::Tensor<D>> {
        let dtype = self.0;
        param.map(|t| t.cast(dtype))
    }
}

/// Burnpack bytes with every float parameter stored as f16 (half the size);
/// [`from_bytes`] casts them back to the model's precision.
pub fn to_bytes_f16(model: &Detector, config: &DetectorConfig) -> Result<Vec<u8>, WeightsError> {
    // Cast a copy rebuilt from bytes: a module clone shares its (lazily
    // initialised) parameters, and casting those would change `model` too.
    let device = model
        .devices()
        .into_iter()
        .next()
        .unwrap_or_else(Device::flex);
    let copy = from_bytes(config, &to_bytes(model)?, &device)?;
    to_bytes(&copy.map(&mut CastFloats(burn::tensor::DType::F16)))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::detector::Architecture;
    use crate::model::unet::UNetConfig;
    use burn::tensor::{Distribution, Tensor};

    #[test]
    fn half_precision_weights_are_half_the_size_and_load_back() {
        let device = Device::flex();
        let cfg = DetectorConfig::new(
            Architecture::Unet,
            3,
            [16, 16],
            UNetConfig::new().with_base_width(4).with_depth(2),
        );
        let model = cfg.init(&device);
        let (full, half) = (
            to_bytes(&model).unwrap(),
            to_bytes_f16(&model, &cfg).unwrap(),
        );
        // Tensor data halves; names and headers do not (large models approach 0.5).
        assert!(
            half.len() < full.len() * 3 / 4,
            "{} vs {}",
            half.len(),
            full.len()
        );
        let reloaded = from_bytes(&cfg, &half, &device).unwrap();
        let x = Tensor::<4>::random([1, 1, 16, 16], Distribution::Default, &device);
        let a: Vec<f32> = model
            .forward(x.clone(), None)
            .heatmaps
            .into_data()
            .try_to_vec()
            .unwrap();
        let b: Vec<f32> = reloaded
            .forward(x, None)
            .heatmaps
            .into_data()
            .try_to_vec()
            .unwrap();
        let diff = a
            .iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-2, "f16 changes outputs by {diff}");
        assert!(matches!(
            from_bytes(&cfg, b"not burnpack", &device),
            Err(WeightsError::NotBurnpack(_))
        ));
    }
}
