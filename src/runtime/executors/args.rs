//! Reading a target's fields and a task's arguments, with errors that name the field and
//! never show its value (it may be a secret).

use crate::ir::{self, Value};
use crate::runtime::effects::{TaskError, TaskRequest};
use indexmap::IndexMap;

/// Why a target's field cannot be read as what its executor needs. Names the field, never
/// its value (it may be a secret).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldError {
    /// `expected` is `text`, `a record`, `a number` or `a list`.
    WrongType {
        field: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    /// A list that holds something other than texts.
    NotTexts {
        field: &'static str,
        found: &'static str,
    },
    Required(&'static str),
}

impl std::error::Error for FieldError {}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldError::WrongType {
                field,
                expected,
                found,
            } => write!(f, "field `{field}` must be {expected}, not {found}"),
            FieldError::NotTexts { field, found } => {
                write!(
                    f,
                    "field `{field}` must be a list of texts, it holds a {found}"
                )
            }
            FieldError::Required(field) => write!(f, "field `{field}` is required and empty"),
        }
    }
}

/// A target's evaluated fields, with its declaration (its name for error messages, its
/// fields' expressions for the transport rules).
pub struct Fields<'t> {
    pub target: &'t ir::Target,
    values: IndexMap<String, Value>,
}

impl<'t> Fields<'t> {
    pub fn new(target: &'t ir::Target, values: IndexMap<String, Value>) -> Self {
        Fields { target, values }
    }

    /// A field that is present and not null.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name).filter(|v| !matches!(v, Value::Null))
    }

    pub fn text(&self, name: &'static str) -> Result<Option<String>, FieldError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Text(s)) => Ok(Some(s.clone())),
            Some(other) => Err(wrong_field_type(name, "text", other)),
        }
    }

    pub fn required_text(&self, name: &'static str) -> Result<String, FieldError> {
        self.text(name)?
            .filter(|s| !s.is_empty())
            .ok_or(FieldError::Required(name))
    }

    /// A list of texts (`allow_hosts`).
    pub fn texts(&self, name: &'static str) -> Result<Vec<String>, FieldError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::List(items)) => items
                .iter()
                .map(|item| match item {
                    Value::Text(s) => Ok(s.clone()),
                    other => Err(FieldError::NotTexts {
                        field: name,
                        found: other.type_name(),
                    }),
                })
                .collect(),
            Some(other) => Err(wrong_field_type(name, "a list", other)),
        }
    }

    pub fn record(
        &self,
        name: &'static str,
    ) -> Result<Option<&IndexMap<String, Value>>, FieldError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Record(map)) => Ok(Some(map)),
            Some(other) => Err(wrong_field_type(name, "a record", other)),
        }
    }

    pub fn number(&self, name: &'static str) -> Result<Option<f64>, FieldError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(*n)),
            Some(other) => Err(wrong_field_type(name, "a number", other)),
        }
    }
}

fn wrong_field_type(field: &'static str, expected: &'static str, found: &Value) -> FieldError {
    FieldError::WrongType {
        field,
        expected,
        found: found.type_name(),
    }
}

/// A task argument that is present and not null.
pub fn arg<'a>(request: &'a TaskRequest, name: &str) -> Option<&'a Value> {
    request.args.get(name).filter(|v| !matches!(v, Value::Null))
}

pub fn required<'a>(request: &'a TaskRequest, name: &str) -> Result<&'a Value, TaskError> {
    arg(request, name).ok_or_else(|| {
        TaskError::fatal(format!(
            "task `{}` needs the argument `{name}`",
            request.task
        ))
    })
}

pub fn text_arg(request: &TaskRequest, name: &str) -> Result<Option<String>, TaskError> {
    match arg(request, name) {
        None => Ok(None),
        Some(Value::Text(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong_type(request, name, "text", other)),
    }
}

pub fn required_text(request: &TaskRequest, name: &str) -> Result<String, TaskError> {
    required(request, name)?;
    Ok(text_arg(request, name)?.unwrap_or_default())
}

pub fn record_arg<'a>(
    request: &'a TaskRequest,
    name: &str,
) -> Result<Option<&'a IndexMap<String, Value>>, TaskError> {
    match arg(request, name) {
        None => Ok(None),
        Some(Value::Record(map)) => Ok(Some(map)),
        Some(other) => Err(wrong_type(request, name, "a record", other)),
    }
}

/// A list of texts, also accepting one text (`to: "a@x"` as well as `to: ["a@x", "b@x"]`).
pub fn texts_arg(request: &TaskRequest, name: &str) -> Result<Vec<String>, TaskError> {
    match arg(request, name) {
        None => Ok(Vec::new()),
        Some(Value::Text(s)) => Ok(vec![s.clone()]),
        Some(Value::List(items)) => items
            .iter()
            .map(|item| match item {
                Value::Text(s) => Ok(s.clone()),
                other => Err(wrong_type(request, name, "a list of texts", other)),
            })
            .collect(),
        Some(other) => Err(wrong_type(request, name, "a list of texts", other)),
    }
}

pub fn wrong_type(request: &TaskRequest, name: &str, expected: &str, got: &Value) -> TaskError {
    TaskError::fatal(format!(
        "task `{}`: argument `{name}` must be {expected}, not {}",
        request.task,
        got.type_name()
    ))
}

/// A scalar as it is written in a query string, a header, a form or a URL path:
/// whole numbers without a fraction, `true`/`false`; `None` for null, lists and records.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Text(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) | Value::Duration(_) => Some(value.to_json().to_string()),
        Value::Null | Value::List(_) | Value::Record(_) => None,
    }
}

/// An identifier placed in a URL path (`/tickets/{id}.json`), percent-encoded so it stays
/// one segment whatever it holds.
pub fn path_segment(request: &TaskRequest, name: &str) -> Result<String, TaskError> {
    let value = required(request, name)?;
    let text = scalar_text(value).ok_or_else(|| wrong_type(request, name, "an id", value))?;
    Ok(encode_component(&text))
}

/// A value interpolated into an http task's path, as text the way interpolation writes it,
/// encoded like [`path_segment`]: one segment, or one query value after a `?`.
pub fn encode_interpolated(value: &Value) -> String {
    match value {
        Value::Text(text) => encode_component(text),
        other => encode_component(&other.to_string()),
    }
}

/// RFC 3986's unreserved characters are kept; every other byte is percent-encoded, so `/`,
/// `?`, `#`, `&`, `=` and `%` can neither end the segment or value nor start another (a
/// segment that is just `.` or `..` is refused by [`super::client::join`]).
fn encode_component(text: &str) -> String {
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, RESERVED).to_string()
}
