//! The same net, forward and backward, on every backend of the default build: Flex, NdArray and
//! wgpu (in CI on the software Vulkan device, lavapipe) must agree within float tolerance.

use burn::tensor::{Device, Int, Tensor, TensorData};
use highway_model::loss::cross_entropy;
use highway_model::{Activation, Kind, ModelConfig, WeightInit};

/// Logits and the input layer's weight gradient of a small net of `kind`.
fn forward_backward(kind: Kind, device: Device) -> (Vec<f32>, Vec<f32>) {
    let device = device.autodiff();
    let config = ModelConfig {
        kind,
        depth: 4,
        width: 8,
        input_size: 16,
        classes: 5,
        activation: Activation::Tanh,
        gate_bias: -1.0,
        residual_alpha: 0.5,
        init: WeightInit::Normalized,
    };
    let net = config.init(11, &device);
    let x = Tensor::<2>::from_data(
        TensorData::new(
            (0..6 * 16)
                .map(|i| ((i * 7 % 13) as f32 - 6.0) / 6.0)
                .collect::<Vec<_>>(),
            [6, 16],
        ),
        &device,
    );
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 3, 4, 0], [6]), &device);
    let logits = net.forward(x);
    let loss = cross_entropy(logits.clone(), y);
    let grads = loss.backward();
    let g = net.input.weight.val().grad(&grads).unwrap();
    (
        logits.into_data().try_to_vec().unwrap(),
        g.into_data().try_to_vec().unwrap(),
    )
}

fn assert_close(name: &str, a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    let scale = a.iter().map(|v| v.abs()).fold(0f32, f32::max).max(1e-6);
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-4 * scale + 1e-6,
            "{name}[{i}]: {x} vs {y}"
        );
    }
}

#[test]
#[allow(deprecated)]
fn flex_ndarray_and_wgpu_agree() {
    for kind in Kind::ALL {
        let (logits, grad) = forward_backward(kind, Device::flex());
        assert!(grad.iter().any(|g| *g != 0.0));
        let (l2, g2) = forward_backward(kind, Device::ndarray());
        assert_close(&format!("{kind:?} ndarray logits"), &logits, &l2);
        assert_close(&format!("{kind:?} ndarray gradient"), &grad, &g2);
        let (l3, g3) = forward_backward(kind, Device::wgpu(Default::default()));
        assert_close(&format!("{kind:?} wgpu logits"), &logits, &l3);
        assert_close(&format!("{kind:?} wgpu gradient"), &grad, &g3);
    }
}
