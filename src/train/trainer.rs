//! The training loop: batches, losses per method, Adam with a step schedule,
//! validation MRE per epoch, JSONL log, checkpoints, resume, early stopping,
//! and a clean stop on Ctrl-C (the last checkpoint is always whole: every file
//! is written to a temporary name and renamed).
use super::batches::{make_batch, prepare, AttributeSpace, Batch, BatchOptions, Prepared};
use super::config::{IdfopnetVariant, Method, RegressionLoss, TrainConfig};
use super::error::{Result, TrainError};
use super::evaluate::{mean_radial_error_mm, predict};
use super::fairness::{modulation_coefficients, GroupDro};
use super::faithful;
use super::losses;
use super::refine;
use crate::data::{Anatomy, Dataset, Split};
use crate::io::write_atomic;
use crate::model::config::{Architecture, DetectorConfig, ModelConfig};
use crate::model::{store, Detector, ModelSpec};
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
    /// Updates of the holistic prototypes so far (faithful IdFOPNet).
    #[serde(default)]
    holistic_updates: u64,
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

impl RunInfo {
    /// What a [`crate::model::Landmarker`] needs to rebuild this run's network.
    pub fn spec(&self) -> ModelSpec {
        ModelSpec {
            name: None,
            method: self.train.method.as_str().into(),
            config: ModelConfig {
                detector: self.detector.clone(),
                attributes: self.attributes.clone(),
                train: Some(self.train.clone()),
            },
            landmark_names: self.landmark_names.clone(),
            anatomy: self.anatomy,
            sha256: None,
        }
    }
}

pub fn read_run(run_dir: &Path) -> Result<RunInfo> {
    let p = run_dir.join("run.json");
    let text = std::fs::read_to_string(&p).map_err(|e| TrainError::io(&p, e))?;
    let info: RunInfo = serde_json::from_str(&text).map_err(|e| TrainError::run_file(&p, e))?;
    if info.schema != RUN_SCHEMA {
        return Err(TrainError::run_file(
            &p,
            format!("schema {:?}, expected {RUN_SCHEMA:?}", info.schema),
        ));
    }
    Ok(info)
}

/// The weights file of a run: the best epoch's, else the last.
pub fn run_weights_path(run_dir: &Path) -> Result<PathBuf> {
    ["best.bpk", "model.bpk"]
        .iter()
        .map(|f| run_dir.join(f))
        .find(|p| p.exists())
        .ok_or_else(|| TrainError::run_file(run_dir, "no weights (best.bpk or model.bpk)"))
}

/// The best (else the last) weights of a run.
pub fn load_run_model(run_dir: &Path, device: &Device) -> Result<(RunInfo, Detector)> {
    let info = read_run(run_dir)?;
    let path = run_weights_path(run_dir)?;
    let model = load_weights(&path, &info.detector, device)?;
    Ok((info, model))
}

fn load_weights(path: &Path, config: &DetectorConfig, device: &Device) -> Result<Detector> {
    let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
    store::from_bytes(config, &bytes, device).map_err(|source| TrainError::Weights {
        path: path.into(),
        source,
    })
}

/// A run about to train: its data in memory and its description.
struct Plan {
    info: RunInfo,
    space: AttributeSpace,
    train_set: Vec<Prepared>,
    val_set: Vec<Prepared>,
}

/// Checks the request, reads and letterboxes the data, and describes the run.
fn plan(req: &TrainRequest) -> Result<Plan> {
    let cfg = &req.config;
    cfg.validate()?;
    let ds = Dataset::load(req.data_dir)?;
    let space = AttributeSpace::of(&ds);
    if req.run_dir.join("state.json").exists() && !req.resume {
        return Err(TrainError::Invalid(format!(
            "{} already holds a run: pass --resume to continue it, or choose another --out",
            req.run_dir.display()
        )));
    }
    let mut cfg = cfg.clone();
    let base = init_run(req, &ds)?;
    let init_from = base.as_ref().map(|(_, path)| path.clone());
    let detector = match (cfg.method, base) {
        (Method::Refine, Some((coarse, init))) => {
            if coarse.refine.is_some() {
                return Err(TrainError::Invalid(format!(
                    "{}: already has a refinement stage",
                    init.display()
                )));
            }
            // The stage runs on the coarse input's letterbox.
            cfg.input_size = coarse.input_size;
            coarse.with_refine(cfg.refine_config())
        }
        (Method::Refine, None) => return Err(TrainError::Invalid(
            "--method refine adds a stage to a trained coarse model: pass --init runs/<coarse run>"
                .into(),
        )),
        // Fine-tuning keeps the network it starts from (with its refinement
        // stage, if any: GroupDRO then re-weighs the coarse stage's errors).
        (Method::Groupdro, Some((base, _))) => {
            cfg.input_size = base.input_size;
            base
        }
        (method, _) => {
            let arch = match method {
                Method::Idfopnet => Architecture::Idfopnet,
                _ => Architecture::Unet,
            };
            DetectorConfig::new(arch, ds.n_landmarks(), cfg.input_size, cfg.backbone())
                .with_groups_per_attribute(space.group_counts())
                .with_identity_attention(cfg.identity_attention)
                .with_mining(cfg.mining)
                .with_fair_opt(cfg.fair_opt)
        }
    };
    detector.validate()?;
    let dir = req.data_dir;
    let train_set = prepare(&ds, dir, Some(Split::Train), &detector, &space)?;
    let val_set = prepare(&ds, dir, Some(Split::Val), &detector, &space)?;
    if train_set.is_empty() {
        return Err(TrainError::Invalid(format!(
            "{}: no training images (split = train)",
            dir.display()
        )));
    }
    let spacing: Vec<f64> = ds.samples.iter().map(|s| s.mm_per_px).collect();
    let info = RunInfo {
        schema: RUN_SCHEMA.into(),
        train: cfg,
        detector,
        attributes: space.clone(),
        landmark_names: ds.meta.landmark_names.clone(),
        anatomy: ds.meta.anatomy,
        // Absolute, so that eval and publish work from any directory.
        data: std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()),
        data_description: ds.meta.description.clone(),
        n_train: train_set.len(),
        n_val: val_set.len(),
        n_test: ds.split(Split::Test).count(),
        mm_per_px: Some(spacing.iter().sum::<f64>() / spacing.len().max(1) as f64),
        init_from,
    };
    Ok(Plan {
        info,
        space,
        train_set,
        val_set,
    })
}

/// The run a fine-tuning or refinement run starts from: `--init`, or the one a
/// resumed run remembers; it must be of this dataset's landmarks.
fn init_run(req: &TrainRequest, ds: &Dataset) -> Result<Option<(DetectorConfig, PathBuf)>> {
    let remembered = match req.resume && req.run_dir.join("run.json").exists() {
        true => read_run(req.run_dir)?.init_from,
        false => None,
    };
    let Some(init) = req.init_from.map(Path::to_path_buf).or(remembered) else {
        return Ok(None);
    };
    let base = read_run(&init)?;
    if base.landmark_names != ds.meta.landmark_names {
        return Err(TrainError::Invalid(format!(
            "{}: trained on other landmarks than this dataset's",
            init.display()
        )));
    }
    Ok(Some((base.detector, init)))
}

/// The model, optimizer and state to go on from: the run's last checkpoint
/// (`--resume`), the weights of `init_from` (fine-tuning), or a fresh model.
fn start_or_resume(
    req: &TrainRequest,
    detector: &DetectorConfig,
    device: &Device,
) -> Result<(Detector, ModuleOptimizer, RunState)> {
    let state_path = req.run_dir.join("state.json");
    if req.resume && state_path.exists() {
        let text =
            std::fs::read_to_string(&state_path).map_err(|e| TrainError::io(&state_path, e))?;
        let state: RunState =
            serde_json::from_str(&text).map_err(|e| TrainError::run_file(&state_path, e))?;
        let model = load_weights(&req.run_dir.join("model.bpk"), detector, device)?;
        let opt_path = req.run_dir.join("optimizer.bpk");
        let opt_bytes = std::fs::read(&opt_path).map_err(|e| TrainError::io(&opt_path, e))?;
        let optim = AdamConfig::new()
            .init()
            .from_bytes(burn::tensor::Bytes::from_bytes_vec(opt_bytes))
            .map_err(|e| TrainError::run_file(&opt_path, format!("{e:?}")))?;
        return Ok((model, optim, state));
    }
    let model = match req.init_from {
        Some(init) => {
            let (init_info, m) = load_run_model(init, device)?;
            if init_info.detector.architecture != detector.architecture
                || init_info.detector.n_landmarks != detector.n_landmarks
            {
                return Err(TrainError::Invalid(format!(
                    "{}: its model does not match this run's architecture",
                    init.display()
                )));
            }
            match (&detector.refine, m.refiner()) {
                (Some(r), None) => m.with_refiner(r.init(detector.n_landmarks, device)),
                _ => m,
            }
        }
        None => detector.init(device),
    };
    Ok((model, AdamConfig::new().init(), RunState::default()))
}

pub fn train(req: TrainRequest, mut on_event: impl FnMut(Event)) -> Result<TrainOutcome> {
    let Plan {
        info,
        space,
        train_set,
        val_set,
    } = plan(&req)?;
    write_json(&req.run_dir.join("run.json"), &info)?;
    let cfg = &req.config;
    let device = req.device.clone().autodiff();
    device.seed(cfg.seed);
    let (mut model, mut optim, mut state) = start_or_resume(&req, &info.detector, &device)?;
    if cfg.method == Method::Groupdro && state.groupdro.is_none() {
        state.groupdro = Some(GroupDro::new(
            info.detector.n_landmarks * (space.n_joint() + 1),
            cfg.groupdro_eta,
        ));
    }

    let opts = BatchOptions {
        augment: Some(&cfg.augment),
        sigma: cfg.sigma,
        attribute_dropout: cfg.attribute_dropout,
    };
    let mut outcome = TrainOutcome {
        epochs_done: state.epochs_done,
        best_val_mre_mm: state.best_val_mre_mm,
        stopped_early: false,
        interrupted: false,
    };
    let n_batches = n_units(cfg, &info.detector, train_set.len()).div_ceil(cfg.batch_size);
    for epoch in state.epochs_done..cfg.epochs {
        let start = Instant::now();
        let lr = cfg.lr_at(epoch);
        let pass = EpochPass {
            epoch,
            lr,
            set: &train_set,
            space: &space,
            opts: &opts,
            cfg,
            detector: &info.detector,
            device: &device,
            stop: req.stop,
        };
        let (trained, loss_sum) = pass.run(model, &mut optim, &mut state, &mut on_event)?;
        model = trained;
        let Some(loss_sum) = loss_sum else {
            // The epoch is incomplete: keep the checkpoint of the last whole epoch.
            outcome.interrupted = true;
            break;
        };
        let val_mre = validation_mre(
            &model.valid(),
            &info.detector,
            &val_set,
            &space,
            cfg,
            &device.clone().inner(),
        )?;
        let best = val_mre.is_finite() && state.best_val_mre_mm.is_none_or(|b| val_mre < b);
        if best {
            state.best_val_mre_mm = Some(val_mre);
            state.best_epoch = Some(epoch);
            state.epochs_since_best = 0;
            write_weights(&req.run_dir.join("best.bpk"), &model)?;
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

/// One epoch's pass over the training set, in the epoch's seeded order.
struct EpochPass<'a> {
    epoch: usize,
    lr: f64,
    set: &'a [Prepared],
    space: &'a AttributeSpace,
    opts: &'a BatchOptions<'a>,
    cfg: &'a TrainConfig,
    detector: &'a DetectorConfig,
    device: &'a Device,
    stop: &'a AtomicBool,
}

/// Training units per epoch: images, or (image, landmark) patches for the
/// refinement stage.
fn n_units(cfg: &TrainConfig, detector: &DetectorConfig, n_images: usize) -> usize {
    if cfg.method == Method::Refine {
        n_images * detector.n_landmarks
    } else {
        n_images
    }
}

impl EpochPass<'_> {
    /// The model after every batch, and the sum of the batch losses; `None`
    /// when Ctrl-C stopped the pass part-way (the epoch is then not kept).
    fn run(
        &self,
        mut model: Detector,
        optim: &mut ModuleOptimizer,
        state: &mut RunState,
        on_event: &mut impl FnMut(Event),
    ) -> Result<(Detector, Option<f64>)> {
        let cfg = self.cfg;
        let mut rng = stream_rng(cfg.seed, self.epoch as u64);
        let units = n_units(cfg, self.detector, self.set.len());
        let mut order: Vec<usize> = (0..units).collect();
        order.shuffle(&mut rng);
        let n_batches = units.div_ceil(cfg.batch_size);
        let mut loss_sum = 0.0;
        for (bi, chunk) in order.chunks(cfg.batch_size).enumerate() {
            let faithful =
                cfg.method == Method::Idfopnet && cfg.variant == IdfopnetVariant::Faithful;
            let mut holistic = None;
            let (loss, value) = if cfg.method == Method::Refine {
                let batch = refine::make_batch(self.set, chunk, self.detector, cfg, &mut rng)?;
                refine::loss(&model, batch, self.device)?
            } else {
                let items: Vec<&Prepared> = chunk.iter().map(|&i| &self.set[i]).collect();
                let batch = make_batch(&items, self.opts, self.space, &mut rng, self.device);
                if faithful {
                    let step = faithful::loss(
                        &model,
                        batch,
                        cfg,
                        state.holistic_updates,
                        &mut rng,
                        self.device,
                    )?;
                    holistic = Some(step.holistic);
                    checked_loss(step.loss)?
                } else {
                    batch_loss(&model, batch, cfg, self.space, state, &mut rng, self.device)?
                }
            };
            let grads = loss.backward();
            let mut grads = GradientsParams::from_grads(grads, &model);
            if cfg.method == Method::Idfopnet && cfg.fair_opt && cfg.ge_noise {
                if faithful {
                    faithful::add_noise(&model, &mut grads, &mut rng);
                } else {
                    add_ge_noise(&model, &mut grads, &mut rng);
                }
            }
            model = optim.step(self.lr, model, grads);
            if let Some(p) = holistic {
                // Eq. 2: P_hol is this running estimate, not a trained parameter.
                model = model.with_holistic_prototypes(p);
                state.holistic_updates += 1;
            }
            loss_sum += value;
            on_event(Event::Batch {
                epoch: self.epoch,
                batch: bi,
                n_batches,
                loss: value,
            });
            if self.stop.load(Ordering::SeqCst) && bi + 1 < n_batches {
                return Ok((model, None));
            }
        }
        Ok((model, Some(loss_sum)))
    }
}

/// MRE on the validation split (NaN without one): what picks the best epoch.
fn validation_mre(
    model: &Detector,
    detector: &DetectorConfig,
    val_set: &[Prepared],
    space: &AttributeSpace,
    cfg: &TrainConfig,
    device: &Device,
) -> Result<f64> {
    if val_set.is_empty() {
        return Ok(f64::NAN);
    }
    let preds = predict(
        model,
        detector,
        val_set,
        space,
        true,
        cfg.batch_size,
        device,
    )?;
    Ok(mean_radial_error_mm(val_set, &preds))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| TrainError::run_file(path, e))?;
    Ok(write_atomic(path, text.as_bytes())?)
}

fn write_weights(path: &Path, model: &Detector) -> Result<()> {
    let bytes = store::to_bytes(model).map_err(|source| TrainError::Weights {
        path: path.into(),
        source,
    })?;
    Ok(write_atomic(path, &bytes)?)
}

fn save_checkpoint(
    dir: &Path,
    model: &Detector,
    optim: &ModuleOptimizer,
    state: &RunState,
    log: &EpochLog,
) -> Result<()> {
    write_weights(&dir.join("model.bpk"), model)?;
    let opt_path = dir.join("optimizer.bpk");
    let opt = optim
        .into_bytes()
        .map_err(|e| TrainError::run_file(&opt_path, format!("{e:?}")))?;
    write_atomic(&opt_path, &opt)?;
    // The state goes last: it names the epoch the files above belong to.
    write_json(&dir.join("state.json"), state)?;
    let mut line = serde_json::to_string(log).map_err(|e| TrainError::run_file(dir, e))?;
    line.push('\n');
    use std::io::Write;
    let path = dir.join("log.jsonl");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(|e| TrainError::io(&path, e))
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
) -> Result<(Tensor<1>, f64)> {
    let loss = match cfg.method {
        Method::Unet => {
            let out = model.forward(batch.images, None);
            losses::spatial_cross_entropy(out.heatmaps, batch.targets).mean()
        }
        Method::Groupdro => {
            let dro = state
                .groupdro
                .as_mut()
                .ok_or_else(|| TrainError::Invalid("GroupDRO state missing".into()))?;
            groupdro_loss(model, batch, space, dro, device)?
        }
        Method::Idfopnet => idfopnet_loss(model, batch, cfg, space, rng, device)?,
        Method::Refine => {
            return Err(TrainError::Invalid(
                "the refinement stage trains on patches, not whole-image batches".into(),
            ))
        }
    };
    checked_loss(loss)
}

/// The loss and its value, refused when it is no longer finite.
pub(super) fn checked_loss(loss: Tensor<1>) -> Result<(Tensor<1>, f64)> {
    let value: f32 = loss.clone().into_scalar();
    if !value.is_finite() {
        return Err(TrainError::Invalid(format!(
            "the loss became {value}: lower the learning rate (--lr)"
        )));
    }
    Ok((loss, value as f64))
}

fn to_vec(t: Tensor<2>) -> Result<Vec<f32>> {
    t.into_data()
        .try_to_vec::<f32>()
        .map_err(|e| TrainError::Compute(format!("{e:?}")))
}

/// GroupDRO over keypoint × joint-group subgroups: the spatial cross-entropy
/// of each (image, keypoint), weighted by the adversarial weight q_g of its
/// subgroup divided by the subgroup's size in the batch.
fn groupdro_loss(
    model: &Detector,
    batch: Batch,
    space: &AttributeSpace,
    dro: &mut GroupDro,
    device: &Device,
) -> Result<Tensor<1>> {
    let b = batch.images.dims()[0];
    let out = model.forward(batch.images, None);
    let per = losses::spatial_cross_entropy(out.heatmaps, batch.targets); // [B, K]
    let k = per.dims()[1];
    let values = to_vec(per.clone())?;
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
    let q = dro.update(&means);
    // Σ_g q_g · mean_{(i,k) ∈ g} L = Σ_(i,k) q_g(i,k) / n_g · L(i,k)
    let weights: Vec<f32> = (0..b)
        .flat_map(|i| (0..k).map(move |kp| (i, kp)))
        .map(|(i, kp)| {
            let g = kp * n_joint + joint[i];
            (q[g] / counts[g] as f64) as f32
        })
        .collect();
    Ok((per * Tensor::<2>::from_data(TensorData::new(weights, [b, k]), device)).sum())
}

/// The attribute loss of IdFOPNet's head and the per-sample gradient scale of
/// the fair optimisation (Eq. 9–11) from its detached predictions.
fn attribute_terms(
    logits: &[Tensor<2>],
    labels: &[Vec<usize>],
    cfg: &TrainConfig,
    space: &AttributeSpace,
    device: &Device,
) -> Result<(Tensor<1>, Option<Tensor<4>>)> {
    let mut attr_loss = Tensor::<1>::zeros([1], device);
    if logits.is_empty() {
        return Ok((attr_loss, None));
    }
    let b = labels.first().map_or(0, Vec::len);
    let mut scores = Vec::new();
    let mut groups = Vec::new();
    for (a, logits) in logits.iter().enumerate() {
        attr_loss = attr_loss + losses::attribute_cross_entropy(logits.clone(), &labels[a]);
        let probs = to_vec(softmax(logits.clone().detach(), 1))?;
        let g = space.groups[a].len();
        let labels = &labels[a];
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
    let scale = Tensor::<4>::from_data(TensorData::new(k, [b, 1, 1, 1]), device);
    Ok((attr_loss, Some(scale)))
}

/// IdFOPNet: heatmap regression of the similarity maps, the attribute loss,
/// prototype alignment (Eq. 2) and masked prototype mining (Eq. 3).
fn idfopnet_loss(
    model: &Detector,
    batch: Batch,
    cfg: &TrainConfig,
    space: &AttributeSpace,
    rng: &mut rand_chacha::ChaCha8Rng,
    device: &Device,
) -> Result<Tensor<1>> {
    let b = batch.images.dims()[0];
    let enc = model.encode(batch.images);
    let (attr_loss, scale) =
        attribute_terms(&enc.attribute_logits, &batch.labels, cfg, space, device)?;
    let out = model.decode(enc, Some(batch.attributes), scale.as_ref());
    let targets = batch.targets;
    let reg = match cfg.regression_loss {
        RegressionLoss::L2 => losses::heatmap_regression(out.heatmaps, targets.clone()).mean(),
        RegressionLoss::Ce => losses::spatial_cross_entropy(out.heatmaps, targets.clone()).mean(),
    };
    let mut total = reg + attr_loss;
    let Some(f) = out.features else {
        return Ok(total);
    };
    // Compared as unit vectors: raw feature norms would let Eq. 2 and 3
    // dwarf the heatmap loss (and Eq. 2 is trivially met by shrinking F).
    let p_ins = crate::model::prototypes::normalise(crate::model::prototypes::instance_prototypes(
        targets, f,
    ));
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
    Ok(total)
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
