//! Training configuration: plain data, saved with every run so that a run and
//! a published model describe themselves.
use crate::data::preprocess::augment::AugmentConfig;
use crate::model::config::{ConfigError, RefineConfig, UNetConfig};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// U-Net with spatial cross-entropy (the fairness paper's baseline).
    Unet,
    /// IdFOPNet (prototypes, identity attention, fair optimisation).
    Idfopnet,
    /// GroupDRO fine-tuning of a U-Net over keypoint × group subgroups.
    Groupdro,
    /// The refinement stage of a coarse-to-fine detector, on top of a trained
    /// coarse run (whose weights stay fixed).
    Refine,
}

impl Method {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unet" => Some(Self::Unet),
            "idfopnet" => Some(Self::Idfopnet),
            "groupdro" => Some(Self::Groupdro),
            "refine" => Some(Self::Refine),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unet => "unet",
            Self::Idfopnet => "idfopnet",
            Self::Groupdro => "groupdro",
            Self::Refine => "refine",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegressionLoss {
    /// IdFOPNet Eq. 4: ‖S_k − H_k‖².
    L2,
    /// Spatial cross-entropy against the normalised Gaussian target.
    Ce,
}

/// Which reading of IdFOPNet trains (method `idfopnet`; docs/METHOD.md,
/// "IdFOPNet"). Stored in `run.json` and in a published model's
/// `config.train`, only when it is not the default, so that every model
/// trained before the field existed reads and writes exactly as before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdfopnetVariant {
    /// This project's adapted reading (the default, and every published
    /// IdFOPNet model): learned holistic prototypes, L2-normalised
    /// prototypes in Eq. 2 and 3, a detached mining target, an attribute
    /// head that does not train the encoder, Eq. 11 with `modulation_m` as a
    /// fixed strength, attribute dropout, and `--reg-loss` to choose Eq. 4
    /// or the spatial cross-entropy.
    #[default]
    Adapted,
    /// Eq. 1–12 as printed (module `train::faithful`): holistic prototypes
    /// estimated from the instance prototypes (running mean), raw prototypes
    /// in Eq. 2 and 3, Eq. 4's L2, the Eq. 7 head training the encoder, Eq. 9
    /// with b/2, Eq. 11 with m = the mini-batch size, noise inside k (Eq. 12),
    /// no attribute dropout.
    Faithful,
}

impl IdfopnetVariant {
    pub fn is_adapted(&self) -> bool {
        *self == Self::Adapted
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Adapted => "adapted",
            Self::Faithful => "faithful",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub method: Method,
    pub epochs: usize,
    pub batch_size: usize,
    /// Adam learning rate (IdFOPNet: 1e-3).
    pub lr: f64,
    /// The rate is multiplied by `lr_gamma` at these fractions of the epochs
    /// (IdFOPNet: ×0.1 every 50 of 150 epochs).
    pub lr_milestones: Vec<f64>,
    pub lr_gamma: f64,
    /// Model input `[width, height]` (papers: 512 × 512).
    pub input_size: [usize; 2],
    pub backbone_base_width: usize,
    pub backbone_depth: usize,
    /// Heatmap Gaussian σ in input pixels.
    pub sigma: f64,
    pub augment: AugmentConfig,
    pub identity_attention: bool,
    pub fair_opt: bool,
    pub mining: bool,
    /// Heatmap loss of IdFOPNet's similarity maps: Eq. 4 (squared L2) or the
    /// spatial cross-entropy of the baseline.
    #[serde(default = "default_regression_loss")]
    pub regression_loss: RegressionLoss,
    /// Eq. 5 weights.
    pub lambda_align: f64,
    pub lambda_mine: f64,
    /// Modulation strength m of Eq. 11 (variant `adapted`; the faithful
    /// variant uses m = the mini-batch size, as Eq. 8 defines m).
    pub modulation_m: f64,
    /// Gaussian generalisation-enhancement noise on the encoder gradient (Eq. 12).
    pub ge_noise: bool,
    pub attribute_dropout: f64,
    pub mask_ratio: f64,
    /// GroupDRO step size η of the weight update.
    pub groupdro_eta: f64,
    /// Stop after this many epochs without a better validation MRE.
    pub patience: Option<usize>,
    pub seed: u64,
    /// The refinement stage (method `refine`); the backbone fields above then
    /// describe its U-Net and `sigma` is in patch pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refine: Option<RefineTrain>,
    /// IdFOPNet: the adapted reading (default) or the paper as printed.
    #[serde(default, skip_serializing_if = "IdfopnetVariant::is_adapted")]
    pub variant: IdfopnetVariant,
}

/// What the refinement stage trains on: patches of the stage's size and zoom,
/// cut around the true landmark moved by a simulated coarse error (Gaussian,
/// `offset_sd` coarse input pixels per axis), so that it learns to recover
/// from the errors the coarse stage makes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefineTrain {
    pub patch_size: usize,
    pub zoom: usize,
    pub offset_sd: f64,
}

fn default_regression_loss() -> RegressionLoss {
    RegressionLoss::Ce
}

impl TrainConfig {
    /// Defaults from the papers (except the input size, which a CPU run lowers).
    pub fn new(method: Method) -> Self {
        Self {
            method,
            epochs: 150,
            batch_size: 4,
            lr: 1e-3,
            lr_milestones: vec![1.0 / 3.0, 2.0 / 3.0],
            lr_gamma: 0.1,
            input_size: [512, 512],
            backbone_base_width: 16,
            backbone_depth: 4,
            sigma: 3.0,
            augment: AugmentConfig::default(),
            identity_attention: true,
            fair_opt: true,
            mining: true,
            regression_loss: RegressionLoss::Ce,
            lambda_align: 1.0,
            lambda_mine: 3.0,
            modulation_m: 0.3,
            ge_noise: true,
            attribute_dropout: 0.3,
            mask_ratio: 0.3,
            groupdro_eta: 0.01,
            patience: None,
            seed: 0,
            refine: None,
            variant: IdfopnetVariant::Adapted,
        }
    }

    /// IdFOPNet as printed: Eq. 4's L2 and no attribute dropout (the paper
    /// has no "unknown" attribute); the other fields keep their paper values.
    pub fn faithful(mut self) -> Self {
        self.variant = IdfopnetVariant::Faithful;
        self.regression_loss = RegressionLoss::L2;
        self.attribute_dropout = 0.0;
        self
    }

    pub fn backbone(&self) -> UNetConfig {
        UNetConfig::new()
            .with_base_width(self.backbone_base_width)
            .with_depth(self.backbone_depth)
    }

    /// Learning rate of `epoch` (0-based) under the step schedule.
    pub fn lr_at(&self, epoch: usize) -> f64 {
        let passed = self
            .lr_milestones
            .iter()
            .filter(|&&m| epoch as f64 >= (m * self.epochs as f64).round())
            .count();
        self.lr * self.lr_gamma.powi(passed as i32)
    }

    /// The model part of the refinement stage, for method `refine`.
    pub fn refine_config(&self) -> Option<RefineConfig> {
        self.refine.as_ref().map(|r| RefineConfig {
            patch_size: r.patch_size,
            zoom: r.zoom,
            backbone: self.backbone(),
        })
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, problem: String| Err(ConfigError::Invalid { field, problem });
        if (self.method == Method::Refine) != self.refine.is_some() {
            return invalid(
                "refine",
                "settings are given exactly when the method is refine".into(),
            );
        }
        if let Some(r) = &self.refine {
            if !(r.offset_sd.is_finite() && r.offset_sd >= 0.0) {
                return invalid(
                    "refine offset sd",
                    format!("must be ≥ 0, got {}", r.offset_sd),
                );
            }
        }
        if self.variant == IdfopnetVariant::Faithful {
            if self.method != Method::Idfopnet {
                return invalid(
                    "variant",
                    format!("faithful applies to idfopnet, not {}", self.method.as_str()),
                );
            }
            if self.regression_loss != RegressionLoss::L2 {
                return invalid(
                    "regression loss",
                    "the faithful variant uses Eq. 4's L2 (--reg-loss l2)".into(),
                );
            }
        }
        if self.epochs == 0 {
            return invalid("epochs", "must be ≥ 1".into());
        }
        if self.batch_size == 0 {
            return invalid("batch size", "must be ≥ 1".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return invalid("learning rate", format!("must be > 0, got {}", self.lr));
        }
        if !(self.sigma.is_finite() && self.sigma > 0.0) {
            return invalid("sigma", format!("must be > 0, got {}", self.sigma));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_schedule_drops_at_thirds() {
        let mut c = TrainConfig::new(Method::Idfopnet);
        c.epochs = 150;
        assert_eq!(c.lr_at(0), 1e-3);
        assert_eq!(c.lr_at(49), 1e-3);
        assert!((c.lr_at(50) - 1e-4).abs() < 1e-15);
        assert!((c.lr_at(100) - 1e-5).abs() < 1e-15);
    }

    #[test]
    fn the_variant_is_written_only_when_faithful() {
        let c = TrainConfig::new(Method::Idfopnet);
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("variant"), "{json}");
        let back: TrainConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back.variant, IdfopnetVariant::Adapted);
        let f = c.faithful();
        f.validate().unwrap();
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.contains(r#""variant":"faithful""#), "{json}");
        assert_eq!(serde_json::from_str::<TrainConfig>(&json).unwrap(), f);
        let mut ce = f.clone();
        ce.regression_loss = RegressionLoss::Ce;
        assert!(ce.validate().unwrap_err().to_string().contains("Eq. 4"));
        let mut unet = TrainConfig::new(Method::Unet).faithful();
        unet.regression_loss = RegressionLoss::L2;
        assert!(unet.validate().is_err());
    }
}
