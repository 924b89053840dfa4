//! `fairmark train`: trains a detector on a dataset directory.
use clap::Args;
use fairmark::train::trainer::{train, Event, TrainRequest};
use fairmark::train::{Method, TrainConfig};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Args)]
pub struct TrainArgs {
    /// Dataset directory (fairmark format: `fairmark synth dataset` or `fairmark import`).
    #[arg(long)]
    pub data: PathBuf,
    /// unet (baseline), idfopnet, groupdro (fine-tunes --init) or refine
    /// (adds a high-resolution refinement stage to the coarse model --init).
    #[arg(long, default_value = "unet")]
    pub method: String,
    #[arg(long, default_value_t = 150)]
    pub epochs: usize,
    /// Run directory (config, checkpoints, log.jsonl).
    #[arg(long)]
    pub out: PathBuf,
    /// Model input width (and height, unless --height), a multiple of
    /// 2^depth. Papers: 512. Ignored by refine (the coarse input is kept).
    #[arg(long, default_value_t = 512)]
    pub size: usize,
    /// Model input height, when it differs from the width (portrait
    /// radiographs: e.g. --size 128 --height 160 for 1935×2400 cephalograms).
    #[arg(long)]
    pub height: Option<usize>,
    #[arg(long, default_value_t = 4)]
    pub batch: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// refine: side of the square patch, in patch pixels.
    #[arg(long, default_value_t = 64)]
    pub patch: usize,
    /// refine: patch pixels per coarse input pixel.
    #[arg(long, default_value_t = 5)]
    pub zoom: usize,
    /// refine: standard deviation of the simulated coarse error per axis, in
    /// coarse input pixels.
    #[arg(long, default_value_t = 1.5)]
    pub offset_sd: f64,
    /// U-Net width of the first level.
    #[arg(long, default_value_t = 16)]
    pub width: usize,
    /// U-Net depth (down-sampling steps).
    #[arg(long, default_value_t = 4)]
    pub depth: usize,
    /// Heatmap σ in input pixels.
    #[arg(long, default_value_t = 3.0)]
    pub sigma: f64,
    /// IdFOPNet heatmap loss: ce (spatial cross-entropy, the default of the
    /// adapted variant: learns in few epochs) or l2 (Eq. 4 exactly; slow on
    /// short runs, see docs/METHOD.md). --faithful always uses l2.
    #[arg(long)]
    pub reg_loss: Option<String>,
    /// IdFOPNet as printed (docs/METHOD.md, "The faithful variant"): Eq. 2's
    /// holistic prototypes as a running mean of instance prototypes, Eq. 4's
    /// L2, the Eq. 7 head training the encoder, Eq. 9–11 with b/2 and m = the
    /// batch size, Eq. 12's noise inside k, no attribute dropout. Without it,
    /// idfopnet trains the adapted variant. Stored in run.json and the
    /// published manifest (`config.train.variant`).
    #[arg(long)]
    pub faithful: bool,
    /// λ1 of Eq. 5 (prototype alignment).
    #[arg(long, default_value_t = 1.0)]
    pub lambda_align: f64,
    /// λ2 of Eq. 5 (masked prototype mining).
    #[arg(long, default_value_t = 3.0)]
    pub lambda_mine: f64,
    #[arg(long)]
    pub no_identity_attention: bool,
    #[arg(long)]
    pub no_fair_opt: bool,
    #[arg(long)]
    pub no_mining: bool,
    /// Augmentation preset: default (small affine, brightness, contrast,
    /// noise), wide (larger ranges: phantoms → real radiographs) or none.
    #[arg(long, default_value = "default")]
    pub augment: String,
    /// Stop after N epochs without a better validation MRE.
    #[arg(long)]
    pub patience: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// auto (wgpu when an adapter exists, else CPU), wgpu or cpu.
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Start from this run's best weights (required for groupdro).
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Stop after this many minutes of wall time (after the batch running
    /// then, keeping the last whole epoch's checkpoint) and exit 0: a
    /// budgeted piece of a longer run, continued later with --resume.
    #[arg(long)]
    pub max_minutes: Option<f64>,
}

impl TrainArgs {
    /// A U-Net small enough to train on the CPU in a minute or two.
    pub fn small(data: &std::path::Path, out: &std::path::Path, epochs: usize, seed: u64) -> Self {
        Self {
            data: data.to_path_buf(),
            method: "unet".into(),
            epochs,
            out: out.to_path_buf(),
            size: 64,
            height: None,
            patch: 64,
            zoom: 5,
            offset_sd: 1.5,
            batch: 8,
            lr: 3e-3,
            width: 8,
            depth: 3,
            sigma: 1.5,
            reg_loss: None,
            faithful: false,
            lambda_align: 1.0,
            lambda_mine: 3.0,
            no_identity_attention: false,
            no_fair_opt: false,
            no_mining: false,
            augment: "default".into(),
            patience: None,
            seed,
            backend: "cpu".into(),
            resume: false,
            init: None,
            max_minutes: None,
        }
    }
}

pub fn run(a: TrainArgs) -> anyhow::Result<()> {
    let method = Method::parse(&a.method).ok_or_else(|| {
        anyhow::anyhow!(
            "--method {:?}: expected unet, idfopnet, groupdro or refine",
            a.method
        )
    })?;
    if method == Method::Groupdro && a.init.is_none() && !a.resume {
        anyhow::bail!(
            "--method groupdro fine-tunes a trained baseline: pass --init runs/<unet run>"
        );
    }
    if method == Method::Refine && a.init.is_none() && !a.resume {
        anyhow::bail!(
            "--method refine adds a stage to a trained coarse model: pass --init runs/<coarse run>"
        );
    }
    let device = super::runtime_for(&a.backend)?.device;
    let mut cfg = TrainConfig::new(method);
    cfg.epochs = a.epochs;
    cfg.batch_size = a.batch;
    cfg.lr = a.lr;
    cfg.input_size = [a.size, a.height.unwrap_or(a.size)];
    if method == Method::Refine {
        cfg.refine = Some(fairmark::train::config::RefineTrain {
            patch_size: a.patch,
            zoom: a.zoom,
            offset_sd: a.offset_sd,
        });
    }
    cfg.backbone_base_width = a.width;
    cfg.backbone_depth = a.depth;
    cfg.sigma = a.sigma;
    cfg.regression_loss = match a.reg_loss.as_deref() {
        Some("l2") => fairmark::train::config::RegressionLoss::L2,
        Some("ce") | None => fairmark::train::config::RegressionLoss::Ce,
        Some(other) => anyhow::bail!("--reg-loss {other:?}: expected l2 or ce"),
    };
    cfg.lambda_align = a.lambda_align;
    cfg.lambda_mine = a.lambda_mine;
    cfg.identity_attention = !a.no_identity_attention;
    cfg.fair_opt = !a.no_fair_opt;
    cfg.mining = !a.no_mining;
    if a.faithful {
        if method != Method::Idfopnet {
            anyhow::bail!("--faithful applies to --method idfopnet");
        }
        if a.reg_loss.as_deref() == Some("ce") {
            anyhow::bail!("--faithful uses Eq. 4's L2: drop --reg-loss ce");
        }
        cfg = cfg.faithful();
    }
    cfg.patience = a.patience;
    cfg.seed = a.seed;
    cfg.augment = fairmark::data::preprocess::augment::AugmentConfig::preset(&a.augment)
        .ok_or_else(|| {
            anyhow::anyhow!("--augment {:?}: expected default, wide or none", a.augment)
        })?;
    let stop = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    if let Some(minutes) = a.max_minutes {
        if !(minutes.is_finite() && minutes > 0.0) {
            anyhow::bail!("--max-minutes {minutes}: expected a positive number");
        }
        let (stop, timed_out) = (stop.clone(), timed_out.clone());
        let budget = std::time::Duration::from_secs_f64(minutes * 60.0);
        // Detached: the process ends with the run, the timer with it.
        std::thread::spawn(move || {
            std::thread::sleep(budget);
            timed_out.store(true, Ordering::SeqCst);
            stop.store(true, Ordering::SeqCst);
        });
    }
    {
        let stop = stop.clone();
        // First Ctrl-C: finish the batch and keep the last whole checkpoint.
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\nstopping after this batch (Ctrl-C again to quit at once)…");
        });
    }
    let bar = super::synth::progress_bar(a.epochs as u64, "training");
    let outcome = train(
        TrainRequest {
            data_dir: &a.data,
            run_dir: &a.out,
            config: cfg,
            device,
            resume: a.resume,
            init_from: a.init.as_deref(),
            stop: &stop,
        },
        |e| match e {
            Event::Batch {
                epoch,
                batch,
                n_batches,
                loss,
            } => {
                bar.set_message(format!(
                    "epoch {} batch {}/{} loss {loss:.4}",
                    epoch + 1,
                    batch + 1,
                    n_batches
                ));
            }
            Event::Epoch(log) => {
                bar.set_position(log.epoch as u64);
                let line = format!(
                    "epoch {:>4}  lr {:.1e}  loss {:.4}  val MRE {:.3} mm{}  ({:.1} s)",
                    log.epoch,
                    log.lr,
                    log.train_loss,
                    log.val_mre_mm,
                    if log.best { "  *best" } else { "" },
                    log.seconds
                );
                if bar.is_hidden() {
                    eprintln!("{line}");
                } else {
                    bar.println(line);
                }
            }
        },
    )?;
    bar.finish_and_clear();
    eprintln!(
        "{} epochs done{}{}; best val MRE {}; run: {}",
        outcome.epochs_done,
        if outcome.stopped_early {
            " (early stop)"
        } else {
            ""
        },
        if outcome.interrupted && timed_out.load(Ordering::SeqCst) {
            " (time limit reached; continue with --resume)"
        } else if outcome.interrupted {
            " (interrupted; resume with --resume)"
        } else {
            ""
        },
        outcome
            .best_val_mre_mm
            .map(|m| format!("{m:.3} mm"))
            .unwrap_or_else(|| "n/a".into()),
        a.out.display()
    );
    if outcome.interrupted && !timed_out.load(Ordering::SeqCst) {
        // 130, as for any program stopped by Ctrl-C: scripts must not go on
        // to evaluate a run that has not finished.
        std::process::exit(130);
    }
    Ok(())
}
