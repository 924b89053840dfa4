//! Synthetic X-rays rendered in the page (no sample files to ship), the mean
//! anatomy for drawing per-keypoint results, and measurements after a
//! landmark is moved by hand.
use super::convert::{count, err, field, from_js, string, to_js};
use crate::data::phantom::{groups::GroupSpec, render, PhantomConfig};
use crate::data::shape_model::mean_landmarks_in_box;
use crate::data::Anatomy;
use crate::measure::measure as measure_points;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

fn anatomy(v: &JsValue) -> Result<Anatomy, JsError> {
    let s = string(v, "anatomy")?;
    Anatomy::parse(&s).ok_or_else(|| err(format!("anatomy {s:?}: expected \"ceph\" or \"hand\"")))
}

/// Phantom number `index` (0-based) of the set `{seed, groups, width,
/// height}` (as `fairmark synth`): `{image, width, height, pixels (grey
/// Uint8Array), landmarks, attributes, mm_per_px, landmark_names}`.
#[wasm_bindgen(js_name = renderPhantom)]
pub fn render_phantom(
    anatomy_name: JsValue,
    index: JsValue,
    options: JsValue,
) -> Result<JsValue, JsError> {
    let an = anatomy(&anatomy_name)?;
    let index = count(&index, "index", 0.0)?;
    let mut cfg = PhantomConfig::new(an);
    cfg.n = index + 1;
    let seed = field(&options, "seed")?;
    if !seed.is_undefined() {
        cfg.seed = count(&seed, "seed", 0.0)? as u64;
    }
    let groups = field(&options, "groups")?;
    if !groups.is_undefined() {
        cfg.groups = GroupSpec::parse(an, &[string(&groups, "groups")?]).map_err(err)?;
    }
    for (key, slot) in [("width", &mut cfg.width), ("height", &mut cfg.height)] {
        let v = field(&options, key)?;
        if !v.is_undefined() {
            *slot = count(&v, key, 1.0)?.min(u32::MAX as usize) as u32;
        }
    }
    cfg.validate().map_err(err)?;
    let (img, sample) = render(&cfg, index).map_err(err)?;
    let out = to_js(&serde_json::json!({
        "image": sample.image,
        "width": img.width(),
        "height": img.height(),
        "landmarks": sample.landmarks,
        "attributes": sample.attributes,
        "mm_per_px": sample.mm_per_px,
        "landmark_names": an.landmark_names(),
    }))?;
    Reflect::set(
        &out,
        &"pixels".into(),
        &Uint8Array::from(img.as_raw().as_slice()),
    )
    .map_err(|_| err("cannot return the pixels"))?;
    Ok(out)
}

/// The anatomy's mean landmark positions in a `width × height` box (default
/// 400 × 500): `{landmark_names, points, width, height}`.
#[wasm_bindgen(js_name = meanShape)]
pub fn mean_shape(
    anatomy_name: JsValue,
    width: JsValue,
    height: JsValue,
) -> Result<JsValue, JsError> {
    let an = anatomy(&anatomy_name)?;
    let size = |v: &JsValue, what, default| {
        if v.is_undefined() {
            Ok(default)
        } else {
            count(v, what, 1.0)
        }
    };
    let (w, h) = (size(&width, "width", 400)?, size(&height, "height", 500)?);
    to_js(&serde_json::json!({
        "landmark_names": an.landmark_names(),
        "points": mean_landmarks_in_box(an, w as f64, h as f64),
        "width": w,
        "height": h,
    }))
}

/// Measurements from `points` (`[[x, y], …]` in pixels, the anatomy's
/// landmark order) with `mmPerPx` (null: hands use the wrist convention, ceph
/// gives null).
#[wasm_bindgen]
pub fn measure(
    anatomy_name: JsValue,
    points: JsValue,
    mm_per_px: JsValue,
) -> Result<JsValue, JsError> {
    let an = anatomy(&anatomy_name)?;
    let points: Vec<[f64; 2]> = from_js(points, "points (an array of [x, y])")?;
    let mm = if mm_per_px.is_undefined() || mm_per_px.is_null() {
        None
    } else {
        Some(
            mm_per_px
                .as_f64()
                .ok_or_else(|| err("mmPerPx must be a number or null"))?,
        )
    };
    to_js(&measure_points(an, &points, mm).map_err(err)?)
}
