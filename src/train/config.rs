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
    /// Modulation strength m of Eq. 11.
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
        }
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
}
