//! A stack of trials: K nets of one shape (kind, depth, width, input and classes), each with its
//! own weights and activation, trained as one net whose every parameter has a leading trial
//! axis (`input.weight` is `[K, input_size, width]`). One forward and one backward pass serve
//! all K (`ops::trials`); a trial's parameters go in and come out under the names and shapes
//! of its own net ([`Mlp::tensors`]), so that each trial keeps its own checkpoint and model
//! file.

use std::collections::BTreeMap;

use burn::module::{Module, Param, ParamId};
use burn::tensor::{Device, Tensor};

use crate::ops::trials::highway::trial_highway;
use crate::ops::trials::plain::trial_plain;
use crate::ops::trials::residual::trial_residual;
use crate::ops::trials::TrialActivations;
use crate::ops::LayerActivation;
use crate::weights::Take;
use crate::{Activation, Kind, ModelConfig, NamedTensor, WeightsError};

/// The plain layers of K trials: `weight` is `[K, fan_in, fan_out]`, `bias` `[K, fan_out]`.
#[derive(Module, Debug)]
pub struct PlainStack {
    pub weight: Param<Tensor<3>>,
    pub bias: Param<Tensor<2>>,
}

/// The highway layers of K trials: `W_H`, `W_T` are `[K, n, n]`, `b_H`, `b_T` are `[K, n]`.
#[derive(Module, Debug)]
pub struct HighwayStack {
    pub w_h: Param<Tensor<3>>,
    pub b_h: Param<Tensor<2>>,
    pub w_t: Param<Tensor<3>>,
    pub b_t: Param<Tensor<2>>,
}

/// The residual layers of K trials: `weight` is `[K, n, n]`, `bias` `[K, n]`, `alpha` `[K, 1]`.
#[derive(Module, Debug)]
pub struct ResidualStack {
    pub weight: Param<Tensor<3>>,
    pub bias: Param<Tensor<2>>,
    pub alpha: Param<Tensor<2>>,
}

/// K nets of one shape as one module. At most one of `plain`, `highway` and `residual` is
/// non-empty.
#[derive(Module, Debug)]
pub struct Stack {
    pub input: PlainStack,
    pub plain: Vec<PlainStack>,
    pub highway: Vec<HighwayStack>,
    pub residual: Vec<ResidualStack>,
    pub output: PlainStack,
    /// Each trial's activation, in trial order.
    #[module(skip)]
    pub activations: Vec<Activation>,
}

/// A parameter of either rank, as the walk over a stack hands it out.
enum AnyParam<'a> {
    Matrices(&'a Param<Tensor<3>>),
    Vectors(&'a Param<Tensor<2>>),
}

impl Stack {
    /// The stack of the nets `configs[k]` with parameters `tensors[k]` (as [`Mlp::tensors`]
    /// gives them), on `device`. The configs must agree on everything but the activation and
    /// the gate bias (and where a residual scale starts, which is in the parameters).
    pub fn new(
        configs: &[ModelConfig],
        tensors: Vec<Vec<NamedTensor>>,
        device: &Device,
    ) -> Result<Stack, WeightsError> {
        let first = configs
            .first()
            .ok_or_else(|| WeightsError("a stack needs at least one trial".into()))?;
        let shape = |c: &ModelConfig| (c.kind, c.depth, c.width, c.input_size, c.classes, c.init);
        if let Some(other) = configs.iter().find(|c| shape(c) != shape(first)) {
            return Err(WeightsError(format!(
                "trials of one stack must have one shape: {:?} and {:?}",
                shape(first),
                shape(other)
            )));
        }
        if tensors.len() != configs.len() {
            return Err(WeightsError(format!(
                "{} parameter sets for {} trials",
                tensors.len(),
                configs.len()
            )));
        }
        let k = configs.len();
        let mut take = Stacked::new(tensors)?;
        let (w, hidden) = (first.width, first.depth.saturating_sub(1));
        let input = take.plain("input", [k, first.input_size, w], device)?;
        let (mut plain, mut highway, mut residual) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..hidden {
            match first.kind {
                Kind::Plain => plain.push(take.plain(&format!("plain.{i}"), [k, w, w], device)?),
                Kind::Highway => highway.push(HighwayStack {
                    w_h: take.matrices(&format!("highway.{i}.w_h"), [k, w, w], device)?,
                    b_h: take.vectors(&format!("highway.{i}.b_h"), [k, w], device)?,
                    w_t: take.matrices(&format!("highway.{i}.w_t"), [k, w, w], device)?,
                    b_t: take.vectors(&format!("highway.{i}.b_t"), [k, w], device)?,
                }),
                Kind::Residual => residual.push(ResidualStack {
                    weight: take.matrices(&format!("residual.{i}.weight"), [k, w, w], device)?,
                    bias: take.vectors(&format!("residual.{i}.bias"), [k, w], device)?,
                    alpha: take.vectors(&format!("residual.{i}.alpha"), [k, 1], device)?,
                }),
            }
        }
        let output = take.plain("output", [k, w, first.classes], device)?;
        if let Some(extra) = take.0.by_name.keys().next() {
            return Err(WeightsError(format!(
                "parameter '{extra}' does not belong to a {} net of depth {}",
                first.kind.name(),
                first.depth
            )));
        }
        Ok(Stack {
            input,
            plain,
            highway,
            residual,
            output,
            activations: configs.iter().map(|c| c.activation).collect(),
        })
    }

    /// The number of trials.
    pub fn trials(&self) -> usize {
        self.activations.len()
    }

    /// Class logits, `[K, batch, classes]`, of every trial for one `[batch, input_size]` batch.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<3> {
        let [rows, features] = x.dims();
        let k = self.trials();
        let hidden = TrialActivations::new(
            self.activations
                .iter()
                .map(|a| LayerActivation::from(Some(*a)))
                .collect(),
        );
        let layer = |h, l: &PlainStack, acts: &TrialActivations| {
            trial_plain(h, l.weight.val(), l.bias.val(), acts.clone())
        };
        let mut h = layer(x.reshape([1, rows, features]), &self.input, &hidden);
        for l in &self.plain {
            h = layer(h, l, &hidden);
        }
        for l in &self.highway {
            let (w_h, b_h) = (l.w_h.val(), l.b_h.val());
            h = trial_highway(h, w_h, b_h, l.w_t.val(), l.b_t.val(), hidden.clone());
        }
        for l in &self.residual {
            let (w, b) = (l.weight.val(), l.bias.val());
            h = trial_residual(h, w, b, l.alpha.val(), hidden.clone());
        }
        let linear = TrialActivations::uniform(LayerActivation::Linear, k);
        layer(h, &self.output, &linear)
    }

    /// Every parameter with its name (a trial's name for it), in forward order.
    fn walk(&self) -> Vec<(String, AnyParam<'_>)> {
        fn plain(prefix: String, l: &PlainStack) -> [(String, AnyParam<'_>); 2] {
            [
                (format!("{prefix}.weight"), AnyParam::Matrices(&l.weight)),
                (format!("{prefix}.bias"), AnyParam::Vectors(&l.bias)),
            ]
        }
        let mut out = Vec::new();
        out.extend(plain("input".into(), &self.input));
        for (i, l) in self.plain.iter().enumerate() {
            out.extend(plain(format!("plain.{i}"), l));
        }
        for (i, l) in self.highway.iter().enumerate() {
            out.push((format!("highway.{i}.w_h"), AnyParam::Matrices(&l.w_h)));
            out.push((format!("highway.{i}.b_h"), AnyParam::Vectors(&l.b_h)));
            out.push((format!("highway.{i}.w_t"), AnyParam::Matrices(&l.w_t)));
            out.push((format!("highway.{i}.b_t"), AnyParam::Vectors(&l.b_t)));
        }
        for (i, l) in self.residual.iter().enumerate() {
            out.push((
                format!("residual.{i}.weight"),
                AnyParam::Matrices(&l.weight),
            ));
            out.push((format!("residual.{i}.bias"), AnyParam::Vectors(&l.bias)));
            out.push((format!("residual.{i}.alpha"), AnyParam::Vectors(&l.alpha)));
        }
        out.extend(plain("output".into(), &self.output));
        out
    }

    /// Each trial's parameters, as its own net names and shapes them ([`Mlp::tensors`]).
    pub fn tensors(&self) -> Vec<Vec<NamedTensor>> {
        let mut trials = vec![Vec::new(); self.trials()];
        for (name, p) in self.walk() {
            let (shape, data) = match p {
                AnyParam::Matrices(p) => (p.val().dims().to_vec(), p.val().into_data()),
                AnyParam::Vectors(p) => (p.val().dims().to_vec(), p.val().into_data()),
            };
            let values = data
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32 parameters");
            let stacked = NamedTensor {
                name,
                shape,
                values,
            };
            for (trial, t) in trials.iter_mut().zip(unstack(stacked)) {
                trial.push(t);
            }
        }
        trials
    }

    /// Every parameter's name and id, in forward order (see [`Mlp::param_ids`]).
    pub fn param_ids(&self) -> Vec<(String, ParamId)> {
        self.walk()
            .into_iter()
            .map(|(name, p)| match p {
                AnyParam::Matrices(p) => (name, p.id),
                AnyParam::Vectors(p) => (name, p.id),
            })
            .collect()
    }
}

/// A stacked tensor (`[K, …]`) as K tensors of the same name (`[…]`).
pub fn unstack(t: NamedTensor) -> Vec<NamedTensor> {
    let k = t.shape.first().copied().unwrap_or(0);
    let len = t.values.len() / k.max(1);
    t.values
        .chunks_exact(len.max(1))
        .take(k)
        .map(|values| NamedTensor {
            name: t.name.clone(),
            shape: t.shape[1..].to_vec(),
            values: values.to_vec(),
        })
        .collect()
}

/// K trials' tensors stacked by name, handed out by name with their shapes checked.
struct Stacked(Take);

impl Stacked {
    fn new(trials: Vec<Vec<NamedTensor>>) -> Result<Stacked, WeightsError> {
        let k = trials.len();
        let mut by_name: BTreeMap<String, NamedTensor> = BTreeMap::new();
        for (trial, tensors) in trials.into_iter().enumerate() {
            for t in tensors {
                let entry = by_name
                    .entry(t.name.clone())
                    .or_insert_with(|| NamedTensor {
                        name: t.name.clone(),
                        shape: std::iter::once(0).chain(t.shape.iter().copied()).collect(),
                        values: Vec::with_capacity(k * t.values.len()),
                    });
                if entry.shape[1..] != t.shape[..] || entry.shape[0] != trial {
                    return Err(WeightsError(format!(
                        "trial {trial}: parameter '{}' has shape {:?} or is repeated or missing \
                         before it; the stack has {:?}",
                        t.name,
                        t.shape,
                        &entry.shape[1..]
                    )));
                }
                entry.shape[0] += 1;
                entry.values.extend_from_slice(&t.values);
            }
        }
        Ok(Stacked(Take { by_name }))
    }

    fn matrices(
        &mut self,
        name: &str,
        shape: [usize; 3],
        device: &Device,
    ) -> Result<Param<Tensor<3>>, WeightsError> {
        self.0.get(name, shape, device)
    }

    fn vectors(
        &mut self,
        name: &str,
        shape: [usize; 2],
        device: &Device,
    ) -> Result<Param<Tensor<2>>, WeightsError> {
        self.0.get(name, shape, device)
    }

    fn plain(
        &mut self,
        prefix: &str,
        [k, d_in, d_out]: [usize; 3],
        device: &Device,
    ) -> Result<PlainStack, WeightsError> {
        Ok(PlainStack {
            weight: self.matrices(&format!("{prefix}.weight"), [k, d_in, d_out], device)?,
            bias: self.vectors(&format!("{prefix}.bias"), [k, d_out], device)?,
        })
    }
}
