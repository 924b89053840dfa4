//! Training losses.
//!
//! - Spatial cross-entropy (the fairness paper's baseline frames detection as
//!   pixel-wise classification): per (image, keypoint) −Σ_ij T(i,j)·log softmax(Z)(i,j),
//!   with T the normalised target heatmap.
//! - IdFOPNet Eq. 4: L_reg = 1/K Σ_k ‖S_k − H_k‖² (squared L2 over the map).
//! - Eq. 2: L_align = 1/K Σ_k mean over pairs m ≠ n of the batch ‖p_m,k − p_n,k‖².
//! - Eq. 3: L_mine = Σ_k ‖p̂_k − p_k‖² (mean over the batch; the target is detached).
//! - Attribute cross-entropy for the classifier of Eq. 7, ignoring unknown labels.
//!
//! Per-(image, keypoint) losses are returned as `[B, K]` so that GroupDRO can
//! weigh each keypoint × group.
use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// `[B, K, H, W]` logits and targets (any non-negative heatmaps) → `[B, K]`.
pub fn spatial_cross_entropy(logits: Tensor<4>, targets: Tensor<4>) -> Tensor<2> {
    let [b, k, h, w] = logits.dims();
    let logp = log_softmax(logits.reshape([b, k, h * w]), 2);
    let t = targets.reshape([b, k, h * w]);
    let t = t.clone().div(t.sum_dim(2).clamp_min(1e-12));
    (t * logp).sum_dim(2).reshape([b, k]).neg()
}

/// Eq. 4 per (image, keypoint): ‖S_k − H_k‖² → `[B, K]`.
pub fn heatmap_regression(similarity: Tensor<4>, targets: Tensor<4>) -> Tensor<2> {
    let [b, k, h, w] = similarity.dims();
    (similarity - targets)
        .powf_scalar(2.0)
        .reshape([b, k, h * w])
        .sum_dim(2)
        .reshape([b, k])
}

/// Eq. 2 on instance prototypes `[B, K, D]` → scalar. Uses the identity
/// mean_{m≠n} ‖p_m − p_n‖² = 2B/(B−1) · mean_b ‖p_b − p̄‖²; 0 for B < 2.
pub fn alignment(prototypes: Tensor<3>) -> Tensor<1> {
    let [b, k, _] = prototypes.dims();
    let device = prototypes.device();
    if b < 2 {
        return Tensor::zeros([1], &device);
    }
    let centred = prototypes.clone() - prototypes.mean_dim(0);
    let sq = centred.powf_scalar(2.0).sum_dim(2); // [B, K, 1]
    sq.sum()
        .div_scalar((b * k) as f64)
        .mul_scalar(2.0 * b as f64 / (b - 1) as f64)
}

/// Eq. 3: Σ_k ‖p̂_k − p_k‖², averaged over the batch → scalar.
pub fn mining(reconstructed: Tensor<3>, prototypes: Tensor<3>) -> Tensor<1> {
    let b = prototypes.dims()[0];
    (reconstructed - prototypes.detach())
        .powf_scalar(2.0)
        .sum()
        .div_scalar(b as f64)
}

/// Mean cross-entropy of attribute logits `[B, G]` over images whose label is
/// known (`labels` `[B]`, value ≥ G means unknown) → scalar (0 if none known).
pub fn attribute_cross_entropy(logits: Tensor<2>, labels: &[usize]) -> Tensor<1> {
    let [b, g] = logits.dims();
    let device = logits.device();
    let known: Vec<i64> = (0..b)
        .filter(|&i| labels[i] < g)
        .map(|i| i as i64)
        .collect();
    if known.is_empty() {
        return Tensor::zeros([1], &device);
    }
    let rows = Tensor::<1, Int>::from_data(
        burn::tensor::TensorData::new(known.clone(), [known.len()]),
        &device,
    );
    let targets: Vec<i64> = known.iter().map(|&i| labels[i as usize] as i64).collect();
    let targets = Tensor::<2, Int>::from_data(
        burn::tensor::TensorData::new(targets, [known.len(), 1]),
        &device,
    );
    let logp = log_softmax(logits.select(0, rows), 1);
    logp.gather(1, targets).mean().neg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t4(v: Vec<f32>, s: [usize; 4]) -> Tensor<4> {
        Tensor::from_data(TensorData::new(v, s), &Device::flex())
    }
    fn vals<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn spatial_ce_by_hand() {
        // logits 0, ln 3 → softmax 1/4, 3/4; one-hot target on the second pixel → −ln(3/4)
        let l = spatial_cross_entropy(
            t4(vec![0.0, 3f32.ln()], [1, 1, 1, 2]),
            t4(vec![0.0, 2.0], [1, 1, 1, 2]),
        );
        assert!((vals(l)[0] - (4.0f32 / 3.0).ln()).abs() < 1e-6);
    }

    #[test]
    fn regression_by_hand() {
        // (1−0)² + (0.5−1)² = 1.25
        let l = heatmap_regression(
            t4(vec![1.0, 0.5], [1, 1, 1, 2]),
            t4(vec![0.0, 1.0], [1, 1, 1, 2]),
        );
        assert!((vals(l)[0] - 1.25).abs() < 1e-6);
    }

    #[test]
    fn alignment_by_hand() {
        // B = 3, K = 1, D = 1: p = 0, 1, 3. Pairs: 1, 9, 4 → mean 14/3.
        let p = Tensor::<3>::from_data(
            TensorData::new(vec![0.0f32, 1.0, 3.0], [3, 1, 1]),
            &Device::flex(),
        );
        assert!((vals(alignment(p))[0] - 14.0 / 3.0).abs() < 1e-5);
    }

    #[test]
    fn mining_by_hand() {
        // B = 2, K = 2, D = 1: squared errors 1, 4 (image 0) and 0, 9 (image 1) → 14 / 2 = 7
        let d = Device::flex();
        let rec =
            Tensor::<3>::from_data(TensorData::new(vec![1.0f32, 2.0, 0.0, 3.0], [2, 2, 1]), &d);
        let p = Tensor::<3>::from_data(TensorData::new(vec![0.0f32, 0.0, 0.0, 0.0], [2, 2, 1]), &d);
        assert!((vals(mining(rec, p))[0] - 7.0).abs() < 1e-6);
    }

    #[test]
    fn attribute_ce_ignores_unknown() {
        let d = Device::flex();
        // image 0: logits (0, ln 3), label 1 → −ln(3/4); image 1 unknown.
        let logits = Tensor::<2>::from_data(
            TensorData::new(vec![0.0f32, 3f32.ln(), 5.0, -5.0], [2, 2]),
            &d,
        );
        let l = attribute_cross_entropy(logits, &[1, 2]);
        assert!((vals(l)[0] - (4.0f32 / 3.0).ln()).abs() < 1e-6);
    }
}
