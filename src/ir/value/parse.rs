//! JSON text straight to a [`Value`], within [`ValueBounds`]: no `serde_json::Value` in
//! between (a service's answer is held once, not twice), and the parse stops at the first
//! bound the answer breaks instead of after building all of it.

use super::bounds::{Breach, Measure, ValueBounds, VALUE_BYTES};
use super::Value;
use indexmap::IndexMap;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::cell::Cell;
use std::fmt;

/// Why JSON text did not become a value.
#[derive(Debug)]
pub enum ParseError {
    /// It is not JSON.
    Syntax(serde_json::Error),
    /// It is JSON, but a larger or deeper value than the bounds allow.
    Breach(Breach),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Syntax(e) => write!(f, "malformed JSON: {e}"),
            ParseError::Breach(breach) => breach.fmt(f),
        }
    }
}

impl Value {
    /// Parses JSON text (a service's answer) into a value within `bounds`.
    pub fn parse_json(bytes: &[u8], bounds: &ValueBounds) -> Result<Value, ParseError> {
        let breach = Cell::new(None);
        let bytes_used = Cell::new(0);
        let seed = Seed {
            bounds,
            depth: 0,
            bytes_used: &bytes_used,
            breach: &breach,
        };
        let mut json = serde_json::Deserializer::from_slice(bytes);
        let parsed = seed.deserialize(&mut json).and_then(|value| {
            json.end()?;
            Ok(value)
        });
        parsed.map_err(|e| {
            breach
                .get()
                .map_or(ParseError::Syntax(e), ParseError::Breach)
        })
    }
}

/// Builds one value at `depth` (how many lists and records hold it), counting every byte
/// it takes into `bytes_used`, shared by the whole parse.
#[derive(Clone, Copy)]
struct Seed<'a> {
    bounds: &'a ValueBounds,
    depth: usize,
    bytes_used: &'a Cell<usize>,
    breach: &'a Cell<Option<Breach>>,
}

impl Seed<'_> {
    /// Counts `bytes` more, failing once the whole value takes more than allowed.
    fn charge<E: de::Error>(&self, bytes: usize) -> Result<(), E> {
        let used = self.bytes_used.get() + bytes;
        self.bytes_used.set(used);
        let measure = Measure {
            depth: self.depth,
            bytes: used,
        };
        measure
            .within(self.bounds)
            .map_err(|breach| self.fail(breach))
    }

    /// A list or record inside this one: one level deeper, which must be allowed.
    fn inside<E: de::Error>(&self) -> Result<Self, E> {
        let inner = Seed {
            depth: self.depth + 1,
            ..*self
        };
        inner.charge(VALUE_BYTES)?;
        Ok(inner)
    }

    fn scalar<E: de::Error>(&self, value: Value) -> Result<Value, E> {
        let text = match &value {
            Value::Text(s) => s.len(),
            _ => 0,
        };
        self.charge(VALUE_BYTES + text)?;
        Ok(value)
    }

    fn fail<E: de::Error>(&self, breach: Breach) -> E {
        self.breach.set(Some(breach));
        E::custom(breach)
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.scalar(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        self.scalar(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        self.scalar(Value::Number(n as f64))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        self.scalar(Value::Number(n as f64))
    }

    /// serde_json refuses numbers beyond f64 ("number out of range"): no NaN or infinity
    /// comes this way.
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        self.scalar(Value::Number(n))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        self.scalar(Value::Text(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        self.scalar(Value::Text(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.inside()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        items.shrink_to_fit();
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.inside()?;
        let mut fields = IndexMap::new();
        while let Some(key) = map.next_key::<String>()? {
            inner.charge(Measure::field(&key))?;
            let value = map.next_value_seed(inner)?;
            fields.insert(key, value);
        }
        fields.shrink_to_fit();
        Ok(Value::Record(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str =
        r#"{"id": 7, "tags": ["a", "bc"], "owner": {"name": "Maya", "vip": true}, "n": null}"#;

    fn bounds(max_depth: usize, max_bytes: usize) -> ValueBounds {
        ValueBounds {
            max_depth,
            max_bytes,
        }
    }

    #[test]
    fn parsing_counts_what_measuring_counts() {
        let value = Value::parse_json(SAMPLE.as_bytes(), &bounds(64, 1 << 20)).unwrap();
        assert_eq!(
            value.to_json(),
            serde_json::from_str::<serde_json::Value>(SAMPLE).unwrap()
        );
        let measure = value.measure(&bounds(64, 1 << 20)).unwrap();
        assert_eq!(measure.depth, 2);
        // Exactly the measure fits, one byte or one level less does not, in both.
        let exact = bounds(measure.depth, measure.bytes);
        assert_eq!(value.measure(&exact), Ok(measure));
        assert!(Value::parse_json(SAMPLE.as_bytes(), &exact).is_ok());
        for (tight, breach) in [
            (
                bounds(measure.depth, measure.bytes - 1),
                Breach::TooLarge {
                    limit: measure.bytes - 1,
                },
            ),
            (
                bounds(measure.depth - 1, measure.bytes),
                Breach::TooDeep {
                    limit: measure.depth - 1,
                },
            ),
        ] {
            assert_eq!(value.measure(&tight), Err(breach));
            assert!(matches!(
                Value::parse_json(SAMPLE.as_bytes(), &tight),
                Err(ParseError::Breach(b)) if b == breach
            ));
        }
    }

    #[test]
    fn syntax_errors_are_not_breaches() {
        for text in [&b"{oops"[..], b"[1] 2", b"\"\xff\""] {
            assert!(matches!(
                Value::parse_json(text, &bounds(64, 1 << 20)),
                Err(ParseError::Syntax(_))
            ));
        }
    }

    #[test]
    fn a_deep_value_is_refused_before_it_is_built() {
        // Far deeper than serde_json's own recursion limit allows: the bound stops it first.
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            Value::parse_json(deep.as_bytes(), &bounds(64, 1 << 20))
                .unwrap_err()
                .to_string(),
            Breach::TooDeep { limit: 64 }.to_string()
        );
    }
}
