//! A stack of trials against the same nets run one by one: the logits, each trial's loss and
//! the gradient of every parameter, and the SGD step. On Flex the numbers must be the same bits
//! (each trial runs the single net's code; the nets here are small enough that the single-net
//! operations run in one block too, as they do on one thread); on NdArray and wgpu, which
//! compose the stack from batched matmuls, within 1e-5 relative.

mod common;

use burn::module::{Module, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use common::values;
use highway_model::loss::{correct, cross_entropy, trial_correct, trial_cross_entropy};
use highway_model::ops::adam::{adam_step, AdamStep};
use highway_model::ops::sgd::{sgd_step, SgdStep};
use highway_model::ops::trials::adam::trial_adam_step;
use highway_model::ops::trials::sgd::{trial_sgd_step, TrialSteps};
use highway_model::{unstack, Activation, Kind, Mlp, ModelConfig, NamedTensor, Stack, WeightInit};

const ROWS: usize = 9;
const INPUT: usize = 20;
const CLASSES: usize = 4;

/// Three trials of one shape: ReLU and tanh, different gate biases and residual scales,
/// different seeds.
fn trials(kind: Kind) -> Vec<(ModelConfig, u64)> {
    let config = |activation, gate_bias: f32| ModelConfig {
        kind,
        depth: 4,
        width: 6,
        input_size: INPUT,
        classes: CLASSES,
        activation,
        gate_bias,
        residual_alpha: (gate_bias + 3.0) / 2.0,
        init: WeightInit::Normalized,
    };
    vec![
        (config(Activation::Relu, -1.0), 3),
        (config(Activation::Tanh, -2.0), 3),
        (config(Activation::Relu, -3.0), 8),
    ]
}

fn batch(device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let x = TensorData::new(values(5, ROWS * INPUT, 1.5), [ROWS, INPUT]);
    let y: Vec<i64> = (0..ROWS as i64).map(|i| i * 7 % CLASSES as i64).collect();
    (
        Tensor::from_data(x, device),
        Tensor::from_data(TensorData::new(y, [ROWS]), device),
    )
}

/// What one trial computed: logits, loss, correct count, and each parameter's gradient by name.
#[derive(Debug, PartialEq)]
struct Seen {
    logits: Vec<f32>,
    loss: f32,
    correct: i64,
    grads: Vec<NamedTensor>,
}

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

/// The gradient of each of `ids` (names and ids of `module`'s parameters, ranks given by
/// `rank`), in the order given.
fn named_grads<M: Module>(
    module: &M,
    ids: Vec<(String, ParamId)>,
    grads: burn::tensor::Gradients,
    rank: impl Fn(&str) -> usize,
) -> Vec<NamedTensor> {
    let mut grads = GradientsParams::from_grads(grads, module);
    ids.into_iter()
        .map(|(name, id)| {
            let (shape, values) = match rank(&name) {
                1 => grads
                    .remove::<1>(id)
                    .map(|g| (g.dims().to_vec(), floats(g))),
                2 => grads
                    .remove::<2>(id)
                    .map(|g| (g.dims().to_vec(), floats(g))),
                _ => grads
                    .remove::<3>(id)
                    .map(|g| (g.dims().to_vec(), floats(g))),
            }
            .unwrap_or_else(|| panic!("no gradient for {name}"));
            NamedTensor {
                name,
                shape,
                values,
            }
        })
        .collect()
}

fn is_matrix(name: &str) -> bool {
    name.ends_with("weight") || name.ends_with("w_h") || name.ends_with("w_t")
}

fn alone(config: &ModelConfig, seed: u64, device: &Device) -> Seen {
    let net: Mlp = config.init(seed, device);
    let (x, y) = batch(device);
    let logits = net.forward(x);
    let loss = cross_entropy(logits.clone(), y.clone());
    let correct = correct(logits.clone().detach(), y).into_scalar::<i64>();
    let value = loss.clone().into_scalar::<f32>();
    let grads = loss.backward();
    let rank = |name: &str| if is_matrix(name) { 2 } else { 1 };
    Seen {
        logits: floats(logits),
        loss: value,
        correct,
        grads: named_grads(&net, net.param_ids(), grads, rank),
    }
}

fn stacked(trials: &[(ModelConfig, u64)], device: &Device) -> Vec<Seen> {
    let configs: Vec<ModelConfig> = trials.iter().map(|(c, _)| c.clone()).collect();
    let tensors = trials
        .iter()
        .map(|(c, seed)| c.init(*seed, device).tensors())
        .collect();
    let stack = Stack::new(&configs, tensors, device).unwrap();
    let (x, y) = batch(device);
    let logits = stack.forward(x);
    let losses = trial_cross_entropy(logits.clone(), y.clone());
    let corrects = floats(trial_correct(logits.clone().detach(), y).float());
    let loss_values = floats(losses.clone());
    let grads = losses.sum().backward();
    let rank = |name: &str| if is_matrix(name) { 3 } else { 2 };
    let mut per_trial: Vec<Vec<NamedTensor>> = vec![Vec::new(); trials.len()];
    for g in named_grads(&stack, stack.param_ids(), grads, rank) {
        for (trial, g) in per_trial.iter_mut().zip(unstack(g)) {
            trial.push(g);
        }
    }
    let k = trials.len();
    let logits = floats(logits);
    let per = logits.len() / k;
    (0..k)
        .map(|i| Seen {
            logits: logits[i * per..][..per].to_vec(),
            loss: loss_values[i],
            correct: corrects[i] as i64,
            grads: std::mem::take(&mut per_trial[i]),
        })
        .collect()
}

fn close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * w.abs().max(1e-2),
            "{what}[{i}]: {g} vs {w}"
        );
    }
}

fn check(device: Device, exact: bool) {
    let device = device.autodiff();
    for kind in Kind::ALL {
        let trials = trials(kind);
        let together = stacked(&trials, &device);
        for (k, ((config, seed), got)) in trials.iter().zip(together).enumerate() {
            let want = alone(config, *seed, &device);
            let what = format!("{kind:?} trial {k}");
            if exact {
                assert_eq!(got, want, "{what}");
                continue;
            }
            close(&format!("{what} logits"), &got.logits, &want.logits);
            close(&format!("{what} loss"), &[got.loss], &[want.loss]);
            assert_eq!(got.correct, want.correct, "{what} correct");
            for (g, w) in got.grads.iter().zip(&want.grads) {
                assert_eq!((&g.name, &g.shape), (&w.name, &w.shape), "{what}");
                close(&format!("{what} d{}", g.name), &g.values, &w.values);
            }
        }
    }
}

#[test]
fn a_stack_computes_each_trials_numbers_on_flex_bit_for_bit() {
    check(Device::flex(), true);
}

#[test]
#[allow(deprecated)]
fn a_stack_matches_its_trials_on_ndarray() {
    check(Device::ndarray(), false);
}

#[test]
fn a_stack_matches_its_trials_on_wgpu() {
    check(Device::wgpu(Default::default()), false);
}

/// A net and its parameters stacked and split again are the same net.
#[test]
fn a_stack_gives_back_each_trials_parameters() {
    let device = Device::flex();
    let trials = trials(Kind::Highway);
    let configs: Vec<ModelConfig> = trials.iter().map(|(c, _)| c.clone()).collect();
    let tensors: Vec<_> = trials
        .iter()
        .map(|(c, seed)| c.init(*seed, &device).tensors())
        .collect();
    let stack = Stack::new(&configs, tensors.clone(), &device).unwrap();
    assert_eq!(stack.trials(), 3);
    assert_eq!(stack.tensors(), tensors);
    assert_eq!(
        stack.num_params(),
        3 * configs[0].init(0, &device).num_params()
    );
    // Trials of different shapes, or with a parameter missing, are refused by name.
    let mut wider = configs.clone();
    wider[1].width = 7;
    assert!(Stack::new(&wider, tensors.clone(), &device).is_err());
    let mut short = tensors;
    short[2].pop();
    let err = Stack::new(&configs, short, &device).unwrap_err();
    assert!(err.0.contains("output.bias"), "{err}");
}

/// The stacked SGD step is each trial's own step, with its own hyperparameters.
#[test]
#[allow(deprecated)]
fn the_stacked_sgd_step_is_each_trials_step() {
    let steps = [
        SgdStep {
            lr: 0.05,
            momentum: 0.9,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        },
        SgdStep {
            lr: 0.2,
            momentum: 0.5,
            dampening: 0.1,
            weight_decay: 1e-3,
            nesterov: true,
        },
        SgdStep {
            lr: 0.01,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        },
    ];
    let len = 1000;
    let k = steps.len();
    for (device, exact) in [
        (Device::flex(), true),
        (Device::ndarray(), false),
        (Device::wgpu(Default::default()), false),
    ] {
        let (p, g, v) = (
            values(1, k * len, 1.0),
            values(2, k * len, 1.0),
            values(3, k * len, 0.3),
        );
        let t2 = |x: &[f32]| Tensor::<2>::from_data(TensorData::new(x.to_vec(), [k, len]), &device);
        let t1 = |x: &[f32]| Tensor::<1>::from_data(TensorData::new(x.to_vec(), [len]), &device);
        let (got_p, got_v) =
            trial_sgd_step(t2(&p), t2(&g), t2(&v), TrialSteps::new(steps.to_vec()));
        let (got_p, got_v) = (floats(got_p), floats(got_v));
        for (i, s) in steps.iter().enumerate() {
            let part = |x: &[f32]| x[i * len..][..len].to_vec();
            let (want_p, want_v) = sgd_step(t1(&part(&p)), t1(&part(&g)), t1(&part(&v)), *s);
            let (want_p, want_v) = (floats(want_p), floats(want_v));
            if exact {
                assert_eq!(part(&got_p), want_p, "trial {i} p");
                assert_eq!(part(&got_v), want_v, "trial {i} v");
            } else {
                close(&format!("trial {i} p"), &part(&got_p), &want_p);
                close(&format!("trial {i} v"), &part(&got_v), &want_v);
            }
        }
    }
}

/// The stacked Adam step is each trial's own step, with its own hyperparameters (Adam and
/// AdamW may even share a stack), bit for bit on Flex.
#[test]
#[allow(deprecated)]
fn the_stacked_adam_step_is_each_trials_step() {
    let step = |lr, beta1, beta2, eps, weight_decay, decoupled, t| AdamStep {
        lr,
        beta1,
        beta2,
        eps,
        weight_decay,
        decoupled,
        t,
    };
    let steps = [
        step(1e-3, 0.9, 0.999, 1e-8, 0.0, false, 4),
        step(1e-2, 0.8, 0.99, 1e-6, 1e-2, false, 4),
        step(3e-3, 0.95, 0.9, 1e-8, 0.1, true, 4),
    ];
    let len = 1000;
    let k = steps.len();
    for (device, exact) in [
        (Device::flex(), true),
        (Device::ndarray(), false),
        (Device::wgpu(Default::default()), false),
    ] {
        let (p, g, m) = (
            values(1, k * len, 1.0),
            values(2, k * len, 1.0),
            values(3, k * len, 0.3),
        );
        let v: Vec<f32> = values(4, k * len, 0.3).iter().map(|x| x * x).collect();
        let t2 = |x: &[f32]| Tensor::<2>::from_data(TensorData::new(x.to_vec(), [k, len]), &device);
        let t1 = |x: &[f32]| Tensor::<1>::from_data(TensorData::new(x.to_vec(), [len]), &device);
        let got = trial_adam_step(
            t2(&p),
            t2(&g),
            t2(&m),
            t2(&v),
            TrialSteps::new(steps.to_vec()),
        );
        let got = [floats(got.0), floats(got.1), floats(got.2)];
        for (i, s) in steps.iter().enumerate() {
            let part = |x: &[f32]| x[i * len..][..len].to_vec();
            let want = adam_step(
                t1(&part(&p)),
                t1(&part(&g)),
                t1(&part(&m)),
                t1(&part(&v)),
                *s,
            );
            let want = [floats(want.0), floats(want.1), floats(want.2)];
            for (what, (got, want)) in ["p", "m", "v"].iter().zip(got.iter().zip(&want)) {
                if exact {
                    assert_eq!(part(got), *want, "trial {i} {what}");
                } else {
                    close(&format!("trial {i} {what}"), &part(got), want);
                }
            }
        }
    }
}

/// A stack of one trial computes what its net computes.
#[test]
fn a_stack_of_one_is_its_net() {
    let device = Device::flex();
    let (config, seed) = trials(Kind::Plain).remove(0);
    let net = config.init(seed, &device);
    let stack = Stack::new(&[config], vec![net.tensors()], &device).unwrap();
    let (x, _) = batch(&device);
    assert_eq!(floats(stack.forward(x.clone())), floats(net.forward(x)));
}
