//! Fair Identity Attention (IdFOPNet Sec. 2.2, Eq. 6).
//!
//! Each demographic attribute is one query token: an embedding of the image's
//! group (or of "unknown", the extra last index, so inference works without
//! attributes), plus a learned slot embedding standing for the query position
//! embedding P. Image tokens are the bottleneck pixels plus a fixed 2-D
//! sinusoidal position embedding; K = W_k(F_i + P) and V = W_v(F_i + P).
//! softmax(Q·Kᵀ/√d)·V is added back to the queries (residual), then LayerNorm
//! and an MLP with a second residual. The attribute tokens are pooled and
//! injected into the bottleneck as a per-channel scale and shift (FiLM), which
//! starts as the identity (zero-initialised projection).
use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::attention::{MhaInput, MultiHeadAttention, MultiHeadAttentionConfig};
use burn::nn::{
    Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Int, Tensor, TensorData};

#[derive(Config, Debug)]
pub struct IdentityAttentionConfig {
    /// Bottleneck channels C (also the attention width d).
    pub channels: usize,
    /// Number of groups of each attribute (without "unknown").
    pub groups_per_attribute: Vec<usize>,
    #[config(default = 4)]
    pub n_heads: usize,
}

#[derive(Module, Debug)]
pub struct IdentityAttention {
    embeddings: Vec<Embedding>,
    slots: Param<Tensor<2>>,
    attention: MultiHeadAttention,
    norm: LayerNorm,
    mlp1: Linear,
    mlp2: Linear,
    film: Linear,
    channels: usize,
}

impl IdentityAttentionConfig {
    pub fn init(&self, device: &Device) -> IdentityAttention {
        let c = self.channels;
        let n_a = self.groups_per_attribute.len().max(1);
        IdentityAttention {
            embeddings: self
                .groups_per_attribute
                .iter()
                .map(|g| EmbeddingConfig::new(g + 1, c).init(device))
                .collect(),
            slots: Param::from_tensor(Tensor::zeros([n_a, c], device)),
            attention: MultiHeadAttentionConfig::new(c, self.n_heads)
                .with_dropout(0.0)
                .init(device),
            norm: LayerNormConfig::new(c).init(device),
            mlp1: LinearConfig::new(c, 2 * c).init(device),
            mlp2: LinearConfig::new(2 * c, c).init(device),
            film: LinearConfig::new(c, 2 * c)
                .with_initializer(Initializer::Zeros)
                .init(device),
            channels: c,
        }
    }
}

/// Fixed 2-D sinusoidal position embedding `[h·w, c]` (row-major tokens).
pub fn position_embedding(h: usize, w: usize, c: usize, device: &Device) -> Tensor<2> {
    let quarter = (c / 4).max(1);
    let mut v = vec![0f32; h * w * c];
    for y in 0..h {
        for x in 0..w {
            let t = (y * w + x) * c;
            for i in 0..quarter {
                let freq = 1.0 / 10000f32.powf(i as f32 / quarter as f32);
                let (py, px) = (y as f32 * freq, x as f32 * freq);
                for (j, val) in [py.sin(), py.cos(), px.sin(), px.cos()]
                    .into_iter()
                    .enumerate()
                {
                    let idx = j * quarter + i;
                    if idx < c {
                        v[t + idx] = val;
                    }
                }
            }
        }
    }
    Tensor::from_data(TensorData::new(v, [h * w, c]), device)
}

impl IdentityAttention {
    /// `bottleneck` `[B, C, h, w]`, `attributes` `[B, n_a]` group indices
    /// (index = group count means unknown) → modulated bottleneck `[B, C, h, w]`.
    pub fn forward(&self, bottleneck: Tensor<4>, attributes: Tensor<2, Int>) -> Tensor<4> {
        let [b, c, h, w] = bottleneck.dims();
        let device = bottleneck.device();
        let n_a = self.embeddings.len();
        if n_a == 0 {
            return bottleneck;
        }
        let queries: Vec<Tensor<3>> = self
            .embeddings
            .iter()
            .enumerate()
            .map(|(a, emb)| emb.forward(attributes.clone().narrow(1, a, 1)))
            .collect();
        let fa = Tensor::cat(queries, 1) + self.slots.val().unsqueeze::<3>();
        let pos = position_embedding(h, w, c, &device).unsqueeze::<3>();
        let tokens = bottleneck.clone().reshape([b, c, h * w]).swap_dims(1, 2) + pos;
        let attended = self
            .attention
            .forward(MhaInput::new(fa.clone(), tokens.clone(), tokens))
            .context;
        let z = self.norm.forward(fa + attended);
        let z = z.clone() + self.mlp2.forward(gelu(self.mlp1.forward(z)));
        let pooled = z.mean_dim(1).reshape([b, c]);
        let film = self.film.forward(pooled);
        let gamma = film
            .clone()
            .narrow(1, 0, self.channels)
            .reshape([b, c, 1, 1]);
        let beta = film
            .narrow(1, self.channels, self.channels)
            .reshape([b, c, 1, 1]);
        bottleneck.clone() * (gamma + 1.0) + beta
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn starts_as_identity_and_keeps_shape() {
        let device = Device::flex();
        let ia = IdentityAttentionConfig::new(8, vec![2, 2]).init(&device);
        let x = Tensor::<4>::random([2, 8, 3, 4], burn::tensor::Distribution::Default, &device);
        let attrs =
            Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 2], [2, 2]), &device);
        let y = ia.forward(x.clone(), attrs);
        assert_eq!(y.dims(), [2, 8, 3, 4]);
        // FiLM projection starts at zero: the module is the identity until trained.
        let diff: f32 = (y - x).abs().max().into_scalar();
        assert!(diff < 1e-6);
    }

    #[test]
    fn position_embedding_differs_between_tokens() {
        let device = Device::flex();
        let p: Vec<f32> = position_embedding(2, 2, 8, &device)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(p.len(), 32);
        assert_ne!(&p[0..8], &p[8..16]);
        assert_ne!(&p[8..16], &p[16..24]);
    }
}
