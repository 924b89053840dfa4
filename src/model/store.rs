//! Weights as burnpack bytes: the same bytes load natively and in the browser.
use super::{Detector, DetectorConfig};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};

pub fn to_bytes(model: &Detector) -> Result<Vec<u8>, String> {
    model
        .clone()
        .into_record()
        .into_bytes()
        .map(|b| b.to_vec())
        .map_err(|e| format!("serialising weights: {e:?}"))
}

/// A detector of `config` with the weights in `bytes`; refuses weights that do
/// not fit the configuration (missing, extra or misshapen tensors).
pub fn from_bytes(
    config: &DetectorConfig,
    bytes: &[u8],
    device: &Device,
) -> Result<Detector, String> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| format!("not a burnpack weights file: {e:?}"))?;
    config
        .init(device)
        .try_load_record(record)
        .map_err(|e| format!("weights do not fit the model configuration: {e:?}"))
}
