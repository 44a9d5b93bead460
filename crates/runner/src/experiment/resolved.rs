//! A config with every field written out, defaults included: what `highway plan` shows. The
//! files a sweep writes leave out the fields that sit at a default added after sweeps were
//! first written (so that an older config plans the same `sweep.json`, byte for byte); a
//! reader of a plan wants to see them all, with the values they take.

use anyhow::Result;
use serde_json::{to_value, Value};

use super::config::{Config, CONFIG_VERSION};
use super::json_path::set_at;

impl Config {
    /// This config as JSON with every field present: the ones its files leave out at their
    /// defaults are written with the value they take (`execution.batch_trials` as the backend
    /// resolves it). Keys are in alphabetical order.
    pub fn resolved(&self) -> Result<Value> {
        let mut value = to_value(self)?;
        let t = &self.training;
        let fields = [
            ("version", to_value(self.version.unwrap_or(CONFIG_VERSION))?),
            ("model.residual_alpha", to_value(self.model.residual_alpha)?),
            ("training.optimizer", to_value(t.optimizer)?),
            ("training.betas", to_value(t.betas)?),
            ("training.eps", to_value(t.eps)?),
            ("training.save_model", to_value(t.save_model)?),
            ("training.layer_stats", to_value(t.layer_stats)?),
            (
                "execution.batch_trials",
                to_value(self.execution.batch_trials(self.backend))?,
            ),
            ("grid", to_value(&self.grid)?),
        ];
        for (path, field) in fields {
            set_at(&mut value, path, field)?;
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every field a config may hold is in the resolved config: a config that sets every field
    /// (to a value not its default) has the same keys, at every level, as the resolved
    /// minimal one.
    #[test]
    fn the_resolved_config_has_every_field() {
        let minimal = Config::from_value(json!({
            "name": "t",
            "dataset": {"name": "synthetic"},
            "model": {"kinds": ["plain", "highway"], "depths": [2]},
            "training": {"epochs": 2, "lr": 0.1, "seeds": [0]},
            "search": {"trials": 2}
        }))
        .unwrap();
        let shown = minimal.resolved().unwrap();
        assert_eq!(shown["execution"]["batch_trials"], json!(8), "{shown:#}");
        assert_eq!(shown["training"]["layer_stats"], json!(true));
        assert_eq!(shown["training"]["optimizer"], json!("sgd"));
        assert_eq!(shown["model"]["residual_alpha"], json!(0.0));
        assert_eq!(shown["version"], json!(CONFIG_VERSION));
        let full = Config::from_value(json!({
            "version": 1,
            "name": "t",
            "notes": "n",
            "dataset": {"name": "synthetic", "limit": 10},
            "model": {"kinds": ["plain", "residual"], "depths": [2], "residual_alpha": 1.0},
            "training": {"epochs": 2, "lr": 0.1, "seeds": [0], "optimizer": "adam",
                         "betas": [0.8, 0.9], "eps": 1e-6, "save_model": true,
                         "layer_stats": false},
            "search": {"trials": 2},
            "grid": {"training.epochs": [2, 3]},
            "execution": {"batch_trials": 2}
        }))
        .unwrap();
        let full = to_value(&full).unwrap();
        fn keys(a: &Value, b: &Value, at: &str) {
            if let (Value::Object(a), Value::Object(b)) = (a, b) {
                let ka: Vec<_> = a.keys().collect();
                let kb: Vec<_> = b.keys().collect();
                assert_eq!(ka, kb, "at {at}");
                for k in a.keys() {
                    // The grid's own keys are the fields it varies.
                    if k != "grid" {
                        keys(&a[k], &b[k], &format!("{at}.{k}"));
                    }
                }
            }
        }
        keys(&shown, &full, "");
    }
}
