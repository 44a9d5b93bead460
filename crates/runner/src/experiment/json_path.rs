//! Setting a config's field by its dotted JSON path (`training.lr`), with a value as the
//! command line gives it: what `--set` and `--grid` share.

use anyhow::{bail, Result};
use serde_json::Value;

/// A value given on the command line: JSON when it is JSON (`0.05`, `[10,20]`, `true`), a list
/// of such values when it is one in brackets without quotes (`[highway]`, `[plain, 0.1]`: the
/// shell has eaten them, or the user never typed them), else text (`flex`).
pub(crate) fn parse_value(raw: &str) -> Result<Value> {
    if let Ok(value) = serde_json::from_str(raw) {
        return Ok(value);
    }
    if let Some(items) = bare_list(raw) {
        return items.into_iter().map(parse_value).collect();
    }
    // A number too large for a float (`1e400`) is a mistake, not a string.
    if raw.bytes().any(|b| b.is_ascii_digit()) && raw.parse::<f64>().is_ok_and(f64::is_infinite) {
        bail!("{raw} is out of range for a number")
    }
    Ok(Value::String(raw.to_string()))
}

/// The items of `[a, b]` when `raw` is a flat list in brackets: no brackets, braces or quotes
/// inside, whose meaning a split at the commas would change.
fn bare_list(raw: &str) -> Option<Vec<&str>> {
    let inner = raw.trim().strip_prefix('[')?.strip_suffix(']')?;
    if inner.contains(['[', ']', '{', '}', '"']) {
        return None;
    }
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    Some(inner.split(',').map(str::trim).collect())
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bare_lists_are_lists_of_values() {
        assert_eq!(parse_value("[highway]").unwrap(), json!(["highway"]));
        assert_eq!(
            parse_value("[plain, highway,residual]").unwrap(),
            json!(["plain", "highway", "residual"])
        );
        assert_eq!(
            parse_value("[10, 0.5, true]").unwrap(),
            json!([10, 0.5, true])
        );
        assert_eq!(parse_value(r#"["a",1]"#).unwrap(), json!(["a", 1]));
        // Not a flat list: kept as text, for the field's own error to name.
        assert_eq!(parse_value("[a, [b]").unwrap(), json!("[a, [b]"));
        assert_eq!(parse_value("relu").unwrap(), json!("relu"));
        assert!(parse_value("[1e400]").is_err());
    }
}
