//! The checks shared by `fused.rs` (IEEE arithmetic, denormals kept) and `fused_flushed.rs`
//! (denormals flushed to zero, as the `highway` binary runs): the fused layer operations
//! against the autodiff of the composed layers, within a relative tolerance of 1e-4.
#![allow(dead_code)] // each test file uses its share

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use highway_model::{Activation, HighwayLayer, PlainLayer, ResidualLayer};

/// Batch rows and layer width: tiny, and the paper's (large enough to be split over threads).
#[derive(Clone, Copy)]
pub struct Size {
    pub rows: usize,
    pub n: usize,
}

pub const TINY: Size = Size { rows: 7, n: 6 };
pub const PAPER: Size = Size { rows: 128, n: 50 };

pub fn values(seed: u32, len: usize, scale: f32) -> Vec<f32> {
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

/// A `[rows, cols]` tensor of `values(seed, …, scale)`.
pub fn matrix(seed: u32, rows: usize, cols: usize, scale: f32, device: &Device) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(values(seed, rows * cols, scale), [rows, cols]),
        device,
    )
}

pub fn layer(activation: Activation, device: &Device, n: usize) -> HighwayLayer {
    let scale = 0.8 * (6.0 / n as f32).sqrt();
    let matrix =
        |seed| Param::from_data(TensorData::new(values(seed, n * n, scale), [n, n]), device);
    let vector = |seed, shift| {
        Param::from_data(
            TensorData::new(
                values(seed, n, 0.5).iter().map(|v| v + shift).collect(),
                [n],
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
pub fn run(device: &Device, size: Size, activation: Activation, fused: bool) -> Vec<Vec<f32>> {
    let Size { rows, n } = size;
    let layer = layer(activation, device, n);
    let x = matrix(5, rows, n, 1.5, device).require_grad();
    let r = matrix(6, rows, n, 1.0, device);
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

pub fn residual_layer(activation: Activation, device: &Device, n: usize) -> ResidualLayer {
    let scale = 0.8 * (6.0 / n as f32).sqrt();
    ResidualLayer {
        weight: Param::from_data(TensorData::new(values(11, n * n, scale), [n, n]), device),
        bias: Param::from_data(TensorData::new(values(12, n, 0.5), [n]), device),
        alpha: Param::from_data(TensorData::new(vec![0.7f32], [1]), device),
        activation,
    }
}

/// `[y, dx, dW, db, dα]` of `sum(y · r)` for a fixed `r`.
pub fn run_residual(
    device: &Device,
    size: Size,
    activation: Activation,
    fused: bool,
) -> Vec<Vec<f32>> {
    let Size { rows, n } = size;
    let layer = residual_layer(activation, device, n);
    let x = matrix(5, rows, n, 1.5, device).require_grad();
    let r = matrix(6, rows, n, 1.0, device);
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
        v2(layer.weight.val().grad(&grads).expect("dW")),
        v1(layer.bias.val().grad(&grads).expect("db")),
        v1(layer.alpha.val().grad(&grads).expect("dα")),
    ]
}

pub fn plain_layer(activation: Option<Activation>, device: &Device, n: usize) -> PlainLayer {
    let (out, scale) = (n * 2 / 3, 0.8 * (6.0 / n as f32).sqrt());
    PlainLayer {
        weight: Param::from_data(TensorData::new(values(7, n * out, scale), [n, out]), device),
        bias: Param::from_data(TensorData::new(values(8, out, 0.5), [out]), device),
        activation,
    }
}

/// `[y, dW, db]` and, when the input is tracked, `dx`, of `sum(y · r)`.
pub fn run_plain(
    device: &Device,
    size: Size,
    activation: Option<Activation>,
    track_input: bool,
    fused: bool,
) -> Vec<Vec<f32>> {
    let Size { rows, n } = size;
    let layer = plain_layer(activation, device, n);
    let out = n * 2 / 3;
    let mut x = matrix(5, rows, n, 1.5, device);
    if track_input {
        x = x.require_grad();
    }
    let r = matrix(6, rows, out, 1.0, device);
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

pub fn assert_close(what: &str, fused: &[f32], composed: &[f32]) {
    assert_eq!(fused.len(), composed.len(), "{what}");
    assert!(composed.iter().any(|v| *v != 0.0), "{what}: all zero");
    for (i, (a, b)) in fused.iter().zip(composed).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * a.abs().max(b.abs()) + 1e-6,
            "{what}[{i}]: fused {a} vs composed {b}"
        );
    }
}

pub fn check(name: &str, device: Device, size: Size) {
    let autodiff = device.clone().autodiff();
    for activation in [Activation::Relu, Activation::Tanh] {
        let fused = run(&autodiff, size, activation, true);
        let composed = run(&autodiff, size, activation, false);
        for (part, (f, c)) in ["y", "dx", "dW_H", "db_H", "dW_T", "db_T"]
            .iter()
            .zip(fused.iter().zip(&composed))
        {
            assert_close(&format!("{name} {activation:?} {part}"), f, c);
        }
    }
    for activation in [Activation::Relu, Activation::Tanh] {
        let fused = run_residual(&autodiff, size, activation, true);
        let composed = run_residual(&autodiff, size, activation, false);
        for (part, (f, c)) in ["y", "dx", "dW", "db", "dα"]
            .iter()
            .zip(fused.iter().zip(&composed))
        {
            assert_close(&format!("{name} residual {activation:?} {part}"), f, c);
        }
    }
    for activation in [None, Some(Activation::Relu), Some(Activation::Tanh)] {
        for track_input in [true, false] {
            let fused = run_plain(&autodiff, size, activation, track_input, true);
            let composed = run_plain(&autodiff, size, activation, track_input, false);
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
    let Size { rows, n } = size;
    let layer = layer(Activation::Relu, &device, n);
    let x = matrix(5, rows, n, 1.5, &device);
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
    let residual = residual_layer(Activation::Tanh, &device, n);
    let x = matrix(5, rows, n, 1.5, &device);
    let v = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
    assert_close(
        &format!("{name} residual inference"),
        &v(residual.forward(x.clone())),
        &v(residual.forward_composed(x)),
    );
}

/// The input layer at MNIST's size (784 → 50, batch 128): a fan-in of 512 or more takes the
/// transposed `dW` path on Flex, checked here against the composed layer.
pub fn input_layer_matches_autodiff(device: Device) {
    let autodiff = device.autodiff();
    let (rows, k, n) = (128, 784, 50);
    let scale = (2.0 / k as f32).sqrt();
    let layer = PlainLayer {
        weight: Param::from_data(TensorData::new(values(21, k * n, scale), [k, n]), &autodiff),
        bias: Param::from_data(TensorData::new(values(22, n, 0.1), [n]), &autodiff),
        activation: Some(Activation::Relu),
    };
    let x = matrix(23, rows, k, 1.0, &autodiff);
    let r = matrix(24, rows, n, 1.0, &autodiff);
    let [fused, composed] = [true, false].map(|fused| {
        let y = if fused {
            layer.forward(x.clone())
        } else {
            layer.forward_composed(x.clone())
        };
        let grads = (y.clone() * r.clone()).sum().backward();
        let dw = layer.weight.val().grad(&grads).expect("dW");
        let db = layer.bias.val().grad(&grads).expect("db");
        [
            y.into_data().try_to_vec::<f32>().unwrap(),
            dw.into_data().try_to_vec::<f32>().unwrap(),
            db.into_data().try_to_vec::<f32>().unwrap(),
        ]
    });
    for (part, (f, c)) in ["y", "dW", "db"].iter().zip(fused.iter().zip(&composed)) {
        assert_close(&format!("input layer 784 → 50 {part}"), f, c);
    }
}

/// One SGD step against the formula, with and without momentum, Nesterov and weight decay; on
/// Flex also on a parameter long enough to be split over threads.
#[allow(deprecated)]
pub fn sgd_step_matches_the_formula_on_every_backend() {
    use highway_model::ops::sgd::{sgd_step, SgdStep};
    let devices = [
        ("flex", Device::flex()),
        ("ndarray", Device::ndarray()),
        ("wgpu", Device::wgpu(Default::default())),
    ];
    for (name, device) in devices {
        let lens: &[usize] = if name == "flex" {
            &[10, 100_003]
        } else {
            &[10]
        };
        for &len in lens {
            let (p, g, v) = (
                values(11, len, 1.0),
                values(12, len, 1.0),
                values(13, len, 1.0),
            );
            for (momentum, dampening, weight_decay, nesterov) in [
                (0.9, 0.0, 0.0, false),
                (0.9, 0.1, 1e-3, true),
                (0.0, 0.0, 0.0, false),
            ] {
                let s = SgdStep {
                    lr: 0.05,
                    momentum,
                    dampening,
                    weight_decay,
                    nesterov,
                };
                let (mut want_p, mut want_v) = (p.clone(), v.clone());
                for i in 0..len {
                    let g = g[i] + weight_decay * p[i];
                    want_v[i] = momentum * v[i] + (1.0 - dampening) * g;
                    let update = if nesterov {
                        g + momentum * want_v[i]
                    } else {
                        want_v[i]
                    };
                    want_p[i] = p[i] - 0.05 * update;
                }
                let t = |x: &Vec<f32>| {
                    Tensor::<1>::from_data(TensorData::new(x.clone(), [len]), &device)
                };
                let (got_p, got_v) = sgd_step(t(&p), t(&g), t(&v), s);
                let what = format!("{name} sgd {s:?} len {len}");
                let vec = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
                assert_close(&format!("{what} p"), &vec(got_p), &want_p);
                assert_close(&format!("{what} v"), &vec(got_v), &want_v);
            }
        }
    }
}

/// The Adam step (and AdamW's) gives the textbook formula, in `f64`, within float tolerance on
/// every backend: fresh moments at step 1 and running ones later, with and without weight decay.
#[allow(deprecated)]
pub fn adam_step_matches_the_formula_on_every_backend() {
    use highway_model::ops::adam::{adam_step, AdamStep};
    let devices = [
        ("flex", Device::flex()),
        ("ndarray", Device::ndarray()),
        ("wgpu", Device::wgpu(Default::default())),
    ];
    for (name, device) in devices {
        let lens: &[usize] = if name == "flex" {
            &[10, 100_003]
        } else {
            &[10]
        };
        for &len in lens {
            let (p, g) = (values(11, len, 1.0), values(12, len, 1.0));
            let m0 = values(13, len, 0.1);
            // A second moment is never negative.
            let v0: Vec<f32> = values(14, len, 0.1).iter().map(|x| x * x).collect();
            for (t, beta1, beta2, eps, weight_decay, decoupled, fresh) in [
                (1, 0.9, 0.999, 1e-8, 0.0, false, true),
                (7, 0.9, 0.999, 1e-8, 1e-2, false, false),
                (3, 0.8, 0.99, 1e-6, 1e-2, true, false),
                (1, 0.5, 0.9, 1e-3, 0.1, true, true),
            ] {
                let s = AdamStep {
                    lr: 0.01,
                    beta1,
                    beta2,
                    eps,
                    weight_decay,
                    decoupled,
                    t,
                };
                let (m, v) = match fresh {
                    true => (vec![0.0; len], vec![0.0; len]),
                    false => (m0.clone(), v0.clone()),
                };
                let f = |x: f32| x as f64;
                let (b1, b2) = (f(beta1), f(beta2));
                let (mut want_p, mut want_m, mut want_v) = (p.clone(), m.clone(), v.clone());
                for i in 0..len {
                    let l2 = if decoupled { 0.0 } else { f(weight_decay) };
                    let g = f(g[i]) + l2 * f(p[i]);
                    let mi = b1 * f(m[i]) + (1.0 - b1) * g;
                    let vi = b2 * f(v[i]) + (1.0 - b2) * g * g;
                    let mut pi = f(p[i]);
                    if decoupled {
                        pi *= 1.0 - 0.01 * f(weight_decay);
                    }
                    let m_hat = mi / (1.0 - b1.powi(t as i32));
                    let v_hat = vi / (1.0 - b2.powi(t as i32));
                    pi -= 0.01 * m_hat / (v_hat.sqrt() + f(eps));
                    (want_p[i], want_m[i], want_v[i]) = (pi as f32, mi as f32, vi as f32);
                }
                let t1 = |x: &Vec<f32>| {
                    Tensor::<1>::from_data(TensorData::new(x.clone(), [len]), &device)
                };
                let (got_p, got_m, got_v) = adam_step(t1(&p), t1(&g), t1(&m), t1(&v), s);
                let what = format!("{name} adam {s:?} len {len}");
                let vec = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
                assert_close(&format!("{what} p"), &vec(got_p), &want_p);
                assert_close(&format!("{what} m"), &vec(got_m), &want_m);
                assert_close(&format!("{what} v"), &vec(got_v), &want_v);
            }
        }
    }
}

/// A whole net gives the same logits and first-layer gradient with fused or composed layers.
pub fn fused_and_composed_nets_agree() {
    use burn::tensor::Int;
    use highway_model::loss::cross_entropy;
    use highway_model::{Kind, ModelConfig, WeightInit};

    let device = Device::flex().autodiff();
    for kind in Kind::ALL {
        let config = ModelConfig {
            kind,
            depth: 6,
            width: 8,
            input_size: 12,
            classes: 4,
            activation: Activation::Relu,
            gate_bias: -1.0,
            residual_alpha: 0.5,
            init: WeightInit::Normalized,
        };
        let x = matrix(9, 5, 12, 1.0, &device);
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
