//! Convolution blocks shared by the U-Net encoder and decoder.
use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// Two 3×3 convolutions, each followed by batch norm and ReLU (Ronneberger et al. 2015).
#[derive(Config, Debug)]
pub struct DoubleConvConfig {
    pub in_channels: usize,
    pub out_channels: usize,
}

#[derive(Module, Debug)]
pub struct DoubleConv {
    conv1: Conv2d,
    norm1: BatchNorm,
    conv2: Conv2d,
    norm2: BatchNorm,
}

impl DoubleConvConfig {
    pub fn init(&self, device: &Device) -> DoubleConv {
        let conv = |i, o| {
            Conv2dConfig::new([i, o], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .with_bias(false)
                .init(device)
        };
        DoubleConv {
            conv1: conv(self.in_channels, self.out_channels),
            norm1: BatchNormConfig::new(self.out_channels).init(device),
            conv2: conv(self.out_channels, self.out_channels),
            norm2: BatchNormConfig::new(self.out_channels).init(device),
        }
    }
}

impl DoubleConv {
    pub fn conv_weights(&self) -> [&burn::module::Param<Tensor<4>>; 2] {
        [&self.conv1.weight, &self.conv2.weight]
    }

    /// `[B, in, H, W]` → `[B, out, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = relu(self.norm1.forward(self.conv1.forward(x)));
        relu(self.norm2.forward(self.conv2.forward(x)))
    }
}
