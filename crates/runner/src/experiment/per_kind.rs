//! A setting given once for every kind of net, or per kind: `0.01` or
//! `{"plain": 0.01, "highway": 0.05, "residual": 0.02}` (the kinds a config trains).

use std::collections::BTreeMap;

use highway_model::Kind;
use serde::de::{DeserializeOwned, Error};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PerKind<T> {
    All(T),
    /// A value per kind; the config's validation checks that every kind it trains has one.
    Each(BTreeMap<Kind, T>),
}

impl<T: Clone> PerKind<T> {
    /// The value for `kind`, if the setting has one.
    pub fn try_get(&self, kind: Kind) -> Option<T> {
        match self {
            PerKind::All(v) => Some(v.clone()),
            PerKind::Each(map) => map.get(&kind).cloned(),
        }
    }

    /// The value for a kind the config trains (validated to have one).
    pub fn get(&self, kind: Kind) -> T {
        self.try_get(kind).unwrap_or_else(|| {
            panic!(
                "validated: a per-kind setting has a value for {}",
                kind.name()
            )
        })
    }

    /// Values for `kinds` that this setting lacks, taken from `other` (a sweep extended by a
    /// config that gives values for its new kinds only keeps those of its old ones).
    pub(crate) fn fill_from(&mut self, other: &PerKind<T>, kinds: &[Kind]) {
        if let PerKind::Each(map) = self {
            for &kind in kinds {
                if let (false, Some(v)) = (map.contains_key(&kind), other.try_get(kind)) {
                    map.insert(kind, v);
                }
            }
        }
    }

    pub(crate) fn values(&self) -> Vec<T> {
        match self {
            PerKind::All(v) => vec![v.clone()],
            PerKind::Each(map) => map.values().cloned().collect(),
        }
    }
}

/// Written by hand, not derived: serde's untagged enums answer every mistake with "data did not
/// match any variant", which says neither what was wrong nor what was expected, and they drop
/// unknown keys such as `"resnet"` without a word.
impl<'de, T: DeserializeOwned> Deserialize<'de> for PerKind<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const SHAPE: &str =
            r#"one value for every kind, or {"plain": …, "highway": …, "residual": …}"#;
        match Value::deserialize(d)? {
            Value::Object(map) => {
                let mut each = BTreeMap::new();
                for (k, v) in map {
                    let kind: Kind = k.parse().map_err(|_| {
                        D::Error::custom(format!("unknown key \"{k}\": expected {SHAPE}"))
                    })?;
                    let v =
                        T::deserialize(v).map_err(|e| D::Error::custom(format!("\"{k}\": {e}")))?;
                    each.insert(kind, v);
                }
                Ok(PerKind::Each(each))
            }
            v => T::deserialize(v)
                .map(PerKind::All)
                .map_err(|e| D::Error::custom(format!("{e} ({SHAPE})"))),
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
        assert_eq!(both, PerKind::All(0.5));
        let each: PerKind<usize> =
            serde_json::from_value(json!({"plain": 71, "highway": 50})).unwrap();
        assert_eq!(each.get(Kind::Highway), 50);
        let e = err::<usize>(json!(8.5));
        assert!(
            e.contains("8.5") && e.contains("(one value for every kind, or {"),
            "{e}"
        );
        let e = err::<Activation>(json!("gelu"));
        assert!(
            e.contains("unknown variant `gelu`") && e.contains("relu"),
            "{e}"
        );
        let some: PerKind<usize> = serde_json::from_value(json!({"plain": 8})).unwrap();
        assert_eq!(
            (some.try_get(Kind::Plain), some.try_get(Kind::Residual)),
            (Some(8), None)
        );
        let e = err::<f64>(json!({"plain": 0.1, "highway": 0.2, "resnet": 0.3}));
        assert!(e.contains("unknown key \"resnet\""), "{e}");
        let e = err::<usize>(json!({"plain": 71, "highway": "wide"}));
        assert!(e.contains("\"highway\": invalid type"), "{e}");
    }
}
