//! A grid over config fields: `"grid": {"training.lr": [0.01, 0.1], "model.gate_bias": [-1, -3]}`
//! in the config, or `--grid training.lr=0.01,0.1` on the command line. Each point of the grid
//! (one value per field, the product of the axes) is the config with those fields set, planned
//! as any config is (kinds × depths × trials × seeds); the sweep's plan is every point's runs.
//!
//! A grid varies what a run computes: its fields are `dataset.*`, `model.*` and `training.*`
//! settings, except the lists that are axes of every plan already (`model.kinds`,
//! `model.depths`, `training.seeds`). A sweep over dataset fields loads each dataset in turn.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json_path::{parse_value, set_at};

/// The grid's axes: a field's JSON path and its values, fields in name order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Grid(BTreeMap<String, Vec<Value>>);

/// One point of a grid: a value for each of its fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GridPoint(BTreeMap<String, Value>);

/// The fields that are axes of every plan already.
const AXES: [&str; 3] = ["model.kinds", "model.depths", "training.seeds"];

/// The most characters of a run id that name its grid point (the id's hash tells the rest).
const MAX_TAG: usize = 60;

impl Grid {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The axes: each field and its values.
    pub fn axes(&self) -> impl Iterator<Item = (&str, &[Value])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The number of points, `None` past `usize`.
    pub fn size(&self) -> Option<usize> {
        self.0
            .values()
            .try_fold(1usize, |n, values| n.checked_mul(values.len()))
    }

    /// The points in order: the first field's values outermost, the last field's innermost.
    pub fn points(&self) -> Vec<GridPoint> {
        let mut points = vec![BTreeMap::new()];
        for (field, values) in &self.0 {
            points = points
                .into_iter()
                .flat_map(|p| {
                    values.iter().map(move |v| {
                        let mut p = p.clone();
                        p.insert(field.clone(), v.clone());
                        p
                    })
                })
                .collect();
        }
        points.into_iter().map(GridPoint).collect()
    }

    /// Why this grid cannot be planned, naming the field.
    pub(super) fn problems(&self) -> Result<()> {
        for (field, values) in &self.0 {
            let at = format!("grid.{field}");
            if AXES
                .iter()
                .any(|a| field == a || field.starts_with(&format!("{a}.")))
            {
                bail!("{at}: {field} is an axis of every plan already; list its values there");
            }
            if !["model.", "training.", "dataset."]
                .iter()
                .any(|p| field.starts_with(p))
            {
                bail!(
                    "{at}: a grid varies dataset.*, model.* and training.* settings (what a \
                     run computes); for another search, backend or output, run one sweep for \
                     each"
                );
            }
            if field.split('.').any(str::is_empty) {
                bail!("{at}: not a field's path (parts separated by single dots)");
            }
            if values.is_empty() {
                bail!("{at}: give at least one value");
            }
            for (i, v) in values.iter().enumerate() {
                if let Some(j) = values[..i].iter().position(|w| w == v) {
                    bail!("{at}[{i}]: {v} repeats {at}[{j}]; list each value once");
                }
            }
        }
        Ok(())
    }

    /// The grid that holds both: each field's values, this grid's first; the fields that only
    /// one of them has, when they have different fields.
    pub(super) fn union(&self, other: &Grid) -> Result<Grid, Vec<String>> {
        let only = |a: &Grid, b: &Grid| -> Vec<String> {
            a.0.keys()
                .filter(|k| !b.0.contains_key(*k))
                .cloned()
                .collect()
        };
        let (mine, theirs) = (only(self, other), only(other, self));
        if !mine.is_empty() || !theirs.is_empty() {
            let names = |v: Vec<String>| match v.is_empty() {
                true => "none".to_string(),
                false => v.join(", "),
            };
            return Err(vec![format!(
                "the grid's fields differ (there only: {}; here only: {}): a grid may gain \
                 values on its fields, not fields",
                names(mine),
                names(theirs)
            )]);
        }
        let mut out = self.clone();
        for (field, values) in &other.0 {
            let have = out.0.get_mut(field).expect("the same fields");
            for v in values {
                if !have.contains(v) {
                    have.push(v.clone());
                }
            }
        }
        Ok(out)
    }
}

impl GridPoint {
    /// The point's fields and values.
    pub fn values(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// `training.lr=0.01, model.gate_bias=-1`, for people.
    pub fn label(&self) -> String {
        let parts: Vec<String> = self
            .values()
            .map(|(k, v)| format!("{k}={}", text(v)))
            .collect();
        parts.join(", ")
    }

    /// `gate_bias=-1-lr=0.01`: the point as a run id and a folder name show it, each field by
    /// its last name (its whole path where two fields share one), characters other than
    /// letters, digits and `.=+-_` replaced by `_`, at most [`MAX_TAG`] characters.
    pub fn tag(&self) -> String {
        let last = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
        let parts: Vec<String> = self
            .values()
            .map(|(k, v)| {
                let shared = self.0.keys().filter(|o| last(o) == last(k)).count() > 1;
                let name = if shared { k.replace('.', "_") } else { last(k) };
                format!("{name}={}", text(v))
            })
            .collect();
        let tag: String = parts
            .join("-")
            .chars()
            .map(|c| match c.is_ascii_alphanumeric() || ".=+-_".contains(c) {
                true => c,
                false => '_',
            })
            .collect();
        tag.chars().take(MAX_TAG).collect()
    }

    /// The config (as JSON) at this point.
    pub(super) fn apply(&self, config: &Value) -> Value {
        let mut v = config.clone();
        for (field, value) in self.values() {
            set_at(&mut v, field, value.clone()).expect("a grid's fields are objects' keys");
        }
        v
    }

    /// This point with `field` set to `value`.
    pub(super) fn with(&self, field: &str, value: Value) -> GridPoint {
        let mut p = self.clone();
        p.0.insert(field.to_string(), value);
        p
    }

    /// Whether this point has `other`'s value for each field `other` has.
    pub fn matches(&self, other: &GridPoint) -> bool {
        other.values().all(|(k, v)| self.0.get(k) == Some(v))
    }
}

/// A value as a label shows it: strings without quotes, everything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Adds `--grid field=v1,v2,…` to a config's JSON: values split at the commas outside brackets
/// and quotes, each read as `--set` reads a value (`0.01`, `relu`, `[10, 20]`).
pub(crate) fn apply_grid_arg(root: &mut Value, arg: &str) -> Result<()> {
    let (field, raw) = arg
        .split_once('=')
        .context("expected field=value,value,…, e.g. training.lr=0.01,0.1")?;
    let values = split_top(raw)
        .into_iter()
        .map(|v| parse_value(v.trim()))
        .collect::<Result<Vec<Value>>>()?;
    let Value::Object(map) = root else {
        bail!("the config is not a JSON object");
    };
    let grid = map
        .entry("grid")
        .or_insert_with(|| Value::Object(Default::default()));
    let Value::Object(grid) = grid else {
        bail!("grid is not an object");
    };
    grid.insert(field.to_string(), Value::Array(values));
    Ok(())
}

/// `raw` split at the commas that are outside brackets, braces and double quotes.
fn split_top(raw: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut quoted, mut start) = (Vec::new(), 0i32, false, 0);
    let mut escaped = false;
    for (i, c) in raw.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '[' | '{' if !quoted => depth += 1,
            ']' | '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(&raw[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&raw[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grid(v: Value) -> Grid {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn points_are_the_product_in_field_order() {
        let g = grid(json!({"training.lr": [0.01, 0.1], "model.gate_bias": [-1, -3, -5]}));
        assert_eq!(g.size(), Some(6));
        let points = g.points();
        let labels: Vec<String> = points.iter().map(GridPoint::label).collect();
        assert_eq!(labels[0], "model.gate_bias=-1, training.lr=0.01");
        assert_eq!(labels[1], "model.gate_bias=-1, training.lr=0.1");
        assert_eq!(labels[5], "model.gate_bias=-5, training.lr=0.1");
        assert_eq!(points[1].tag(), "gate_bias=-1-lr=0.1");
        assert!(points[1].matches(&points[1]));
        assert!(!points[1].matches(&points[0]));
    }

    #[test]
    fn tags_are_safe_folder_names_and_name_shared_last_names_in_full() {
        let g = grid(json!({"model.width": [{"plain": 71}], "training.width": ["a b/c"]}));
        let tag = g.points()[0].tag();
        assert_eq!(tag, "model_width=__plain__71_-training_width=a_b_c");
        let long = grid(json!({"training.lr": ["x".repeat(200)]}));
        assert_eq!(long.points()[0].tag().len(), MAX_TAG);
    }

    #[test]
    fn fields_and_values_are_checked_by_name() {
        let e = |v: Value| grid(v).problems().unwrap_err().to_string();
        assert!(e(json!({"model.depths": [[10]]})).starts_with("grid.model.depths: "));
        assert!(e(json!({"training.seeds": [1]})).contains("axis of every plan"));
        assert!(
            e(json!({"search.trials": [1, 2]})).starts_with("grid.search.trials: a grid varies")
        );
        assert!(grid(json!({"dataset.limit": [10, 20]})).problems().is_ok());
        assert!(e(json!({"backend": ["flex"]})).starts_with("grid.backend: "));
        assert!(e(json!({"training.lr": []})).contains("at least one value"));
        assert_eq!(
            e(json!({"training.lr": [0.1, 0.2, 0.1]})),
            "grid.training.lr[2]: 0.1 repeats grid.training.lr[0]; list each value once"
        );
        assert!(e(json!({"training..lr": [1]})).contains("not a field's path"));
        assert!(grid(json!({"training.lr": [0.1]})).problems().is_ok());
    }

    #[test]
    fn the_command_line_reads_values_as_set_does() {
        let mut v = json!({"name": "x"});
        apply_grid_arg(&mut v, "training.lr=0.01,0.1").unwrap();
        apply_grid_arg(&mut v, r#"model.activation=relu,tanh"#).unwrap();
        apply_grid_arg(&mut v, r#"model.gate_bias={"10": -1, "20": -2},-3"#).unwrap();
        assert_eq!(
            v["grid"],
            json!({"training.lr": [0.01, 0.1], "model.activation": ["relu", "tanh"],
                   "model.gate_bias": [{"10": -1, "20": -2}, -3]})
        );
        assert!(apply_grid_arg(&mut v, "training.lr").is_err());
    }

    #[test]
    fn a_union_keeps_the_first_grids_order_and_refuses_other_fields() {
        let a = grid(json!({"training.lr": [0.1, 0.01]}));
        let b = grid(json!({"training.lr": [0.01, 1.0]}));
        assert_eq!(
            a.union(&b).unwrap(),
            grid(json!({"training.lr": [0.1, 0.01, 1.0]}))
        );
        let c = grid(json!({"model.width": [10]}));
        let e = a.union(&c).unwrap_err().join("");
        assert!(
            e.contains("there only: training.lr; here only: model.width"),
            "{e}"
        );
    }
}
