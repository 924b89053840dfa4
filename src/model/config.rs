//! The typed configuration of a landmark detector: plain data (no burn), so
//! that a manifest can be read and checked before any tensor is allocated, by
//! the CLI, the browser and the server alike.
//!
//! Sizes follow one convention everywhere: `[width, height]`.
//!
//! [`DetectorConfig::validate`] bounds every field that decides an allocation:
//! a hostile or careless manifest (`n_heads: 0`, `depth: 40`, a 100 000-pixel
//! input) gets a clear [`ConfigError`] instead of a panic, a trap in the
//! browser or gigabytes of memory.
use super::attributes::AttributeSpace;
use crate::train::config::TrainConfig;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    Unet,
    Idfopnet,
}

/// The U-Net backbone: the encoder halves the resolution `depth` times,
/// doubling the width each time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UNetConfig {
    /// Input channels (1 for radiographs).
    #[serde(default = "one")]
    pub in_channels: usize,
    /// Channels of the first level; level l has `base_width · 2^l`.
    #[serde(default = "sixteen")]
    pub base_width: usize,
    /// Number of down-sampling steps (input size must be divisible by 2^depth).
    #[serde(default = "four")]
    pub depth: usize,
}

fn one() -> usize {
    1
}
fn four() -> usize {
    4
}
fn sixteen() -> usize {
    16
}
fn yes() -> bool {
    true
}

impl Default for UNetConfig {
    fn default() -> Self {
        Self {
            in_channels: 1,
            base_width: 16,
            depth: 4,
        }
    }
}

impl UNetConfig {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_base_width(mut self, w: usize) -> Self {
        self.base_width = w;
        self
    }

    pub fn with_depth(mut self, d: usize) -> Self {
        self.depth = d;
        self
    }

    /// Channels of level `level` (0 = full resolution, `depth` = bottleneck).
    pub fn width(&self, level: usize) -> usize {
        self.base_width << level
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorConfig {
    pub architecture: Architecture,
    pub n_landmarks: usize,
    /// Model input `[width, height]`; each divisible by 2^depth.
    pub input_size: [usize; 2],
    pub backbone: UNetConfig,
    /// Groups of each attribute the model knows (identity attention, attribute head).
    #[serde(default)]
    pub groups_per_attribute: Vec<usize>,
    #[serde(default = "yes")]
    pub identity_attention: bool,
    #[serde(default = "yes")]
    pub mining: bool,
    /// Attribute head for the penalty-based gradient modulation.
    #[serde(default = "yes")]
    pub fair_opt: bool,
    #[serde(default = "four")]
    pub n_heads: usize,
    /// Second, high-resolution stage (coarse-to-fine); absent = one stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refine: Option<RefineConfig>,
}

/// The refinement stage of a coarse-to-fine detector: around each landmark the
/// coarse stage found, a `patch_size`² patch of the original image is sampled
/// at `zoom` times the coarse input's resolution, and a second U-Net (one
/// heatmap channel per landmark; patch k is read on channel k) places the
/// landmark inside it. The scale follows the coarse letterbox, so it is the
/// same fraction of the anatomy whatever the image's pixel count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefineConfig {
    /// Side of the square patch, in patch pixels (a multiple of 2^depth).
    pub patch_size: usize,
    /// Patch pixels per coarse input pixel.
    pub zoom: usize,
    pub backbone: UNetConfig,
}

impl RefineConfig {
    /// Original-image pixels per patch pixel, for a coarse letterbox of
    /// `scale` input pixels per original pixel.
    pub fn step(&self, letterbox_scale: f64) -> f64 {
        1.0 / (letterbox_scale * self.zoom as f64)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        use limits::*;
        let b = &self.backbone;
        bounded("refine.backbone.in_channels", b.in_channels, 1, 1)?;
        bounded("refine.backbone.depth", b.depth, 1, MAX_DEPTH)?;
        bounded(
            "refine.backbone.base_width",
            b.base_width,
            1,
            MAX_BASE_WIDTH,
        )?;
        bounded(
            "refine bottleneck width",
            b.width(b.depth),
            1,
            MAX_BOTTLENECK_WIDTH,
        )?;
        bounded("refine.patch_size", self.patch_size, 1, MAX_PATCH_SIDE)?;
        bounded("refine.zoom", self.zoom, 1, MAX_ZOOM)?;
        let multiple = 1 << b.depth;
        if self.patch_size % multiple != 0 {
            return Err(ConfigError::InputNotDivisible {
                width: self.patch_size,
                height: self.patch_size,
                multiple,
            });
        }
        Ok(())
    }
}

/// Bounds of [`DetectorConfig::validate`]. They are far above any model this
/// project trains (the largest is 512² × 16 channels) and far below what
/// exhausts a browser tab: the widest activation, input pixels × base width ×
/// 4 bytes, stays within 256 MiB, WebGPU's default largest buffer.
pub mod limits {
    pub const MAX_LANDMARKS: usize = 512;
    pub const MAX_DEPTH: usize = 7;
    pub const MAX_BASE_WIDTH: usize = 256;
    /// Channels at the bottleneck, `base_width · 2^depth`.
    pub const MAX_BOTTLENECK_WIDTH: usize = 4096;
    pub const MAX_INPUT_SIDE: usize = 4096;
    /// Input pixels × base width (f32 elements of the widest activation).
    pub const MAX_ACTIVATION_ELEMENTS: usize = 1 << 26;
    pub const MAX_HEADS: usize = 64;
    pub const MAX_ATTRIBUTES: usize = 16;
    pub const MAX_GROUPS: usize = 256;
    /// Refinement patches: all K of an image run as one batch, so K · side² ·
    /// width must also pass [`MAX_ACTIVATION_ELEMENTS`].
    pub const MAX_PATCH_SIDE: usize = 512;
    pub const MAX_ZOOM: usize = 64;
}

/// A configuration that cannot be built: each variant names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{field} is {value}, must be between {min} and {max}")]
    OutOfRange {
        field: &'static str,
        value: usize,
        min: usize,
        max: usize,
    },
    #[error(
        "input size {width}×{height} must be made of positive multiples of 2^depth = {multiple}"
    )]
    InputNotDivisible {
        width: usize,
        height: usize,
        multiple: usize,
    },
    #[error("input {width}×{height} with base width {base_width} needs {elements} activation values, more than the limit of {max}")]
    TooLarge {
        width: usize,
        height: usize,
        base_width: usize,
        elements: usize,
        max: usize,
    },
    #[error("{0}")]
    Inconsistent(String),
    #[error("{field} {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
}

fn bounded(field: &'static str, value: usize, min: usize, max: usize) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

impl DetectorConfig {
    pub fn new(
        architecture: Architecture,
        n_landmarks: usize,
        input_size: [usize; 2],
        backbone: UNetConfig,
    ) -> Self {
        Self {
            architecture,
            n_landmarks,
            input_size,
            backbone,
            groups_per_attribute: Vec::new(),
            identity_attention: true,
            mining: true,
            fair_opt: true,
            n_heads: 4,
            refine: None,
        }
    }

    pub fn with_refine(mut self, refine: Option<RefineConfig>) -> Self {
        self.refine = refine;
        self
    }

    pub fn with_groups_per_attribute(mut self, g: Vec<usize>) -> Self {
        self.groups_per_attribute = g;
        self
    }

    pub fn with_identity_attention(mut self, on: bool) -> Self {
        self.identity_attention = on;
        self
    }

    pub fn with_mining(mut self, on: bool) -> Self {
        self.mining = on;
        self
    }

    pub fn with_fair_opt(mut self, on: bool) -> Self {
        self.fair_opt = on;
        self
    }

    /// Channels D of the composite feature map F (idfopnet).
    pub fn feature_channels(&self) -> usize {
        (0..3.min(self.backbone.depth))
            .map(|l| self.backbone.width(l))
            .sum()
    }

    /// Input width and height.
    pub fn input_wh(&self) -> (usize, usize) {
        (self.input_size[0], self.input_size[1])
    }

    /// Checks every field before anything is allocated.
    pub fn validate(&self) -> Result<(), ConfigError> {
        use limits::*;
        let b = &self.backbone;
        bounded("n_landmarks", self.n_landmarks, 1, MAX_LANDMARKS)?;
        bounded("backbone.in_channels", b.in_channels, 1, 1)?;
        bounded("backbone.depth", b.depth, 1, MAX_DEPTH)?;
        bounded("backbone.base_width", b.base_width, 1, MAX_BASE_WIDTH)?;
        bounded(
            "bottleneck width (base_width · 2^depth)",
            b.width(b.depth),
            1,
            MAX_BOTTLENECK_WIDTH,
        )?;
        let (w, h) = self.input_wh();
        bounded("input width", w, 1, MAX_INPUT_SIDE)?;
        bounded("input height", h, 1, MAX_INPUT_SIDE)?;
        let multiple = 1 << b.depth;
        if w % multiple != 0 || h % multiple != 0 {
            return Err(ConfigError::InputNotDivisible {
                width: w,
                height: h,
                multiple,
            });
        }
        let elements = w * h * b.base_width;
        if elements > MAX_ACTIVATION_ELEMENTS {
            return Err(ConfigError::TooLarge {
                width: w,
                height: h,
                base_width: b.base_width,
                elements,
                max: MAX_ACTIVATION_ELEMENTS,
            });
        }
        bounded("n_heads", self.n_heads, 1, MAX_HEADS)?;
        bounded(
            "number of attributes",
            self.groups_per_attribute.len(),
            0,
            MAX_ATTRIBUTES,
        )?;
        for &g in &self.groups_per_attribute {
            bounded("groups of an attribute", g, 2, MAX_GROUPS)?;
        }
        let idf = self.architecture == Architecture::Idfopnet;
        if idf && b.depth < 3 {
            return Err(ConfigError::Inconsistent(
                "IdFOPNet needs a backbone depth ≥ 3 (F1 is at H/4)".into(),
            ));
        }
        let bottleneck = b.width(b.depth);
        if idf && self.identity_attention && bottleneck % self.n_heads != 0 {
            return Err(ConfigError::Inconsistent(format!(
                "bottleneck width {bottleneck} is not divisible by {} heads",
                self.n_heads
            )));
        }
        if idf && self.mining && self.feature_channels() % self.n_heads != 0 {
            return Err(ConfigError::Inconsistent(format!(
                "feature width {} is not divisible by {} heads",
                self.feature_channels(),
                self.n_heads
            )));
        }
        if let Some(r) = &self.refine {
            r.validate()?;
            let elements = self.n_landmarks * r.patch_size * r.patch_size * r.backbone.base_width;
            if elements > MAX_ACTIVATION_ELEMENTS {
                return Err(ConfigError::TooLarge {
                    width: r.patch_size,
                    height: r.patch_size * self.n_landmarks,
                    base_width: r.backbone.base_width,
                    elements,
                    max: MAX_ACTIVATION_ELEMENTS,
                });
            }
        }
        Ok(())
    }
}

/// What a published model (`manifest.json`, field `config`) or a run
/// (`run.json`) stores to rebuild its network: typed, so that a manifest is
/// checked field by field when it is read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub detector: DetectorConfig,
    pub attributes: AttributeSpace,
    /// How it was trained (provenance for the model card; not needed to run it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<TrainConfig>,
}

impl ModelConfig {
    /// A U-Net (the baseline) for `n_landmarks` at `input_size` = `[width,
    /// height]`, without attributes, with the default backbone.
    pub fn unet(n_landmarks: usize, input_size: [usize; 2]) -> Self {
        Self {
            detector: DetectorConfig::new(
                Architecture::Unet,
                n_landmarks,
                input_size,
                UNetConfig::new(),
            ),
            attributes: AttributeSpace::default(),
            train: None,
        }
    }

    /// The detector's own bounds, and attributes that agree with it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.detector.validate()?;
        let a = &self.attributes;
        if a.names.len() != a.groups.len() {
            return Err(ConfigError::Inconsistent(format!(
                "attributes: {} names but {} group lists",
                a.names.len(),
                a.groups.len()
            )));
        }
        if a.group_counts() != self.detector.groups_per_attribute {
            return Err(ConfigError::Inconsistent(format!(
                "attributes have {:?} groups, the detector was built for {:?}",
                a.group_counts(),
                self.detector.groups_per_attribute
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> DetectorConfig {
        DetectorConfig::new(
            Architecture::Unet,
            10,
            [128, 96],
            UNetConfig::new().with_base_width(8),
        )
    }

    #[test]
    fn a_sensible_config_passes() {
        ok().validate().unwrap();
        assert_eq!(ok().input_wh(), (128, 96));
    }

    #[test]
    fn every_allocation_deciding_field_is_bounded() {
        type Change = Box<dyn Fn(&mut DetectorConfig)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|c| c.n_heads = 0), "n_heads is 0"),
            (Box::new(|c| c.n_landmarks = 0), "n_landmarks is 0"),
            (Box::new(|c| c.n_landmarks = 100_000), "n_landmarks"),
            (Box::new(|c| c.backbone.depth = 40), "backbone.depth is 40"),
            (Box::new(|c| c.backbone.depth = 0), "backbone.depth is 0"),
            (Box::new(|c| c.backbone.base_width = 0), "base_width is 0"),
            (Box::new(|c| c.backbone.base_width = 1 << 20), "base_width"),
            (Box::new(|c| c.backbone.in_channels = 3), "in_channels is 3"),
            (
                Box::new(|c| c.input_size = [100, 96]),
                "multiples of 2^depth = 16",
            ),
            (Box::new(|c| c.input_size = [0, 96]), "input width is 0"),
            (Box::new(|c| c.input_size = [1 << 20, 96]), "input width"),
            (
                Box::new(|c| {
                    c.input_size = [4096, 4096];
                    c.backbone.base_width = 8
                }),
                "activation values",
            ),
            (Box::new(|c| c.groups_per_attribute = vec![1]), "groups"),
            (
                Box::new(|c| c.groups_per_attribute = vec![2; 17]),
                "attributes",
            ),
            (
                Box::new(|c| {
                    c.architecture = Architecture::Idfopnet;
                    c.backbone.depth = 2;
                    c.input_size = [64, 64]
                }),
                "depth ≥ 3",
            ),
            (
                Box::new(|c| {
                    c.architecture = Architecture::Idfopnet;
                    c.n_heads = 7
                }),
                "not divisible by 7 heads",
            ),
        ];
        for (change, expected) in cases {
            let mut c = ok();
            change(&mut c);
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(expected), "{e:?} lacks {expected:?}");
        }
    }

    #[test]
    fn attributes_must_agree_with_the_detector() {
        let mut cfg = ModelConfig {
            detector: ok().with_groups_per_attribute(vec![2]),
            attributes: AttributeSpace {
                names: vec!["sex".into()],
                groups: vec![vec!["F".into(), "M".into()]],
            },
            train: None,
        };
        cfg.validate().unwrap();
        cfg.attributes.groups[0].push("X".into());
        assert!(cfg.validate().unwrap_err().to_string().contains("[3]"));
        cfg.attributes.names.push("age".into());
        assert!(cfg.validate().unwrap_err().to_string().contains("2 names"));
    }

    #[test]
    fn defaults_fill_fields_that_old_manifests_lack() {
        let c: DetectorConfig = serde_json::from_str(
            r#"{"architecture":"unet","n_landmarks":3,"input_size":[32,32],"backbone":{"depth":2}}"#,
        )
        .unwrap();
        assert_eq!(c.backbone.base_width, 16);
        assert_eq!(c.n_heads, 4);
        assert!(c.identity_attention && c.mining && c.fair_opt);
    }
}
