//! Setting a config's field by its dotted JSON path (`training.lr`), with a value as the
//! command line gives it: what `--set` and `--grid` share.

use anyhow::{bail, Result};
use serde_json::Value;

/// A value given on the command line: JSON when it is JSON (`0.05`, `[10,20]`, `true`), else
/// text (`flex`).
pub(crate) fn parse_value(raw: &str) -> Result<Value> {
    match serde_json::from_str(raw) {
        Ok(v) => Ok(v),
        // A number too large for a float (`1e400`) is a mistake, not a string.
        Err(_)
            if raw.bytes().any(|b| b.is_ascii_digit())
                && raw.parse::<f64>().is_ok_and(f64::is_infinite) =>
        {
            bail!("{raw} is out of range for a number")
        }
        Err(_) => Ok(Value::String(raw.to_string())),
    }
}

/// Sets the field at the dotted path `key` to `value`, making the objects on the way.
pub(crate) fn set_at(root: &mut Value, key: &str, value: Value) -> Result<()> {
    let mut node = root;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Value::Object(map) = node else {
            bail!("{} is not an object", parts[..i].join("."));
        };
        if i + 1 == parts.len() {
            map.insert(part.to_string(), value);
            return Ok(());
        }
        node = map
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    unreachable!("split always yields one part")
}
