//! The corpus of hostile inputs: predictions CSVs, images, manifests, model
//! folders and browser API calls, each with the phrase its error must
//! contain. The files lie next to this one (`csv/`, `images/`,
//! `manifests/`); what would be large on disk (100,000 columns, a deeply
//! nested manifest) is made in code.
//!
//! One list for both targets: `tests/hostile.rs` runs every entry natively
//! through the public API, `tests/web.rs` runs it through the browser API
//! (`fairmark::web`) in headless Chromium. An entry marked `Native` or
//! `Browser` only makes sense on one side (a model folder has no browser
//! twin; a string where bytes belong has no native one).
#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;

/// Where an entry runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Both,
    Native,
    Browser,
}

/// Bytes of a file of the corpus, or made by a function.
pub enum Data {
    File(&'static [u8]),
    Made(fn() -> Vec<u8>),
}

impl Data {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Data::File(b) => b.to_vec(),
            Data::Made(f) => f(),
        }
    }

    /// As text, with invalid UTF-8 replaced by U+FFFD, as the page's
    /// `File.text()` and a lossy native read do.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
}

/// The manifest a model entry loads.
pub enum Manifest {
    /// This text instead of a manifest.
    Text(Data),
    /// The committed ceph model's manifest with each JSON pointer set to a
    /// value (JSON text).
    Edit(&'static [(&'static str, &'static str)]),
    /// The committed ceph model's manifest changed by a function.
    Made(fn(&mut Value)),
    /// The committed ceph model's manifest text with the first occurrence
    /// of one string replaced by another (for what JSON values cannot hold).
    Replace(&'static str, &'static str),
}

/// The weights a model entry loads with its manifest.
pub enum Weights {
    /// The committed ceph model's weights.
    Committed,
    /// Other bytes, the manifest unchanged (size and hash then disagree).
    Other(Data),
    /// Other bytes, with the manifest's size and sha256 set to match them:
    /// only their content can be wrong.
    Matching(Data),
}

/// The pixels handed to `Model.detect`.
pub enum Pixels {
    /// A Uint8Array of this many zero bytes.
    Zeros(usize),
    /// Any JavaScript value, as JSON (browser only).
    Json(&'static str),
}

pub enum Input {
    /// Predictions CSV audited with options (JSON; `null` for the defaults):
    /// `PredictionTable::parse_csv`, `AuditOptions::config`, `audit` /
    /// the browser's `audit`.
    Audit { csv: Data, options: &'static str },
    /// An image file: `decode_image_named` and `load_image_with_limit`
    /// natively; in the browser the same decoder compiled to wasm.
    Image(Data),
    /// An image file of this many bytes (sparse, made on disk).
    ImageFileOfLen(u64),
    /// `Landmarker::from_parts` / `Model.load` on the CPU.
    Model {
        manifest: Manifest,
        weights: Weights,
    },
    /// `Landmarker::load_dir` on a folder the function fills, starting from
    /// an empty one (a copy of the committed model is at hand: see
    /// [`copy_ceph_model`]).
    ModelDir(fn(&Path)),
    /// `Model.detect` of the committed ceph model; width, height and
    /// options as JSON.
    Detect {
        pixels: Pixels,
        width: &'static str,
        height: &'static str,
        options: &'static str,
    },
    /// `relocate` of the native ceph detection fixture with each JSON pointer
    /// set to a value; points and spacing as JSON.
    Relocate {
        edit: &'static [(&'static str, &'static str)],
        points: &'static str,
        mm_per_px: &'static str,
    },
    /// `measure(anatomy, points, mmPerPx)`, points and spacing as JSON.
    Measure {
        anatomy: &'static str,
        points: &'static str,
        mm_per_px: &'static str,
    },
    /// `predictionsCsv` of a JSON list of `{image, attributes, truth, pred,
    /// mm_per_px}`.
    PredictionsCsv(Data),
    /// `renderPhantom(anatomy, index, options)`, index and options as JSON.
    RenderPhantom {
        anatomy: &'static str,
        index: &'static str,
        options: &'static str,
    },
    /// `auditChartSvg` of a report (JSON; browser only).
    AuditChart(&'static str),
}

/// What must come out.
pub enum Outcome {
    /// An error whose message contains this phrase.
    Error(&'static str),
    /// A result (text or JSON) containing this phrase: input that is
    /// hostile but valid, such as spreadsheet formulas that must come out
    /// neutralised.
    Output(&'static str),
}

pub struct Entry {
    pub name: &'static str,
    pub target: Target,
    pub input: Input,
    pub expect: Outcome,
}

const fn entry(name: &'static str, target: Target, input: Input, expect: Outcome) -> Entry {
    Entry {
        name,
        target,
        input,
        expect,
    }
}

use Input::*;
use Outcome::{Error as Fails, Output};
use Target::{Both, Browser, Native};

const VALID_CSV: Data = Data::File(include_bytes!("csv/valid_small.csv"));

/// The committed ceph model, which model and detection entries start from.
pub const CEPH_WEIGHTS: &[u8] = include_bytes!("../../models/ceph-unet-phantom/weights.bpk");
pub const CEPH_MANIFEST: &str = include_str!("../../models/ceph-unet-phantom/manifest.json");
/// Weights of another model (37 landmarks, another config): valid burnpack
/// that does not fit the ceph network.
pub const HAND_WEIGHTS: &[u8] = include_bytes!("../../models/hand-unet-phantom/weights.bpk");
/// The native detection of ceph phantom 0, which relocation entries edit.
pub const DETECTION: &str = include_str!("../fixtures/detect_ceph0.json");

/// The CSV header of the corpus files.
const HEAD: &str = "image,keypoint,x_pred,y_pred,x_true,y_true,mm_per_px";

fn wide_csv() -> Vec<u8> {
    // 100,000 attribute columns: parsing must stay linear, and the audit
    // of all of them must be refused rather than run for days.
    let n = 100_000;
    let mut head = String::from(HEAD);
    let mut row = String::from("a,1,0,0,0,0,0.1");
    for i in 0..n {
        head.push_str(&format!(",attr{i}"));
        row.push_str(",g");
    }
    format!("{head}\n{row}\n").into_bytes()
}

fn identifier_csv() -> Vec<u8> {
    // A patient identifier passed as an attribute: 5,000 groups of one.
    let mut s = format!("{HEAD},patient_id\n");
    for i in 0..5000 {
        s.push_str(&format!("im{i},1,1,1,0,0,0.1,p{i}\n"));
    }
    s.into_bytes()
}

fn deep_json() -> Vec<u8> {
    // serde_json stops at a nesting depth of 128 instead of overflowing
    // the stack (which in wasm is a trap).
    let n = 100_000;
    let mut s = "[".repeat(n);
    s.push_str(&"]".repeat(n));
    s.into_bytes()
}

fn many_landmark_names(m: &mut Value) {
    m["landmark_names"] = (0..100_000).map(|i| format!("L{i}")).collect();
}

fn long_evaluation(m: &mut Value) {
    m["evaluation"] = Value::String("| a | b |\n".repeat(10_000));
}

fn many_attributes(m: &mut Value) {
    let names: Vec<String> = (0..10_000).map(|i| format!("a{i}")).collect();
    let groups: Vec<Value> = names
        .iter()
        .map(|_| serde_json::json!(["x", "y"]))
        .collect();
    m["config"]["attributes"]["names"] = serde_json::json!(names);
    m["config"]["attributes"]["groups"] = Value::Array(groups.clone());
    m["config"]["detector"]["groups_per_attribute"] = serde_json::json!(vec![2; 10_000]);
    m["attributes"] = names
        .iter()
        .map(|n| (n.clone(), serde_json::json!(["x", "y"])))
        .collect::<serde_json::Map<_, _>>()
        .into();
}

/// DICOM files made with dicom-rs's writer (tests/common/dicom.rs, which
/// the including test crate declares as `dicom_files`).
fn dicom_bomb() -> Vec<u8> {
    let mut s = crate::dicom_files::Spec::grey16(4, 4);
    (s.width, s.height) = (65535, 65535);
    s.to_bytes()
}

fn dicom_truncated() -> Vec<u8> {
    let b = crate::dicom_files::Spec::grey16(64, 64).to_bytes();
    b[..b.len() / 2].to_vec()
}

fn dicom_jpeg2000() -> Vec<u8> {
    let mut s = crate::dicom_files::Spec::grey16(8, 8);
    s.transfer_syntax = crate::dicom_files::JPEG_2000;
    s.to_bytes()
}

fn dicom_multi_frame() -> Vec<u8> {
    let mut s = crate::dicom_files::Spec::grey16(8, 8);
    s.frames = Some(3);
    s.values = s.values.repeat(3);
    s.to_bytes()
}

/// RLE segments holding a quarter of the pixels the header declares.
fn dicom_short_rle() -> Vec<u8> {
    let mut s = crate::dicom_files::Spec::grey16(16, 16);
    s.transfer_syntax = crate::dicom_files::RLE;
    s.values.truncate(64);
    s.to_bytes()
}

fn garbage_weights() -> Vec<u8> {
    (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
        .collect()
}

fn hand_weights() -> Vec<u8> {
    HAND_WEIGHTS.to_vec()
}

fn no_bytes() -> Vec<u8> {
    Vec::new()
}

fn too_many_landmarks() -> Vec<u8> {
    let pts = vec![[1.0, 2.0]; 1001];
    serde_json::json!([{"image": "a", "truth": pts, "pred": pts, "mm_per_px": 0.1}])
        .to_string()
        .into_bytes()
}

/// Writes the committed ceph model (manifest and weights) into `dir`.
pub fn copy_ceph_model(dir: &Path) {
    std::fs::write(dir.join("manifest.json"), CEPH_MANIFEST).unwrap();
    std::fs::write(dir.join("weights.bpk"), CEPH_WEIGHTS).unwrap();
}

fn dir_empty(_: &Path) {}

fn dir_missing(dir: &Path) {
    std::fs::remove_dir(dir).unwrap();
}

fn dir_without_weights(dir: &Path) {
    std::fs::write(dir.join("manifest.json"), CEPH_MANIFEST).unwrap();
}

fn dir_truncated_weights(dir: &Path) {
    copy_ceph_model(dir);
    std::fs::write(dir.join("weights.bpk"), &CEPH_WEIGHTS[..1000]).unwrap();
}

fn dir_endless_weights(dir: &Path) {
    // Reading a link to /dev/zero to its end would never finish.
    std::fs::write(dir.join("manifest.json"), CEPH_MANIFEST).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/dev/zero", dir.join("weights.bpk")).unwrap();
}

fn dir_huge_sparse_weights(dir: &Path) {
    copy_ceph_model(dir);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("weights.bpk"))
        .unwrap();
    f.set_len(64 << 30).unwrap(); // 64 GiB, sparse: no disk used
}

fn dir_manifest_is_a_folder(dir: &Path) {
    std::fs::create_dir(dir.join("manifest.json")).unwrap();
    std::fs::write(dir.join("weights.bpk"), CEPH_WEIGHTS).unwrap();
}

fn dir_huge_manifest(dir: &Path) {
    copy_ceph_model(dir);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("manifest.json"))
        .unwrap();
    f.set_len(1 << 30).unwrap();
}

fn dir_weights_outside(dir: &Path) {
    // The weights exist, hash-correct, one level up: the manifest must not
    // be able to point there.
    let mut m: Value = serde_json::from_str(CEPH_MANIFEST).unwrap();
    m["weights"]["file"] = "../outside.bpk".into();
    std::fs::write(dir.join("manifest.json"), m.to_string()).unwrap();
    std::fs::write(dir.parent().unwrap().join("outside.bpk"), CEPH_WEIGHTS).unwrap();
}

fn dir_manifest_not_utf8(dir: &Path) {
    copy_ceph_model(dir);
    let mut bytes = CEPH_MANIFEST.as_bytes().to_vec();
    bytes[20] = 0xff;
    std::fs::write(dir.join("manifest.json"), bytes).unwrap();
}

pub const ENTRIES: &[Entry] = &[
    // ---- predictions CSVs and audit options ----
    entry(
        "csv/empty.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/empty.csv")),
            options: "null",
        },
        Fails("empty file: expected a header and rows"),
    ),
    entry(
        "csv/header_only.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/header_only.csv")),
            options: "null",
        },
        Fails("no prediction rows"),
    ),
    entry(
        "csv/wrong_columns.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/wrong_columns.csv")),
            options: "null",
        },
        Fails("missing column(s) keypoint, x_pred, y_pred, x_true, y_true"),
    ),
    entry(
        "csv/nan_coordinate.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/nan_coordinate.csv")),
            options: "null",
        },
        Fails("line 3: column x_pred: NaN is not finite"),
    ),
    entry(
        "csv/inf_coordinate.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/inf_coordinate.csv")),
            options: "null",
        },
        Fails("column x_true: inf is not finite"),
    ),
    entry(
        "csv/negative_spacing.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/negative_spacing.csv")),
            options: "null",
        },
        Fails("mm_per_px must be > 0, got -0.1"),
    ),
    entry(
        "csv/huge_numbers.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/huge_numbers.csv")),
            options: "null",
        },
        Fails("is not finite (coordinates too large)"),
    ),
    entry(
        "csv/duplicate_rows_disagree.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/duplicate_rows_disagree.csv")),
            options: "null",
        },
        Fails("duplicate row disagrees with line 2"),
    ),
    entry(
        "csv/non_utf8.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/non_utf8.csv")),
            options: "null",
        },
        Fails("missing column(s) image"),
    ),
    entry(
        "csv/formula_injection.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/formula_injection.csv")),
            options: "null",
        },
        Fails("column x_pred: \"=HYPERLINK("),
    ),
    entry(
        "csv/keypoint_zero.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/keypoint_zero.csv")),
            options: "null",
        },
        Fails("keypoint \"0\" is not a 1-based integer"),
    ),
    entry(
        "csv/keypoint_huge.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/keypoint_huge.csv")),
            options: "null",
        },
        Fails("keypoint 4294967296 is more than the limit of 1000 keypoints"),
    ),
    entry(
        "csv/ragged_row.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/ragged_row.csv")),
            options: "null",
        },
        Fails("found record with 9 fields"),
    ),
    entry(
        "csv/spacing_differs.csv",
        Both,
        Audit {
            csv: Data::File(include_bytes!("csv/spacing_differs.csv")),
            options: "null",
        },
        Fails("image a: mm_per_px 0.2 differs from 0.1 on line 2"),
    ),
    entry(
        "csv: 100,000 attribute columns (made)",
        Both,
        Audit {
            csv: Data::Made(wide_csv),
            options: "null",
        },
        Fails("100000 attributes to audit, more than the limit of 64"),
    ),
    entry(
        "csv: an identifier as attribute, 5,000 groups (made)",
        Both,
        Audit {
            csv: Data::Made(identifier_csv),
            options: r#"{"rounds": 10, "privacy": false}"#,
        },
        Fails("5000 groups, more than the 4096"),
    ),
    entry(
        "audit options: rounds 1,000,000",
        Both,
        Audit {
            csv: VALID_CSV,
            options: r#"{"rounds": 1000000}"#,
        },
        Fails("rounds 1000000 is more than the limit of 100000"),
    ),
    entry(
        "audit options: rounds -5",
        Both,
        Audit {
            csv: VALID_CSV,
            options: r#"{"rounds": -5}"#,
        },
        Fails("invalid value: integer `-5`, expected usize"),
    ),
    entry(
        "audit options: rounds 1e30",
        Both,
        Audit {
            csv: VALID_CSV,
            options: r#"{"rounds": 1e30}"#,
        },
        Fails("invalid type: floating point"),
    ),
    entry(
        "audit options: misspelt field",
        Both,
        Audit {
            csv: VALID_CSV,
            options: r#"{"round": 5}"#,
        },
        Fails("unknown field `round`"),
    ),
    entry(
        "audit options: negative threshold",
        Both,
        Audit {
            csv: VALID_CSV,
            options: r#"{"thresholds_mm": [2, -1]}"#,
        },
        Fails("thresholds must be positive mm, got -1"),
    ),
    entry(
        "audit options: alpha 2",
        Both,
        Audit {
            csv: VALID_CSV,
            options: r#"{"alpha": 2}"#,
        },
        Fails("alpha must be in (0, 1), got 2"),
    ),
    entry(
        "audit options: filter without a group",
        Both,
        Audit {
            csv: VALID_CSV,
            options: r#"{"filter": "sex"}"#,
        },
        Fails("expected ATTR=GROUP"),
    ),
    entry(
        "audit options: unknown attribute",
        Both,
        Audit {
            csv: VALID_CSV,
            options: r#"{"attributes": ["race"], "rounds": 10}"#,
        },
        Fails("attribute \"race\" is not a column of the predictions"),
    ),
    entry(
        "audit options: unknown anatomy",
        Both,
        Audit {
            csv: VALID_CSV,
            options: r#"{"anatomy": "knee"}"#,
        },
        Fails("unknown anatomy \"knee\""),
    ),
    // ---- images ----
    entry(
        "dicom/bomb_65535x65535.dcm",
        Both,
        Image(Data::Made(dicom_bomb)),
        Fails("65535x65535 = 4294836225 pixels exceeds the limit of 64000000"),
    ),
    entry(
        "dicom/truncated.dcm",
        Both,
        Image(Data::Made(dicom_truncated)),
        Fails("cannot read DICOM image"),
    ),
    entry(
        "dicom/jpeg2000.dcm",
        Both,
        Image(Data::Made(dicom_jpeg2000)),
        Fails("JPEG 2000 Image Compression (Lossless Only) (1.2.840.10008.1.2.4.90) is not supported"),
    ),
    entry(
        "dicom/multi_frame.dcm",
        Both,
        Image(Data::Made(dicom_multi_frame)),
        Fails("multi-frame DICOM is not supported"),
    ),
    entry(
        "dicom/short_rle.dcm",
        Both,
        Image(Data::Made(dicom_short_rle)),
        Fails("cannot read DICOM image"),
    ),
    entry(
        "images/truncated.png",
        Both,
        Image(Data::File(include_bytes!("images/truncated.png"))),
        Fails("cannot read image"),
    ),
    entry(
        "images/bomb_100000x100000.png",
        Both,
        Image(Data::File(include_bytes!(
            "images/bomb_100000x100000.png"
        ))),
        Fails("100000x100000 = 10000000000 pixels exceeds the limit of 64000000"),
    ),
    entry(
        "images/zero_width.png",
        Both,
        Image(Data::File(include_bytes!("images/zero_width.png"))),
        Fails("cannot read image"),
    ),
    entry(
        "images/short_16bit.png",
        Both,
        Image(Data::File(include_bytes!("images/short_16bit.png"))),
        Fails("cannot read image"),
    ),
    entry(
        "images/bad_ihdr_crc.png",
        Both,
        Image(Data::File(include_bytes!("images/bad_ihdr_crc.png"))),
        Fails("cannot read image"),
    ),
    entry(
        "images/garbage.bin",
        Both,
        Image(Data::File(include_bytes!("images/garbage.bin"))),
        Fails("not a recognised image"),
    ),
    entry(
        "images/empty.png",
        Both,
        Image(Data::File(include_bytes!("images/empty.png"))),
        Fails("not a recognised image"),
    ),
    entry(
        "images/jpeg_bomb_65500x65500.jpg",
        Both,
        Image(Data::File(include_bytes!("images/jpeg_bomb_65500x65500.jpg"))),
        Fails("65500x65500 = 4290250000 pixels exceeds the limit of 64000000"),
    ),
    entry(
        "images/truncated.jpg",
        Both,
        Image(Data::File(include_bytes!("images/truncated.jpg"))),
        Fails("cannot read image"),
    ),
    entry(
        "images/bmp_bomb.bmp",
        Both,
        Image(Data::File(include_bytes!("images/bmp_bomb.bmp"))),
        Fails("60000x60000 = 3600000000 pixels exceeds the limit of 64000000"),
    ),
    entry(
        "images/tiff_bad_ifd.tif",
        Both,
        Image(Data::File(include_bytes!("images/tiff_bad_ifd.tif"))),
        Fails("cannot read image"),
    ),
    entry(
        "image file of 257 MiB (sparse)",
        Native,
        ImageFileOfLen((256 << 20) + (1 << 20)),
        Fails("the file is 257 MiB, more than the limit of 256 MiB"),
    ),
    // ---- manifests and weights (Model.load / Landmarker::from_parts) ----
    entry(
        "manifests/not_json.json",
        Both,
        Model {
            manifest: Manifest::Text(Data::File(include_bytes!("manifests/not_json.json"))),
            weights: Weights::Committed,
        },
        Fails("invalid manifest JSON"),
    ),
    entry(
        "manifests/wrong_schema.json",
        Both,
        Model {
            manifest: Manifest::Text(Data::File(include_bytes!("manifests/wrong_schema.json"))),
            weights: Weights::Committed,
        },
        Fails("schema is \"fairmark.audit/1\", expected \"fairmark.model/1\""),
    ),
    entry(
        "manifests/empty.json",
        Both,
        Model {
            manifest: Manifest::Text(Data::File(include_bytes!("manifests/empty.json"))),
            weights: Weights::Committed,
        },
        Fails("invalid manifest JSON"),
    ),
    entry(
        "manifests/array.json",
        Both,
        Model {
            manifest: Manifest::Text(Data::File(include_bytes!("manifests/array.json"))),
            weights: Weights::Committed,
        },
        Fails("schema is \"\""),
    ),
    entry(
        "manifest nested 100,000 deep (made)",
        Both,
        Model {
            manifest: Manifest::Text(Data::Made(deep_json)),
            weights: Weights::Committed,
        },
        Fails("recursion limit exceeded"),
    ),
    entry(
        "manifest: negative input size",
        Both,
        Model {
            manifest: Manifest::Edit(&[("/config/detector/input_size", "[-128, 128]")]),
            weights: Weights::Committed,
        },
        Fails("invalid value: integer `-128`, expected usize"),
    ),
    entry(
        "manifest: negative spacing",
        Both,
        Model {
            manifest: Manifest::Edit(&[("/mm_per_px", "-1")]),
            weights: Weights::Committed,
        },
        Fails("mm_per_px must be > 0, got -1"),
    ),
    entry(
        "manifest: spacing past f64 (1e999)",
        Both,
        Model {
            manifest: Manifest::Replace("\"anatomy\":", "\"mm_per_px\": 1e999, \"anatomy\":"),
            weights: Weights::Committed,
        },
        Fails("number out of range"),
    ),
    entry(
        "manifest: NaN",
        Both,
        Model {
            manifest: Manifest::Replace("\"n_heads\": 4", "\"n_heads\": NaN"),
            weights: Weights::Committed,
        },
        Fails("expected value"),
    ),
    entry(
        "manifest: 100,000 heads",
        Both,
        Model {
            manifest: Manifest::Edit(&[("/config/detector/n_heads", "100000")]),
            weights: Weights::Committed,
        },
        Fails("n_heads is 100000"),
    ),
    entry(
        "manifest: absurd base width",
        Both,
        Model {
            manifest: Manifest::Edit(&[("/config/detector/backbone/base_width", "4294967295")]),
            weights: Weights::Committed,
        },
        Fails("base_width is 4294967295"),
    ),
    entry(
        "manifest: absurd depth",
        Both,
        Model {
            manifest: Manifest::Edit(&[("/config/detector/backbone/depth", "4000000000")]),
            weights: Weights::Committed,
        },
        Fails("depth is 4000000000"),
    ),
    entry(
        "manifest: 100,000 landmark names (made)",
        Both,
        Model {
            manifest: Manifest::Made(many_landmark_names),
            weights: Weights::Committed,
        },
        Fails("landmark_names has 100000"),
    ),
    entry(
        "manifest: 10,000 attributes (made)",
        Both,
        Model {
            manifest: Manifest::Made(many_attributes),
            weights: Weights::Committed,
        },
        Fails("number of attributes is 10000, must be between 0 and 16"),
    ),
    entry(
        "manifest: evaluation of 100 KB (made)",
        Both,
        Model {
            manifest: Manifest::Made(long_evaluation),
            weights: Weights::Committed,
        },
        Fails("more than the limit of 65536"),
    ),
    entry(
        "manifest: weights sha256 mismatch",
        Both,
        Model {
            manifest: Manifest::Edit(&[(
                "/weights/sha256",
                "\"0000000000000000000000000000000000000000000000000000000000000000\"",
            )]),
            weights: Weights::Committed,
        },
        Fails("the manifest says 000000000000…"),
    ),
    entry(
        "manifest: weights sha256 not hex",
        Both,
        Model {
            manifest: Manifest::Edit(&[("/weights/sha256", "\"../../etc/passwd\"")]),
            weights: Weights::Committed,
        },
        Fails("weights.sha256 must be 64 hex characters"),
    ),
    entry(
        "manifest: weights file name with path traversal",
        Both,
        Model {
            manifest: Manifest::Edit(&[("/weights/file", "\"../../etc/passwd.bpk\"")]),
            weights: Weights::Committed,
        },
        Fails("must be a plain file name inside the model directory"),
    ),
    entry(
        "manifest: weights file served as a page",
        Both,
        Model {
            manifest: Manifest::Edit(&[("/weights/file", "\"index.html\"")]),
            weights: Weights::Committed,
        },
        Fails("ending in .bpk"),
    ),
    entry(
        "manifest: weights size 1 byte",
        Both,
        Model {
            manifest: Manifest::Edit(&[("/weights/bytes", "1")]),
            weights: Weights::Committed,
        },
        Fails("1008660 bytes, the manifest says 1"),
    ),
    entry(
        "manifest: blank model name",
        Both,
        Model {
            manifest: Manifest::Edit(&[("/name", "\"   \"")]),
            weights: Weights::Committed,
        },
        Fails("model name is empty"),
    ),
    entry(
        "weights: empty",
        Both,
        Model {
            manifest: Manifest::Edit(&[]),
            weights: Weights::Other(Data::Made(no_bytes)),
        },
        Fails("0 bytes, the manifest says 1008660"),
    ),
    entry(
        "weights: garbage with a matching hash",
        Both,
        Model {
            manifest: Manifest::Edit(&[]),
            weights: Weights::Matching(Data::Made(garbage_weights)),
        },
        Fails("not a burnpack weights file"),
    ),
    entry(
        "weights: another model's, with a matching hash",
        Both,
        Model {
            manifest: Manifest::Edit(&[]),
            weights: Weights::Matching(Data::Made(hand_weights)),
        },
        Fails("weights do not fit the model configuration"),
    ),
    // ---- model folders (native loader) ----
    entry(
        "model folder: missing",
        Native,
        ModelDir(dir_missing),
        Fails("does not exist"),
    ),
    entry(
        "model folder: empty",
        Native,
        ModelDir(dir_empty),
        Fails("no manifest.json"),
    ),
    entry(
        "model folder: no weights",
        Native,
        ModelDir(dir_without_weights),
        Fails("weights file missing"),
    ),
    entry(
        "model folder: truncated weights",
        Native,
        ModelDir(dir_truncated_weights),
        Fails("1000 bytes, the manifest says 1008660"),
    ),
    entry(
        "model folder: weights are a link to /dev/zero",
        Native,
        ModelDir(dir_endless_weights),
        Fails("not a regular file"),
    ),
    entry(
        "model folder: 64 GiB sparse weights",
        Native,
        ModelDir(dir_huge_sparse_weights),
        Fails("68719476736 bytes, the manifest says 1008660"),
    ),
    entry(
        "model folder: manifest.json is a folder",
        Native,
        ModelDir(dir_manifest_is_a_folder),
        Fails("not a regular file"),
    ),
    entry(
        "model folder: 1 GiB manifest (sparse)",
        Native,
        ModelDir(dir_huge_manifest),
        Fails("more than the limit of 4194304"),
    ),
    entry(
        "model folder: weights outside the folder",
        Native,
        ModelDir(dir_weights_outside),
        Fails("must be a plain file name inside the model directory"),
    ),
    entry(
        "model folder: manifest not UTF-8",
        Native,
        ModelDir(dir_manifest_not_utf8),
        Fails("the manifest is not UTF-8 text"),
    ),
    // ---- detection (Model.detect) ----
    entry(
        "detect: 100000x100000 claimed, 12 bytes given",
        Both,
        Detect {
            pixels: Pixels::Zeros(12),
            width: "100000",
            height: "100000",
            options: "null",
        },
        Fails("image: 100000x100000 = 10000000000 pixels exceeds the limit of 64000000"),
    ),
    entry(
        "detect: 8001x8000, one pixel past the cap",
        Both,
        Detect {
            pixels: Pixels::Zeros(8001 * 8000),
            width: "8001",
            height: "8000",
            options: "null",
        },
        Fails("image: 8001x8000 = 64008000 pixels exceeds the limit of 64000000"),
    ),
    entry(
        "detect: pixels that fit neither grey nor RGBA",
        Both,
        Detect {
            pixels: Pixels::Zeros(12),
            width: "5",
            height: "2",
            options: "null",
        },
        Fails("image: 12 pixel bytes do not fit a 5x2 image"),
    ),
    entry(
        "detect: no pixels",
        Both,
        Detect {
            pixels: Pixels::Zeros(0),
            width: "1",
            height: "1",
            options: "null",
        },
        Fails("0 pixel bytes do not fit a 1x1 image"),
    ),
    entry(
        "detect: spacing 0",
        Both,
        Detect {
            pixels: Pixels::Zeros(4),
            width: "1",
            height: "1",
            options: r#"{"mmPerPx": 0}"#,
        },
        Fails("positive"),
    ),
    entry(
        "detect: unknown group",
        Both,
        Detect {
            pixels: Pixels::Zeros(4),
            width: "1",
            height: "1",
            options: r#"{"attributes": {"age_group": "toddler"}}"#,
        },
        Fails("toddler"),
    ),
    entry(
        "detect: pixels as text",
        Browser,
        Detect {
            pixels: Pixels::Json("\"AAAA\""),
            width: "1",
            height: "1",
            options: "null",
        },
        Fails("pixels must be a Uint8Array, Uint8ClampedArray or ArrayBuffer, got string"),
    ),
    entry(
        "detect: width 0",
        Browser,
        Detect {
            pixels: Pixels::Zeros(4),
            width: "0",
            height: "1",
            options: "null",
        },
        Fails("width must be an integer ≥ 1, got 0"),
    ),
    entry(
        "detect: height 1.5",
        Browser,
        Detect {
            pixels: Pixels::Zeros(4),
            width: "1",
            height: "1.5",
            options: "null",
        },
        Fails("height must be an integer ≥ 1, got 1.5"),
    ),
    entry(
        "detect: width 1e12",
        Browser,
        Detect {
            pixels: Pixels::Zeros(4),
            width: "1e12",
            height: "1",
            options: "null",
        },
        Fails("width must be an integer ≥ 1, got 1000000000000"),
    ),
    entry(
        "detect: options not an object",
        Browser,
        Detect {
            pixels: Pixels::Zeros(4),
            width: "1",
            height: "1",
            options: "5",
        },
        Fails("options must be an object, got number"),
    ),
    // ---- relocate, measure, predictionsCsv, renderPhantom ----
    entry(
        "relocate: 1 point for 10 landmarks",
        Both,
        Relocate {
            edit: &[],
            points: "[[1, 2]]",
            mm_per_px: "null",
        },
        Fails("1 points given for 10 landmarks"),
    ),
    entry(
        "relocate: a document of another schema",
        Both,
        Relocate {
            edit: &[("/schema", "\"fairmark.detect/1\"")],
            points: "[]",
            mm_per_px: "null",
        },
        Fails("fairmark.detect/1"),
    ),
    entry(
        "relocate: negative spacing",
        Both,
        Relocate {
            edit: &[],
            points: "[[1,2],[3,4],[5,6],[7,8],[9,10],[11,12],[13,14],[15,16],[17,18],[19,20]]",
            mm_per_px: "-1",
        },
        Fails("positive"),
    ),
    entry(
        "relocate: points of one coordinate",
        Both,
        Relocate {
            edit: &[],
            points: "[[1]]",
            mm_per_px: "null",
        },
        Fails("invalid length 1, expected an array of length 2"),
    ),
    entry(
        "measure: 3 points for ceph",
        Both,
        Measure {
            anatomy: "ceph",
            points: "[[1,2],[3,4],[5,6]]",
            mm_per_px: "0.1",
        },
        Fails("10 landmarks"),
    ),
    entry(
        "measure: spacing 0",
        Both,
        Measure {
            anatomy: "ceph",
            points: "[[1,2],[3,4],[5,6],[7,8],[9,10],[11,12],[13,14],[15,16],[17,18],[19,20]]",
            mm_per_px: "0",
        },
        Fails("positive"),
    ),
    entry(
        "measure: unknown anatomy",
        Browser,
        Measure {
            anatomy: "knee",
            points: "[]",
            mm_per_px: "null",
        },
        Fails("anatomy \"knee\": expected \"ceph\" or \"hand\""),
    ),
    entry(
        "predictionsCsv: 1 true and 0 predicted landmarks",
        Both,
        PredictionsCsv(Data::File(
            br#"[{"image": "a", "truth": [[1, 2]], "pred": [], "mm_per_px": 0.1}]"#,
        )),
        Fails("1 true and 0 predicted"),
    ),
    entry(
        "predictionsCsv: 1001 landmarks (made)",
        Both,
        PredictionsCsv(Data::Made(too_many_landmarks)),
        Fails("1001 landmarks, more than the limit of 1000 keypoints"),
    ),
    entry(
        "predictionsCsv: image name with a comma",
        Both,
        PredictionsCsv(Data::File(
            br#"[{"image": "a,b", "truth": [[1, 2]], "pred": [[1, 2]], "mm_per_px": 0.1}]"#,
        )),
        Fails("without commas, quotes or line breaks"),
    ),
    entry(
        "predictionsCsv: negative spacing",
        Both,
        PredictionsCsv(Data::File(
            br#"[{"image": "a", "truth": [[1, 2]], "pred": [[1, 2]], "mm_per_px": -1}]"#,
        )),
        Fails("mm_per_px must be > 0, got -1"),
    ),
    entry(
        "predictionsCsv: misspelt field",
        Both,
        PredictionsCsv(Data::File(
            br#"[{"image": "a", "truths": [[1, 2]], "pred": [[1, 2]], "mm_per_px": 0.1}]"#,
        )),
        Fails("unknown field `truths`"),
    ),
    entry(
        "predictionsCsv: spreadsheet formulas come out as text",
        Both,
        PredictionsCsv(Data::File(
            br#"[{"image": "=cmd|' /C calc'!A0", "attributes": {"@site": "+SUM(A1)"}, "truth": [[1, 2]], "pred": [[1, 2]], "mm_per_px": 0.1}]"#,
        )),
        Output("mm_per_px,'@site\n'=cmd|' /C calc'!A0,1,"),
    ),
    entry(
        "renderPhantom: 8192x8192, past the pixel cap",
        Both,
        RenderPhantom {
            anatomy: "ceph",
            index: "0",
            options: r#"{"width": 8192, "height": 8192}"#,
        },
        Fails("8192x8192 = 67108864 pixels exceeds the limit of 64000000"),
    ),
    entry(
        "renderPhantom: width 16",
        Both,
        RenderPhantom {
            anatomy: "ceph",
            index: "0",
            options: r#"{"width": 16}"#,
        },
        Fails("image size 16x480 must be 32..8192 px"),
    ),
    entry(
        "renderPhantom: unknown group",
        Both,
        RenderPhantom {
            anatomy: "ceph",
            index: "0",
            options: r#"{"groups": "child:1"}"#,
        },
        Fails("unknown ceph group \"child\""),
    ),
    entry(
        "renderPhantom: isbi",
        Both,
        RenderPhantom {
            anatomy: "isbi",
            index: "0",
            options: "null",
        },
        Fails("there are no isbi phantoms"),
    ),
    entry(
        "renderPhantom: index -1",
        Browser,
        RenderPhantom {
            anatomy: "ceph",
            index: "-1",
            options: "null",
        },
        Fails("index must be an integer ≥ 0, got -1"),
    ),
    entry(
        "renderPhantom: seed as text",
        Browser,
        RenderPhantom {
            anatomy: "ceph",
            index: "0",
            options: r#"{"seed": "x"}"#,
        },
        Fails("seed must be a number, got string"),
    ),
    entry(
        "auditChartSvg: not a report",
        Browser,
        AuditChart("{}"),
        Fails("report: missing field"),
    ),
];

/// The committed ceph manifest as a JSON value.
pub fn ceph_manifest() -> Value {
    serde_json::from_str(CEPH_MANIFEST).unwrap()
}

/// Sets each JSON pointer of `doc` to a value given as JSON text.
pub fn apply_edits(doc: &mut Value, edits: &[(&str, &str)]) {
    for (pointer, value) in edits {
        *doc.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("no {pointer} in the document")) =
            serde_json::from_str(value).unwrap();
    }
}

/// The manifest text and weights of a model entry.
pub fn model_parts(manifest: &Manifest, weights: &Weights) -> (String, Vec<u8>) {
    let bytes = match weights {
        Weights::Committed => CEPH_WEIGHTS.to_vec(),
        Weights::Other(d) | Weights::Matching(d) => d.bytes(),
    };
    let mut doc = match manifest {
        Manifest::Text(d) => return (d.text(), bytes),
        Manifest::Replace(from, to) => {
            assert!(CEPH_MANIFEST.contains(from), "the manifest lacks {from}");
            return (CEPH_MANIFEST.replacen(from, to, 1), bytes);
        }
        Manifest::Edit(edits) => {
            let mut m = ceph_manifest();
            apply_edits(&mut m, edits);
            m
        }
        Manifest::Made(f) => {
            let mut m = ceph_manifest();
            f(&mut m);
            m
        }
    };
    if let Weights::Matching(_) = weights {
        doc["weights"]["bytes"] = bytes.len().into();
        doc["weights"]["sha256"] = fairmark::model::weights::sha256_hex(&bytes).into();
    }
    (doc.to_string(), bytes)
}

/// The detection fixture with edits, as JSON text. The fixture leaves out
/// what differs run to run (backend, preprocess, timings); they are put back
/// so that it is a whole document again.
pub fn detection(edit: &[(&str, &str)]) -> String {
    let mut d: Value = serde_json::from_str(DETECTION).unwrap();
    d["backend"] = "cpu".into();
    d["preprocess"] = "cpu".into();
    d["timings_ms"] =
        serde_json::json!({"preprocess": 1.0, "forward": 1.0, "decode": 1.0, "total": 3.0});
    apply_edits(&mut d, edit);
    d.to_string()
}

/// Checks an outcome; `Err(why)` when it is not the expected one.
pub fn check(entry: &Entry, got: Result<String, String>) -> Result<(), String> {
    match (&entry.expect, got) {
        (Outcome::Error(phrase), Err(msg)) if msg.contains(phrase) => Ok(()),
        (Outcome::Error(phrase), Err(msg)) => Err(format!(
            "{}: the error {msg:?} lacks {phrase:?}",
            entry.name
        )),
        (Outcome::Error(phrase), Ok(out)) => Err(format!(
            "{}: expected an error with {phrase:?}, got a result ({} bytes: {:?}…)",
            entry.name,
            out.len(),
            out.chars().take(200).collect::<String>()
        )),
        (Outcome::Output(phrase), Ok(out)) if out.contains(phrase) => Ok(()),
        (Outcome::Output(phrase), Ok(out)) => Err(format!(
            "{}: the result lacks {phrase:?}: {:?}",
            entry.name,
            out.chars().take(400).collect::<String>()
        )),
        (Outcome::Output(phrase), Err(msg)) => Err(format!(
            "{}: expected a result with {phrase:?}, got the error {msg:?}",
            entry.name
        )),
    }
}
