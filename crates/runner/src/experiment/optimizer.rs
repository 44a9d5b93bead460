//! Which optimiser a run trains with: a name in a config, a search's draw, a run's spec.

use serde::{Deserialize, Serialize};

/// The optimiser of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// SGD with classical momentum (optionally Nesterov's) and L2 weight decay.
    #[default]
    Sgd,
    /// Adam (Kingma & Ba), weight decay as an L2 term of the gradient.
    Adam,
    /// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay.
    #[serde(rename = "adamw")]
    AdamW,
}

impl Optimizer {
    pub fn is_sgd(&self) -> bool {
        *self == Optimizer::Sgd
    }

    /// Its name in a config.
    pub fn name(self) -> &'static str {
        match self {
            Optimizer::Sgd => "sgd",
            Optimizer::Adam => "adam",
            Optimizer::AdamW => "adamw",
        }
    }
}
