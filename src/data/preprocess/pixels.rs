//! Raw 8-bit pixels (a browser canvas gives RGBA, a grey buffer gives one
//! byte per pixel) → the grey image the models read, values in [0, 1].
use crate::data::error::{DataError, Result};
use crate::data::formats::image_io::{check_pixel_count, DEFAULT_MAX_PIXELS};
use crate::data::GreyImage;

/// Rec. 709 luma of an RGB triple in [0, 1]: radiographs exported as RGB are
/// grey in all three channels, so the weights only matter for colour overlays.
/// `shaders/letterbox.wgsl` uses the same weights.
pub fn luma709(r: f32, g: f32, b: f32) -> f32 {
    (0.2126 * r + 0.7152 * g + 0.0722 * b).clamp(0.0, 1.0)
}

/// Bytes per pixel of a `width × height` buffer of `len` bytes: 1 (grey) or 4
/// (RGBA, alpha ignored), or an error naming the sizes that would fit.
///
/// Sizes over [`DEFAULT_MAX_PIXELS`] are refused first, as for decoded files:
/// the browser hands over a canvas of any size, and the grey copy of it would
/// take four bytes per pixel in wasm memory.
pub fn channels_of(len: usize, width: usize, height: usize) -> Result<usize> {
    check_pixel_count(width as u64, height as u64, DEFAULT_MAX_PIXELS)
        .map_err(DataError::Invalid)?;
    let n = width
        .checked_mul(height)
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            DataError::Invalid(format!("image size {width}x{height} is empty or too large"))
        })?;
    match len {
        l if l == n => Ok(1),
        l if Some(l) == n.checked_mul(4) => Ok(4),
        l => Err(DataError::Invalid(format!(
            "{l} pixel bytes do not fit a {width}x{height} image: expected {n} (grey) or {} (RGBA)",
            n.saturating_mul(4)
        ))),
    }
}

/// Grey image from 8-bit grey or RGBA pixels, row-major.
pub fn grey_from_bytes(pixels: &[u8], width: usize, height: usize) -> Result<GreyImage> {
    let data = match channels_of(pixels.len(), width, height)? {
        1 => pixels.iter().map(|&v| v as f32 / 255.0).collect(),
        _ => pixels
            .chunks_exact(4)
            .map(|p| {
                luma709(
                    p[0] as f32 / 255.0,
                    p[1] as f32 / 255.0,
                    p[2] as f32 / 255.0,
                )
            })
            .collect(),
    };
    GreyImage::new(width, height, data)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn grey_and_rgba_give_the_same_image() {
        let grey = [0u8, 128, 255, 7, 9, 200];
        let rgba: Vec<u8> = grey.iter().flat_map(|&v| [v, v, v, 255]).collect();
        let a = grey_from_bytes(&grey, 3, 2).unwrap();
        let b = grey_from_bytes(&rgba, 3, 2).unwrap();
        for (x, y) in a.data.iter().zip(&b.data) {
            assert!((x - y).abs() < 1e-6, "{x} vs {y}");
        }
        assert_eq!(a.data[2], 1.0);
    }

    #[test]
    fn luma_weights_are_rec709() {
        let img = grey_from_bytes(&[255, 0, 0, 255, 0, 255, 0, 0], 2, 1).unwrap();
        assert!((img.data[0] - 0.2126).abs() < 1e-6);
        assert!((img.data[1] - 0.7152).abs() < 1e-6);
    }

    #[test]
    fn wrong_sizes_are_named() {
        let e = grey_from_bytes(&[0; 10], 3, 2).unwrap_err().to_string();
        assert!(e.contains("expected 6 (grey) or 24 (RGBA)"), "{e}");
        assert!(grey_from_bytes(&[], 0, 2).is_err());
        assert!(channels_of(1, usize::MAX, 3).is_err());
    }

    /// A canvas over the pixel cap is refused by its size alone, whatever the
    /// buffer holds, with the words of the file decoder.
    #[test]
    fn sizes_over_the_cap_are_refused() {
        let e = channels_of(12, 100_000, 100_000).unwrap_err().to_string();
        assert_eq!(
            e,
            "100000x100000 = 10000000000 pixels exceeds the limit of 64000000"
        );
        let side = (DEFAULT_MAX_PIXELS as f64).sqrt() as usize; // 8000
        assert_eq!(channels_of(side * side, side, side).unwrap(), 1);
        assert!(channels_of(side * (side + 1), side + 1, side).is_err());
        let e = channels_of(1, usize::MAX, usize::MAX)
            .unwrap_err()
            .to_string();
        assert!(e.contains("exceeds the limit"), "{e}");
    }
}
