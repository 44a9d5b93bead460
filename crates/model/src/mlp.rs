//! The networks of the paper's Figure 1: a plain input layer, `depth − 1` plain, highway or
//! residual layers, and a linear output layer to class logits.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::{Activation, HighwayLayer, PlainLayer, ResidualLayer, SplitMix64, WeightInit};

/// Which kind of hidden layer the net stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Plain,
    Highway,
    /// `y = x + α·act(W x + b)`, the layer of residual nets with ReZero's learned scale.
    Residual,
}

impl Kind {
    /// Every kind, in the order reports list them.
    pub const ALL: [Kind; 3] = [Kind::Plain, Kind::Highway, Kind::Residual];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Plain => "plain",
            Kind::Highway => "highway",
            Kind::Residual => "residual",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;

    /// A kind by its name (`plain`, `highway`, `residual`).
    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Kind::ALL.iter().map(|k| k.name()).collect();
                format!("'{s}': expected one of {}", names.join(", "))
            })
    }
}

/// Everything that fixes a network's shape and initial weights (with a seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub kind: Kind,
    /// Hidden layers, counted as the paper does: depth 10 = 1 plain input layer + 9 layers of
    /// the kind.
    pub depth: usize,
    pub width: usize,
    pub input_size: usize,
    pub classes: usize,
    pub activation: Activation,
    /// The constant `b_T` starts at (highway nets only).
    pub gate_bias: f32,
    /// The constant each layer's scale `α` starts at (residual nets only; absent from the
    /// files of other nets, which keep the bytes they had before residual nets existed).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub residual_alpha: f32,
    pub init: WeightInit,
}

fn is_zero(v: &f32) -> bool {
    *v == 0.0
}

/// A plain, highway or residual MLP. At most one of `plain`, `highway` and `residual` is
/// non-empty.
#[derive(Module, Debug)]
pub struct Mlp {
    pub input: PlainLayer,
    pub plain: Vec<PlainLayer>,
    pub highway: Vec<HighwayLayer>,
    pub residual: Vec<ResidualLayer>,
    pub output: PlainLayer,
    /// Layers run as fused operations (the default, faster) or composed from tensor operations.
    /// Only composed layers let gradient checkpointing recompute activations: a fused layer is
    /// one operation that keeps what its backward pass needs.
    #[module(skip)]
    pub fused: bool,
}

/// What a probing forward pass saw: the logits, the transform-gate outputs `T(x)` of each
/// highway layer, and the outputs `y` of each highway or residual layer (each `[batch, width]`).
pub struct Probe {
    pub logits: Tensor<2>,
    pub gates: Vec<Tensor<2>>,
    pub outputs: Vec<Tensor<2>>,
}

impl ModelConfig {
    /// How many numbers the net's parameters hold, without building it (what a file holding
    /// the net may weigh is checked against it before the file is read).
    pub fn param_count(&self) -> usize {
        let dense = |inputs: usize, outputs: usize| inputs * outputs + outputs;
        let per_hidden = match self.kind {
            Kind::Plain => dense(self.width, self.width),
            Kind::Highway => 2 * dense(self.width, self.width),
            Kind::Residual => dense(self.width, self.width) + 1,
        };
        dense(self.input_size, self.width)
            + self.depth.saturating_sub(1) * per_hidden
            + dense(self.width, self.classes)
    }

    /// Builds the net on `device`; the same seed gives the same weights on every backend.
    pub fn init(&self, seed: u64, device: &Device) -> Mlp {
        assert!(self.depth >= 1 && self.width >= 1 && self.input_size >= 1 && self.classes >= 1);
        let mut rng = SplitMix64::new(seed);
        let act = self.activation;
        let input = PlainLayer::new(
            self.input_size,
            self.width,
            Some(act),
            act,
            self.init,
            &mut rng,
            device,
        );
        let hidden = self.depth - 1;
        let (mut plain, mut highway, mut residual) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..hidden {
            let (w, init) = (self.width, self.init);
            match self.kind {
                Kind::Plain => plain.push(PlainLayer::new(
                    w,
                    w,
                    Some(act),
                    act,
                    init,
                    &mut rng,
                    device,
                )),
                Kind::Highway => highway.push(HighwayLayer::new(
                    w,
                    act,
                    self.gate_bias,
                    init,
                    &mut rng,
                    device,
                )),
                Kind::Residual => residual.push(ResidualLayer::new(
                    w,
                    act,
                    self.residual_alpha,
                    init,
                    &mut rng,
                    device,
                )),
            }
        }
        // The output layer feeds a softmax: Glorot scale whatever the hidden activation.
        let output = PlainLayer::new(
            self.width,
            self.classes,
            None,
            Activation::Tanh,
            self.init,
            &mut rng,
            device,
        );
        Mlp {
            input,
            plain,
            highway,
            residual,
            output,
            fused: true,
        }
    }
}

impl Mlp {
    /// The same net with fused (`true`) or composed layers; see [`Mlp::fused`].
    pub fn with_fused(mut self, fused: bool) -> Self {
        self.fused = fused;
        self
    }

    fn plain_layer(&self, layer: &PlainLayer, x: Tensor<2>) -> Tensor<2> {
        if self.fused {
            layer.forward(x)
        } else {
            layer.forward_composed(x)
        }
    }

    fn highway_layer(&self, layer: &HighwayLayer, x: Tensor<2>) -> Tensor<2> {
        if self.fused {
            layer.forward(x)
        } else {
            layer.forward_composed(x)
        }
    }

    fn residual_layer(&self, layer: &ResidualLayer, x: Tensor<2>) -> Tensor<2> {
        if self.fused {
            layer.forward(x)
        } else {
            layer.forward_composed(x)
        }
    }

    /// Class logits for a `[batch, input_size]` batch.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward_lesioned(x, None)
    }

    /// The forward pass with highway or residual layer `lesion` (0-based among them) made the
    /// identity: a highway layer's gate forced shut (`T = 0`), a residual layer's scale `α`
    /// set to 0, so that layer copies its input exactly. Every other layer is untouched.
    pub fn forward_lesioned(&self, x: Tensor<2>, lesion: Option<usize>) -> Tensor<2> {
        let mut h = self.stem(x);
        for (i, layer) in self.highway.iter().enumerate() {
            if lesion != Some(i) {
                h = self.highway_layer(layer, h);
            }
        }
        for (i, layer) in self.residual.iter().enumerate() {
            if lesion != Some(i) {
                h = self.residual_layer(layer, h);
            }
        }
        self.plain_layer(&self.output, h)
    }

    /// The forward pass that also returns every highway layer's gate and output (and every
    /// residual layer's output).
    pub fn probe(&self, x: Tensor<2>) -> Probe {
        let mut h = self.stem(x);
        let mut gates = Vec::with_capacity(self.highway.len());
        let mut outputs = Vec::with_capacity(self.highway.len());
        for layer in &self.highway {
            let out = layer.forward_gated(h);
            gates.push(out.gate);
            outputs.push(out.y.clone());
            h = out.y;
        }
        for layer in &self.residual {
            h = self.residual_layer(layer, h);
            outputs.push(h.clone());
        }
        Probe {
            logits: self.plain_layer(&self.output, h),
            gates,
            outputs,
        }
    }

    /// The plain input layer and any plain hidden layers.
    fn stem(&self, x: Tensor<2>) -> Tensor<2> {
        self.plain
            .iter()
            .fold(self.plain_layer(&self.input, x), |h, layer| {
                self.plain_layer(layer, h)
            })
    }

    /// Hidden layers, counted as in [`ModelConfig::depth`].
    pub fn depth(&self) -> usize {
        1 + self.plain.len() + self.highway.len() + self.residual.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::cross_entropy;
    use burn::tensor::{Int, TensorData};

    fn config(kind: Kind, depth: usize, width: usize) -> ModelConfig {
        ModelConfig {
            kind,
            depth,
            width,
            input_size: 784,
            classes: 10,
            activation: Activation::Relu,
            gate_bias: -2.0,
            residual_alpha: 0.0,
            init: WeightInit::Normalized,
        }
    }

    #[test]
    fn paper_widths_give_about_5000_parameters_per_layer() {
        let d = Device::flex();
        let plain = config(Kind::Plain, 3, 71).init(0, &d);
        assert_eq!(plain.plain[0].param_count(), 5_112);
        assert_eq!(plain.plain[0].num_params(), 5_112);
        let highway = config(Kind::Highway, 3, 50).init(0, &d);
        assert_eq!(highway.highway[0].num_params(), 5_100);
        // depth counts hidden layers: 1 plain input layer + depth − 1 of the kind.
        assert_eq!(highway.depth(), 3);
        assert_eq!(highway.highway.len(), 2);
        assert_eq!(
            highway.num_params(),
            784 * 50 + 50 + 2 * 5_100 + 50 * 10 + 10
        );
        for (kind, width) in [(Kind::Plain, 71), (Kind::Highway, 50)] {
            for depth in [1, 3] {
                let c = config(kind, depth, width);
                assert_eq!(
                    c.param_count(),
                    c.init(0, &d).num_params(),
                    "{kind:?} {depth}"
                );
            }
        }
    }

    #[test]
    fn same_seed_same_weights_other_seed_other_weights() {
        let d = Device::flex();
        let w = |seed| {
            config(Kind::Highway, 2, 8).init(seed, &d).highway[0]
                .w_h
                .val()
                .into_data()
        };
        assert_eq!(w(5), w(5));
        assert_ne!(w(5), w(6));
    }

    #[test]
    fn lesioned_layer_is_an_exact_identity() {
        let d = Device::flex();
        let net = config(Kind::Highway, 5, 6).init(1, &d);
        let x = Tensor::<2>::from_data(
            TensorData::new(
                (0..784 * 2)
                    .map(|i| (i % 7) as f32 / 7.0)
                    .collect::<Vec<_>>(),
                [2, 784],
            ),
            &d,
        );
        let probe = net.probe(x.clone());
        // Lesion layer 2: the output must be what layers 3.. make of layer 1's output.
        let mut h = probe.outputs[1].clone();
        h = net.highway[3].forward(h);
        let want = net.output.forward(h).into_data();
        assert_eq!(net.forward_lesioned(x.clone(), Some(2)).into_data(), want);
        assert_ne!(net.forward(x).into_data(), want);
    }

    /// The deepest nets of the paper's story must run forward and backward without overflowing
    /// the stack, and the highway net must pass a usable gradient to its first layer.
    #[test]
    fn nine_hundred_layers_forward_and_backward() {
        let d = Device::flex().autodiff();
        let x = Tensor::<2>::from_data(
            TensorData::new(
                (0..16 * 784)
                    .map(|i| ((i * 37) % 255) as f32 / 255.0)
                    .collect::<Vec<_>>(),
                [16, 784],
            ),
            &d,
        );
        let y = Tensor::<1, Int>::from_data(
            TensorData::new((0..16).map(|i| (i % 10) as i64).collect::<Vec<_>>(), [16]),
            &d,
        );
        for (kind, width) in [(Kind::Highway, 50), (Kind::Plain, 71)] {
            let net = config(kind, 900, width).init(2, &d);
            let loss = cross_entropy(net.forward(x.clone()), y.clone());
            let grads = loss.backward();
            let g = net
                .input
                .weight
                .val()
                .grad(&grads)
                .expect("input-layer gradient")
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            assert!(
                g.iter().all(|v| v.is_finite()),
                "{kind:?}: non-finite gradient"
            );
            if kind == Kind::Highway {
                assert!(
                    g.iter().any(|v| *v != 0.0),
                    "highway: first-layer gradient is all zero"
                );
            }
        }
    }
}
