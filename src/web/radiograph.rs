//! Image files opened in the page, DICOM included: `decodeRadiograph(bytes)`
//! gives the page what to draw and the file's own spacing;
//! `Model.detectFile` (in `model.rs`) detects on the same decoded image, as
//! `fairmark detect FILE` does. The bytes stay in this tab: decoding happens
//! here, in wasm.
use super::convert::{byte_length, bytes, err, to_js};
use crate::data::formats::image_io::{decode_radiograph, Radiograph, MAX_IMAGE_FILE_BYTES};
use js_sys::{Object, Reflect, Uint8Array};
use std::path::Path;
use wasm_bindgen::prelude::*;

/// Decodes a file's bytes (DICOM, PNG, JPEG, BMP, TIFF) with the core's
/// limits: at most `MAX_IMAGE_FILE_BYTES` of file and `maxPixels()` pixels.
pub(crate) fn radiograph_of(file: &JsValue, name: &str) -> Result<Radiograph, JsError> {
    let len = byte_length(file, "file")?;
    if len as u64 > MAX_IMAGE_FILE_BYTES {
        return Err(err(format!(
            "{name}: the file is {} MiB, more than the limit of {} MiB for an image",
            len >> 20,
            MAX_IMAGE_FILE_BYTES >> 20
        )));
    }
    let data = bytes(file, "file")?;
    decode_radiograph(
        &data,
        Path::new(name),
        crate::data::formats::image_io::DEFAULT_MAX_PIXELS,
    )
    .map_err(err)
}

/// `decodeRadiograph(bytes, name?)` → `{width, height, pixels, spacing,
/// dicom}`: `pixels` 8-bit grey for drawing (the DICOM window and
/// MONOCHROME1 inversion applied), `spacing` `{mm_per_px, source}` as the
/// file states it or null, `dicom` what the file said about its pixels
/// (transfer syntax, photometric, bits, rescale, VOI; never a patient
/// attribute) or null for PNG/JPEG.
#[wasm_bindgen(js_name = decodeRadiograph)]
pub fn decode_radiograph_js(file: JsValue, name: JsValue) -> Result<JsValue, JsError> {
    let name = name.as_string().unwrap_or_else(|| "<file>".into());
    let r = radiograph_of(&file, &name)?;
    let out = Object::new();
    let set = |k: &str, v: &JsValue| Reflect::set(&out, &k.into(), v).map(|_| ());
    let fail = |_| err("cannot build the result object");
    set("width", &(r.image.width as f64).into()).map_err(fail)?;
    set("height", &(r.image.height as f64).into()).map_err(fail)?;
    let px = r.image.to_u8();
    set("pixels", &Uint8Array::from(&px[..]).into()).map_err(fail)?;
    drop(px);
    set("spacing", &to_js(&r.spacing)?).map_err(fail)?;
    set("dicom", &to_js(&r.dicom)?).map_err(fail)?;
    Ok(out.into())
}
