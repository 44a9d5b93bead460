//! The paper's random search: for every (kind, depth), `trials` hyperparameter settings drawn
//! from the config's distributions.
//!
//! Each trial is drawn from its own generator, seeded by (search seed, kind, depth, trial
//! number), so a plan is reproducible, and raising `trials` from 40 to 100 keeps the first 40
//! trials exactly as they were (a resumed sweep skips them).

use highway_model::{Activation, Kind};
use highway_rng::{fnv1a, SplitMix64};
use serde::{Deserialize, Serialize};

use super::halving::Halving;
use super::optimizer::Optimizer;

/// `[min, max]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Range(pub f64, pub f64);

impl Range {
    fn uniform(self, rng: &mut SplitMix64) -> f64 {
        self.0 + (self.1 - self.0) * rng.next_f64()
    }

    fn log_uniform(self, rng: &mut SplitMix64) -> f64 {
        (self.0.ln() + (self.1.ln() - self.0.ln()) * rng.next_f64()).exp()
    }

    #[cfg(test)]
    fn contains(self, v: f64) -> bool {
        self.0 <= v && v <= self.1
    }
}

/// The `search` section of a config; each distribution is recorded in `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// Trials per (kind, depth); the paper ran 100.
    pub trials: usize,
    #[serde(default)]
    pub seed: u64,
    /// Initial learning rate, log-uniform.
    #[serde(default = "default_lr")]
    pub lr: Range,
    /// Momentum, uniform.
    #[serde(default = "default_momentum")]
    pub momentum: Range,
    /// Learning-rate decay factor, uniform.
    #[serde(default = "default_decay")]
    pub lr_decay: Range,
    /// Activations to choose from, uniformly.
    #[serde(default = "default_activations")]
    pub activation: Vec<Activation>,
    /// Initial transform-gate bias of highway nets, uniform; the paper: [−10, −1].
    #[serde(default = "default_gate_bias")]
    pub gate_bias: Range,
    /// Optimisers to choose from, uniformly (drawn after every other setting, so a search
    /// without this field draws what it drew before it existed). Empty: `training.optimizer`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optimizer: Vec<Optimizer>,
    /// Only these trials, per (kind, depth), with the config's seeds: chosen trials of a search
    /// run again (with other seeds, say), each with the very setting the search drew for it.
    /// Empty: every trial.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rerun: Vec<Rerun>,
    /// Successive halving within each (kind, depth) cell; none: every trial gets the whole
    /// budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halving: Option<Halving>,
}

/// Trials of one (kind, depth) to run again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rerun {
    pub kind: Kind,
    pub depth: usize,
    pub trials: Vec<usize>,
}

fn default_lr() -> Range {
    Range(1e-3, 1e-1)
}
fn default_momentum() -> Range {
    Range(0.8, 0.99)
}
fn default_decay() -> Range {
    Range(0.9, 1.0)
}
fn default_activations() -> Vec<Activation> {
    vec![Activation::Relu, Activation::Tanh]
}
fn default_gate_bias() -> Range {
    Range(-10.0, -1.0)
}

/// One drawn setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    pub lr: f64,
    pub momentum: f64,
    pub lr_decay: f64,
    pub activation: Activation,
    /// Drawn for every kind (so the stream is the same), used by highway nets.
    pub gate_bias: f32,
    /// Drawn when `search.optimizer` lists optimisers.
    pub optimizer: Option<Optimizer>,
}

impl SearchConfig {
    /// Problems with the section, as (JSON path, why).
    pub fn problems(&self) -> Vec<(String, &'static str)> {
        let mut out = self.halving.map(|h| h.problems()).unwrap_or_default();
        let mut bad = |path: &str, why| out.push((format!("search.{path}"), why));
        if self.trials == 0 {
            bad("trials", "must be at least 1");
        }
        for (name, r) in [
            ("lr", self.lr),
            ("momentum", self.momentum),
            ("lr_decay", self.lr_decay),
            ("gate_bias", self.gate_bias),
        ] {
            if !(r.0.is_finite() && r.1.is_finite() && r.0 <= r.1) {
                bad(name, "must be [min, max] with min <= max");
            }
        }
        if self.lr.0 <= 0.0 {
            bad("lr", "must be positive (it is drawn log-uniformly)");
        }
        // b_T is a 32-bit float: a bound beyond its range would become infinite.
        if !((self.gate_bias.0 as f32).is_finite() && (self.gate_bias.1 as f32).is_finite()) {
            bad(
                "gate_bias",
                "must lie within ±3.4e38 (b_T is a 32-bit float)",
            );
        }
        if self.momentum.0 < 0.0 || self.momentum.1 >= 1.0 {
            bad("momentum", "must lie in [0, 1)");
        }
        if self.lr_decay.0 <= 0.0 || self.lr_decay.1 > 1.0 {
            bad("lr_decay", "must lie in (0, 1]");
        }
        if self.activation.is_empty() {
            bad("activation", "must not be empty");
        }
        let mut optimizers = self.optimizer.clone();
        optimizers.sort_by_key(|o| o.name());
        optimizers.dedup();
        if optimizers.len() != self.optimizer.len() {
            bad("optimizer", "must not repeat an optimiser");
        }
        for (i, r) in self.rerun.iter().enumerate() {
            let path = format!("rerun[{i}].trials");
            if r.trials.is_empty() {
                bad(&path, "must not be empty");
            }
            if r.trials.iter().any(|&t| t >= self.trials) {
                bad(&path, "each trial must be below search.trials");
            }
            let mut sorted = r.trials.clone();
            sorted.sort();
            sorted.dedup();
            if sorted.len() != r.trials.len() {
                bad(&path, "must not repeat a trial");
            }
            if self.rerun[..i]
                .iter()
                .any(|o| (o.kind, o.depth) == (r.kind, r.depth))
            {
                bad(&format!("rerun[{i}]"), "repeats an earlier (kind, depth)");
            }
        }
        out
    }

    /// The trials the plan has for (kind, depth): every one, or those `rerun` lists.
    pub fn trials_of(&self, kind: Kind, depth: usize) -> Vec<usize> {
        if self.rerun.is_empty() {
            return (0..self.trials).collect();
        }
        let listed = self
            .rerun
            .iter()
            .find(|r| (r.kind, r.depth) == (kind, depth));
        listed.map(|r| r.trials.clone()).unwrap_or_default()
    }

    /// Trial `trial` of (kind, depth).
    pub fn draw(&self, kind: Kind, depth: usize, trial: usize) -> Trial {
        let key = format!("{}/{}/{}/{}", self.seed, kind.name(), depth, trial);
        let mut rng = SplitMix64::new(fnv1a(key.as_bytes()));
        Trial {
            lr: self.lr.log_uniform(&mut rng),
            momentum: self.momentum.uniform(&mut rng),
            lr_decay: self.lr_decay.uniform(&mut rng),
            activation: self.activation[rng.below(self.activation.len())],
            gate_bias: self.gate_bias.uniform(&mut rng) as f32,
            optimizer: (!self.optimizer.is_empty())
                .then(|| self.optimizer[rng.below(self.optimizer.len())]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(trials: usize) -> SearchConfig {
        serde_json::from_value(serde_json::json!({ "trials": trials, "seed": 3 })).unwrap()
    }

    #[test]
    fn draws_lie_in_their_ranges_and_cover_them() {
        let s = search(200);
        let trials: Vec<Trial> = (0..200).map(|t| s.draw(Kind::Highway, 50, t)).collect();
        for t in &trials {
            assert!(
                s.lr.contains(t.lr)
                    && s.momentum.contains(t.momentum)
                    && s.lr_decay.contains(t.lr_decay)
            );
            assert!(s.gate_bias.contains(t.gate_bias as f64));
        }
        // Log-uniform: about half the learning rates below the geometric midpoint 1e-2.
        let below = trials.iter().filter(|t| t.lr < 1e-2).count();
        assert!((70..130).contains(&below), "{below}");
        assert!(trials.iter().any(|t| t.activation == Activation::Tanh));
        assert!(trials.iter().any(|t| t.activation == Activation::Relu));
    }

    #[test]
    fn same_seed_same_trials_and_extending_keeps_the_first() {
        let (a, b) = (search(40), search(100));
        for t in 0..40 {
            assert_eq!(a.draw(Kind::Plain, 10, t), b.draw(Kind::Plain, 10, t));
        }
        assert_ne!(a.draw(Kind::Plain, 10, 0), a.draw(Kind::Plain, 10, 1));
        assert_ne!(a.draw(Kind::Plain, 10, 0), a.draw(Kind::Plain, 20, 0));
        let other = SearchConfig {
            seed: 4,
            ..a.clone()
        };
        assert_ne!(a.draw(Kind::Plain, 10, 0), other.draw(Kind::Plain, 10, 0));
    }

    /// Drawing the optimiser changes no other setting of any trial, and draws each one listed.
    #[test]
    fn drawing_the_optimizer_keeps_every_other_draw() {
        let plain = search(100);
        let mut drawing = plain.clone();
        drawing.optimizer = vec![Optimizer::Sgd, Optimizer::Adam, Optimizer::AdamW];
        let mut seen = Vec::new();
        for t in 0..100 {
            let (a, b) = (
                plain.draw(Kind::Highway, 10, t),
                drawing.draw(Kind::Highway, 10, t),
            );
            assert_eq!(a.optimizer, None);
            let drawn = b.optimizer.expect("drawn");
            assert_eq!(
                Trial {
                    optimizer: None,
                    ..b
                },
                a
            );
            if !seen.contains(&drawn) {
                seen.push(drawn);
            }
        }
        assert_eq!(seen.len(), 3, "{seen:?}");
        drawing.optimizer = vec![Optimizer::Adam, Optimizer::Adam];
        let paths: Vec<String> = drawing.problems().into_iter().map(|p| p.0).collect();
        assert_eq!(paths, vec!["search.optimizer"]);
    }

    #[test]
    fn problems_name_their_path() {
        let mut s = search(0);
        s.lr = Range(0.0, 0.1);
        s.momentum = Range(0.5, 1.0);
        let paths: Vec<String> = s.problems().into_iter().map(|p| p.0).collect();
        assert_eq!(paths, vec!["search.trials", "search.lr", "search.momentum"]);
    }
}
