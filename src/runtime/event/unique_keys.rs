//! JSON in which no object names a key twice. serde_json keeps the last of two equal keys,
//! so `{"event":"a","event":"b"}` would say two things and mean whichever came last; an
//! event line that does that is refused instead, naming the key.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{error::Category, Map, Number, Value as Json};
use std::fmt;

/// Why a line is not taken as JSON, and at which column (one line is always JSON's line 1).
#[derive(Clone, Debug, PartialEq)]
pub enum JsonError {
    /// An object names a key twice; the key by its path (`payload.user.id`).
    DuplicateKey { path: String, column: usize },
    /// Not JSON: serde_json's sentence.
    Syntax { message: String, column: usize },
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::DuplicateKey { path, column } => {
                write!(f, "duplicate key `{path}` (column {column})")
            }
            JsonError::Syntax { message, column } => {
                write!(f, "not valid JSON: {message} (column {column})")
            }
        }
    }
}

impl std::error::Error for JsonError {}

/// Parses one line of JSON.
pub fn parse(line: &str) -> Result<Json, JsonError> {
    let mut deserializer = serde_json::Deserializer::from_str(line);
    let parsed = Unique(&Path::Root)
        .deserialize(&mut deserializer)
        .and_then(|json| deserializer.end().map(|()| json));
    parsed.map_err(|error| {
        let full = error.to_string();
        let suffix = format!(" at line {} column {}", error.line(), error.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
        let column = error.column();
        match error.classify() {
            // The visitor takes every value: its own refusal is the only data error.
            Category::Data => JsonError::DuplicateKey {
                path: message,
                column,
            },
            _ => JsonError::Syntax { message, column },
        }
    })
}

/// Where a value is in the line, shown as `payload.items[2].id`; built only on error.
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, key) => write!(f, "{key}"),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// Deserializes the value at its path (serde_json bounds the nesting at 128).
struct Unique<'a>(&'a Path<'a>);

impl<'de> DeserializeSeed<'de> for Unique<'_> {
    type Value = Json;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
        Ok(Json::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
        Ok(Json::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Json, E> {
        // JSON text cannot spell NaN or an infinity; serde_json refuses out-of-range numbers.
        Ok(Number::from_f64(n).map_or(Json::Null, Json::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Unique(&Path::Index(self.0, items.len())))? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = Path::Key(self.0, &key);
            if fields.contains_key(&key) {
                return Err(de::Error::custom(path));
            }
            let value = map.next_value_seed(Unique(&path))?;
            fields.insert(key, value);
        }
        Ok(Json::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, JsonError};

    #[test]
    fn parses_what_serde_json_parses() {
        let line = r#"{"a":[1,-2,3.5,true,null,"x",{"b":{}}],"c":"é"}"#;
        assert_eq!(
            parse(line).unwrap(),
            serde_json::from_str::<serde_json::Value>(line).unwrap()
        );
    }

    #[test]
    fn names_a_duplicate_key_by_its_path() {
        let cases = [
            (
                r#"{"event":"a","event":"b"}"#,
                "duplicate key `event` (column 20)",
            ),
            (
                r#"{"payload":{"user":{"id":"1","id":"2"}}}"#,
                "duplicate key `payload.user.id`",
            ),
            (r#"{"p":[{},{"k":1,"k":1}]}"#, "duplicate key `p[1].k`"),
        ];
        for (line, expected) in cases {
            let error = parse(line).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{line}: {error}");
        }
        assert_eq!(
            parse(r#"{"event":"a","event":"b"}"#),
            Err(JsonError::DuplicateKey {
                path: "event".into(),
                column: 20
            })
        );
    }

    #[test]
    fn syntax_errors_give_the_column_only() {
        assert_eq!(
            parse("{").unwrap_err().to_string(),
            "not valid JSON: EOF while parsing an object (column 1)"
        );
        assert_eq!(
            parse("{} x").unwrap_err().to_string(),
            "not valid JSON: trailing characters (column 4)"
        );
    }
}
