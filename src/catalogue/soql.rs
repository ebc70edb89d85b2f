//! The bound values of `salesforce.query`: `:name` placeholders in a SOQL text, replaced by
//! SOQL literals of the values given (`query("... WHERE Email = :email", { email: x })`),
//! never spliced as written. The checker reads [`placeholders`] of a literal query; the
//! Salesforce executor sends what [`bind`] makes.
//!
//! A placeholder is `:` and a name, outside a quoted literal. After `LIKE` the value's `%` and
//! `_` match themselves, and a `%` written against the placeholder (`LIKE :name%`,
//! `LIKE %:name%`) is a wildcard the program adds.

use crate::ir::Value;
use indexmap::IndexMap;
use std::fmt;
use std::ops::Range;

/// One `:name` in a query.
#[derive(Debug, PartialEq, Eq)]
pub struct Placeholder {
    pub name: String,
    /// Bytes of the whole placeholder in the query, wildcards included.
    pub range: Range<usize>,
    /// It follows `LIKE`.
    pub like: bool,
    pub wild_before: bool,
    pub wild_after: bool,
}

/// Why a query's values do not bind to its placeholders: nothing is sent. Each variant
/// names its placeholder.
#[derive(Clone, Debug, PartialEq)]
pub enum SoqlError {
    /// A `%` written against a placeholder that no LIKE comparison takes.
    Wildcard(String),
    /// A value whose name no placeholder has.
    Unused(String),
    /// A placeholder with no value.
    NoValue(String),
    Null(String),
    /// A placeholder after LIKE whose value is not a text.
    LikeNotText(String),
    /// A list that holds a list.
    NestedList(String),
    EmptyList(String),
    /// A value of a type SOQL has no literal for (a record, a time).
    Unsupported {
        name: String,
        found: &'static str,
    },
}

impl fmt::Display for SoqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SoqlError::Wildcard(name) => write!(
                f,
                "a `%` beside `:{name}` is a wildcard, which only a LIKE comparison takes"
            ),
            SoqlError::Unused(name) => {
                write!(f, "the query has no placeholder `:{name}` for its value")
            }
            SoqlError::NoValue(name) => write!(f, "placeholder `:{name}` has no value"),
            SoqlError::Null(name) => write!(f, "the value of `:{name}` is null"),
            SoqlError::LikeNotText(name) => {
                write!(f, "the value of `:{name}` after LIKE must be a text")
            }
            SoqlError::NestedList(name) => write!(f, "the value of `:{name}` nests lists"),
            SoqlError::EmptyList(name) => write!(
                f,
                "the value of `:{name}` is an empty list, which SOQL cannot compare with"
            ),
            SoqlError::Unsupported { name, found } => write!(
                f,
                "the value of `:{name}` is a {found}; a query takes texts, numbers, bools and \
                 lists of them"
            ),
        }
    }
}

impl std::error::Error for SoqlError {}

/// The placeholders of `soql`, in order, or what is wrong with one.
pub fn placeholders(soql: &str) -> Result<Vec<Placeholder>, SoqlError> {
    let bytes = soql.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => i = after_literal(bytes, i),
            b'%' | b':' => {
                let start = i;
                let wild_before = bytes[i] == b'%';
                let colon = if wild_before { i + 1 } else { i };
                let name_end = name_end(bytes, colon + 1);
                if bytes.get(colon) != Some(&b':') || name_end == colon + 1 {
                    i += 1;
                    continue;
                }
                let name = soql[colon + 1..name_end].to_string();
                let wild_after = bytes.get(name_end) == Some(&b'%');
                let end = name_end + usize::from(wild_after);
                let like = soql[..start]
                    .trim_end()
                    .rsplit(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .next()
                    .is_some_and(|word| word.eq_ignore_ascii_case("like"));
                if (wild_before || wild_after) && !like {
                    return Err(SoqlError::Wildcard(name));
                }
                found.push(Placeholder {
                    name,
                    range: start..end,
                    like,
                    wild_before,
                    wild_after,
                });
                i = end;
            }
            _ => i += 1,
        }
    }
    Ok(found)
}

/// Where the quoted literal starting at `start` ends (past its closing quote).
fn after_literal(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The end of the name starting at `start` (`start` itself when there is none).
fn name_end(bytes: &[u8], start: usize) -> usize {
    if !bytes
        .get(start)
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        return start;
    }
    let mut i = start;
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        i += 1;
    }
    i
}

/// `soql` with each placeholder replaced by the SOQL literal of its value. Every placeholder
/// needs a value and every value a placeholder; a null value is refused (it would compare
/// with `null`, matching the records that lack the field).
pub fn bind(soql: &str, values: &IndexMap<String, Value>) -> Result<String, SoqlError> {
    let found = placeholders(soql)?;
    if let Some(unused) = values.keys().find(|k| !found.iter().any(|p| &p.name == *k)) {
        return Err(SoqlError::Unused(unused.clone()));
    }
    let mut out = String::with_capacity(soql.len());
    let mut at = 0;
    for p in &found {
        out.push_str(&soql[at..p.range.start]);
        let value = values
            .get(&p.name)
            .ok_or_else(|| SoqlError::NoValue(p.name.clone()))?;
        out.push_str(&literal(p, value)?);
        at = p.range.end;
    }
    out.push_str(&soql[at..]);
    Ok(out)
}

/// The SOQL literal of a placeholder's value: quoted text, a number, `true`/`false`, or a
/// parenthesised list of them (for `IN`).
fn literal(p: &Placeholder, value: &Value) -> Result<String, SoqlError> {
    let name = || p.name.clone();
    match value {
        Value::Null => Err(SoqlError::Null(name())),
        Value::Text(text) if p.like => {
            let wild = |on: bool| if on { "%" } else { "" };
            let escaped = escape(text, true);
            Ok(format!(
                "'{}{escaped}{}'",
                wild(p.wild_before),
                wild(p.wild_after)
            ))
        }
        _ if p.like => Err(SoqlError::LikeNotText(name())),
        Value::Text(text) => Ok(format!("'{}'", escape(text, false))),
        Value::Number(_) | Value::Bool(_) => Ok(value.to_json().to_string()),
        Value::List(items) if !items.is_empty() => {
            let items = items
                .iter()
                .map(|item| match item {
                    Value::List(_) => Err(SoqlError::NestedList(name())),
                    item => literal(p, item),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(format!("({})", items.join(", ")))
        }
        Value::List(_) => Err(SoqlError::EmptyList(name())),
        other => Err(SoqlError::Unsupported {
            name: name(),
            found: other.type_name(),
        }),
    }
}

/// Escapes a text for a single-quoted SOQL literal; in a LIKE pattern also its wildcards.
pub fn escape(text: &str, like: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '%' | '_' if like => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, Value)]) -> IndexMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn bound_values_are_escaped_literals_never_spliced_text() {
        let q = "SELECT Id FROM Case WHERE Email = :email AND Status IN :open AND Score > :n";
        let bound = bind(
            q,
            &values(&[
                ("email", text(r"x' OR Name != '\")),
                ("open", Value::List(vec![text("New"), text("Working")])),
                ("n", Value::Number(2.5)),
            ]),
        )
        .unwrap();
        assert_eq!(
            bound,
            r"SELECT Id FROM Case WHERE Email = 'x\' OR Name != \'\\' AND Status IN ('New', 'Working') AND Score > 2.5"
        );
    }

    #[test]
    fn like_escapes_the_values_wildcards_and_adds_the_programs() {
        let q = "SELECT Id FROM Account WHERE Name LIKE :name% OR Site like %:site";
        let bound = bind(
            q,
            &values(&[("name", text("50%_off")), ("site", text("a"))]),
        )
        .unwrap();
        assert_eq!(
            bound,
            r"SELECT Id FROM Account WHERE Name LIKE '50\%\_off%' OR Site like '%a'"
        );
        assert_eq!(
            placeholders("WHERE Email = :email%"),
            Err(SoqlError::Wildcard("email".into()))
        );
    }

    #[test]
    fn placeholders_inside_literals_and_date_ranges_are_not_placeholders() {
        let q = r"SELECT Id FROM Case WHERE Subject = 'at :noon \' :x' AND CreatedDate = LAST_N_DAYS:7 AND Id = :id";
        let names: Vec<String> = placeholders(q)
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["id"]);
    }

    #[test]
    fn a_missing_unused_or_null_value_is_refused() {
        let q = "SELECT Id FROM Case WHERE Email = :email";
        let no_value = bind(q, &values(&[])).unwrap_err();
        assert_eq!(no_value, SoqlError::NoValue("email".into()));
        assert_eq!(no_value.to_string(), "placeholder `:email` has no value");
        assert_eq!(
            bind(q, &values(&[("email", text("a")), ("mail", text("b"))])),
            Err(SoqlError::Unused("mail".into()))
        );
        assert_eq!(
            bind(q, &values(&[("email", Value::Null)])),
            Err(SoqlError::Null("email".into()))
        );
        assert_eq!(
            bind(q, &values(&[("email", Value::List(vec![]))])),
            Err(SoqlError::EmptyList("email".into()))
        );
    }
}
