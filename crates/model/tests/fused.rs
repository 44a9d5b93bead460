//! The fused layer operations against the autodiff of the composed layers, on every backend of
//! the default build: the same output and the same gradients for the input and every
//! parameter, within a relative tolerance of 1e-4.

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use highway_model::{Activation, HighwayLayer, PlainLayer};

const ROWS: usize = 7;
const N: usize = 6;

fn values(seed: u32, len: usize, scale: f32) -> Vec<f32> {
    (0..len as u32)
        .map(|i| {
            let v = (i
                .wrapping_mul(2_654_435_761)
                .wrapping_add(seed.wrapping_mul(40_503))
                >> 8) as f32
                / (1u32 << 24) as f32;
            (v * 2.0 - 1.0) * scale
        })
        .collect()
}

fn layer(activation: Activation, device: &Device) -> HighwayLayer {
    let matrix = |seed| Param::from_data(TensorData::new(values(seed, N * N, 0.8), [N, N]), device);
    let vector = |seed, shift| {
        Param::from_data(
            TensorData::new(
                values(seed, N, 0.5).iter().map(|v| v + shift).collect(),
                [N],
            ),
            device,
        )
    };
    HighwayLayer {
        w_h: matrix(1),
        b_h: vector(2, 0.0),
        w_t: matrix(3),
        b_t: vector(4, -1.0),
        activation,
    }
}

/// `[y, dx, dW_H, db_H, dW_T, db_T]` of `sum(y · r)` for a fixed `r`.
fn run(device: &Device, activation: Activation, fused: bool) -> Vec<Vec<f32>> {
    let layer = layer(activation, device);
    let x = Tensor::<2>::from_data(TensorData::new(values(5, ROWS * N, 1.5), [ROWS, N]), device)
        .require_grad();
    let r = Tensor::<2>::from_data(TensorData::new(values(6, ROWS * N, 1.0), [ROWS, N]), device);
    let y = if fused {
        layer.forward(x.clone())
    } else {
        layer.forward_composed(x.clone())
    };
    let grads = (y.clone() * r).sum().backward();
    let v2 = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
    let v1 = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
    vec![
        v2(y),
        v2(x.grad(&grads).expect("dx")),
        v2(layer.w_h.val().grad(&grads).expect("dW_H")),
        v1(layer.b_h.val().grad(&grads).expect("db_H")),
        v2(layer.w_t.val().grad(&grads).expect("dW_T")),
        v1(layer.b_t.val().grad(&grads).expect("db_T")),
    ]
}

fn plain_layer(activation: Option<Activation>, device: &Device) -> PlainLayer {
    PlainLayer {
        weight: Param::from_data(TensorData::new(values(7, N * 4, 0.8), [N, 4]), device),
        bias: Param::from_data(TensorData::new(values(8, 4, 0.5), [4]), device),
        activation,
    }
}

/// `[y, dW, db]` and, when the input is tracked, `dx`, of `sum(y · r)`.
fn run_plain(
    device: &Device,
    activation: Option<Activation>,
    track_input: bool,
    fused: bool,
) -> Vec<Vec<f32>> {
    let layer = plain_layer(activation, device);
    let mut x =
        Tensor::<2>::from_data(TensorData::new(values(5, ROWS * N, 1.5), [ROWS, N]), device);
    if track_input {
        x = x.require_grad();
    }
    let r = Tensor::<2>::from_data(TensorData::new(values(6, ROWS * 4, 1.0), [ROWS, 4]), device);
    let y = if fused {
        layer.forward(x.clone())
    } else {
        layer.forward_composed(x.clone())
    };
    let grads = (y.clone() * r).sum().backward();
    let v2 = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
    let mut out = vec![
        v2(y),
        v2(layer.weight.val().grad(&grads).expect("dW")),
        layer
            .bias
            .val()
            .grad(&grads)
            .expect("db")
            .into_data()
            .try_to_vec::<f32>()
            .unwrap(),
    ];
    match x.grad(&grads) {
        Some(dx) => out.push(v2(dx)),
        None => assert!(!track_input, "dx missing"),
    }
    out
}

fn assert_close(what: &str, fused: &[f32], composed: &[f32]) {
    assert_eq!(fused.len(), composed.len(), "{what}");
    assert!(composed.iter().any(|v| *v != 0.0), "{what}: all zero");
    for (i, (a, b)) in fused.iter().zip(composed).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * a.abs().max(b.abs()) + 1e-6,
            "{what}[{i}]: fused {a} vs composed {b}"
        );
    }
}

fn check(name: &str, device: Device) {
    let autodiff = device.clone().autodiff();
    for activation in [Activation::Relu, Activation::Tanh] {
        let fused = run(&autodiff, activation, true);
        let composed = run(&autodiff, activation, false);
        for (part, (f, c)) in ["y", "dx", "dW_H", "db_H", "dW_T", "db_T"]
            .iter()
            .zip(fused.iter().zip(&composed))
        {
            assert_close(&format!("{name} {activation:?} {part}"), f, c);
        }
    }
    for activation in [None, Some(Activation::Relu), Some(Activation::Tanh)] {
        for track_input in [true, false] {
            let fused = run_plain(&autodiff, activation, track_input, true);
            let composed = run_plain(&autodiff, activation, track_input, false);
            assert_eq!(fused.len(), if track_input { 4 } else { 3 });
            for (part, (f, c)) in ["y", "dW", "db", "dx"]
                .iter()
                .zip(fused.iter().zip(&composed))
            {
                assert_close(&format!("{name} plain {activation:?} {part}"), f, c);
            }
        }
    }
    // Without autodiff (evaluation) the fused forward gives the same output too.
    let layer = layer(Activation::Relu, &device);
    let x = Tensor::<2>::from_data(
        TensorData::new(values(5, ROWS * N, 1.5), [ROWS, N]),
        &device,
    );
    assert_close(
        &format!("{name} inference"),
        &layer
            .forward(x.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap(),
        &layer
            .forward_composed(x)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap(),
    );
}

#[test]
fn fused_matches_autodiff_on_flex() {
    check("flex", Device::flex());
}

#[test]
#[allow(deprecated)]
fn fused_matches_autodiff_on_ndarray() {
    check("ndarray", Device::ndarray());
}

#[test]
fn fused_matches_autodiff_on_wgpu() {
    check("wgpu", Device::wgpu(Default::default()));
}

/// A whole net gives the same logits and first-layer gradient with fused or composed layers.
#[test]
fn fused_and_composed_nets_agree() {
    use burn::tensor::Int;
    use highway_model::loss::cross_entropy;
    use highway_model::{Kind, ModelConfig, WeightInit};

    let device = Device::flex().autodiff();
    for kind in [Kind::Plain, Kind::Highway] {
        let config = ModelConfig {
            kind,
            depth: 6,
            width: 8,
            input_size: 12,
            classes: 4,
            activation: Activation::Relu,
            gate_bias: -1.0,
            init: WeightInit::Normalized,
        };
        let x = Tensor::<2>::from_data(TensorData::new(values(9, 5 * 12, 1.0), [5, 12]), &device);
        let y = Tensor::<1, Int>::from_data(TensorData::from([0i64, 1, 2, 3, 1]), &device);
        let outputs = [true, false].map(|fused| {
            let net = config.init(3, &device).with_fused(fused);
            let logits = net.forward(x.clone());
            let grads = cross_entropy(logits.clone(), y.clone()).backward();
            let g = net.input.weight.val().grad(&grads).unwrap();
            (
                logits.into_data().try_to_vec::<f32>().unwrap(),
                g.into_data().try_to_vec::<f32>().unwrap(),
            )
        });
        assert_close(&format!("{kind:?} logits"), &outputs[0].0, &outputs[1].0);
        assert_close(
            &format!("{kind:?} input-layer gradient"),
            &outputs[0].1,
            &outputs[1].1,
        );
    }
}
