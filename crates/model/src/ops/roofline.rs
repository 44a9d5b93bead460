//! The matrix products of a training step alone: how far the step is from its matmuls.
//!
//! A step of these thin nets is its matmuls plus everything around them (element-wise passes,
//! autodiff bookkeeping, allocation, the optimiser). [`step`] lists the products one step of a
//! net runs on Flex, each as its fused operation runs it (the same shapes, views, splits over
//! the thread team and `gemm` calls, taken from the operations' own descriptions), and
//! [`Matmuls`] runs that list alone on buffers of its own. The time of the list beside the
//! time of the step says how much of the step is matmul; its floating-point operations over
//! each time give the GFLOP/s of the step and of its products.

use std::time::Instant;

use super::product::{run, Buffers};
pub use super::product::{Operand, Product, Split, Task};
use super::{highway, plain, residual};
use crate::{Kind, ModelConfig};

/// The products of one training step (forward and backward pass) of the net `config` on `rows`
/// examples, in the order the step runs them: the forward pass layer by layer, then the
/// backward pass from the output layer down. The input layer computes no gradient for the
/// data, so it has no `dx` product.
pub fn step(config: &ModelConfig, rows: usize) -> Vec<Task> {
    let w = config.width;
    let plain_layer = |k: usize, n: usize, dx: bool| {
        let mut backward = vec![plain::Net::backward_params_task(rows, k, n)];
        if dx {
            backward.push(plain::Net::backward_input_task(rows, k, n, false));
        }
        (vec![plain::Net::forward_task(rows, k, n)], backward)
    };
    let mut layers = vec![plain_layer(config.input_size, w, false)];
    for _ in 1..config.depth {
        layers.push(match config.kind {
            Kind::Plain => plain_layer(w, w, true),
            Kind::Highway => highway::Net::tasks(rows, w),
            Kind::Residual => residual::Net::tasks(rows, w),
        });
    }
    layers.push(plain_layer(w, config.classes, true));
    let mut tasks: Vec<Task> = layers.iter().flat_map(|(f, _)| f.clone()).collect();
    tasks.extend(layers.into_iter().rev().flat_map(|(_, b)| b));
    tasks
}

/// Floating-point operations of `tasks`: `2·m·k·n` per product.
pub fn flop(tasks: &[Task]) -> f64 {
    tasks.iter().map(Task::flop).sum()
}

/// A list of products with buffers of their own, ready to be run alone.
pub struct Matmuls {
    tasks: Vec<Task>,
    buffers: Vec<Buffers>,
}

impl Matmuls {
    /// Allocates each task's operands and outputs: as in the step, no two layers share a
    /// buffer, so the products find in cache what the step's would.
    pub fn new(tasks: Vec<Task>) -> Matmuls {
        let buffers = tasks.iter().map(Buffers::new).collect();
        Matmuls { tasks, buffers }
    }

    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// Runs every product once, in order, and returns the milliseconds that took.
    pub fn run_ms(&mut self) -> f64 {
        let t = Instant::now();
        for (task, buffers) in self.tasks.iter().zip(&mut self.buffers) {
            run(task, buffers);
        }
        t.elapsed().as_secs_f64() * 1e3
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Int, Tensor, TensorData};

    use super::super::matmul::record::{calls, Call};
    use super::super::product::Split;
    use super::super::team;
    use super::*;
    use crate::loss::cross_entropy;
    use crate::{Activation, WeightInit};

    fn config(kind: Kind, depth: usize, input_size: usize) -> ModelConfig {
        ModelConfig {
            kind,
            depth,
            width: 6,
            input_size,
            classes: 4,
            activation: Activation::Relu,
            gate_bias: -2.0,
            residual_alpha: 0.5,
            init: WeightInit::Normalized,
        }
    }

    /// Every net the tests check: each kind, shallow and deep, a narrow input and one wide
    /// enough for the input layer's transposed `dW`.
    fn nets() -> Vec<ModelConfig> {
        let mut nets = Vec::new();
        for kind in Kind::ALL {
            for depth in [1, 2, 4] {
                for input in [20, 600] {
                    nets.push(config(kind, depth, input));
                }
            }
        }
        nets
    }

    /// The calls of `gemm_into` that `tasks` make: one per product per block.
    fn expected(tasks: &[Task]) -> Vec<Call> {
        let mut out = Vec::new();
        for t in tasks {
            for r in &t.blocks {
                for p in &t.products {
                    let [m, k, n] = p.dims();
                    let dims = match t.split {
                        Split::Rows => [r.len(), k, n],
                        Split::Cols => [m, k, r.len()],
                    };
                    let (a, b) = (p.a, p.b);
                    out.push((
                        dims,
                        [a.row_stride, a.col_stride],
                        [b.row_stride, b.col_stride],
                        p.accumulate,
                    ));
                }
            }
        }
        out
    }

    /// The products a real training step (forward, loss, backward) of `config` makes, in
    /// order, on one thread.
    fn recorded(config: &ModelConfig, rows: usize) -> Vec<Call> {
        let d = Device::flex().autodiff();
        let net = config.init(3, &d);
        let input = config.input_size;
        let x: Vec<f32> = (0..rows * input).map(|i| (i % 11) as f32 * 0.1).collect();
        let x = Tensor::<2>::from_data(TensorData::new(x, [rows, input]), &d);
        let labels: Vec<i64> = (0..rows).map(|i| (i % config.classes) as i64).collect();
        let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [rows]), &d);
        team::alone(|| calls(|| cross_entropy(net.forward(x), y).backward()).1)
    }

    #[test]
    fn the_list_is_what_a_step_runs() {
        let rows = 9;
        for config in nets() {
            let tasks = team::alone(|| step(&config, rows));
            assert_eq!(
                recorded(&config, rows),
                expected(&tasks),
                "{:?} depth {} input {}",
                config.kind,
                config.depth,
                config.input_size
            );
        }
    }

    #[test]
    fn floating_point_operations_match_a_count_by_layer() {
        let rows = 128;
        for config in nets() {
            let (n, k, c) = (config.width, config.input_size, config.classes);
            let hidden = (config.depth - 1) as f64;
            let per_hidden = match config.kind {
                // Forward, dW and dx, each rows·n·n multiply-adds; a highway layer has two.
                Kind::Plain | Kind::Residual => 3.0 * (rows * n * n) as f64,
                Kind::Highway => 6.0 * (rows * n * n) as f64,
            };
            // The input layer: forward and dW; the output layer: forward, dW and dx.
            let madds =
                2.0 * (rows * k * n) as f64 + hidden * per_hidden + 3.0 * (rows * n * c) as f64;
            assert_eq!(flop(&step(&config, rows)), 2.0 * madds, "{config:?}");
        }
    }

    #[test]
    fn running_the_list_computes_every_output() {
        let config = config(Kind::Highway, 3, 600);
        let mut matmuls = Matmuls::new(step(&config, 40));
        assert!(matmuls.run_ms() >= 0.0);
        // Forward: 4 layers; backward: the output layer's dW and dx, two per highway layer, and
        // the input layer's dW.
        assert_eq!(matmuls.tasks().len(), 4 + 2 + 2 * 2 + 1);
    }
}
