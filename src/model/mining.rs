//! Masked prototype mining (IdFOPNet Eq. 3): some instance prototypes are
//! replaced by zeros, landmark position embeddings MLP(ȳ) are added, and
//! multi-head self-attention over the K prototypes reconstructs them, so that
//! the features learn the anatomical dependencies between landmarks:
//! P̂ = MSA(mask(P_ins) ⊕ MLP(ȳ)), L_mine = Σ_k ‖p̂_k − p_k‖².
use burn::config::Config;
use burn::module::Module;
use burn::nn::attention::{MhaInput, MultiHeadAttention, MultiHeadAttentionConfig};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

#[derive(Config, Debug)]
pub struct MiningConfig {
    /// Prototype dimension D.
    pub d_model: usize,
    #[config(default = 4)]
    pub n_heads: usize,
    /// Fraction of prototypes masked per image.
    #[config(default = 0.3)]
    pub mask_ratio: f64,
}

#[derive(Module, Debug)]
pub struct PrototypeMining {
    pos1: Linear,
    pos2: Linear,
    attention: MultiHeadAttention,
}

impl MiningConfig {
    pub fn init(&self, device: &Device) -> PrototypeMining {
        PrototypeMining {
            pos1: LinearConfig::new(2, self.d_model).init(device),
            pos2: LinearConfig::new(self.d_model, self.d_model).init(device),
            attention: MultiHeadAttentionConfig::new(self.d_model, self.n_heads)
                .with_dropout(0.0)
                .init(device),
        }
    }
}

impl PrototypeMining {
    /// `prototypes` `[B, K, D]`, `keep` `[B, K, 1]` (1 = kept, 0 = masked),
    /// `positions` ȳ `[B, K, 2]` normalised to [0, 1] → reconstructed `[B, K, D]`.
    pub fn forward(
        &self,
        prototypes: Tensor<3>,
        keep: Tensor<3>,
        positions: Tensor<3>,
    ) -> Tensor<3> {
        let pos = self.pos2.forward(relu(self.pos1.forward(positions)));
        let tokens = prototypes * keep + pos;
        self.attention.forward(MhaInput::self_attn(tokens)).context
    }
}
