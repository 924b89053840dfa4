//! Attribute classifier on the encoder features (IdFOPNet Eq. 7): a linear
//! layer per attribute on the globally pooled bottleneck. Its input is
//! detached, so its cross-entropy trains only the classifier: it measures how
//! much group information the encoder carries, which drives the gradient
//! modulation, without teaching the encoder to recognise groups.
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

#[derive(Module, Debug)]
pub struct AttributeHead {
    classifiers: Vec<Linear>,
}

impl AttributeHead {
    pub fn new(channels: usize, groups_per_attribute: &[usize], device: &Device) -> Self {
        Self {
            classifiers: groups_per_attribute
                .iter()
                .map(|&g| LinearConfig::new(channels, g).init(device))
                .collect(),
        }
    }

    /// `[B, C, h, w]` → logits `[B, groups]` per attribute.
    pub fn forward(&self, bottleneck: Tensor<4>) -> Vec<Tensor<2>> {
        let [b, c, _, _] = bottleneck.dims();
        let pooled = bottleneck.detach().mean_dim(3).mean_dim(2).reshape([b, c]);
        self.classifiers
            .iter()
            .map(|l| l.forward(pooled.clone()))
            .collect()
    }
}
