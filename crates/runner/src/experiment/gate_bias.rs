//! Where the transform-gate bias `b_T` starts: one number for every depth, or one per depth
//! (`{"10": -2, "900": -8}`), since deeper nets need more negative biases.

use std::collections::BTreeMap;

use serde::de::Error;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum GateBias {
    All(f32),
    ByDepth(BTreeMap<String, f32>),
}

impl GateBias {
    /// The bias for `depth`; `None` when a per-depth map has no entry for it.
    pub fn get(&self, depth: usize) -> Option<f32> {
        match self {
            GateBias::All(b) => Some(*b),
            GateBias::ByDepth(map) => map.get(&depth.to_string()).copied(),
        }
    }
}

/// Written by hand for messages that say what was expected (see `PerKind`), for keys that are
/// not depths, and for numbers a 32-bit `b_T` cannot hold (they would become infinite).
impl<'de> Deserialize<'de> for GateBias {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const SHAPE: &str = r#"a number, or one per depth such as {"10": -2, "900": -8}"#;
        let bias = |v: &Value, at: &str| -> Result<f32, D::Error> {
            let x = v.as_f64().ok_or_else(|| {
                D::Error::custom(format!("{at}{v} is not a number; expected {SHAPE}"))
            })?;
            let b = x as f32;
            if b.is_finite() {
                Ok(b)
            } else {
                Err(D::Error::custom(format!(
                    "{at}{x:e} is outside the range of a 32-bit float (b_T)"
                )))
            }
        };
        match Value::deserialize(d)? {
            Value::Object(map) => {
                let mut out = BTreeMap::new();
                for (k, v) in &map {
                    if !k.parse::<usize>().is_ok_and(|depth| depth >= 1) {
                        return Err(D::Error::custom(format!(
                            "key \"{k}\" is not a depth; expected {SHAPE}"
                        )));
                    }
                    out.insert(k.clone(), bias(v, &format!("\"{k}\": "))?);
                }
                Ok(GateBias::ByDepth(out))
            }
            v => bias(&v, "").map(GateBias::All),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        serde_json::from_value::<GateBias>(v)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn biases_read_and_mistakes_say_what_was_expected() {
        let all: GateBias = serde_json::from_value(json!(-2)).unwrap();
        assert_eq!(all.get(50), Some(-2.0));
        let by: GateBias = serde_json::from_value(json!({"10": -1, "900": -8})).unwrap();
        assert_eq!((by.get(900), by.get(20)), (Some(-8.0), None));
        assert!(err(json!({"banana": -2})).contains("key \"banana\" is not a depth"));
        assert!(err(json!(-1e300)).contains("outside the range of a 32-bit float"));
        assert!(err(json!("low")).contains("is not a number; expected a number, or one per depth"));
        assert!(err(json!({"10": "x"})).contains("\"10\": \"x\" is not a number"));
    }
}
