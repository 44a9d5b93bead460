//! Which finished runs keep their trained net (`training.save_model`): `true` (every run),
//! `false` (none) or `"best"` (the best run of each cell, the default).
//!
//! The default is `"best"` so that `highway analyze gates` on a search's best trial never
//! means training it again, while an 800-run search still keeps a handful of models, not 800.
//! The default is not written (configs, `sweep.json`, `spec.json`), so a config without the
//! field plans the same bytes as before the field had three values; a file written before
//! then reads as the default, which asks nothing of the runs it holds (they kept no model,
//! and a resumed sweep does not ask them for one).

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which finished runs write `model.safetensors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaveModel {
    /// `false`: no run keeps its model.
    Off,
    /// `true`: every run that finishes keeps its model.
    All,
    /// `"best"`: the best finished run of each cell (what the report ranks together), ranked
    /// as the report ranks it, keeps its model; the others' are removed (`store::kept_models`).
    #[default]
    Best,
}

impl SaveModel {
    /// Whether it is the default, which configs and specs do not write.
    pub fn is_best(&self) -> bool {
        *self == SaveModel::Best
    }

    /// Its value in a config, as a user writes it.
    pub fn name(self) -> &'static str {
        match self {
            SaveModel::Off => "false",
            SaveModel::All => "true",
            SaveModel::Best => "\"best\"",
        }
    }
}

impl Serialize for SaveModel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SaveModel::Off => s.serialize_bool(false),
            SaveModel::All => s.serialize_bool(true),
            SaveModel::Best => s.serialize_str("best"),
        }
    }
}

/// Reads `true`, `false` or `"best"`; anything else is refused, saying what is taken.
struct SaveModelVisitor;

impl Visitor<'_> for SaveModelVisitor {
    type Value = SaveModel;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("true (every run keeps its model), false (none) or \"best\" (the default)")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<SaveModel, E> {
        Ok(if v { SaveModel::All } else { SaveModel::Off })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SaveModel, E> {
        match v {
            "best" => Ok(SaveModel::Best),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

impl<'de> Deserialize<'de> for SaveModel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SaveModel, D::Error> {
        d.deserialize_any(SaveModelVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn true_false_and_best_read_and_write_back() {
        for (text, value) in [
            ("true", SaveModel::All),
            ("false", SaveModel::Off),
            ("\"best\"", SaveModel::Best),
        ] {
            let read: SaveModel = serde_json::from_str(text).unwrap();
            assert_eq!(read, value);
            assert_eq!(serde_json::to_string(&read).unwrap(), text);
            assert_eq!(value.name(), text);
        }
        assert_eq!(SaveModel::default(), SaveModel::Best);
        for bad in ["\"all\"", "1", "null"] {
            let e = serde_json::from_str::<SaveModel>(bad).unwrap_err();
            assert!(
                e.to_string().contains("true (every run keeps its model)"),
                "{bad}: {e}"
            );
        }
    }
}
