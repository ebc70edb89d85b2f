//! Where `secret(..)` and `env(..)` read from, and the redactor that keeps every secret
//! value out of traces, errors and printed lines.

use crate::ir::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The environment variables a program reads. The CLI uses the process's; tests and the REPL
/// give a map.
pub trait Environment: Send + Sync {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process's environment.
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables.
#[derive(Default, Clone)]
pub struct MapEnv(HashMap<String, String>);

impl MapEnv {
    pub fn new<K: Into<String>, V: Into<String>>(vars: impl IntoIterator<Item = (K, V)>) -> Self {
        MapEnv(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl Environment for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The secret values read so far. Cloning shares the set.
#[derive(Clone, Default)]
pub struct Redactor(Arc<RwLock<Vec<String>>>);

impl Redactor {
    /// Remembers a secret's value. Empty values are ignored (they would match everywhere).
    pub fn register(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        if let Ok(mut secrets) = self.0.write() {
            if !secrets.iter().any(|s| s == secret) {
                secrets.push(secret.to_string());
                // Longest first, so a secret containing another is replaced whole.
                secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
            }
        }
    }

    /// `text` with every known secret replaced by [`REDACTED`].
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Ok(secrets) = self.0.read() else {
            return Cow::Owned(REDACTED.to_string());
        };
        let mut out = Cow::Borrowed(text);
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
        out
    }

    /// Redacts a string in place; tells whether it held a secret.
    pub fn redact_string(&self, text: &mut String) -> bool {
        let clean = match self.redact(text) {
            Cow::Owned(clean) => clean,
            Cow::Borrowed(_) => return false,
        };
        *text = clean;
        true
    }

    /// Redacts every text (and record key) inside a value, in place.
    pub fn redact_value(&self, value: &mut Value) {
        match value {
            Value::Text(s) => {
                self.redact_string(s);
            }
            Value::List(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Record(map) => {
                let dirty = map.keys().any(|k| matches!(self.redact(k), Cow::Owned(_)));
                if dirty {
                    *map = std::mem::take(map)
                        .into_iter()
                        .map(|(k, v)| (self.redact(&k).into_owned(), v))
                        .collect();
                }
                map.values_mut().for_each(|v| self.redact_value(v));
            }
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::Duration(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_occurrence_longest_first() {
        let r = Redactor::default();
        r.register("abc");
        r.register("abcdef");
        r.register("");
        assert_eq!(r.redact("x abcdef y abc"), "x [redacted] y [redacted]");
        let mut v = Value::from_json(&serde_json::json!({"abc": ["token abc"]}));
        r.redact_value(&mut v);
        assert_eq!(
            v.to_json(),
            serde_json::json!({"[redacted]": ["token [redacted]"]})
        );
        assert!(matches!(r.redact("clean"), Cow::Borrowed(_)));
    }
}
