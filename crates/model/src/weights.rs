//! A net's parameters as named host arrays, and a net rebuilt from them: what a model file
//! stores. The names follow the module's fields (`input.weight`, `highway.3.w_t`), and every
//! weight matrix is `[fan_in, fan_out]` (`y = x W + b`; PyTorch's `Linear` stores the
//! transpose).

use std::collections::BTreeMap;
use std::fmt;

use burn::module::{Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};

use crate::{Activation, HighwayLayer, Kind, Mlp, ModelConfig, PlainLayer, ResidualLayer};

/// One parameter: its name, shape and values in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// A parameter that is missing, misshapen or left over when rebuilding a net.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightsError(pub String);

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WeightsError {}

fn named<const D: usize>(name: String, p: &Param<Tensor<D>>) -> NamedTensor {
    let t = p.val();
    NamedTensor {
        name,
        shape: t.dims().to_vec(),
        values: t
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 parameters"),
    }
}

/// A parameter of either rank, as the walk over a net hands it out.
enum AnyParam<'a> {
    Matrix(&'a Param<Tensor<2>>),
    Vector(&'a Param<Tensor<1>>),
}

impl Mlp {
    /// Every parameter with its name, in forward order.
    fn walk(&self) -> Vec<(String, AnyParam<'_>)> {
        fn plain(prefix: String, l: &PlainLayer) -> [(String, AnyParam<'_>); 2] {
            [
                (format!("{prefix}.weight"), AnyParam::Matrix(&l.weight)),
                (format!("{prefix}.bias"), AnyParam::Vector(&l.bias)),
            ]
        }
        let mut out = Vec::new();
        out.extend(plain("input".into(), &self.input));
        for (i, l) in self.plain.iter().enumerate() {
            out.extend(plain(format!("plain.{i}"), l));
        }
        for (i, l) in self.highway.iter().enumerate() {
            out.push((format!("highway.{i}.w_h"), AnyParam::Matrix(&l.w_h)));
            out.push((format!("highway.{i}.b_h"), AnyParam::Vector(&l.b_h)));
            out.push((format!("highway.{i}.w_t"), AnyParam::Matrix(&l.w_t)));
            out.push((format!("highway.{i}.b_t"), AnyParam::Vector(&l.b_t)));
        }
        for (i, l) in self.residual.iter().enumerate() {
            out.push((format!("residual.{i}.weight"), AnyParam::Matrix(&l.weight)));
            out.push((format!("residual.{i}.bias"), AnyParam::Vector(&l.bias)));
            out.push((format!("residual.{i}.alpha"), AnyParam::Vector(&l.alpha)));
        }
        out.extend(plain("output".into(), &self.output));
        out
    }

    /// Every parameter, in forward order.
    pub fn tensors(&self) -> Vec<NamedTensor> {
        self.walk()
            .into_iter()
            .map(|(name, p)| match p {
                AnyParam::Matrix(p) => named(name, p),
                AnyParam::Vector(p) => named(name, p),
            })
            .collect()
    }

    /// Every parameter's name and id, in forward order: how an optimiser's per-parameter
    /// state (kept by id) is saved under names and found again in a rebuilt net.
    pub fn param_ids(&self) -> Vec<(String, ParamId)> {
        self.walk()
            .into_iter()
            .map(|(name, p)| match p {
                AnyParam::Matrix(p) => (name, p.id),
                AnyParam::Vector(p) => (name, p.id),
            })
            .collect()
    }
}

/// Hands out tensors by name (a file's, or a stack's), checking each shape, and lists what was
/// never asked for.
pub(crate) struct Take {
    pub(crate) by_name: BTreeMap<String, NamedTensor>,
}

impl Take {
    pub(crate) fn get<const D: usize>(
        &mut self,
        name: &str,
        shape: [usize; D],
        device: &Device,
    ) -> Result<Param<Tensor<D>>, WeightsError> {
        let t = self
            .by_name
            .remove(name)
            .ok_or_else(|| WeightsError(format!("parameter '{name}' is missing")))?;
        if t.shape != shape {
            return Err(WeightsError(format!(
                "parameter '{name}' has shape {:?}, the model needs {shape:?}",
                t.shape
            )));
        }
        Ok(Param::from_data(TensorData::new(t.values, shape), device))
    }

    fn plain(
        &mut self,
        prefix: &str,
        [d_in, d_out]: [usize; 2],
        activation: Option<Activation>,
        device: &Device,
    ) -> Result<PlainLayer, WeightsError> {
        Ok(PlainLayer {
            weight: self.get(&format!("{prefix}.weight"), [d_in, d_out], device)?,
            bias: self.get(&format!("{prefix}.bias"), [d_out], device)?,
            activation,
        })
    }
}

impl ModelConfig {
    /// Rebuilds the net this config describes from its saved parameters.
    pub fn load(&self, tensors: Vec<NamedTensor>, device: &Device) -> Result<Mlp, WeightsError> {
        let mut take = Take {
            by_name: tensors.into_iter().map(|t| (t.name.clone(), t)).collect(),
        };
        let (w, act) = (self.width, self.activation);
        let hidden = self.depth.saturating_sub(1);
        let input = take.plain("input", [self.input_size, w], Some(act), device)?;
        let (mut plain, mut highway, mut residual) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..hidden {
            match self.kind {
                Kind::Plain => {
                    plain.push(take.plain(&format!("plain.{i}"), [w, w], Some(act), device)?)
                }
                Kind::Highway => highway.push(HighwayLayer {
                    w_h: take.get(&format!("highway.{i}.w_h"), [w, w], device)?,
                    b_h: take.get(&format!("highway.{i}.b_h"), [w], device)?,
                    w_t: take.get(&format!("highway.{i}.w_t"), [w, w], device)?,
                    b_t: take.get(&format!("highway.{i}.b_t"), [w], device)?,
                    activation: act,
                }),
                Kind::Residual => residual.push(ResidualLayer {
                    weight: take.get(&format!("residual.{i}.weight"), [w, w], device)?,
                    bias: take.get(&format!("residual.{i}.bias"), [w], device)?,
                    alpha: take.get(&format!("residual.{i}.alpha"), [1], device)?,
                    activation: act,
                }),
            }
        }
        let output = take.plain("output", [w, self.classes], None, device)?;
        if let Some(extra) = take.by_name.keys().next() {
            return Err(WeightsError(format!(
                "parameter '{extra}' does not belong to a {} net of depth {}",
                self.kind.name(),
                self.depth
            )));
        }
        Ok(Mlp {
            input,
            plain,
            highway,
            residual,
            output,
            fused: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WeightInit;

    fn config(kind: Kind) -> ModelConfig {
        ModelConfig {
            kind,
            depth: 4,
            width: 5,
            input_size: 7,
            classes: 3,
            activation: Activation::Tanh,
            gate_bias: -2.0,
            residual_alpha: 0.0,
            init: WeightInit::Normalized,
        }
    }

    #[test]
    fn a_net_rebuilt_from_its_tensors_gives_the_same_outputs() {
        let d = Device::flex();
        let x = Tensor::<2>::from_data(
            TensorData::new((0..14).map(|i| i as f32 / 5.0 - 1.0).collect(), [2, 7]),
            &d,
        );
        for kind in Kind::ALL {
            let net = config(kind).init(9, &d);
            let tensors = net.tensors();
            let per_layer = match kind {
                Kind::Plain => 2,
                Kind::Highway => 4,
                Kind::Residual => 3,
            };
            assert_eq!(tensors.len(), 2 + 2 + 3 * per_layer);
            let back = config(kind).load(tensors.clone(), &d).unwrap();
            assert_eq!(back.tensors(), tensors);
            assert_eq!(
                back.forward(x.clone()).into_data(),
                net.forward(x.clone()).into_data()
            );
        }
    }

    #[test]
    fn wrong_missing_or_extra_parameters_are_named() {
        let d = Device::flex();
        let mut tensors = config(Kind::Highway).init(0, &d).tensors();
        let err = config(Kind::Plain).load(tensors.clone(), &d).unwrap_err();
        assert!(err.0.contains("plain.0.weight"), "{err}");
        tensors[1].shape = vec![1, 5];
        let err = config(Kind::Highway).load(tensors.clone(), &d).unwrap_err();
        assert!(err.0.contains("'input.bias'"), "{err}");
        let mut shallow = config(Kind::Highway);
        shallow.depth = 3;
        let tensors = config(Kind::Highway).init(0, &d).tensors();
        let err = shallow.load(tensors, &d).unwrap_err();
        assert!(err.0.contains("highway.2"), "{err}");
    }
}
