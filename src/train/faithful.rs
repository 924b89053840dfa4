//! IdFOPNet as printed (`fairmark train --method idfopnet --faithful`,
//! [`IdfopnetVariant::Faithful`](super::config::IdfopnetVariant)): the
//! equations of the paper's §2, each in one function with a hand-computed
//! test, and the training step that puts them together. docs/METHOD.md
//! ("IdFOPNet", "The faithful variant") has the table equation → code and
//! how m, ρ and k are read.
//!
//! - Eq. 1: instance prototypes p_k^ins = Σ H_k·F / Σ H_k, raw (not normalised).
//! - Eq. 2: L_align = 1/K Σ_k ‖p_m,k − p_n,k‖², mean over the pairs m ≠ n of
//!   the mini-batch, on the raw prototypes; the holistic prototypes P_hol are
//!   "estimated in real time from numerous training samples": a running mean
//!   of the batch means of the instance prototypes ([`update_holistic`]), not
//!   a parameter of gradient descent (as in CeLDA's code, which the paper
//!   follows).
//! - Eq. 3: L_mine = Σ_k ‖p̂_k − p_k^ins‖², no stop-gradient (none is printed).
//! - Eq. 4: S_k = p_k^hol · F, L_reg = 1/K Σ_k ‖S_k − H_k‖² (mean over the batch).
//! - Eq. 5: L = L_reg + λ1 L_align + λ2 L_mine (+ the attribute
//!   cross-entropy of Eq. 7, which §2.3 needs and Eq. 5 does not list).
//! - Eq. 7: the attribute classifier on the pooled encoder bottleneck; its
//!   cross-entropy trains the encoder.
//! - Eq. 9–11: s_i = softmax(W·φ(x_i) + b/2)_{y_i}; per group u of the batch
//!   ρ^u = s̄^u / min_v s̄^v; k^u = 1 − tanh(m·ρ^u) if ρ^u > 1, else 1, with m
//!   the mini-batch size (Eq. 8's m).
//! - Eq. 12: θ ← θ − η k (g + h), h ~ N(0, Σ_sgd): the encoder gradient of
//!   each image is scaled by its k, and the noise is drawn with the spread of
//!   the *modulated* gradient ([`eq12_noise`]), which is k·(g + h) exactly when
//!   k is the same for all images.
use super::batches::Batch;
use super::error::{Result, TrainError};
use super::fairness::modulation_coefficients;
use super::losses;
use crate::model::detector::{scale_gradient, Encoded};
use crate::model::prototypes::{instance_prototypes, similarity};
use crate::model::Detector;
use burn::module::ParamId;
use burn::optim::GradientsParams;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use rand_distr::{Distribution, StandardNormal};

/// μ of the running estimate of P_hol (CeLDA's EMA momentum).
pub const HOLISTIC_MOMENTUM: f64 = 0.99;

/// Weight of the previous P_hol at update `n` (1-based): min(1 − 1/n, μ).
/// Update 1 takes the batch mean as it is; up to n = 1/(1 − μ) = 100 the
/// estimate is the plain mean of all batch means so far; after that, an
/// exponential moving average with momentum μ.
pub fn holistic_weight(n: u64) -> f64 {
    (1.0 - 1.0 / n.max(1) as f64).min(HOLISTIC_MOMENTUM)
}

/// Eq. 2's holistic prototypes: `previous` `[K, D]` updated with this batch's
/// mean instance prototypes `batch_mean` `[K, D]` at update `n` (1-based).
/// Both are detached: P_hol is estimated, not trained.
pub fn update_holistic(previous: Tensor<2>, batch_mean: Tensor<2>, n: u64) -> Tensor<2> {
    let a = holistic_weight(n);
    previous.detach().mul_scalar(a) + batch_mean.detach().mul_scalar(1.0 - a)
}

/// Eq. 4: L_reg = 1/K Σ_k ‖S_k − H_k‖² per image (the sum runs over the
/// pixels), averaged over the mini-batch. `[B, K, H, W]` twice → scalar.
pub fn regression(similarity: Tensor<4>, heatmaps: Tensor<4>) -> Tensor<1> {
    losses::heatmap_regression(similarity, heatmaps).mean()
}

/// Eq. 2 on raw instance prototypes `[B, K, D]` → scalar.
pub fn alignment(prototypes: Tensor<3>) -> Tensor<1> {
    losses::alignment(prototypes)
}

/// Eq. 3: Σ_k ‖p̂_k − p_k‖² over all K prototypes, averaged over the batch,
/// with the gradient reaching both sides (the paper prints no stop-gradient).
pub fn mining(reconstructed: Tensor<3>, prototypes: Tensor<3>) -> Tensor<1> {
    let b = prototypes.dims()[0];
    (reconstructed - prototypes)
        .powf_scalar(2.0)
        .sum()
        .div_scalar(b as f64)
}

/// Eq. 9–11 for one mini-batch: the per-image coefficient k, with m the
/// mini-batch size. `scores[a][i]` is s_i of Eq. 9 for attribute a (NaN when
/// unknown), `groups[a][i]` the image's group.
pub fn modulation(scores: &[Vec<f32>], groups: &[Vec<Option<usize>>]) -> Vec<f32> {
    let m = scores.first().map_or(0, Vec::len);
    modulation_coefficients(scores, groups, m as f32)
}

/// Per attribute: s_i of each image, and its group (None when unknown).
type Scores = (Vec<Vec<f32>>, Vec<Vec<Option<usize>>>);

/// s_i of Eq. 9 per attribute from the logits W·φ(x_i) + b/2, and each
/// image's group (None when unknown).
pub fn eq9_scores(logits: &[Tensor<2>], labels: &[Vec<usize>]) -> Result<Scores> {
    let mut scores = Vec::with_capacity(logits.len());
    let mut groups = Vec::with_capacity(logits.len());
    for (logits, labels) in logits.iter().zip(labels) {
        let [b, g] = logits.dims();
        let probs: Vec<f32> = softmax(logits.clone().detach(), 1)
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| TrainError::Compute(format!("{e:?}")))?;
        scores.push(
            (0..b)
                .map(|i| match labels[i] < g {
                    true => probs[i * g + labels[i]],
                    false => f32::NAN,
                })
                .collect(),
        );
        groups.push(labels.iter().map(|&l| (l < g).then_some(l)).collect());
    }
    Ok((scores, groups))
}

/// Eq. 12's noise on a modulated gradient g̃ (what reaches an encoder
/// weight once each image's share is scaled by its k): g̃ + σ(g̃)·ε, ε ~
/// N(0, I) from `rng`, σ the standard deviation of g̃'s elements (OGM-GE's
/// estimate of Σ_sgd). For one k, σ(k·g) = k·σ(g), so this is k·(g + h) with
/// h ~ N(0, σ(g)²): the noise inside the modulation, as Eq. 12 prints.
pub fn eq12_noise<const D: usize>(
    modulated: Tensor<D>,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> Tensor<D> {
    let dims = modulated.dims();
    let device = modulated.device();
    let n: usize = dims.iter().product();
    let std: f32 = modulated
        .clone()
        .reshape([n])
        .var_bias(0)
        .sqrt()
        .into_scalar();
    if !std.is_finite() {
        return modulated;
    }
    let eps: Vec<f32> = (0..n)
        .map(|_| {
            let e: f32 = StandardNormal.sample(rng);
            e * std
        })
        .collect();
    modulated + Tensor::<D>::from_data(TensorData::new(eps, dims), &device)
}

/// Eq. 12's noise on every encoder convolution weight (OGM-GE perturbs the
/// modality encoder's convolutions).
pub fn add_noise(model: &Detector, grads: &mut GradientsParams, rng: &mut rand_chacha::ChaCha8Rng) {
    let ids: Vec<ParamId> = model.encoder_conv_weights().iter().map(|p| p.id).collect();
    for id in ids {
        if let Some(g) = grads.remove::<4>(id) {
            grads.register(id, eq12_noise(g, rng));
        }
    }
}

/// One faithful training step's loss and the holistic prototypes to store
/// after the optimizer step.
pub struct Step {
    pub loss: Tensor<1>,
    pub holistic: Tensor<2>,
}

/// The loss of one mini-batch under IdFOPNet as printed. `updates` is the
/// number of P_hol updates made so far.
pub fn loss(
    model: &Detector,
    batch: Batch,
    cfg: &super::config::TrainConfig,
    updates: u64,
    rng: &mut rand_chacha::ChaCha8Rng,
    device: &Device,
) -> Result<Step> {
    use rand::RngExt;
    let b = batch.images.dims()[0];
    let Encoded {
        mut skips,
        mut bottleneck,
        ..
    } = model.encode(batch.images);
    let mut attr_loss = Tensor::<1>::zeros([1], device);
    if let Some(head) = model.attribute_head() {
        // Eq. 9–11 on the encoder as it is, then Eq. 12's k on every path
        // from the encoder to the loss, the classifier's included.
        let (scores, groups) = eq9_scores(&head.eq9_logits(bottleneck.clone()), &batch.labels)?;
        let k = modulation(&scores, &groups);
        let k = Tensor::<4>::from_data(TensorData::new(k, [b, 1, 1, 1]), device);
        skips = skips.into_iter().map(|s| scale_gradient(s, &k)).collect();
        bottleneck = scale_gradient(bottleneck, &k);
        for (a, logits) in head
            .forward_attached(bottleneck.clone())
            .into_iter()
            .enumerate()
        {
            attr_loss = attr_loss + losses::attribute_cross_entropy(logits, &batch.labels[a]);
        }
    }
    let enc = Encoded {
        skips,
        bottleneck,
        attribute_logits: Vec::new(),
    };
    let out = model.decode(enc, Some(batch.attributes), None);
    let (Some(f), Some(previous)) = (out.features, model.holistic_prototypes()) else {
        return Err(TrainError::Invalid(
            "the faithful variant needs an IdFOPNet model".into(),
        ));
    };
    let targets = batch.targets;
    let p_ins = instance_prototypes(targets.clone(), f.clone()); // Eq. 1
    let [_, k, d] = p_ins.dims();
    let batch_mean = p_ins.clone().detach().mean_dim(0).reshape([k, d]);
    let holistic = update_holistic(previous, batch_mean, updates + 1); // Eq. 2
    let reg = regression(similarity(holistic.clone(), f), targets); // Eq. 4
    let mut total = reg + attr_loss + alignment(p_ins.clone()).mul_scalar(cfg.lambda_align);
    if let Some(miner) = model.mining() {
        let keep: Vec<f32> = (0..b * k)
            .map(|_| match rng.random_bool(cfg.mask_ratio.clamp(0.0, 1.0)) {
                true => 0.0,
                false => 1.0,
            })
            .collect();
        let keep = Tensor::<3>::from_data(TensorData::new(keep, [b, k, 1]), device);
        let rec = miner.forward(p_ins.clone(), keep, batch.positions);
        total = total + mining(rec, p_ins).mul_scalar(cfg.lambda_mine); // Eq. 3
    }
    Ok(Step {
        loss: total,
        holistic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream_rng;

    fn dev() -> Device {
        Device::flex()
    }
    fn vals<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }
    fn t<const D: usize>(v: Vec<f32>, s: [usize; D]) -> Tensor<D> {
        Tensor::from_data(TensorData::new(v, s), &dev())
    }

    /// Eq. 1 then Eq. 2 on a hand-made batch: two images, one landmark, two
    /// feature channels on a 1×2 map.
    #[test]
    fn eq2_alignment_of_raw_instance_prototypes_by_hand() {
        // Heatmaps: image 0 weights (1, 1), image 1 weights (1, 3).
        let h = t(vec![1.0, 1.0, 1.0, 3.0], [2, 1, 1, 2]);
        // F: image 0 channel 0 = (2, 4), channel 1 = (0, 2);
        //    image 1 channel 0 = (4, 8), channel 1 = (1, 1).
        let f = t(vec![2.0, 4.0, 0.0, 2.0, 4.0, 8.0, 1.0, 1.0], [2, 2, 1, 2]);
        let p = instance_prototypes(h, f);
        // p_0 = ((2+4)/2, (0+2)/2) = (3, 1); p_1 = ((4+24)/4, (1+3)/4) = (7, 1).
        assert_eq!(vals(p.clone()), vec![3.0, 1.0, 7.0, 1.0]);
        // One pair, K = 1: ‖(3,1) − (7,1)‖² = 16. Normalised prototypes (the
        // adapted variant) would give ‖(0.949, 0.316) − (0.990, 0.141)‖² ≈ 0.032.
        assert!((vals(alignment(p))[0] - 16.0).abs() < 1e-5);
    }

    /// P_hol: the first batch mean, then the running mean, then the EMA.
    #[test]
    fn eq2_holistic_prototypes_by_hand() {
        assert_eq!(holistic_weight(1), 0.0);
        assert_eq!(holistic_weight(2), 0.5);
        assert_eq!(holistic_weight(4), 0.75);
        assert_eq!(holistic_weight(100), 0.99);
        assert_eq!(holistic_weight(5000), 0.99);
        let start = t(vec![100.0, -100.0], [1, 2]); // the random init is forgotten at once
        let p1 = update_holistic(start, t(vec![2.0, 4.0], [1, 2]), 1);
        assert_eq!(vals(p1.clone()), vec![2.0, 4.0]);
        let p2 = update_holistic(p1, t(vec![4.0, 0.0], [1, 2]), 2);
        assert_eq!(vals(p2.clone()), vec![3.0, 2.0]);
        let p3 = update_holistic(p2, t(vec![6.0, 2.0], [1, 2]), 3);
        // (2 + 4 + 6)/3 = 4, (4 + 0 + 2)/3 = 2
        let v = vals(p3.clone());
        assert!((v[0] - 4.0).abs() < 1e-6 && (v[1] - 2.0).abs() < 1e-6);
        // At n ≥ 100: 0.99·4 + 0.01·104 = 5.0
        let p = update_holistic(p3, t(vec![104.0, 2.0], [1, 2]), 250);
        let v = vals(p);
        assert!((v[0] - 5.0).abs() < 1e-5 && (v[1] - 2.0).abs() < 1e-6);
    }

    /// Eq. 4: B = 2, K = 2, 1×2 maps.
    #[test]
    fn eq4_l2_by_hand() {
        let s = t(vec![1.0, 0.5, 0.0, 0.0, 2.0, 0.0, 0.0, 1.0], [2, 2, 1, 2]);
        let h = t(vec![0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0], [2, 2, 1, 2]);
        // image 0: k0 1 + 0.25 = 1.25, k1 0 + 1 = 1 → (1.25 + 1)/2 = 1.125
        // image 1: k0 1 + 0 = 1,       k1 0 + 1 = 1 → 1
        // batch mean (1.125 + 1)/2 = 1.0625
        assert!((vals(regression(s, h))[0] - 1.0625).abs() < 1e-6);
    }

    /// Eq. 3 as printed: all K terms, the gradient reaches the prototypes.
    #[test]
    fn eq3_mining_by_hand_reaches_the_prototypes() {
        let d = Device::flex().autodiff();
        let rec = Tensor::<3>::from_data(TensorData::new(vec![1.0f32, 2.0], [1, 2, 1]), &d);
        let p = Tensor::<3>::from_data(TensorData::new(vec![0.0f32, 5.0], [1, 2, 1]), &d)
            .require_grad();
        let l = mining(rec, p.clone());
        assert!((vals(l.clone())[0] - 10.0).abs() < 1e-6); // 1 + 9
        let g = vals(p.grad(&l.backward()).unwrap());
        assert_eq!(g, vec![-2.0, 6.0]); // d/dp (r − p)² = −2(r − p)
    }

    /// Eq. 9–11: m is the mini-batch size.
    #[test]
    fn eq11_k_with_m_the_batch_size_by_hand() {
        // Two images, one per group: s = 0.6 and 0.3 → ρ = 2 for group 0,
        // 1 for group 1; m = 2 → k = 1 − tanh(4) = 6.7055e-4 and 1.
        let k = modulation(&[vec![0.6, 0.3]], &[vec![Some(0), Some(1)]]);
        assert!((k[0] - (1.0 - 4f32.tanh())).abs() < 1e-6, "{k:?}");
        assert!((k[0] - 6.7055e-4).abs() < 1e-6);
        assert_eq!(k[1], 1.0);
        // Four images: group means 0.8 and 0.4 → ρ = 2, m = 4 → 1 − tanh(8).
        let k = modulation(
            &[vec![0.9, 0.7, 0.4, 0.4]],
            &[vec![Some(0), Some(0), Some(1), Some(1)]],
        );
        assert!((k[0] - (1.0 - 8f32.tanh())).abs() < 1e-6 && k[0] < 1e-6);
        assert_eq!(&k[2..], &[1.0, 1.0]);
        // Equal confidences: ρ = 1 for both, no modulation.
        let k = modulation(&[vec![0.5, 0.5]], &[vec![Some(0), Some(1)]]);
        assert_eq!(k, vec![1.0, 1.0]);
    }

    /// Eq. 9's b/2 enters the score: logits (x + b/2) → softmax → true group.
    #[test]
    fn eq9_scores_by_hand() {
        // logits after b/2: image 0 (0, ln 3) label 1 → 3/4; image 1 unknown.
        let logits = t(vec![0.0, 3f32.ln(), 1.0, 1.0], [2, 2]);
        let (s, g) = eq9_scores(&[logits], &[vec![1, 2]]).unwrap();
        assert!((s[0][0] - 0.75).abs() < 1e-6 && s[0][1].is_nan());
        assert_eq!(g[0], vec![Some(1), None]);
    }

    /// Eq. 12: the noise is inside the modulation, θ ← θ − η k (g + h).
    #[test]
    fn eq12_noise_is_scaled_by_k() {
        let g = [1.0f32, 2.0, 3.0, 4.0];
        let k = 0.5f32;
        let modulated = t(g.iter().map(|x| k * x).collect(), [4, 1, 1, 1]);
        let mut rng = stream_rng(7, 3);
        let noisy = vals(eq12_noise(modulated, &mut rng));
        // The same draws by hand.
        let mut rng = stream_rng(7, 3);
        let eps: Vec<f32> = (0..4)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect::<Vec<f32>>();
        let sigma_g = 1.25f32.sqrt(); // population std of (1, 2, 3, 4)
        for i in 0..4 {
            let eq12 = k * (g[i] + sigma_g * eps[i]);
            assert!(
                (noisy[i] - eq12).abs() < 1e-5,
                "{i}: {} vs {eq12}",
                noisy[i]
            );
            // OGM-GE's code, k·g + h, differs by (1 − k)·σ·ε.
            let ogm = k * g[i] + sigma_g * eps[i];
            assert!((noisy[i] - ogm).abs() > 1e-3 || eps[i].abs() < 1e-2);
        }
        // Deterministic: the same seed, the same noise.
        let again = vals(eq12_noise(
            t(g.iter().map(|x| k * x).collect(), [4, 1, 1, 1]),
            &mut stream_rng(7, 3),
        ));
        assert_eq!(noisy, again);
    }
}
