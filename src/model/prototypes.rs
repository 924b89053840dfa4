//! Landmark prototypes (IdFOPNet Sec. 2.1, after CeLDA, Wu et al. 2024).
//!
//! - Instance prototypes, Eq. 1: p_k^ins = Σ_ij H_k(i,j)·F(i,j) / Σ_ij H_k(i,j).
//! - Holistic prototypes P_hol (K × D), learned across all training samples;
//!   the similarity maps S_k = p_k^hol · F are the detector's heatmaps (Eq. 4).
use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor};

/// `heatmaps` `[B, K, H, W]`, `features` `[B, D, H, W]` → `[B, K, D]` (Eq. 1).
pub fn instance_prototypes(heatmaps: Tensor<4>, features: Tensor<4>) -> Tensor<3> {
    let [b, k, h, w] = heatmaps.dims();
    let d = features.dims()[1];
    let hm = heatmaps.reshape([b, k, h * w]);
    let f = features.reshape([b, d, h * w]).swap_dims(1, 2);
    let mass = hm.clone().sum_dim(2).clamp_min(1e-6); // [B, K, 1]
    hm.matmul(f).div(mass)
}

/// L2-normalises prototypes `[B, K, D]` along D.
pub fn normalise(p: Tensor<3>) -> Tensor<3> {
    let norm = p.clone().powf_scalar(2.0).sum_dim(2).sqrt().clamp_min(1e-6);
    p.div(norm)
}

#[derive(Module, Debug)]
pub struct HolisticPrototypes {
    /// `[K, D]`.
    pub prototypes: Param<Tensor<2>>,
}

impl HolisticPrototypes {
    pub fn new(k: usize, d: usize, device: &Device) -> Self {
        // Small random start: the regression loss shapes them from the first step.
        let std = (1.0 / d as f64).sqrt();
        Self {
            prototypes: Param::from_tensor(Tensor::random(
                [k, d],
                Distribution::Normal(0.0, std),
                device,
            )),
        }
    }

    /// The current `[K, D]` values (detached).
    pub fn values(&self) -> Tensor<2> {
        self.prototypes.val().detach()
    }

    /// Replaces the values by an estimate made outside gradient descent (the
    /// faithful variant's running mean of instance prototypes), keeping the
    /// parameter's id so checkpoints and the optimizer still match.
    pub fn set_values(self, values: Tensor<2>) -> Self {
        Self {
            prototypes: self.prototypes.map(|old| {
                let rg = old.is_require_grad();
                values.detach().set_require_grad(rg)
            }),
        }
    }

    /// Similarity maps `S_k = p_k^hol · F`: `[B, D, H, W]` → `[B, K, H, W]`.
    pub fn similarity(&self, features: Tensor<4>) -> Tensor<4> {
        similarity(self.prototypes.val(), features)
    }
}

/// `S_k = p_k · F` for prototypes `[K, D]`: `[B, D, H, W]` → `[B, K, H, W]`.
pub fn similarity(p: Tensor<2>, features: Tensor<4>) -> Tensor<4> {
    let [b, d, h, w] = features.dims();
    let k = p.dims()[0];
    let f = features.reshape([b, d, h * w]);
    p.unsqueeze::<3>()
        .expand([b, k, d])
        .matmul(f)
        .reshape([b, k, h, w])
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn instance_prototype_is_the_heatmap_weighted_mean() {
        let device = Device::flex();
        // One image, one landmark, 2×2 map with weights 1 and 3 on two pixels.
        let hm = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.0, 3.0], [1, 1, 2, 2]),
            &device,
        );
        // Two feature channels: channel 0 = [2, 5, 7, 10], channel 1 = 1 everywhere.
        let f = Tensor::<4>::from_data(
            TensorData::new(
                vec![2.0f32, 5.0, 7.0, 10.0, 1.0, 1.0, 1.0, 1.0],
                [1, 2, 2, 2],
            ),
            &device,
        );
        let p: Vec<f32> = instance_prototypes(hm, f)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // (1·2 + 3·10)/4 = 8, (1 + 3)/4 = 1
        assert_eq!(p, vec![8.0, 1.0]);
    }

    #[test]
    fn similarity_is_a_dot_product_per_pixel() {
        let device = Device::flex();
        let mut hp = HolisticPrototypes::new(2, 2, &device);
        hp.prototypes = Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![1.0f32, 0.0, 1.0, 2.0], [2, 2]),
            &device,
        ));
        let f = Tensor::<4>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [1, 2, 1, 2]),
            &device,
        );
        let s: Vec<f32> = hp.similarity(f).into_data().try_to_vec::<f32>().unwrap();
        // pixel 0: F = (1, 3); pixel 1: F = (2, 4)
        assert_eq!(s, vec![1.0, 2.0, 7.0, 10.0]);
    }
}
