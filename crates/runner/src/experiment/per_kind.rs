//! A setting given once for both kinds of net, or per kind: `0.01` or
//! `{"plain": 0.01, "highway": 0.05}`.

use highway_model::Kind;
use serde::de::{DeserializeOwned, Error};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PerKind<T> {
    Both(T),
    Each { plain: T, highway: T },
}

impl<T: Clone> PerKind<T> {
    pub fn get(&self, kind: Kind) -> T {
        match (self, kind) {
            (PerKind::Both(v), _) => v.clone(),
            (PerKind::Each { plain, .. }, Kind::Plain) => plain.clone(),
            (PerKind::Each { highway, .. }, Kind::Highway) => highway.clone(),
        }
    }

    pub(crate) fn values(&self) -> Vec<T> {
        match self {
            PerKind::Both(v) => vec![v.clone()],
            PerKind::Each { plain, highway } => vec![plain.clone(), highway.clone()],
        }
    }
}

/// Written by hand, not derived: serde's untagged enums answer every mistake with "data did not
/// match any variant", which says neither what was wrong nor what was expected, and they drop
/// unknown keys such as `"resnet"` without a word.
impl<'de, T: DeserializeOwned> Deserialize<'de> for PerKind<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const SHAPE: &str = r#"one value for both kinds, or {"plain": …, "highway": …}"#;
        match Value::deserialize(d)? {
            Value::Object(map) => {
                let known = |k: &String| Kind::ALL.iter().any(|kind| kind.name() == k);
                if let Some(k) = map.keys().find(|k| !known(k)) {
                    return Err(D::Error::custom(format!(
                        "unknown key \"{k}\": expected {SHAPE}"
                    )));
                }
                let each = |k: &str| -> Result<T, D::Error> {
                    let v = map.get(k).cloned().ok_or_else(|| {
                        D::Error::custom(format!("missing \"{k}\": expected {SHAPE}"))
                    })?;
                    T::deserialize(v).map_err(|e| D::Error::custom(format!("\"{k}\": {e}")))
                };
                Ok(PerKind::Each {
                    plain: each(Kind::Plain.name())?,
                    highway: each(Kind::Highway.name())?,
                })
            }
            v => T::deserialize(v)
                .map(PerKind::Both)
                .map_err(|e| D::Error::custom(format!("{e}; expected {SHAPE}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use highway_model::Activation;
    use serde_json::json;

    fn err<T: DeserializeOwned + std::fmt::Debug>(v: Value) -> String {
        serde_json::from_value::<PerKind<T>>(v)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn values_read_and_mistakes_say_what_was_expected() {
        let both: PerKind<f64> = serde_json::from_value(json!(0.5)).unwrap();
        assert_eq!(both, PerKind::Both(0.5));
        let each: PerKind<usize> =
            serde_json::from_value(json!({"plain": 71, "highway": 50})).unwrap();
        assert_eq!(each.get(Kind::Highway), 50);
        let e = err::<usize>(json!(8.5));
        assert!(
            e.contains("8.5") && e.contains("expected one value for both kinds"),
            "{e}"
        );
        let e = err::<Activation>(json!("gelu"));
        assert!(
            e.contains("unknown variant `gelu`") && e.contains("relu"),
            "{e}"
        );
        let e = err::<usize>(json!({"plain": 8}));
        assert!(e.contains("missing \"highway\""), "{e}");
        let e = err::<f64>(json!({"plain": 0.1, "highway": 0.2, "resnet": 0.3}));
        assert!(e.contains("unknown key \"resnet\""), "{e}");
        let e = err::<usize>(json!({"plain": 71, "highway": "wide"}));
        assert!(e.contains("\"highway\": invalid type"), "{e}");
    }
}
