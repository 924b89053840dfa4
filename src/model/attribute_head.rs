//! Attribute classifier on the encoder features (IdFOPNet Eq. 7): a linear
//! layer per attribute on the globally pooled bottleneck. Its input is
//! detached, so its cross-entropy trains only the classifier: it measures how
//! much group information the encoder carries, which drives the gradient
//! modulation, without teaching the encoder to recognise groups (the
//! adapted variant). The faithful variant (IdFOPNet as printed) uses
//! [`AttributeHead::forward_attached`], whose cross-entropy does reach the
//! encoder, and [`AttributeHead::eq9_logits`] for the scores of Eq. 9.
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

    /// `[B, C, h, w]` → logits `[B, groups]` per attribute, on a detached
    /// input (trains the classifier only).
    pub fn forward(&self, bottleneck: Tensor<4>) -> Vec<Tensor<2>> {
        self.forward_attached(bottleneck.detach())
    }

    /// Eq. 7, f(x) = W F_i + b on the globally pooled bottleneck, with the
    /// gradient reaching the encoder.
    pub fn forward_attached(&self, bottleneck: Tensor<4>) -> Vec<Tensor<2>> {
        let pooled = pool(bottleneck);
        self.classifiers
            .iter()
            .map(|l| l.forward(pooled.clone()))
            .collect()
    }

    /// The logits inside Eq. 9's softmax, W·φ(x) + b/2, on a detached input:
    /// they only weigh the gradient, they are not trained through.
    pub fn eq9_logits(&self, bottleneck: Tensor<4>) -> Vec<Tensor<2>> {
        let pooled = pool(bottleneck.detach());
        self.classifiers
            .iter()
            .map(|l| {
                let out = l.forward(pooled.clone()).detach();
                match &l.bias {
                    Some(b) => out - b.val().detach().mul_scalar(0.5).unsqueeze::<2>(),
                    None => out,
                }
            })
            .collect()
    }
}

fn pool(bottleneck: Tensor<4>) -> Tensor<2> {
    let [b, c, _, _] = bottleneck.dims();
    bottleneck.mean_dim(3).mean_dim(2).reshape([b, c])
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::TensorData;

    #[test]
    fn eq9_halves_the_bias_and_eq7_reaches_the_encoder() {
        let device = Device::flex().autodiff();
        let mut head = AttributeHead::new(1, &[2], &device);
        // W = (1, −1)ᵀ, b = (2, 0): logits x + 2 and −x; Eq. 9: x + 1 and −x.
        let l = &mut head.classifiers[0];
        l.weight = Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![1.0f32, -1.0], [1, 2]),
            &device,
        ));
        l.bias = Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(vec![2.0f32, 0.0], [2]),
            &device,
        )));
        // One image, one channel, 1×2 map with mean 3.
        let x = Tensor::<4>::from_data(TensorData::new(vec![2.0f32, 4.0], [1, 1, 1, 2]), &device)
            .require_grad();
        let v = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(v(head.eq9_logits(x.clone()).remove(0)), vec![4.0, -3.0]);
        assert_eq!(v(head.forward(x.clone()).remove(0)), vec![5.0, -3.0]);
        let grads = head.forward_attached(x.clone()).remove(0).sum().backward();
        assert!(x.grad(&grads).is_some());
        let grads = head.forward(x.clone()).remove(0).sum().backward();
        assert!(x.grad(&grads).is_none());
    }
}
