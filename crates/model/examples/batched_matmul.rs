//! Times the batched matmuls of a stack of K thin nets on one device, one shape at a time: the
//! floor that the backend's own matmul kernels put under a stack's step, whatever the layers
//! around them do. Each shape is timed as a chain of dependent matmuls (every product feeds the
//! next), so queued work cannot hide: the clock stops when the last product is read back.
//!
//! Usage: `cargo run --release --example batched_matmul -- BACKEND K [REPS]`
//! (BACKEND: flex, ndarray or wgpu; the MNIST shapes of the Figure 1 nets: batch 128, width 50,
//! 784 inputs).

use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};

const ROWS: usize = 128;
const WIDTH: usize = 50;
const INPUTS: usize = 784;
/// Products before the clock starts.
const WARM_UP: usize = 20;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let device = match args.first().map(String::as_str) {
        Some("flex") => Device::flex(),
        #[allow(deprecated)] // still the baseline docs/backends.md compares with
        Some("ndarray") => Device::ndarray(),
        Some("wgpu") => Device::wgpu(Default::default()),
        _ => usage("BACKEND must be flex, ndarray or wgpu"),
    };
    let count = |i: usize, default: Option<usize>, what: &str| -> usize {
        match args.get(i) {
            None => default.unwrap_or_else(|| usage(&format!("{what} is missing"))),
            Some(s) => s
                .parse()
                .unwrap_or_else(|_| usage(&format!("{what}: not a count: {s}"))),
        }
    };
    let k = count(1, None, "K");
    let reps = count(2, Some(500), "REPS");

    let x = Tensor::<3>::random([k, ROWS, WIDTH], Distribution::Default, &device);
    // Scaled so that a chain of products neither explodes nor vanishes.
    let w = Tensor::<3>::random([k, WIDTH, WIDTH], Distribution::Default, &device) * 0.04;
    let data = Tensor::<3>::random([k, ROWS, INPUTS], Distribution::Default, &device) * 0.01;
    let w_in = Tensor::<3>::random([k, INPUTS, WIDTH], Distribution::Default, &device) * 0.01;

    // Two passes: the first settles autotuning (which may go on after a shape's first
    // product), the second is printed.
    for pass in 0..2 {
        let print = pass == 1;
        if print {
            println!("{k} trials, {reps} products per shape, ms per product (per trial):");
        }
        let flop = 2.0 * (ROWS * WIDTH * WIDTH) as f64;
        let chain = Chain { k, reps, print };
        chain.time("x·W    [128,50]·[50,50]", flop, x.clone(), |y| {
            y.matmul(w.clone())
        });
        chain.time("dz·Wᵀ  [128,50]·[50,50]ᵀ", flop, x.clone(), |y| {
            y.matmul(w.clone().swap_dims(1, 2))
        });
        // The last two shapes cannot feed themselves: a scaled add chains them.
        chain.time(
            "xᵀ·dz  [50,128]·[128,50] (+ add)",
            flop,
            w.clone(),
            |g| x.clone().swap_dims(1, 2).matmul(x.clone()).mul_scalar(1e-3) + g,
        );
        let flop_in = 2.0 * (ROWS * INPUTS * WIDTH) as f64;
        let chain = Chain {
            reps: reps / 5,
            ..chain
        };
        chain.time(
            "input  [128,784]·[784,50] (+ add)",
            flop_in,
            x.clone(),
            |y| data.clone().matmul(w_in.clone()) + y.mul_scalar(1e-3),
        );
    }
}

/// Says what is wrong with the command line, and how to call the example, and exits.
fn usage(problem: &str) -> ! {
    eprintln!("batched_matmul: {problem}\nusage: batched_matmul BACKEND K [REPS]");
    std::process::exit(2)
}

/// How one shape is timed: K trials, `reps` products after the warm-up.
#[derive(Clone, Copy)]
struct Chain {
    k: usize,
    reps: usize,
    print: bool,
}

impl Chain {
    /// Runs `step` `reps` times, each on the previous result, and prints the time per product.
    fn time(self, name: &str, flop: f64, start: Tensor<3>, step: impl Fn(Tensor<3>) -> Tensor<3>) {
        let mut y = start;
        for _ in 0..WARM_UP {
            y = step(y);
        }
        let _ = y.clone().into_data();
        let clock = Instant::now();
        for _ in 0..self.reps {
            y = step(y);
        }
        let sum: f32 = y.sum().into_scalar();
        let ms = clock.elapsed().as_secs_f64() * 1e3 / self.reps as f64;
        let gflops = flop * self.k as f64 / (ms * 1e6);
        if self.print {
            println!(
                "  {name}: {ms:8.3} ms ({:.3} ms per trial), {gflops:.2} GFLOP/s (checksum {sum:.3e})",
                ms / self.k as f64
            );
        }
    }
}
