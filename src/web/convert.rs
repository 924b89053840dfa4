//! Checked conversions between JavaScript values and Rust: wrong types give
//! an error that names the argument and what was expected.
use js_sys::{ArrayBuffer, Reflect, Uint8Array, Uint8ClampedArray};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub fn err(msg: impl std::fmt::Display) -> JsError {
    JsError::new(&msg.to_string())
}

/// What kind of JS value `v` is, for error messages.
pub fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if v.is_array() {
        "an array".into()
    } else {
        v.js_typeof()
            .as_string()
            .unwrap_or_else(|| "unknown".into())
    }
}

/// Bytes from a Uint8Array, Uint8ClampedArray or ArrayBuffer (copied into
/// wasm memory once).
pub fn bytes(v: &JsValue, what: &str) -> Result<Vec<u8>, JsError> {
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        Ok(a.to_vec())
    } else if let Some(a) = v.dyn_ref::<Uint8ClampedArray>() {
        Ok(a.to_vec())
    } else if let Some(b) = v.dyn_ref::<ArrayBuffer>() {
        Ok(Uint8Array::new(b).to_vec())
    } else {
        Err(err(format!(
            "{what} must be a Uint8Array, Uint8ClampedArray or ArrayBuffer, got {}",
            type_name(v)
        )))
    }
}

/// The length of a byte argument, without copying it into wasm memory (so a
/// buffer can be refused by its size first); the same types as [`bytes`].
pub fn byte_length(v: &JsValue, what: &str) -> Result<usize, JsError> {
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        Ok(a.length() as usize)
    } else if let Some(a) = v.dyn_ref::<Uint8ClampedArray>() {
        Ok(a.length() as usize)
    } else if let Some(b) = v.dyn_ref::<ArrayBuffer>() {
        Ok(b.byte_length() as usize)
    } else {
        Err(err(format!(
            "{what} must be a Uint8Array, Uint8ClampedArray or ArrayBuffer, got {}",
            type_name(v)
        )))
    }
}

/// A positive integer (image sizes, indices).
pub fn count(v: &JsValue, what: &str, min: f64) -> Result<usize, JsError> {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x >= min && x <= 1e9 => Ok(x as usize),
        Some(x) => Err(err(format!("{what} must be an integer ≥ {min}, got {x}"))),
        None => Err(err(format!(
            "{what} must be a number, got {}",
            type_name(v)
        ))),
    }
}

/// A string argument.
pub fn string(v: &JsValue, what: &str) -> Result<String, JsError> {
    v.as_string()
        .ok_or_else(|| err(format!("{what} must be a string, got {}", type_name(v))))
}

/// Field `key` of an options object (undefined when the object or the field
/// is absent).
pub fn field(obj: &JsValue, key: &str) -> Result<JsValue, JsError> {
    if obj.is_undefined() || obj.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    if !obj.is_object() {
        return Err(err(format!(
            "options must be an object, got {}",
            type_name(obj)
        )));
    }
    Reflect::get(obj, &JsValue::from_str(key)).map_err(|_| err(format!("cannot read {key}")))
}

/// A JS value deserialised into `T`, with serde's message on mismatch. It
/// goes through JSON text because serde-wasm-bindgen reads only the fields a
/// struct names, so a misspelt option would be silently ignored.
pub fn from_js<T: DeserializeOwned>(v: JsValue, what: &str) -> Result<T, JsError> {
    let text: Option<String> = js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string());
    let text = text.ok_or_else(|| {
        err(format!(
            "{what}: expected JSON-like data, got {}",
            type_name(&v)
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| err(format!("{what}: {e}")))
}

/// A Rust value as a plain JS object (maps become objects, not `Map`s).
pub fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| err(format!("cannot return the result: {e}")))
}
