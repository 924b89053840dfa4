//! U-Net backbone (the fairness paper's baseline, IdFOPNet's feature extractor).
//!
//! The encoder halves the resolution `depth` times, doubling the width; the
//! decoder upsamples (nearest, then a 3×3 double conv after concatenating the
//! skip connection). `forward_features` returns the bottleneck (for the
//! attribute head and identity attention) and every decoder level, coarse to
//! fine, so IdFOPNet can take F1 (H/4), F2 (H/2) and F3 (H).
use super::blocks::{DoubleConv, DoubleConvConfig};
pub use super::config::UNetConfig;
use burn::module::Module;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor};

#[derive(Module, Debug)]
pub struct UNet {
    encoder: Vec<DoubleConv>,
    pool: MaxPool2d,
    bottleneck: DoubleConv,
    decoder: Vec<DoubleConv>,
}

/// What the backbone hands to the heads.
pub struct UNetFeatures {
    /// `[B, base·2^depth, H/2^depth, W/2^depth]`.
    pub bottleneck: Tensor<4>,
    /// Decoder outputs coarse to fine: level i is `[B, base·2^(depth-1-i), H/2^(depth-1-i), …]`;
    /// the last is full resolution with `base_width` channels.
    pub levels: Vec<Tensor<4>>,
}

impl UNetConfig {
    pub fn init(&self, device: &Device) -> UNet {
        let encoder = (0..self.depth)
            .map(|l| {
                let inp = if l == 0 {
                    self.in_channels
                } else {
                    self.width(l - 1)
                };
                DoubleConvConfig::new(inp, self.width(l)).init(device)
            })
            .collect();
        let bottleneck =
            DoubleConvConfig::new(self.width(self.depth - 1), self.width(self.depth)).init(device);
        let decoder = (0..self.depth)
            .rev()
            .map(|l| {
                DoubleConvConfig::new(self.width(l + 1) + self.width(l), self.width(l)).init(device)
            })
            .collect();
        UNet {
            encoder,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            bottleneck,
            decoder,
        }
    }
}

/// Resizes `[B, C, h, w]` to `size` = `[H, W]`.
pub fn resize(x: Tensor<4>, size: [usize; 2], mode: InterpolateMode) -> Tensor<4> {
    interpolate(
        x,
        InterpolateOptions::new(mode)
            .with_align_corners(false)
            .with_output_size(size),
    )
}

impl UNet {
    /// `[B, in, H, W]` → bottleneck and decoder levels.
    pub fn forward_features(&self, x: Tensor<4>) -> UNetFeatures {
        self.decode(self.encode(x))
    }

    /// Encoder half: the skip tensors (fine to coarse) and the bottleneck.
    pub fn encode(&self, x: Tensor<4>) -> (Vec<Tensor<4>>, Tensor<4>) {
        let mut skips = Vec::with_capacity(self.encoder.len());
        let mut x = x;
        for block in &self.encoder {
            let y = block.forward(x);
            skips.push(y.clone());
            x = self.pool.forward(y);
        }
        (skips, self.bottleneck.forward(x))
    }

    /// Conv weights of the encoder blocks and the bottleneck.
    pub fn encoder_conv_weights(&self) -> Vec<&burn::module::Param<Tensor<4>>> {
        self.encoder
            .iter()
            .chain(std::iter::once(&self.bottleneck))
            .flat_map(|b| b.conv_weights())
            .collect()
    }

    /// Decoder half, from a (possibly modulated) bottleneck.
    pub fn decode(&self, (skips, bottleneck): (Vec<Tensor<4>>, Tensor<4>)) -> UNetFeatures {
        let mut x = bottleneck.clone();
        let mut levels = Vec::with_capacity(self.decoder.len());
        for (block, skip) in self.decoder.iter().zip(skips.into_iter().rev()) {
            let [_, _, h, w] = skip.dims();
            let up = resize(x, [h, w], InterpolateMode::Nearest);
            x = block.forward(Tensor::cat(vec![up, skip], 1));
            levels.push(x.clone());
        }
        UNetFeatures { bottleneck, levels }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_every_level() {
        let device = Device::flex();
        let cfg = UNetConfig::new().with_base_width(4).with_depth(3);
        let net = cfg.init(&device);
        let f = net.forward_features(Tensor::zeros([2, 1, 32, 48], &device));
        assert_eq!(f.bottleneck.dims(), [2, 32, 4, 6]);
        let dims: Vec<[usize; 4]> = f.levels.iter().map(|l| l.dims()).collect();
        assert_eq!(dims, vec![[2, 16, 8, 12], [2, 8, 16, 24], [2, 4, 32, 48]]);
    }
}
