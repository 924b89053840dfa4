//! `fairmark eval`, `detect` and `publish`: thin shells over `train::inference`.
use anyhow::Context;
use clap::Args;
use fairmark::data::formats::image_io::load_radiograph;
use fairmark::detection::overlay::draw_overlay;
use fairmark::detection::pipeline::{DetectOptions, Pixels};
use fairmark::metrics::predictions::write_csv;
use fairmark::publish::run::publish_run;
use fairmark::train::inference::{audit_rows, load_landmarker, predict_dataset};
use std::path::PathBuf;

#[derive(Args)]
pub struct EvalArgs {
    /// A run directory (runs/NAME) or a published model (models/NAME).
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long)]
    pub data: PathBuf,
    /// Predictions CSV to write.
    #[arg(long, default_value = "predictions.csv")]
    pub out: PathBuf,
    /// train, val, test or all.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Audit report JSON (default: next to the predictions, report.json).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Hide the attributes from the model (identity attention sees "unknown").
    #[arg(long)]
    pub no_attributes: bool,
    #[arg(long, default_value_t = 1000)]
    pub rounds: usize,
    #[arg(long, default_value = "auto")]
    pub backend: String,
}

pub fn eval(a: EvalArgs) -> anyhow::Result<()> {
    let model = load_landmarker(&a.model, super::runtime_for(&a.backend)?)?;
    let split = super::split_arg(&a.split)?;
    let (rows, attrs) = predict_dataset(&model, &a.data, split, !a.no_attributes)?;
    fairmark::io::write_atomic(&a.out, write_csv(&rows, &attrs).as_bytes())?;
    eprintln!(
        "predictions: {} ({} images)",
        a.out.display(),
        rows.len() / model.spec().config.detector.n_landmarks
    );
    if attrs.is_empty() {
        eprintln!("no attribute columns: no fairness audit");
        return Ok(());
    }
    let report = audit_rows(&rows, &attrs, model.spec(), a.rounds, 0)?;
    let path = a
        .report
        .unwrap_or_else(|| a.out.with_file_name("report.json"));
    super::audit::write_report(&report, &path, None)?;
    print!("{}", fairmark::metrics::text_table::render(&report));
    eprintln!("report: {}", path.display());
    Ok(())
}

#[derive(Args)]
pub struct DetectArgs {
    /// The X-ray image (PNG, JPEG, BMP, TIFF; 8 or 16 bit) or a DICOM file
    /// (its pixel spacing is used unless --mm-per-px is given).
    pub image: PathBuf,
    /// A published model (models/NAME) or a run directory.
    #[arg(long)]
    pub model: PathBuf,
    /// Known attributes, e.g. --attr age_group=adolescent (repeatable; optional).
    #[arg(long = "attr")]
    pub attrs: Vec<String>,
    /// Pixel spacing of the image in mm (overrides a DICOM file's own; hands
    /// without either default to the 50 mm wrist convention).
    #[arg(long)]
    pub mm_per_px: Option<f64>,
    #[arg(long, default_value = "result.json")]
    pub out: PathBuf,
    /// Also draw the landmarks on the image.
    #[arg(long)]
    pub overlay: Option<PathBuf>,
    #[arg(long, default_value = "auto")]
    pub backend: String,
}

pub fn detect(a: DetectArgs) -> anyhow::Result<()> {
    let radiograph = load_radiograph(&a.image)?;
    let img = radiograph.image;
    let model = load_landmarker(&a.model, super::runtime_for(&a.backend)?)?;
    let mut attributes = std::collections::BTreeMap::new();
    for pair in &a.attrs {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| fairmark::model::attributes::AttributeError::Syntax(pair.clone()))?;
        attributes.insert(k.trim().to_string(), v.trim().to_string());
    }
    let options = DetectOptions {
        attributes,
        mm_per_px: a.mm_per_px,
        image_name: Some(a.image.display().to_string()),
        file_spacing: radiograph.spacing,
    };
    if let Some(d) = &radiograph.dicom {
        eprintln!(
            "DICOM: {}x{} {}, {} bits stored, {}",
            img.width, img.height, d.photometric, d.bits_stored, d.transfer_syntax
        );
        if let Some(note) = &d.spacing_note {
            eprintln!("DICOM spacing not used: {note}");
        }
    }
    let det = futures_lite::future::block_on(model.detect(Pixels::Grey(&img), &options))
        .with_context(|| format!("detecting on {}", a.image.display()))?;
    // The document as the core made it: the browser writes the same one.
    fairmark::io::write_atomic(&a.out, serde_json::to_string_pretty(&det)?.as_bytes())?;
    print!("{}", fairmark::detection::table::render(&det));
    match (det.mm_per_px, det.spacing_source) {
        (Some(mm), Some(source)) => eprintln!(
            "spacing:   {mm} mm/px ({})",
            serde_json::to_value(source)?.as_str().unwrap_or("?")
        ),
        _ => eprintln!("spacing:   none (give --mm-per-px for lengths in mm)"),
    }
    let t = &det.timings_ms;
    eprintln!(
        "landmarks: {} ({:.1} ms: preprocess {:.1}, forward {:.1}, decode {:.1})",
        a.out.display(),
        t.total,
        t.preprocess,
        t.forward,
        t.decode
    );
    if let Some(path) = &a.overlay {
        let drawn = draw_overlay(
            &img,
            &det.points(),
            &model.spec().landmark_names,
            det.mm_per_px.map(|m| 1.0 / m),
        );
        let mut png = Vec::new();
        drawn.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
        fairmark::io::write_atomic(path, &png)?;
        eprintln!("overlay:   {}", path.display());
    }
    Ok(())
}

#[derive(Args)]
pub struct PublishArgs {
    /// The run to publish (runs/NAME).
    pub run: PathBuf,
    #[arg(long)]
    pub name: String,
    /// Registry directory; the model goes to <models>/<name>.
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Creation stamp written into the manifest (default: today, UTC).
    #[arg(long)]
    pub created: Option<String>,
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Markdown file of further results for the model card (e.g. the ISBI
    /// Test1/Test2 tables an experiment script wrote).
    #[arg(long)]
    pub evaluation: Option<PathBuf>,
    /// Also upload the model to a fairmark server, e.g. http://HOST:8080, with
    /// the token in FAIRMARK_TOKEN. A RUN that is already a published model
    /// directory (it holds manifest.json) is uploaded as it is.
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
}

/// Uploads a model directory to the server at `url`, token from the environment.
fn upload(dir: &std::path::Path, name: &str, url: &str, token: &str) -> anyhow::Result<()> {
    use fairmark::registry::client as remote;
    if remote::is_plain_http_to_remote(url) {
        eprintln!("warning: {url} is plain http: the token and the weights cross the network unencrypted (use https)");
    }
    let reply = remote::push_dir(dir, name, url, token)?;
    let weights = reply.model["weights_url"].as_str().unwrap_or("");
    eprintln!(
        "uploaded {name} to {} ({}): weights at {}{weights}",
        reply.url,
        if reply.status == 201 {
            "new model"
        } else {
            "replaced"
        },
        url.trim_end_matches('/'),
    );
    Ok(())
}

/// Today's date (UTC) as YYYY-MM-DD, from the civil-from-days algorithm.
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

pub fn publish(a: PublishArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        fairmark::registry::valid_model_name(&a.name),
        "--name {:?}: use 1 to 128 letters, digits, '-' and '_'",
        a.name
    );
    // The token is checked before the (long) evaluation, not after.
    let token = match &a.to {
        Some(_) => Some(std::env::var(fairmark::registry::TOKEN_ENV).map_err(|_| {
            anyhow::anyhow!("--to needs the server's publishing token in the environment variable FAIRMARK_TOKEN")
        })?),
        None => None,
    };
    if a.run
        .join(fairmark::model::manifest::MANIFEST_FILE)
        .is_file()
    {
        let (Some(url), Some(token)) = (&a.to, &token) else {
            anyhow::bail!(
                "{} is already a published model; give --to URL to upload it",
                a.run.display()
            );
        };
        return upload(&a.run, &a.name, url, token);
    }
    let runtime = super::runtime_for(&a.backend)?;
    let out = a.models.join(&a.name);
    let created = a.created.unwrap_or_else(today);
    let evaluation = match &a.evaluation {
        Some(p) => Some(
            std::fs::read_to_string(p).with_context(|| format!("--evaluation {}", p.display()))?,
        ),
        None => None,
    };
    let (manifest, report) = publish_run(&a.run, &a.name, &out, &created, evaluation, runtime)?;
    print!("{}", fairmark::metrics::text_table::render(&report));
    eprintln!(
        "published {} ({} bytes, sha256 {}…) to {}",
        a.name,
        manifest.weights.bytes,
        &manifest.weights.sha256[..12],
        out.display()
    );
    if let (Some(url), Some(token)) = (&a.to, &token) {
        upload(&out, &a.name, url, token)?;
    }
    Ok(())
}
