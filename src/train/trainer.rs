//! The training loop: batches, losses per method, Adam with a step schedule,
//! validation MRE per epoch, JSONL log, checkpoints, resume, early stopping,
//! and a clean stop on Ctrl-C (the last checkpoint is always whole: every file
//! is written to a temporary name and renamed).
use super::batches::{make_batch, prepare, AttributeSpace, Batch, BatchOptions, Prepared};
use super::config::{Method, RegressionLoss, TrainConfig};
use super::evaluate::{mean_radial_error_mm, predict};
use super::fairness::{modulation_coefficients, GroupDro};
use super::losses;
use crate::data::{Anatomy, Dataset, Split};
use crate::io::write_atomic;
use crate::model::detector::{Architecture, DetectorConfig};
use crate::model::{store, Detector};
use crate::rng::stream_rng;
use burn::module::{Module, ParamId};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::RngExt;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub const RUN_SCHEMA: &str = "fairmark.run/1";

/// Everything needed to rebuild a run's model: saved as `run.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunInfo {
    pub schema: String,
    pub train: TrainConfig,
    pub detector: DetectorConfig,
    pub attributes: AttributeSpace,
    pub landmark_names: Vec<String>,
    pub anatomy: Option<Anatomy>,
    pub data: PathBuf,
    pub data_description: String,
    pub n_train: usize,
    pub n_val: usize,
    pub n_test: usize,
    pub mm_per_px: Option<f64>,
    /// Run whose weights this one started from (GroupDRO fine-tuning).
    pub init_from: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct RunState {
    epochs_done: usize,
    best_val_mre_mm: Option<f64>,
    best_epoch: Option<usize>,
    epochs_since_best: usize,
    groupdro: Option<GroupDro>,
}

/// One line of `log.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub lr: f64,
    pub train_loss: f64,
    pub val_mre_mm: f64,
    pub seconds: f64,
    pub best: bool,
}

pub enum Event<'a> {
    Batch {
        epoch: usize,
        batch: usize,
        n_batches: usize,
        loss: f64,
    },
    Epoch(&'a EpochLog),
}

#[derive(Clone, Debug)]
pub struct TrainOutcome {
    pub epochs_done: usize,
    pub best_val_mre_mm: Option<f64>,
    pub stopped_early: bool,
    pub interrupted: bool,
}

pub struct TrainRequest<'a> {
    pub data_dir: &'a Path,
    pub run_dir: &'a Path,
    pub config: TrainConfig,
    pub device: Device,
    pub resume: bool,
    /// Start from this run's best weights (GroupDRO).
    pub init_from: Option<&'a Path>,
    pub stop: &'a AtomicBool,
}

fn err<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

pub fn read_run(run_dir: &Path) -> Result<RunInfo, String> {
    let p = run_dir.join("run.json");
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    let info: RunInfo = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
    if info.schema != RUN_SCHEMA {
        return Err(format!(
            "{}: schema {:?}, expected {RUN_SCHEMA:?}",
            p.display(),
            info.schema
        ));
    }
    Ok(info)
}

/// The best (else the last) weights of a run.
pub fn load_run_model(run_dir: &Path, device: &Device) -> Result<(RunInfo, Detector), String> {
    let info = read_run(run_dir)?;
    let path = ["best.bpk", "model.bpk"]
        .iter()
        .map(|f| run_dir.join(f))
        .find(|p| p.exists())
        .ok_or_else(|| format!("{}: no weights (best.bpk or model.bpk)", run_dir.display()))?;
    let bytes = std::fs::read(&path).map_err(err(&path.display().to_string()))?;
    let model = store::from_bytes(&info.detector, &bytes, device)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((info, model))
}

pub fn train(req: TrainRequest, mut on_event: impl FnMut(Event)) -> Result<TrainOutcome, String> {
    let cfg = &req.config;
    cfg.validate()?;
    let ds = Dataset::load(req.data_dir).map_err(|e| e.to_string())?;
    let space = AttributeSpace::of(&ds);
    let state_path = req.run_dir.join("state.json");
    if state_path.exists() && !req.resume {
        return Err(format!(
            "{} already holds a run: pass --resume to continue it, or choose another --out",
            req.run_dir.display()
        ));
    }
    let arch = match cfg.method {
        Method::Idfopnet => Architecture::Idfopnet,
        Method::Unet | Method::Groupdro => Architecture::Unet,
    };
    let detector = DetectorConfig::new(arch, ds.n_landmarks(), cfg.input_size, cfg.backbone())
        .with_groups_per_attribute(space.group_counts())
        .with_identity_attention(cfg.identity_attention)
        .with_mining(cfg.mining)
        .with_fair_opt(cfg.fair_opt);
    detector.validate()?;
    let train_set = prepare(
        &ds,
        req.data_dir,
        Some(Split::Train),
        cfg.input_size,
        &space,
    )
    .map_err(|e| e.to_string())?;
    let val_set = prepare(&ds, req.data_dir, Some(Split::Val), cfg.input_size, &space)
        .map_err(|e| e.to_string())?;
    if train_set.is_empty() {
        return Err(format!(
            "{}: no training images (split = train)",
            req.data_dir.display()
        ));
    }
    let spacing: Vec<f64> = ds.samples.iter().map(|s| s.mm_per_px).collect();
    let info = RunInfo {
        schema: RUN_SCHEMA.into(),
        train: cfg.clone(),
        detector: detector.clone(),
        attributes: space.clone(),
        landmark_names: ds.meta.landmark_names.clone(),
        anatomy: ds.meta.anatomy,
        // Absolute, so that eval and publish work from any directory.
        data: std::fs::canonicalize(req.data_dir).unwrap_or_else(|_| req.data_dir.to_path_buf()),
        data_description: ds.meta.description.clone(),
        n_train: train_set.len(),
        n_val: val_set.len(),
        n_test: ds.split(Split::Test).count(),
        mm_per_px: Some(spacing.iter().sum::<f64>() / spacing.len().max(1) as f64),
        init_from: req.init_from.map(Path::to_path_buf),
    };
    write_json(&req.run_dir.join("run.json"), &info)?;

    let device = req.device.clone().autodiff();
    device.seed(cfg.seed);
    let (mut model, mut optim, mut state) = if req.resume && state_path.exists() {
        let state: RunState =
            serde_json::from_str(&std::fs::read_to_string(&state_path).map_err(err("state.json"))?)
                .map_err(err("state.json"))?;
        let bytes = std::fs::read(req.run_dir.join("model.bpk")).map_err(err("model.bpk"))?;
        let model = store::from_bytes(&detector, &bytes, &device)?;
        let opt_bytes =
            std::fs::read(req.run_dir.join("optimizer.bpk")).map_err(err("optimizer.bpk"))?;
        let optim = AdamConfig::new()
            .init()
            .from_bytes(burn::tensor::Bytes::from_bytes_vec(opt_bytes))
            .map_err(|e| format!("optimizer.bpk: {e:?}"))?;
        (model, optim, state)
    } else {
        let model = match req.init_from {
            Some(init) => {
                let (init_info, m) = load_run_model(init, &device)?;
                if init_info.detector.architecture != arch
                    || init_info.detector.n_landmarks != detector.n_landmarks
                {
                    return Err(format!(
                        "{}: its model does not match this run's architecture",
                        init.display()
                    ));
                }
                m
            }
            None => detector.init(&device),
        };
        (model, AdamConfig::new().init(), RunState::default())
    };
    if cfg.method == Method::Groupdro && state.groupdro.is_none() {
        state.groupdro = Some(GroupDro::new(
            ds.n_landmarks() * (space.n_joint() + 1),
            cfg.groupdro_eta,
        ));
    }

    let opts = BatchOptions {
        augment: Some(&cfg.augment),
        sigma: cfg.sigma,
        attribute_dropout: cfg.attribute_dropout,
    };
    let n_batches = train_set.len().div_ceil(cfg.batch_size);
    let mut outcome = TrainOutcome {
        epochs_done: state.epochs_done,
        best_val_mre_mm: state.best_val_mre_mm,
        stopped_early: false,
        interrupted: false,
    };
    for epoch in state.epochs_done..cfg.epochs {
        let start = Instant::now();
        let lr = cfg.lr_at(epoch);
        let mut rng = stream_rng(cfg.seed, epoch as u64);
        let mut order: Vec<usize> = (0..train_set.len()).collect();
        order.shuffle(&mut rng);
        let mut loss_sum = 0.0;
        for (bi, chunk) in order.chunks(cfg.batch_size).enumerate() {
            let items: Vec<&Prepared> = chunk.iter().map(|&i| &train_set[i]).collect();
            let batch = make_batch(&items, &opts, &space, &mut rng, &device);
            let (loss, value) =
                batch_loss(&model, batch, cfg, &space, &mut state, &mut rng, &device)?;
            let grads = loss.backward();
            let mut grads = GradientsParams::from_grads(grads, &model);
            if cfg.method == Method::Idfopnet && cfg.fair_opt && cfg.ge_noise {
                add_ge_noise(&model, &mut grads, &mut rng);
            }
            model = optim.step(lr, model, grads);
            loss_sum += value;
            on_event(Event::Batch {
                epoch,
                batch: bi,
                n_batches,
                loss: value,
            });
            if req.stop.load(Ordering::SeqCst) {
                outcome.interrupted = true;
                break;
            }
        }
        if outcome.interrupted {
            // The epoch is incomplete: keep the checkpoint of the last whole epoch.
            break;
        }
        let eval_model = model.valid();
        let val_mre = if val_set.is_empty() {
            f64::NAN
        } else {
            let preds = predict(
                &eval_model,
                &val_set,
                &space,
                true,
                cfg.batch_size,
                &device.clone().inner(),
            )?;
            mean_radial_error_mm(&val_set, &preds)
        };
        let best = val_mre.is_finite() && state.best_val_mre_mm.is_none_or(|b| val_mre < b);
        if best {
            state.best_val_mre_mm = Some(val_mre);
            state.best_epoch = Some(epoch);
            state.epochs_since_best = 0;
            write_atomic(&req.run_dir.join("best.bpk"), &store::to_bytes(&model)?)
                .map_err(|e| e.to_string())?;
        } else {
            state.epochs_since_best += 1;
        }
        state.epochs_done = epoch + 1;
        let log = EpochLog {
            epoch: epoch + 1,
            lr,
            train_loss: loss_sum / n_batches as f64,
            val_mre_mm: val_mre,
            seconds: start.elapsed().as_secs_f64(),
            best,
        };
        save_checkpoint(req.run_dir, &model, &optim, &state, &log)?;
        on_event(Event::Epoch(&log));
        outcome.epochs_done = state.epochs_done;
        outcome.best_val_mre_mm = state.best_val_mre_mm;
        if cfg.patience.is_some_and(|p| state.epochs_since_best >= p) {
            outcome.stopped_early = true;
            break;
        }
        if req.stop.load(Ordering::SeqCst) {
            outcome.interrupted = true;
            break;
        }
    }
    Ok(outcome)
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    write_atomic(path, text.as_bytes()).map_err(|e| e.to_string())
}

fn save_checkpoint(
    dir: &Path,
    model: &Detector,
    optim: &ModuleOptimizer,
    state: &RunState,
    log: &EpochLog,
) -> Result<(), String> {
    write_atomic(&dir.join("model.bpk"), &store::to_bytes(model)?).map_err(|e| e.to_string())?;
    let opt = optim
        .into_bytes()
        .map_err(|e| format!("optimizer state: {e:?}"))?;
    write_atomic(&dir.join("optimizer.bpk"), &opt).map_err(|e| e.to_string())?;
    // The state goes last: it names the epoch the files above belong to.
    write_json(&dir.join("state.json"), state)?;
    let mut line = serde_json::to_string(log).map_err(|e| e.to_string())?;
    line.push('\n');
    use std::io::Write;
    let path = dir.join("log.jsonl");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Loss of one batch for the configured method, and its value.
fn batch_loss(
    model: &Detector,
    batch: Batch,
    cfg: &TrainConfig,
    space: &AttributeSpace,
    state: &mut RunState,
    rng: &mut rand_chacha::ChaCha8Rng,
    device: &Device,
) -> Result<(Tensor<1>, f64), String> {
    let b = batch.images.dims()[0];
    let loss = match cfg.method {
        Method::Unet => {
            let out = model.forward(batch.images, None);
            losses::spatial_cross_entropy(out.heatmaps, batch.targets).mean()
        }
        Method::Groupdro => {
            let out = model.forward(batch.images, None);
            let per = losses::spatial_cross_entropy(out.heatmaps, batch.targets); // [B, K]
            let k = per.dims()[1];
            let values: Vec<f32> = per
                .clone()
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| format!("{e:?}"))?;
            let n_joint = space.n_joint() + 1;
            let joint: Vec<usize> = (0..b)
                .map(|i| {
                    let idx: Vec<usize> = batch.labels.iter().map(|l| l[i]).collect();
                    space.joint_index(&idx).unwrap_or(n_joint - 1)
                })
                .collect();
            let mut sums = vec![0.0f64; k * n_joint];
            let mut counts = vec![0usize; k * n_joint];
            for i in 0..b {
                for kp in 0..k {
                    let g = kp * n_joint + joint[i];
                    sums[g] += values[i * k + kp] as f64;
                    counts[g] += 1;
                }
            }
            let means: Vec<Option<f64>> = sums
                .iter()
                .zip(&counts)
                .map(|(s, &c)| (c > 0).then(|| s / c as f64))
                .collect();
            let dro = state.groupdro.as_mut().ok_or("GroupDRO state missing")?;
            let q = dro.update(&means);
            // Σ_g q_g · mean_{(i,k) ∈ g} L = Σ_(i,k) q_g(i,k) / n_g · L(i,k)
            let weights: Vec<f32> = (0..b)
                .flat_map(|i| (0..k).map(move |kp| (i, kp)))
                .map(|(i, kp)| {
                    let g = kp * n_joint + joint[i];
                    (q[g] / counts[g] as f64) as f32
                })
                .collect();
            (per * Tensor::<2>::from_data(TensorData::new(weights, [b, k]), device)).sum()
        }
        Method::Idfopnet => {
            let enc = model.encode(batch.images);
            let mut attr_loss = Tensor::<1>::zeros([1], device);
            let mut scale = None;
            if !enc.attribute_logits.is_empty() {
                let mut scores = Vec::new();
                let mut groups = Vec::new();
                for (a, logits) in enc.attribute_logits.iter().enumerate() {
                    attr_loss = attr_loss
                        + losses::attribute_cross_entropy(logits.clone(), &batch.labels[a]);
                    let probs: Vec<f32> = softmax(logits.clone().detach(), 1)
                        .into_data()
                        .try_to_vec::<f32>()
                        .map_err(|e| format!("{e:?}"))?;
                    let g = space.groups[a].len();
                    let labels = &batch.labels[a];
                    scores.push(
                        (0..b)
                            .map(|i| {
                                if labels[i] < g {
                                    probs[i * g + labels[i]]
                                } else {
                                    f32::NAN
                                }
                            })
                            .collect(),
                    );
                    groups.push(labels.iter().map(|&l| (l < g).then_some(l)).collect());
                }
                let k = modulation_coefficients(&scores, &groups, cfg.modulation_m as f32);
                scale = Some(Tensor::<4>::from_data(
                    TensorData::new(k, [b, 1, 1, 1]),
                    device,
                ));
            }
            let out = model.decode(enc, Some(batch.attributes), scale.as_ref());
            let targets = batch.targets;
            let reg = match cfg.regression_loss {
                RegressionLoss::L2 => {
                    losses::heatmap_regression(out.heatmaps, targets.clone()).mean()
                }
                RegressionLoss::Ce => {
                    losses::spatial_cross_entropy(out.heatmaps, targets.clone()).mean()
                }
            };
            let mut total = reg + attr_loss;
            if let Some(f) = out.features {
                // Compared as unit vectors: raw feature norms would let Eq. 2 and 3
                // dwarf the heatmap loss (and Eq. 2 is trivially met by shrinking F).
                let p_ins = crate::model::prototypes::normalise(
                    crate::model::prototypes::instance_prototypes(targets, f),
                );
                total = total + losses::alignment(p_ins.clone()).mul_scalar(cfg.lambda_align);
                if let Some(miner) = model.mining() {
                    let [_, k, _] = p_ins.dims();
                    let keep: Vec<f32> = (0..b * k)
                        .map(|_| {
                            if rng.random_bool(cfg.mask_ratio.clamp(0.0, 1.0)) {
                                0.0
                            } else {
                                1.0
                            }
                        })
                        .collect();
                    let keep = Tensor::<3>::from_data(TensorData::new(keep, [b, k, 1]), device);
                    let rec = crate::model::prototypes::normalise(miner.forward(
                        p_ins.clone(),
                        keep,
                        batch.positions,
                    ));
                    total = total + losses::mining(rec, p_ins).mul_scalar(cfg.lambda_mine);
                }
            }
            total
        }
    };
    let value: f32 = loss.clone().into_scalar();
    if !value.is_finite() {
        return Err(format!(
            "the loss became {value}: lower the learning rate (--lr)"
        ));
    }
    Ok((loss, value as f64))
}

/// GE (Eq. 12): Gaussian noise with the std of each encoder conv-weight gradient,
/// scaled like OGM-GE (noise std = std of that gradient). Drawn on the CPU from
/// the run's seeded stream so training stays deterministic.
fn add_ge_noise(model: &Detector, grads: &mut GradientsParams, rng: &mut rand_chacha::ChaCha8Rng) {
    let ids: Vec<ParamId> = model.encoder_conv_weights().iter().map(|p| p.id).collect();
    for id in ids {
        let Some(g) = grads.remove::<4>(id) else {
            continue;
        };
        let device = g.device();
        let dims = g.dims();
        let std: f32 = g.clone().var(0).mean().sqrt().into_scalar();
        let g = match Normal::new(0.0f32, std.max(1e-8)) {
            Ok(normal) if std.is_finite() => {
                let n: usize = dims.iter().product();
                let noise: Vec<f32> = (0..n).map(|_| normal.sample(rng)).collect();
                g + Tensor::<4>::from_data(TensorData::new(noise, dims), &device)
            }
            _ => g,
        };
        grads.register(id, g);
    }
}

/// Kept here for callers of the training API; lives in the model core.
pub use crate::model::attributes::attribute_tensor;
