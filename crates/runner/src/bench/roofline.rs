//! `highway bench --roofline`: the step's time beside the time of its matrix products alone.
//!
//! Whether a step is slow because of its matmuls or because of everything around them cannot
//! be read off the step's time: the products of these thin layers run far below a machine's
//! peak, and that floor moves with the shapes, the kernels, the threads and the load. So the
//! products are timed in the same process, between the timed steps, with the very calls the
//! step makes (`highway_model::ops::roofline`): the load falls on both alike, and the share
//! holds on any machine.

use highway_model::ops::roofline::{self, Matmuls};
use highway_model::ModelConfig;
use serde::Serialize;

use super::median::median;

/// The step against its products, from the median times of each.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Roofline {
    /// Milliseconds the step's matrix products take alone (median over the timed steps).
    pub matmul_ms: f64,
    /// `matmul_ms / ms_per_step`: 1 would be a step that is nothing but its matmuls.
    pub matmul_share: f64,
    /// Floating-point operations of the step's products (`2·m·k·n` each), in GFLOP.
    pub gflop_per_step: f64,
    /// GFLOP/s the whole step achieves on those operations.
    pub gflops: f64,
    /// GFLOP/s the products achieve alone: the peak of this machine for these shapes.
    pub matmul_gflops: f64,
}

/// The products of a step of one net, run after each step, and their times.
pub(crate) struct Products {
    matmuls: Matmuls,
    flop: f64,
    times: Vec<f64>,
}

impl Products {
    /// The products of a step of `config` on `rows` examples, with buffers of their own.
    pub(super) fn new(config: &ModelConfig, rows: usize) -> Products {
        let tasks = roofline::step(config, rows);
        Products {
            flop: roofline::flop(&tasks),
            matmuls: Matmuls::new(tasks),
            times: Vec::new(),
        }
    }

    /// Runs the products once, keeping the time when `timed`.
    pub(super) fn run(&mut self, timed: bool) {
        let ms = self.matmuls.run_ms();
        if timed {
            self.times.push(ms);
        }
    }

    /// The roofline of a step whose median time is `step_ms`.
    pub(super) fn result(self, step_ms: f64) -> Roofline {
        let matmul_ms = median(self.times);
        let gflop = self.flop * 1e-9;
        Roofline {
            matmul_ms,
            matmul_share: matmul_ms / step_ms,
            gflop_per_step: gflop,
            gflops: gflop / (step_ms * 1e-3),
            matmul_gflops: gflop / (matmul_ms * 1e-3),
        }
    }
}
