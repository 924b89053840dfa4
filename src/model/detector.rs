//! The landmark detectors, one module for every method:
//! - `unet`: U-Net with a 1×1 head giving K heatmap logits (the fairness paper's
//!   baseline; GroupDRO fine-tunes the same architecture);
//! - `idfopnet`: U-Net features F = concat(up(F1), up(F2), F3) (Sec. 2.1),
//!   optional Fair Identity Attention on the bottleneck (Sec. 2.2), holistic
//!   prototypes whose similarity maps are the heatmaps (Eq. 4), optional masked
//!   prototype mining (Eq. 3) and an attribute head for the gradient
//!   modulation (Sec. 2.3).
use super::attribute_head::AttributeHead;
pub use super::config::{Architecture, DetectorConfig};
use super::identity_attention::{IdentityAttention, IdentityAttentionConfig};
use super::mining::{MiningConfig, PrototypeMining};
use super::prototypes::HolisticPrototypes;
use super::refiner::Refiner;
use super::unet::{resize, UNet};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::ops::InterpolateMode;
use burn::tensor::{Device, Int, Tensor};

#[derive(Module, Debug)]
pub struct Detector {
    backbone: UNet,
    head: Option<Conv2d>,
    prototypes: Option<HolisticPrototypes>,
    mining: Option<PrototypeMining>,
    identity: Option<IdentityAttention>,
    attribute_head: Option<AttributeHead>,
    /// Coarse-to-fine: the high-resolution stage (see [`super::refiner`]).
    refiner: Option<Refiner>,
}

/// What one forward pass yields.
pub struct DetectorOutput {
    /// `[B, K, H, W]`: heatmap logits (unet) or similarity maps S_k (idfopnet).
    pub heatmaps: Tensor<4>,
    /// Composite features F `[B, D, H, W]` (idfopnet only), for the prototype losses.
    pub features: Option<Tensor<4>>,
    /// Attribute logits on the encoder features, one `[B, groups]` per attribute.
    pub attribute_logits: Vec<Tensor<2>>,
}

impl DetectorConfig {
    /// The network, with freshly initialised weights. Call [`DetectorConfig::validate`]
    /// first on a config from outside (a manifest does, when it is read).
    pub fn init(&self, device: &Device) -> Detector {
        let k = self.n_landmarks;
        let idf = self.architecture == Architecture::Idfopnet;
        let with_attrs = !self.groups_per_attribute.is_empty();
        let bottleneck = self.backbone.width(self.backbone.depth);
        Detector {
            backbone: self.backbone.init(device),
            head: (!idf)
                .then(|| Conv2dConfig::new([self.backbone.base_width, k], [1, 1]).init(device)),
            prototypes: idf.then(|| HolisticPrototypes::new(k, self.feature_channels(), device)),
            mining: (idf && self.mining).then(|| {
                MiningConfig::new(self.feature_channels())
                    .with_n_heads(self.n_heads)
                    .init(device)
            }),
            identity: (idf && self.identity_attention && with_attrs).then(|| {
                IdentityAttentionConfig::new(bottleneck, self.groups_per_attribute.clone())
                    .with_n_heads(self.n_heads)
                    .init(device)
            }),
            attribute_head: (idf && self.fair_opt && with_attrs)
                .then(|| AttributeHead::new(bottleneck, &self.groups_per_attribute, device)),
            refiner: self.refine.as_ref().map(|r| r.init(k, device)),
        }
    }
}

/// Identity in the forward pass, gradient × k in the backward pass, per sample:
/// x·k + detach(x)·(1 − k). `k` is `[B, 1, 1, 1]`.
pub fn scale_gradient(x: Tensor<4>, k: &Tensor<4>) -> Tensor<4> {
    let k = k.clone().detach();
    x.clone() * k.clone() + x.detach() * (k.neg() + 1.0)
}

impl Detector {
    pub fn mining(&self) -> Option<&PrototypeMining> {
        self.mining.as_ref()
    }

    pub fn refiner(&self) -> Option<&Refiner> {
        self.refiner.as_ref()
    }

    /// This (coarse) detector with a refinement stage attached.
    pub fn with_refiner(mut self, refiner: Refiner) -> Self {
        self.refiner = Some(refiner);
        self
    }

    pub fn has_attribute_head(&self) -> bool {
        self.attribute_head.is_some()
    }

    /// The classifier of Eq. 7 (idfopnet with fair optimisation and attributes).
    pub fn attribute_head(&self) -> Option<&AttributeHead> {
        self.attribute_head.as_ref()
    }

    /// P_hol `[K, D]`, detached (idfopnet).
    pub fn holistic_prototypes(&self) -> Option<Tensor<2>> {
        self.prototypes.as_ref().map(HolisticPrototypes::values)
    }

    /// This detector with P_hol replaced by `values` (the faithful variant
    /// estimates them from instance prototypes instead of by gradient descent).
    pub fn with_holistic_prototypes(mut self, values: Tensor<2>) -> Self {
        self.prototypes = self.prototypes.map(|p| p.set_values(values));
        self
    }

    /// Encoder half and attribute logits (the latter feed the gradient modulation,
    /// which must be known before the decoder runs).
    pub fn encode(&self, images: Tensor<4>) -> Encoded {
        let (skips, bottleneck) = self.backbone.encode(images);
        let attribute_logits = self
            .attribute_head
            .as_ref()
            .map(|h| h.forward(bottleneck.clone()))
            .unwrap_or_default();
        Encoded {
            skips,
            bottleneck,
            attribute_logits,
        }
    }

    /// Decoder half and heads. `attributes` `[B, n_a]` are group indices (the
    /// group count of an attribute means unknown); `encoder_grad_scale`
    /// `[B, 1, 1, 1]` scales the gradient reaching the encoder per sample.
    pub fn decode(
        &self,
        enc: Encoded,
        attributes: Option<Tensor<2, Int>>,
        encoder_grad_scale: Option<&Tensor<4>>,
    ) -> DetectorOutput {
        let Encoded {
            mut skips,
            mut bottleneck,
            attribute_logits,
        } = enc;
        if let Some(k) = encoder_grad_scale {
            skips = skips.into_iter().map(|s| scale_gradient(s, k)).collect();
            bottleneck = scale_gradient(bottleneck, k);
        }
        if let (Some(ia), Some(attrs)) = (&self.identity, attributes) {
            bottleneck = ia.forward(bottleneck, attrs);
        }
        let feats = self.backbone.decode((skips, bottleneck));
        match (&self.head, &self.prototypes) {
            (Some(head), _) => DetectorOutput {
                heatmaps: head.forward(feats.levels.last().cloned().expect("U-Net has ≥ 1 level")),
                features: None,
                attribute_logits,
            },
            (None, Some(protos)) => {
                let n = feats.levels.len();
                let full = feats.levels[n - 1].clone();
                let [_, _, h, w] = full.dims();
                let f = Tensor::cat(
                    vec![
                        resize(
                            feats.levels[n - 3].clone(),
                            [h, w],
                            InterpolateMode::Bilinear,
                        ),
                        resize(
                            feats.levels[n - 2].clone(),
                            [h, w],
                            InterpolateMode::Bilinear,
                        ),
                        full,
                    ],
                    1,
                );
                DetectorOutput {
                    heatmaps: protos.similarity(f.clone()),
                    features: Some(f),
                    attribute_logits,
                }
            }
            (None, None) => unreachable!("a detector has a head or prototypes"),
        }
    }

    /// Both halves without gradient modulation (inference).
    pub fn forward(&self, images: Tensor<4>, attributes: Option<Tensor<2, Int>>) -> DetectorOutput {
        self.decode(self.encode(images), attributes, None)
    }

    /// Conv weights of the encoder (and bottleneck), for the GE gradient noise.
    pub fn encoder_conv_weights(&self) -> Vec<&burn::module::Param<Tensor<4>>> {
        self.backbone.encoder_conv_weights()
    }
}

/// Output of [`Detector::encode`].
pub struct Encoded {
    pub skips: Vec<Tensor<4>>,
    pub bottleneck: Tensor<4>,
    pub attribute_logits: Vec<Tensor<2>>,
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::config::UNetConfig;
    use burn::tensor::{Distribution, TensorData};

    fn small(arch: Architecture) -> DetectorConfig {
        DetectorConfig::new(
            arch,
            5,
            [32, 32],
            UNetConfig::new().with_base_width(4).with_depth(3),
        )
        .with_groups_per_attribute(vec![2, 2])
    }

    #[test]
    fn unet_and_idfopnet_output_k_maps_at_input_resolution() {
        let device = Device::flex();
        let x = Tensor::<4>::random([2, 1, 32, 32], Distribution::Default, &device);
        let attrs =
            Tensor::<2, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 0], [2, 2]), &device);
        for arch in [Architecture::Unet, Architecture::Idfopnet] {
            let cfg = small(arch);
            cfg.validate().unwrap();
            let out = cfg.init(&device).forward(x.clone(), Some(attrs.clone()));
            assert_eq!(out.heatmaps.dims(), [2, 5, 32, 32], "{arch:?}");
            if arch == Architecture::Idfopnet {
                assert_eq!(out.features.unwrap().dims(), [2, 4 + 8 + 16, 32, 32]);
                assert_eq!(out.attribute_logits.len(), 2);
                assert_eq!(out.attribute_logits[0].dims(), [2, 2]);
            }
        }
    }

    #[test]
    fn ablations_drop_their_modules() {
        let device = Device::flex();
        let cfg = small(Architecture::Idfopnet)
            .with_identity_attention(false)
            .with_mining(false)
            .with_fair_opt(false);
        let m = cfg.init(&device);
        assert!(m.identity.is_none() && m.mining.is_none() && m.attribute_head.is_none());
    }

    #[test]
    fn scale_gradient_is_identity_forward_and_scales_backward() {
        let device = Device::flex().autodiff();
        let x = Tensor::<4>::from_data(TensorData::new(vec![1.0f32, 2.0], [2, 1, 1, 1]), &device)
            .require_grad();
        let k = Tensor::<4>::from_data(TensorData::new(vec![0.5f32, 0.0], [2, 1, 1, 1]), &device);
        let y = scale_gradient(x.clone(), &k);
        let yv: Vec<f32> = y.clone().into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(yv, vec![1.0, 2.0]);
        let grads = (y * 3.0).sum().backward();
        let g: Vec<f32> = x
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(g, vec![1.5, 0.0]);
    }
}
