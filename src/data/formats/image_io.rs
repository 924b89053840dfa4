//! Decoding radiographs into one in-memory form: a grey image of `f32` in [0, 1].
//!
//! X-rays come as 8- or 16-bit grey PNG, BMP (ISBI 2015), JPEG or TIFF,
//! sometimes as RGB exports of a grey image, and as DICOM (recognised by its
//! "DICM" marker whatever the file is called; [`super::dicom`]). Everything is reduced to luminance
//! and normalised by the sample type's full range, so a 16-bit value keeps its
//! precision (40000 becomes 40000/65535, not 156/255).
//!
//! Decoding is a pure function of the bytes and works in wasm; only
//! [`load_image`] touches the file system.
use crate::data::error::{DataError, Result};
use crate::data::formats::dicom::{decode_dicom, is_dicom, DicomInfo};
use crate::data::preprocess::luma709;
use crate::measure::Spacing;
use image::{DynamicImage, ImageReader, Limits};
use std::io::Cursor;
use std::path::Path;

/// Largest image accepted by default, in pixels. The biggest radiographs in
/// the supported data sets are ~5 Mpx (ISBI 1935×2400, DHA up to ~2500×2000),
/// so 64 Mpx leaves room for high-resolution scans while refusing a
/// decompression bomb before it allocates gigabytes. The one definition of
/// the cap: canvas pixels (`data::preprocess::pixels::channels_of`), phantoms
/// and the browser (`maxPixels()` in JavaScript) use it too.
pub const DEFAULT_MAX_PIXELS: u64 = 64_000_000;

/// Refuses a `width × height` image over `max_pixels`, saying so in the words
/// every caller uses (file decoding, canvas pixels from the browser, phantom
/// rendering), before anything is allocated for it.
pub fn check_pixel_count(
    width: u64,
    height: u64,
    max_pixels: u64,
) -> std::result::Result<(), String> {
    match width.checked_mul(height) {
        Some(pixels) if pixels <= max_pixels => Ok(()),
        Some(pixels) => Err(format!(
            "{width}x{height} = {pixels} pixels exceeds the limit of {max_pixels}"
        )),
        None => Err(format!(
            "{width}x{height} pixels exceeds the limit of {max_pixels}"
        )),
    }
}

/// A grey image, row-major, values in [0, 1]. Pixel `(x, y)` is at
/// `data[y * width + x]`; in continuous coordinates its centre is at `(x, y)`
/// (the convention landmark annotations use).
#[derive(Clone, Debug, PartialEq)]
pub struct GreyImage {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl GreyImage {
    /// Checks that `data` holds `width × height` values.
    pub fn new(width: usize, height: usize, data: Vec<f32>) -> Result<Self> {
        if width.checked_mul(height) != Some(data.len()) {
            return Err(DataError::Invalid(format!(
                "grey image {width}x{height} needs {} values, got {}",
                width.saturating_mul(height),
                data.len()
            )));
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// A black image.
    pub fn zeros(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    /// Value at integer pixel `(x, y)`, `None` outside the image.
    pub fn get(&self, x: usize, y: usize) -> Option<f32> {
        if x < self.width && y < self.height {
            self.data.get(y * self.width + x).copied()
        } else {
            None
        }
    }

    /// Whether `data` holds exactly `width × height` values.
    pub fn is_consistent(&self) -> bool {
        self.width.checked_mul(self.height) == Some(self.data.len())
    }

    /// Bilinear sample at continuous `(x, y)` (pixel centres at integers).
    /// Outside the image, returns `outside`; within half a pixel of the border
    /// the edge value is used, so the image does not darken at its rim.
    pub fn bilinear(&self, x: f64, y: f64, outside: f32) -> f32 {
        let (w, h) = (self.width as f64, self.height as f64);
        // The fields are public, so a hand-built image may be inconsistent:
        // sample nothing rather than index out of bounds.
        if self.data.is_empty()
            || self.data.len() != self.width * self.height
            || !(x >= -0.5 && x <= w - 0.5 && y >= -0.5 && y <= h - 0.5)
        {
            return outside;
        }
        let x = x.clamp(0.0, w - 1.0);
        let y = y.clamp(0.0, h - 1.0);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
        let at = |xx: usize, yy: usize| self.data[yy * self.width + xx];
        let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
        let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    pub fn mean(&self) -> f64 {
        if self.data.is_empty() {
            return 0.0;
        }
        self.data.iter().map(|&v| v as f64).sum::<f64>() / self.data.len() as f64
    }

    pub fn std(&self) -> f64 {
        if self.data.is_empty() {
            return 0.0;
        }
        let m = self.mean();
        let var = self
            .data
            .iter()
            .map(|&v| (v as f64 - m).powi(2))
            .sum::<f64>()
            / self.data.len() as f64;
        var.sqrt()
    }

    /// 8-bit grey values (clamped to [0, 1], rounded), row-major.
    pub fn to_u8(&self) -> Vec<u8> {
        self.data
            .iter()
            .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect()
    }

    /// Encodes as an 8-bit grey PNG (values clamped to [0, 1], rounded).
    pub fn to_png_bytes(&self) -> Result<Vec<u8>> {
        let px = self.to_u8();
        let buf = image::GrayImage::from_raw(self.width as u32, self.height as u32, px)
            .ok_or_else(|| DataError::Invalid("image too large to encode".into()))?;
        let mut out = Cursor::new(Vec::new());
        buf.write_to(&mut out, image::ImageFormat::Png)
            .map_err(|e| DataError::Invalid(format!("cannot encode PNG: {e}")))?;
        Ok(out.into_inner())
    }
}

/// Decodes image bytes (format guessed from the content) with the default
/// pixel limit. Errors name the source as `<memory>`.
pub fn decode_image(bytes: &[u8]) -> Result<GreyImage> {
    decode_image_named(bytes, Path::new("<memory>"), DEFAULT_MAX_PIXELS)
}

/// An image file decoded, with what the file says about its scale: the
/// one result every reader of image files shares (`fairmark detect`, the
/// page's `Model.detectFile`, the data set readers through [`load_image`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Radiograph {
    pub image: GreyImage,
    /// The file's own pixel spacing (DICOM only; PNG/JPEG state none).
    pub spacing: Option<Spacing>,
    /// What a DICOM file said about its pixels; `None` for other formats.
    pub dicom: Option<DicomInfo>,
}

/// Decodes image or DICOM bytes into a [`Radiograph`], refusing images over
/// `max_pixels` by their declared size; `name` only labels errors.
pub fn decode_radiograph(bytes: &[u8], name: &Path, max_pixels: u64) -> Result<Radiograph> {
    if is_dicom(bytes) {
        let d = decode_dicom(bytes, max_pixels).map_err(|source| DataError::Dicom {
            path: name.to_path_buf(),
            source,
        })?;
        return Ok(Radiograph {
            image: d.image,
            spacing: d.spacing,
            dicom: Some(d.info),
        });
    }
    Ok(Radiograph {
        image: decode_pixels(bytes, name, max_pixels)?,
        spacing: None,
        dicom: None,
    })
}

/// Decodes image bytes (DICOM included, its spacing dropped), refusing
/// images over `max_pixels`; `name` only labels errors (the file the bytes
/// came from).
pub fn decode_image_named(bytes: &[u8], name: &Path, max_pixels: u64) -> Result<GreyImage> {
    Ok(decode_radiograph(bytes, name, max_pixels)?.image)
}

/// PNG, JPEG, BMP or TIFF bytes to grey.
fn decode_pixels(bytes: &[u8], name: &Path, max_pixels: u64) -> Result<GreyImage> {
    let err = |problem: String| DataError::Image {
        path: name.to_path_buf(),
        problem,
    };
    let reader = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| err(e.to_string()))
    };
    // PNG and BMP state their size at a fixed place: read it there first.
    // On 32-bit wasm their decoders refuse a header whose pixel buffer would
    // not fit the address space with their own words ("Memory limit
    // exceeded"); this way a bomb is refused with the same message on every
    // target. The decoder's header read below still checks everything else.
    if let Some((w, h)) = declared_size(bytes) {
        check_pixel_count(w.into(), h.into(), max_pixels).map_err(err)?;
    }
    let probe = reader()?;
    if probe.format().is_none() {
        return Err(err(
            "not a recognised image (PNG, JPEG, BMP, TIFF, DICOM)".into()
        ));
    }
    // The header is read first so that an oversized image is refused by its
    // declared size, before any pixel buffer exists.
    let (w, h) = probe
        .into_dimensions()
        .map_err(|e| err(format!("bad header: {e}")))?;
    check_pixel_count(w.into(), h.into(), max_pixels).map_err(err)?;
    if w == 0 || h == 0 {
        return Err(err("image has no pixels".into()));
    }
    let mut limits = Limits::default();
    // 16-bit RGBA is 8 bytes per pixel; decoders may also need scratch space.
    limits.max_alloc = Some(max_pixels.saturating_mul(16).max(1 << 20));
    let mut rd = reader()?;
    rd.limits(limits);
    let img = rd.decode().map_err(|e| err(e.to_string()))?;
    Ok(to_grey(img))
}

/// Width and height as a PNG's IHDR chunk or a BMP's info header declare
/// them (absolute values: BMP stores top-down images with a negative
/// height), or `None` for other formats and headers too short to hold them.
fn declared_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let be = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let le = |at: usize| Some(i32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16) == Some(b"IHDR") {
        return Some((be(16)?, be(20)?));
    }
    // BITMAPINFOHEADER and its successors (40 bytes or more); the old
    // 12-byte core header stores 16-bit sizes, which cannot exceed the cap.
    if bytes.starts_with(b"BM") && le(14)? >= 40 {
        return Some((le(18)?.unsigned_abs(), le(22)?.unsigned_abs()));
    }
    None
}

/// Luminance with the Rec. 709 weights: radiographs exported as RGB are grey
/// in all three channels, so the weights only matter for colour overlays.
fn to_grey(img: DynamicImage) -> GreyImage {
    let (width, height) = (img.width() as usize, img.height() as usize);
    let data = match img {
        DynamicImage::ImageLuma8(b) => b.into_raw().into_iter().map(|v| v as f32 / 255.0).collect(),
        DynamicImage::ImageLuma16(b) => b
            .into_raw()
            .into_iter()
            .map(|v| v as f32 / 65535.0)
            .collect(),
        DynamicImage::ImageLumaA8(b) => b
            .pixels()
            .map(|p| p.0[0] as f32 / 255.0)
            .collect::<Vec<_>>(),
        DynamicImage::ImageLumaA16(b) => b
            .pixels()
            .map(|p| p.0[0] as f32 / 65535.0)
            .collect::<Vec<_>>(),
        other => other
            .into_rgb32f()
            .pixels()
            .map(|p| luma709(p.0[0], p.0[1], p.0[2]))
            .collect(),
    };
    GreyImage {
        width,
        height,
        data,
    }
}

/// Reads and decodes an image file with the default pixel limit.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_image(path: &Path) -> Result<GreyImage> {
    load_image_with_limit(path, DEFAULT_MAX_PIXELS)
}

/// Largest image file read: the largest plain radiograph this project meets
/// (4000 × 5000 16-bit grey, uncompressed) is 40 MB.
pub const MAX_IMAGE_FILE_BYTES: u64 = 256 << 20;

/// Reads and decodes an image file, refusing images over `max_pixels`. The
/// file's size and the image header are checked before the file is read, so
/// a huge file or a small one declaring a huge image costs no memory.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_image_with_limit(path: &Path, max_pixels: u64) -> Result<GreyImage> {
    Ok(load_radiograph_with_limit(path, max_pixels)?.image)
}

/// Reads and decodes an image or DICOM file with the default pixel limit,
/// keeping what the file says about its scale.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_radiograph(path: &Path) -> Result<Radiograph> {
    load_radiograph_with_limit(path, DEFAULT_MAX_PIXELS)
}

/// [`load_radiograph`] with a pixel limit (see [`load_image_with_limit`]).
#[cfg(not(target_arch = "wasm32"))]
pub fn load_radiograph_with_limit(path: &Path, max_pixels: u64) -> Result<Radiograph> {
    let err = |problem: String| DataError::Image {
        path: path.to_path_buf(),
        problem,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| DataError::io(path, e))?
        .len();
    if len > MAX_IMAGE_FILE_BYTES {
        return Err(err(format!(
            "the file is {} MiB, more than the limit of {} MiB for an image",
            len >> 20,
            MAX_IMAGE_FILE_BYTES >> 20
        )));
    }
    if let Ok((w, h)) = image::image_dimensions(path) {
        check_pixel_count(w.into(), h.into(), max_pixels).map_err(err)?;
    }
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    decode_radiograph(&bytes, path, max_pixels)
}

/// Width and height of an image file, from its header only.
#[cfg(not(target_arch = "wasm32"))]
pub fn image_dimensions(path: &Path) -> Result<(u32, u32)> {
    image::image_dimensions(path).map_err(|e| DataError::Image {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// A file larger than any radiograph is refused by its size, before a
    /// byte of it is read (a sparse file: no disk or memory is spent).
    #[test]
    fn huge_files_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("huge.png");
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(MAX_IMAGE_FILE_BYTES + 1).unwrap();
        let e = load_image(&p).unwrap_err().to_string();
        assert!(
            e.contains("more than the limit") && e.contains("MiB"),
            "{e}"
        );
    }
    use image::{ImageBuffer, Luma, Rgb};

    fn png<P: image::PixelWithColorType>(buf: &ImageBuffer<P, Vec<P::Subpixel>>) -> Vec<u8>
    where
        [P::Subpixel]: image::EncodableLayout,
    {
        let mut out = Cursor::new(Vec::new());
        buf.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn eight_bit_png_round_trips() {
        let buf = ImageBuffer::from_fn(5, 3, |x, y| Luma([(x * 50 + y) as u8]));
        let g = decode_image(&png(&buf)).unwrap();
        assert_eq!((g.width, g.height), (5, 3));
        assert_eq!(g.get(4, 2), Some(202.0 / 255.0));
        let again = decode_image(&g.to_png_bytes().unwrap()).unwrap();
        assert_eq!(again, g);
    }

    #[test]
    fn sixteen_bit_png_keeps_precision() {
        let buf: ImageBuffer<Luma<u16>, Vec<u16>> =
            ImageBuffer::from_fn(4, 4, |x, _| Luma([if x == 1 { 40000 } else { 1 }]));
        let g = decode_image(&png(&buf)).unwrap();
        assert_eq!(g.get(1, 0), Some(40000.0 / 65535.0));
        assert_eq!(g.get(0, 0), Some(1.0 / 65535.0));
        assert!(g.get(0, 0).unwrap() > 0.0, "16-bit truncated to 8 bits");
    }

    #[test]
    fn rgb_becomes_luminance() {
        let buf = ImageBuffer::from_fn(2, 1, |x, _| {
            if x == 0 {
                Rgb([255u8, 255, 255])
            } else {
                Rgb([0, 255, 0])
            }
        });
        let g = decode_image(&png(&buf)).unwrap();
        assert!((g.data[0] - 1.0).abs() < 1e-6);
        assert!((g.data[1] - 0.7152).abs() < 1e-4);
    }

    #[test]
    fn bmp_and_tiff_decode() {
        let buf = ImageBuffer::from_fn(3, 2, |x, _| Luma([(x * 100) as u8]));
        for fmt in [image::ImageFormat::Bmp, image::ImageFormat::Tiff] {
            let mut out = Cursor::new(Vec::new());
            buf.write_to(&mut out, fmt).unwrap();
            let g = decode_image(out.get_ref()).unwrap();
            assert_eq!((g.width, g.height), (3, 2), "{fmt:?}");
            assert!((g.data[2] - 200.0 / 255.0).abs() < 1e-6, "{fmt:?}");
        }
    }

    #[test]
    fn truncated_png_is_an_error_naming_the_file() {
        let buf = ImageBuffer::from_fn(64, 64, |x, y| Luma([(x ^ y) as u8]));
        let bytes = png(&buf);
        let cut = &bytes[..bytes.len() / 2];
        let e = decode_image_named(cut, Path::new("scan.png"), DEFAULT_MAX_PIXELS).unwrap_err();
        assert!(matches!(e, DataError::Image { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with("scan.png: cannot read image"),
            "{e}"
        );
    }

    #[test]
    fn random_bytes_are_an_error() {
        let bytes: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let e = decode_image(&bytes).unwrap_err();
        assert!(matches!(e, DataError::Image { .. }), "{e:?}");
        assert!(decode_image(&[]).is_err());
        // A valid PNG signature followed by garbage.
        let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
        fake.extend_from_slice(&bytes[..100]);
        assert!(matches!(decode_image(&fake), Err(DataError::Image { .. })));
    }

    #[test]
    fn over_limit_is_refused() {
        let buf = ImageBuffer::from_fn(100, 100, |_, _| Luma([7u8]));
        let bytes = png(&buf);
        let e = decode_image_named(&bytes, Path::new("big.png"), 9_999).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("big.png") && msg.contains("exceeds the limit"),
            "{msg}"
        );
        assert!(decode_image_named(&bytes, Path::new("ok.png"), 10_000).is_ok());
    }

    /// A header declaring a huge PNG or BMP is refused by the size it
    /// declares, before any decoder runs: same words on every target.
    #[test]
    fn declared_sizes_are_read_from_png_and_bmp_headers() {
        let buf = ImageBuffer::from_fn(7, 5, |_, _| Luma([7u8]));
        assert_eq!(declared_size(&png(&buf)), Some((7, 5)));
        let mut bmp = Cursor::new(Vec::new());
        buf.write_to(&mut bmp, image::ImageFormat::Bmp).unwrap();
        assert_eq!(declared_size(bmp.get_ref()), Some((7, 5)));
        assert_eq!(declared_size(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(declared_size(b"BM"), None);
        // A top-down BMP stores a negative height.
        let mut top_down = bmp.into_inner();
        top_down[22..26].copy_from_slice(&(-60000i32).to_le_bytes());
        top_down[18..22].copy_from_slice(&60000i32.to_le_bytes());
        let e = decode_image(&top_down).unwrap_err().to_string();
        assert!(
            e.contains("60000x60000 = 3600000000 pixels exceeds the limit of 64000000"),
            "{e}"
        );
    }

    #[test]
    fn bilinear_interpolates_between_centres() {
        let g = GreyImage::new(2, 1, vec![0.0, 1.0]).unwrap();
        assert_eq!(g.bilinear(0.0, 0.0, -1.0), 0.0);
        assert!((g.bilinear(0.25, 0.0, -1.0) - 0.25).abs() < 1e-6);
        assert_eq!(g.bilinear(1.4, 0.2, -1.0), 1.0);
        assert_eq!(g.bilinear(1.6, 0.0, -1.0), -1.0);
        assert!(GreyImage::new(2, 2, vec![0.0]).is_err());
    }
}
