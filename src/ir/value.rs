//! Run-time values, also used for constants in the IR.
//!
//! Every value a conversation holds stays within [`ValueBounds`] (see `runtime::eval::Limits`),
//! so the recursive operations here (clone, drop, compare, serialize, `to_json`) never go
//! deeper than those bounds allow.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

mod bounds;
mod parse;
pub use bounds::{mebibytes, Breach, Measure, ValueBounds};
pub use parse::ParseError;

/// A value of the expression language. Records keep their keys' order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    /// Milliseconds.
    Duration(u64),
    List(Vec<Value>),
    Record(IndexMap<String, Value>),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::Text(_) => "text",
            Value::Duration(_) => "duration",
            Value::List(_) => "list",
            Value::Record(_) => "record",
        }
    }

    /// Plain JSON, as sent to services and shown in traces (durations as milliseconds).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Number(n) => number_to_json(*n),
            Value::Text(s) => s.clone().into(),
            Value::Duration(ms) => (*ms).into(),
            Value::List(items) => items.iter().map(Value::to_json).collect(),
            Value::Record(map) => map
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }

    /// A value from plain JSON that is already in memory (event payloads, SQL JSON columns).
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::Text(s.clone()),
            serde_json::Value::Array(items) => {
                Value::List(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Record(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// A number as people read it: rounded to 15 significant digits, the most an `f64` holds
/// exactly, so that `0.1 + 0.2` is `0.3` and not `0.30000000000000004`.
pub fn readable(n: f64) -> f64 {
    // Whole numbers this small are exact already (and the most common).
    if n.fract() == 0.0 && n.abs() < 1e15 {
        return n;
    }
    match format!("{n:.14e}").parse::<f64>() {
        // Rounding up the largest numbers could pass the largest float.
        Ok(rounded) if rounded.is_finite() => rounded,
        _ => n,
    }
}

/// Numbers print as [`readable`] in their shortest form; whole numbers without a fraction
/// (`3`, not `3.0`).
fn number_to_json(n: f64) -> serde_json::Value {
    let n = readable(n);
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        (n as i64).into()
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// The units a duration prints with, largest first, in milliseconds.
const DURATION_UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// The one way a duration is written for people (values, the timeline, messages): each
/// unit that is not zero, largest first (`250ms`, `5s`, `5m30s`, `1d2h`, `1s500ms`; `0ms`).
/// The language reads it back as a literal, and so do `--grace` and event payloads.
pub fn duration_text(ms: u64) -> String {
    if ms == 0 {
        return "0ms".to_string();
    }
    let mut rest = ms;
    let mut text = String::new();
    for (unit, size) in DURATION_UNITS {
        if rest >= size {
            text += &format!("{}{unit}", rest / size);
            rest %= size;
        }
    }
    text
}

impl std::fmt::Display for Value {
    /// Texts print bare (as in interpolation); everything else as JSON.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Text(s) => f.write_str(s),
            Value::Null => f.write_str("null"),
            Value::Duration(ms) => f.write_str(&duration_text(*ms)),
            other => write!(f, "{}", other.to_json()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_the_language_writes_them() {
        assert_eq!(Value::Duration(330_000).to_string(), "5m30s");
        assert_eq!(Value::Duration(250).to_string(), "250ms");
    }

    #[test]
    fn numbers_print_as_people_read_them() {
        let shown = |n: f64| Value::Number(n).to_string();
        assert_eq!(shown(0.1 + 0.2), "0.3");
        assert_eq!(shown(59.7), "59.7");
        assert_eq!(shown(3.0), "3");
        assert_eq!(shown(1.0 / 3.0), "0.333333333333333");
        assert_eq!(shown(-2.5e-7), "-2.5e-7");
        assert_eq!(shown(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(
            Value::List(vec![Value::Number(0.1 * 3.0)])
                .to_json()
                .to_string(),
            "[0.3]"
        );
    }
}
