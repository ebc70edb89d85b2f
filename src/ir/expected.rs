//! What an `expect` step wants of a value it compares: a constant, or, anywhere inside an
//! expected record or list, a matcher of texts (`contains("refund")`, `matches("^ord-")`).

use super::Value;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Expected {
    /// This value (records as a subset, `testing::matching`). Lists and records holding no
    /// matcher stay one value.
    Value(Value),
    /// A record with at least these keys, each as expected (one of them holds a matcher).
    Record(IndexMap<String, Expected>),
    /// A list of as many items, each as expected (one of them holds a matcher).
    List(Vec<Expected>),
    /// A text that contains this one.
    Contains(String),
    /// A text that matches this regular expression (compiled by the checker).
    Matches(String),
}

impl Expected {
    /// The keys an expected record names, if it is one.
    pub fn keys(&self) -> Option<Vec<&str>> {
        match self {
            Expected::Record(entries) => Some(entries.keys().map(String::as_str).collect()),
            Expected::Value(Value::Record(entries)) => {
                Some(entries.keys().map(String::as_str).collect())
            }
            _ => None,
        }
    }
}

/// The expectation as a test's output shows it: JSON, with a matcher as it is written.
impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let quoted = |text: &str| serde_json::Value::String(text.to_string()).to_string();
        match self {
            Expected::Value(value) => write!(f, "{}", value.to_json()),
            Expected::Record(entries) => {
                f.write_str("{")?;
                for (i, (key, value)) in entries.iter().enumerate() {
                    let comma = if i == 0 { "" } else { "," };
                    write!(f, "{comma}{}:{value}", quoted(key))?;
                }
                f.write_str("}")
            }
            Expected::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    let comma = if i == 0 { "" } else { "," };
                    write!(f, "{comma}{item}")?;
                }
                f.write_str("]")
            }
            Expected::Contains(part) => write!(f, "contains({})", quoted(part)),
            Expected::Matches(pattern) => write!(f, "matches({})", quoted(pattern)),
        }
    }
}
