//! What a config asks of the machine, estimated before anything is allocated: a depth of 1e9,
//! a width of 1e7 or a synthetic training set of 1e12 examples is refused with the field and
//! the size when a sweep starts, instead of aborting the process with a failed allocation
//! halfway through a run. (How many runs a plan may have is the config's own rule:
//! `Config::MAX_RUNS`.)

use anyhow::{bail, Result};
use highway_data::DatasetName;
use highway_model::Kind;

use super::config::Config;

/// Bytes per stored number (f32).
const F32: f64 = 4.0;

/// Checks every (kind, depth) of `config` against `memory` bytes, each net `stack` times (the
/// trials trained together as one stack); the error names the field. Called when a sweep
/// starts, with this machine's memory ([`machine_memory`]).
pub(crate) fn check(config: &Config, memory: f64, stack: usize) -> Result<()> {
    let m = &config.model;
    // A stack holds at most one cell's trials.
    let stack = stack.clamp(1, config.search.as_ref().map_or(1, |s| s.trials.max(1)));
    let (input, data) = data_bytes(config);
    if data > memory {
        bail!(
            "dataset: the data needs about {}, more than this machine's {}",
            size(data),
            size(memory)
        );
    }
    for &kind in &m.kinds {
        for (i, &depth) in m.depths.iter().enumerate() {
            let need = data
                + stack as f64
                    * net_bytes(
                        kind,
                        depth,
                        m.width.get(kind),
                        input,
                        config.training.batch_size,
                    );
            if need > memory {
                let what = match stack {
                    1 => "a run needs".to_string(),
                    k => format!("a stack of {k} trials (execution.batch_trials) needs"),
                };
                bail!(
                    "model.depths[{i}] = {depth}, model.width = {} ({}): {what} about {} \
                     (data {}, nets and training state {}), more than this machine's {}",
                    m.width.get(kind),
                    kind.name(),
                    size(need),
                    size(data),
                    size(need - data),
                    size(memory)
                );
            }
        }
    }
    Ok(())
}

/// Features per example, and the bytes the dataset takes in memory (both splits, as f32).
fn data_bytes(config: &Config) -> (usize, f64) {
    let d = &config.dataset;
    let (n, dim) = match d.name {
        DatasetName::Mnist | DatasetName::FashionMnist => (70_000.0, 784),
        DatasetName::Cifar10 | DatasetName::Cifar100 => (60_000.0, 3_072),
        DatasetName::Synthetic => {
            let s = &d.synthetic;
            let centres = s.classes as f64 * s.clusters as f64;
            (s.train as f64 + s.test as f64 + centres, s.dim)
        }
        // The user's files are not read to plan: their size is theirs (the readers hold no
        // more than the files do), and the nets are estimated without their input layer.
        DatasetName::Files => return (0, 0.0),
    };
    let n = d.limit.map_or(n, |l| n.min(2.0 * l as f64));
    (dim, n * dim as f64 * F32)
}

/// Parameters, gradients, momentum and a checkpoint's copy of them, and the activations that a
/// training step keeps for its backward pass (about ten `batch × width` tensors per layer).
pub(crate) fn net_bytes(kind: Kind, depth: usize, width: usize, input: usize, batch: usize) -> f64 {
    let (w, d) = (width as f64, depth as f64);
    let per_layer = match kind {
        Kind::Plain => w * w + w,
        Kind::Highway => 2.0 * (w * w + w),
        Kind::Residual => w * w + w + 1.0,
    };
    let params = input as f64 * w + (d - 1.0) * per_layer + w * 10.0;
    let activations = 10.0 * batch.max(256) as f64 * w * d;
    (4.0 * params + activations) * F32
}

/// This machine's memory in bytes (Linux `MemTotal`; unbounded elsewhere).
pub(crate) fn machine_memory() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?.to_string();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(f64::INFINITY, |kb| kb * 1024.0)
}

pub(crate) fn size(bytes: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", units[u])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(model: serde_json::Value, dataset: serde_json::Value) -> Config {
        serde_json::from_value(json!({
            "name": "t", "dataset": dataset, "model": model,
            "training": {"epochs": 1, "lr": 0.1, "seeds": [0]}
        }))
        .unwrap()
    }

    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

    #[test]
    fn the_papers_nets_fit_and_absurd_ones_are_refused_by_name() {
        let mnist = json!({"name": "mnist"});
        let fine = config(
            json!({"kinds": ["plain", "highway"], "depths": [10, 900]}),
            mnist.clone(),
        );
        check(&fine, 4.0 * GIB, 1).unwrap();
        let deep = config(
            json!({"kinds": ["highway"], "depths": [10, 1_000_000_000]}),
            mnist.clone(),
        );
        let e = check(&deep, 24.0 * GIB, 1).unwrap_err().to_string();
        assert!(
            e.starts_with("model.depths[1] = 1000000000") && e.contains("TiB"),
            "{e}"
        );
        let wide = config(
            json!({"kinds": ["plain"], "depths": [2], "width": 10_000_000}),
            mnist,
        );
        let e = check(&wide, 24.0 * GIB, 1).unwrap_err().to_string();
        assert!(e.contains("model.width = 10000000"), "{e}");
        let big = config(
            json!({"kinds": ["plain"], "depths": [2]}),
            json!({"name": "synthetic", "synthetic": {"train": 1_000_000_000_000u64, "test": 10, "dim": 8, "classes": 2, "clusters": 1, "noise": 0.1, "seed": 0}}),
        );
        let e = check(&big, 24.0 * GIB, 1).unwrap_err().to_string();
        assert!(e.contains("data") && e.contains("TiB"), "{e}");
    }

    /// A stack of trials needs each trial's net; a stack never holds more than a cell's trials.
    #[test]
    fn a_stack_is_checked_with_all_its_trials() {
        let mut c = config(
            json!({"kinds": ["highway"], "depths": [900]}),
            json!({"name": "mnist"}),
        );
        let one = net_bytes(Kind::Highway, 900, 50, 784, 128);
        let data = data_bytes(&c).1;
        check(&c, data + 1.5 * one, 40).unwrap(); // no search: one trial per cell
        c.search = Some(serde_json::from_value(json!({"trials": 10})).unwrap());
        let e = check(&c, data + 1.5 * one, 40).unwrap_err().to_string();
        assert!(
            e.contains("a stack of 10 trials (execution.batch_trials)"),
            "{e}"
        );
    }
}
