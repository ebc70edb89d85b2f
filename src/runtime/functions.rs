//! The built-in functions of `catalogue::FUNCTIONS`, evaluated. Argument counts were checked
//! by the checker; types of `any` arguments are checked here.

use super::eval::{err, EvalResult, Evaluator};
use crate::ir::Value;
use indexmap::IndexMap;
use jiff::civil::Date;
use jiff::{Timestamp, Unit};
use regex::Regex;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

type Args<'a, 's> = &'a [Cow<'s, Value>];

pub(crate) fn call(ev: &mut Evaluator<'_>, name: &str, args: Args<'_, '_>) -> EvalResult<Value> {
    let arg = |i: usize| args.get(i).map_or(&Value::Null, |v| &**v);
    Ok(match name {
        "len" => match arg(0) {
            Value::Text(s) => Value::Number(s.chars().count() as f64),
            Value::List(items) => Value::Number(items.len() as f64),
            Value::Record(map) => Value::Number(map.len() as f64),
            Value::Null => Value::Number(0.0),
            other => return type_error(name, "a text, list or record", other),
        },
        "lower" => Value::Text(text(name, arg(0))?.to_lowercase()),
        "upper" => Value::Text(text(name, arg(0))?.to_uppercase()),
        "trim" => Value::Text(text(name, arg(0))?.trim().to_string()),
        "contains" => Value::Bool(match (arg(0), arg(1)) {
            (Value::Text(hay), Value::Text(needle)) => hay.contains(needle.as_str()),
            (Value::List(items), item) => items.contains(item),
            (Value::Record(map), Value::Text(key)) => map.contains_key(key.as_str()),
            (Value::Null, _) => false,
            (other, _) => return type_error(name, "a text, list or record", other),
        }),
        "starts_with" => Value::Bool(text(name, arg(0))?.starts_with(text(name, arg(1))?)),
        "ends_with" => Value::Bool(text(name, arg(0))?.ends_with(text(name, arg(1))?)),
        "matches" => Value::Bool(regex(text(name, arg(1))?)?.is_match(text(name, arg(0))?)),
        "round" => {
            let x = number(name, arg(0))?;
            let places = match arg(1) {
                Value::Null => 0.0,
                other => number(name, other)?.clamp(0.0, 15.0).trunc(),
            };
            let scale = 10f64.powf(places);
            let scaled = x * scale;
            // A number too large to scale has no fraction left to round.
            Value::Number(if scaled.is_finite() {
                scaled.round() / scale
            } else {
                x
            })
        }
        "floor" => Value::Number(number(name, arg(0))?.floor()),
        "ceil" => Value::Number(number(name, arg(0))?.ceil()),
        "abs" => Value::Number(number(name, arg(0))?.abs()),
        "min" => Value::Number(number(name, arg(0))?.min(number(name, arg(1))?)),
        "max" => Value::Number(number(name, arg(0))?.max(number(name, arg(1))?)),
        "number" => Value::Number(match arg(0) {
            Value::Number(n) => *n,
            Value::Duration(ms) => *ms as f64,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Text(s) => match s.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => n,
                _ => return err(format!("number(..): {:?} is not a number", shorten(s))),
            },
            other => return type_error(name, "a text or number", other),
        }),
        "text" => match arg(0) {
            Value::Text(s) => Value::Text(s.clone()),
            other => Value::Text(other.to_string()),
        },
        "now" => Value::Text((ev.ctx.now)().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        "today" => Value::Text(
            (ev.ctx.now)()
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date()
                .to_string(),
        ),
        "days_between" => {
            let from = date(name, arg(0))?;
            let to = date(name, arg(1))?;
            let days = from
                .until((Unit::Day, to))
                .map_err(|e| super::eval::EvalError(format!("days_between(..): {e}")))?
                .get_days();
            Value::Number(f64::from(days))
        }
        "format_date" => Value::Text(format_date(text(name, arg(0))?, text(name, arg(1))?)?),
        "secret" => {
            let key = text(name, arg(0))?;
            match ev.ctx.env.var(key) {
                Some(value) => {
                    ev.ctx.redactor.register(&value);
                    Value::Text(value)
                }
                None => return err(format!("the secret `{key}` is not set in the environment")),
            }
        }
        "env" => {
            let key = text(name, arg(0))?;
            match ev.ctx.env.var(key) {
                Some(value) => Value::Text(value),
                None => return err(format!("the environment variable `{key}` is not set")),
            }
        }
        "bearer" => auth([
            ("scheme", Value::Text("bearer".into())),
            ("token", arg(0).clone()),
        ]),
        "basic" => auth([
            ("scheme", Value::Text("basic".into())),
            ("username", arg(0).clone()),
            ("password", arg(1).clone()),
        ]),
        "api_key" => auth([
            ("scheme", Value::Text("api_key".into())),
            ("header", arg(0).clone()),
            ("value", arg(1).clone()),
        ]),
        other => return err(format!("`{other}` is not a built-in function")),
    })
}

/// Auth helpers evaluate to a record the executors read: `{ scheme: "bearer", token }`,
/// `{ scheme: "basic", username, password }` or `{ scheme: "api_key", header, value }`.
fn auth<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Record(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<IndexMap<_, _>>(),
    )
}

fn type_error<T>(function: &str, wanted: &str, found: &Value) -> EvalResult<T> {
    err(format!(
        "{function}(..) needs {wanted}, found {}",
        found.type_name()
    ))
}

fn text<'v>(function: &str, value: &'v Value) -> EvalResult<&'v str> {
    match value {
        Value::Text(s) => Ok(s),
        other => type_error(function, "a text", other),
    }
}

fn number(function: &str, value: &Value) -> EvalResult<f64> {
    match value {
        Value::Number(n) => Ok(*n),
        other => type_error(function, "a number", other),
    }
}

fn shorten(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Compiled patterns are cached: the same few patterns run for every event.
fn regex(pattern: &str) -> EvalResult<Regex> {
    const CACHE_SIZE: usize = 256;
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(found);
    }
    let compiled = crate::catalogue::compile_pattern(pattern).map_err(|e| {
        super::eval::EvalError(format!("matches(..): invalid regular expression: {e}"))
    })?;
    if let Ok(mut cache) = cache.lock() {
        if cache.len() >= CACHE_SIZE {
            cache.clear();
        }
        cache.insert(pattern.to_string(), compiled.clone());
    }
    Ok(compiled)
}

/// A date from `YYYY-MM-DD`, or the UTC date of an RFC 3339 timestamp.
fn date(function: &str, value: &Value) -> EvalResult<Date> {
    let s = text(function, value)?;
    if let Ok(date) = s.parse::<Date>() {
        return Ok(date);
    }
    match s.parse::<Timestamp>() {
        Ok(ts) => Ok(ts.to_zoned(jiff::tz::TimeZone::UTC).date()),
        Err(_) => err(format!(
            "{function}(..): {:?} is not a date (YYYY-MM-DD) or a timestamp (RFC 3339)",
            shorten(s)
        )),
    }
}

fn format_date(value: &str, pattern: &str) -> EvalResult<String> {
    let formatted = if let Ok(ts) = value.parse::<Timestamp>() {
        jiff::fmt::strtime::format(pattern, &ts.to_zoned(jiff::tz::TimeZone::UTC))
    } else if let Ok(date) = value.parse::<Date>() {
        jiff::fmt::strtime::format(pattern, date)
    } else {
        return err(format!(
            "format_date(..): {:?} is not a date (YYYY-MM-DD) or a timestamp (RFC 3339)",
            shorten(value)
        ));
    };
    formatted.map_err(|e| super::eval::EvalError(format!("format_date(..): {e}")))
}
