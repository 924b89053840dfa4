//! `fairmark import`: turn a real data set (ISBI 2015 layout, Digital Hand Atlas
//! CSVs) into a fairmark dataset directory that every other command reads. The
//! images stay where they are; the manifest points at them by absolute path.
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use fairmark::data::formats::hand::{read_hand, HandLayout, HandOptions};
use fairmark::data::formats::isbi::{read_isbi, IsbiGroundTruth, IsbiOptions, IsbiTestSets};
use fairmark::data::Dataset;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ImportCommand {
    /// ISBI 2015 cephalograms: DIR with AnnotationsByMD/400_{senior,junior}/NNN.txt and
    /// RawImage/…, or DIR/images/NNN.jpg|bmp with the annotation CSVs (isbi2015_ceph_{senior,junior}.csv,
    /// millimetres) in DIR/annotations, DIR/../annotations or --annotations. Adds the
    /// attribute skeletal_class (I, II, III) from the senior annotation's ANB.
    Isbi(IsbiArgs),
    /// Digital Hand Atlas in Payer et al.'s layout (all.csv + attributes CSV + images).
    Hand(HandArgs),
    /// A smaller copy of a fairmark dataset: images box-averaged by --factor
    /// and stored as grey JPEG, landmarks and spacing converted (e.g. to take
    /// real radiographs to a machine with little room).
    Reduce(ReduceArgs),
}

#[derive(Args)]
pub struct ReduceArgs {
    /// The fairmark dataset to copy.
    #[arg(long)]
    pub data: PathBuf,
    /// An empty (or new) directory for the copy.
    #[arg(long)]
    pub out: PathBuf,
    /// Original pixels per side of a new pixel (2: 0.1 mm → 0.2 mm per pixel).
    #[arg(long, default_value_t = 2)]
    pub factor: usize,
    /// JPEG quality (1–100).
    #[arg(long, default_value_t = 95)]
    pub quality: u8,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GroundTruth {
    Senior,
    Junior,
    Mean,
}

#[derive(Args)]
pub struct IsbiArgs {
    /// The ISBI 2015 directory.
    pub dir: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// Annotator whose landmarks are the ground truth (or their mean).
    #[arg(long, value_enum, default_value = "senior")]
    pub ground_truth: GroundTruth,
    /// Keep all 19 ISBI landmarks (anatomy "isbi", the challenge's names)
    /// instead of the 10 fairmark ceph ones.
    #[arg(long)]
    pub all_landmarks: bool,
    /// Fraction of the training ids (001–150) held out for validation.
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f64,
    /// Directory of isbi2015_ceph_senior.csv and …_junior.csv (when DIR has no AnnotationsByMD/).
    #[arg(long)]
    pub annotations: Option<PathBuf>,
    /// Test set(s) in the test split: both, test1 (151–300) or test2 (301–400).
    #[arg(long, value_enum, default_value = "both")]
    pub test_set: TestSets,
    /// Leave out test images 173 and 283, copies of training images 144 and 038.
    #[arg(long)]
    pub drop_duplicates: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TestSets {
    Both,
    Test1,
    Test2,
}

#[derive(Args)]
pub struct HandArgs {
    /// all.csv: id,x1,y1,…,x37,y37 in pixels, no header.
    #[arg(long)]
    pub annotations: PathBuf,
    /// CSV with an image (or id) column and attribute columns (sex, age or age_group).
    #[arg(long)]
    pub attributes: Option<PathBuf>,
    /// Directory of the images, named <id>.png (or .jpg, .bmp, .tif).
    #[arg(long)]
    pub images: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// Leave out annotated ids whose image is missing instead of failing.
    #[arg(long)]
    pub skip_missing_images: bool,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value_t = 0.25)]
    pub test_fraction: f64,
    #[arg(long, default_value_t = 0.0)]
    pub val_fraction: f64,
}

pub fn run(c: ImportCommand) -> anyhow::Result<()> {
    let (ds, base, out) = match c {
        ImportCommand::Reduce(a) => return reduce(a),
        ImportCommand::Isbi(a) => {
            let opts = IsbiOptions {
                ground_truth: match a.ground_truth {
                    GroundTruth::Senior => IsbiGroundTruth::Senior,
                    GroundTruth::Junior => IsbiGroundTruth::Junior,
                    GroundTruth::Mean => IsbiGroundTruth::Mean,
                },
                all_landmarks: a.all_landmarks,
                val_fraction: a.val_fraction,
                annotations: a.annotations,
                test_sets: match a.test_set {
                    TestSets::Both => IsbiTestSets::Both,
                    TestSets::Test1 => IsbiTestSets::Test1,
                    TestSets::Test2 => IsbiTestSets::Test2,
                },
                drop_duplicates: a.drop_duplicates,
                ..Default::default()
            };
            (read_isbi(&a.dir, &opts)?, a.dir, a.out)
        }
        ImportCommand::Hand(a) => {
            let layout = HandLayout {
                annotations: a.annotations,
                attributes: a.attributes,
                images: a.images,
            };
            let opts = HandOptions {
                seed: a.seed,
                test_fraction: a.test_fraction,
                val_fraction: a.val_fraction,
                skip_missing_images: a.skip_missing_images,
            };
            (read_hand(&layout, &opts)?, PathBuf::from("."), a.out)
        }
    };
    let ds = absolute_images(ds, &base)?;
    ds.save(&out)
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "imported {} images × {} landmarks into {}",
        ds.samples.len(),
        ds.n_landmarks(),
        out.display()
    );
    Ok(())
}

/// Rewrites image paths (relative to `base`) as absolute paths, so the new
/// dataset directory can live anywhere.
fn absolute_images(mut ds: Dataset, base: &Path) -> anyhow::Result<Dataset> {
    for s in &mut ds.samples {
        let p = base.join(&s.image);
        let abs =
            std::fs::canonicalize(&p).unwrap_or_else(|_| std::path::absolute(&p).unwrap_or(p));
        s.image = abs.to_string_lossy().into_owned();
    }
    Ok(ds)
}

fn reduce(a: ReduceArgs) -> anyhow::Result<()> {
    use fairmark::data::reduce::{reduce_dataset, ReduceOptions};
    let ds = Dataset::load(&a.data).with_context(|| format!("reading {}", a.data.display()))?;
    let bar = super::synth::progress_bar(ds.samples.len() as u64, "reducing");
    let opts = ReduceOptions {
        factor: a.factor,
        quality: a.quality,
    };
    let small = reduce_dataset(&ds, &a.data, &a.out, opts, |i, _| {
        bar.set_position(i as u64)
    })?;
    bar.finish_and_clear();
    let bytes: u64 = small
        .samples
        .iter()
        .filter_map(|s| std::fs::metadata(a.out.join(&s.image)).ok())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "wrote {} images ({:.1} MiB, ×{} coarser) into {}",
        small.samples.len(),
        bytes as f64 / (1024.0 * 1024.0),
        a.factor,
        a.out.display()
    );
    Ok(())
}
