//! "Subset" matching of expected fields against what a service received: a record matches
//! when every expected key matches; a list when it has as many items, each matching; a
//! value against a list when one item matches (`to: "a@b"` against a list of recipients).
//! Scalars compare as their texts when one side is text, because query strings and form
//! bodies carry no types (`within_days: 14` matches `within_days=14`). Anywhere in an
//! expected record, `contains("…")` and `matches("…")` stand for a text that contains it or
//! matches it (a scalar is read as the text a query string would carry).

use crate::catalogue::compile_pattern;
use crate::ir::{Expected, Value};

/// Whether `actual` is what `expected` describes.
pub fn matches(expected: &Expected, actual: &Value) -> bool {
    match (expected, actual) {
        (Expected::Value(value), actual) => value_matches(value, actual),
        (Expected::Record(wanted), Value::Record(got)) => wanted.iter().all(|(key, value)| {
            got.get(key).map_or_else(
                || matches!(value, Expected::Value(Value::Null)),
                |found| matches(value, found),
            )
        }),
        (Expected::List(wanted), Value::List(got)) => {
            wanted.len() == got.len() && wanted.iter().zip(got).all(|(w, g)| matches(w, g))
        }
        (wanted, Value::List(got)) if !matches!(wanted, Expected::List(_)) => {
            got.iter().any(|g| matches(wanted, g))
        }
        (Expected::Contains(part), actual) => text_of(actual).is_some_and(|t| t.contains(part)),
        (Expected::Matches(pattern), actual) => match (compile_pattern(pattern), text_of(actual)) {
            (Ok(regex), Some(text)) => regex.is_match(&text),
            _ => false,
        },
        (Expected::Record(_) | Expected::List(_), _) => false,
    }
}

fn value_matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Record(wanted), Value::Record(got)) => wanted.iter().all(|(key, value)| {
            got.get(key).map_or(matches!(value, Value::Null), |found| {
                value_matches(value, found)
            })
        }),
        (Value::List(wanted), Value::List(got)) => {
            wanted.len() == got.len() && wanted.iter().zip(got).all(|(w, g)| value_matches(w, g))
        }
        (wanted, Value::List(got)) if !matches!(wanted, Value::List(_)) => {
            got.iter().any(|g| value_matches(wanted, g))
        }
        (wanted, got) => same_scalar(wanted, got),
    }
}

/// A scalar as a matcher of texts reads it.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Text(text) => Some(text.clone()),
        other => untyped(other),
    }
}

fn same_scalar(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Text(a), Value::Text(b)) => a == b,
        (Value::Text(text), other) | (other, Value::Text(text)) => {
            untyped(other).is_some_and(|shown| shown == *text)
        }
        (a, b) => match (number(a), number(b)) {
            (Some(a), Some(b)) => a == b,
            _ => a == b,
        },
    }
}

/// Numbers and durations (which travel as milliseconds) as one number.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => Some(*n),
        Value::Duration(ms) => Some(*ms as f64),
        _ => None,
    }
}

/// A scalar as a query string or a form would carry it.
fn untyped(value: &Value) -> Option<String> {
    match value {
        Value::Number(_) | Value::Bool(_) => Some(value.to_json().to_string()),
        Value::Duration(ms) => Some(ms.to_string()),
        _ => None,
    }
}

/// A value as the test output shows it: JSON, with texts quoted.
pub fn show(value: &Value) -> String {
    value.to_json().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    /// `matches` of a constant expectation.
    fn matches(expected: &Value, actual: &Value) -> bool {
        super::matches(&Expected::Value(expected.clone()), actual)
    }

    fn record(entries: &[(&str, Value)]) -> Value {
        Value::Record(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<IndexMap<_, _>>(),
        )
    }
    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn records_match_on_the_expected_keys_only() {
        let got = record(&[("a", text("x")), ("b", Value::Number(2.0))]);
        assert!(matches(&record(&[("a", text("x"))]), &got));
        assert!(!matches(&record(&[("a", text("y"))]), &got));
        assert!(!matches(&record(&[("c", text("x"))]), &got));
        assert!(matches(&record(&[("c", Value::Null)]), &got));
    }

    #[test]
    fn lists_match_item_by_item_and_scalars_match_any_item() {
        let got = Value::List(vec![text("a@x"), text("b@x")]);
        assert!(matches(&text("b@x"), &got));
        assert!(!matches(&text("c@x"), &got));
        assert!(matches(&Value::List(vec![text("a@x"), text("b@x")]), &got));
        assert!(!matches(&Value::List(vec![text("a@x")]), &got));
    }

    #[test]
    fn untyped_texts_match_numbers_and_durations_match_milliseconds() {
        assert!(matches(&Value::Number(14.0), &text("14")));
        assert!(matches(&Value::Bool(true), &text("true")));
        assert!(!matches(&Value::Number(14.0), &text("15")));
        assert!(matches(
            &Value::Duration(180_000),
            &Value::Number(180_000.0)
        ));
        assert!(!matches(&text("1"), &Value::Bool(true)));
        assert!(matches(&Value::Duration(5_000), &text("5000")));
        assert!(matches(&Value::Number(1.5), &text("1.5")));
    }

    #[test]
    fn matchers_compare_texts_anywhere_in_a_record() {
        let got = record(&[
            ("note", text("Customer asks for a refund of order 7")),
            ("id", text("ord-1042")),
            (
                "tags",
                Value::List(vec![text("chat"), text("refund-request")]),
            ),
            ("count", Value::Number(14.0)),
        ]);
        let expect = |entries: Vec<(&str, Expected)>| {
            Expected::Record(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            )
        };
        let contains = |s: &str| Expected::Contains(s.into());
        let pattern = |s: &str| Expected::Matches(s.into());
        assert!(super::matches(
            &expect(vec![
                ("note", contains("refund")),
                ("id", pattern("^ord-[0-9]+$"))
            ]),
            &got
        ));
        assert!(!super::matches(
            &expect(vec![("note", contains("Refund"))]),
            &got
        ));
        assert!(!super::matches(
            &expect(vec![("id", pattern("^ord-[a-z]+$"))]),
            &got
        ));
        assert!(
            super::matches(&expect(vec![("tags", contains("refund"))]), &got),
            "one item of a list"
        );
        assert!(super::matches(
            &expect(vec![("count", pattern("^1[0-9]$"))]),
            &got
        ));
        assert!(!super::matches(
            &expect(vec![("missing", contains(""))]),
            &got
        ));
        assert!(
            !super::matches(&expect(vec![("id", pattern("("))]), &got),
            "a pattern that does not compile matches nothing"
        );
    }
}
