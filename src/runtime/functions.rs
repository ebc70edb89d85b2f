//! The built-in functions of `catalogue::FUNCTIONS`, evaluated. Argument counts were checked
//! by the checker; types of `any` arguments are checked here.

use super::eval::{err, finite, EvalResult, Evaluator};
use super::format;
use crate::catalogue::locales;
use crate::ir::Value;
use indexmap::IndexMap;
use jiff::civil::Date;
use jiff::tz::TimeZone;
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
        "replace" => {
            let (hay, from, to) = (
                text(name, arg(0))?,
                text(name, arg(1))?,
                text(name, arg(2))?,
            );
            if from.is_empty() {
                return err("replace(..): the text to replace is empty");
            }
            // Measured before it is built: a short text replaced in a long one multiplies.
            let grows = to.len().saturating_sub(from.len());
            let size = hay.len() + hay.matches(from).count().saturating_mul(grows);
            ev.check_text_size(size)?;
            Value::Text(hay.replace(from, to))
        }
        "split" => {
            let (whole, separator) = (text(name, arg(0))?, text(name, arg(1))?);
            let parts: Vec<&str> = if separator.is_empty() {
                whole
                    .char_indices()
                    .map(|(i, c)| &whole[i..i + c.len_utf8()])
                    .collect()
            } else {
                whole.split(separator).collect()
            };
            ev.check_list(parts.len())?;
            Value::List(parts.into_iter().map(|p| Value::Text(p.into())).collect())
        }
        "slice" => slice(arg(0), arg(1), arg(2))?,
        "join" => {
            let separator = text(name, arg(1))?;
            let mut out = String::new();
            for (i, item) in list(name, arg(0))?.iter().enumerate() {
                if i > 0 {
                    out.push_str(separator);
                }
                match item {
                    Value::Text(s) => out.push_str(s),
                    other => out.push_str(&other.to_string()),
                }
                ev.check_text(&out)?;
            }
            Value::Text(out)
        }
        "first" => list(name, arg(0))?.first().cloned().unwrap_or(Value::Null),
        "last" => list(name, arg(0))?.last().cloned().unwrap_or(Value::Null),
        "sum" => {
            let mut total = 0.0;
            for (i, item) in list(name, arg(0))?.iter().enumerate() {
                match item {
                    Value::Number(n) => total = finite("sum", total + n)?,
                    other => {
                        return err(format!(
                            "sum(..) needs a list of numbers, but item {i} is {}",
                            other.type_name()
                        ))
                    }
                }
            }
            Value::Number(total)
        }
        "pow" => {
            let power = number(name, arg(0))?.powf(number(name, arg(1))?);
            if power.is_nan() {
                return err(
                    "pow(..): the result is not a number (a negative number to a fractional power)",
                );
            }
            Value::Number(finite("pow", power)?)
        }
        "format_number" => {
            let locale = match arg(2) {
                Value::Null => None,
                other => Some(text(name, other)?),
            };
            Value::Text(format::number(
                number(name, arg(0))?,
                number(name, arg(1))?,
                locale,
            )?)
        }
        "format_money" => Value::Text(format::money(
            number(name, arg(0))?,
            text(name, arg(1))?,
            text(name, arg(2))?,
        )?),
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
        "format_date" => {
            let zone = match arg(2) {
                Value::Null => jiff::tz::TimeZone::UTC,
                other => time_zone(text(name, other)?)?,
            };
            Value::Text(format_date(text(name, arg(0))?, text(name, arg(1))?, zone)?)
        }
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

/// A list; `null` reads as the empty list (an unset parameter).
fn list<'v>(function: &str, value: &'v Value) -> EvalResult<&'v [Value]> {
    match value {
        Value::List(items) => Ok(items),
        Value::Null => Ok(&[]),
        other => type_error(function, "a list", other),
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

/// A timestamp in `zone`; a date as its midnight in `zone`.
fn format_date(value: &str, pattern: &str, zone: TimeZone) -> EvalResult<String> {
    let zoned = if let Ok(ts) = value.parse::<Timestamp>() {
        Ok(ts.to_zoned(zone))
    } else if let Ok(date) = value.parse::<Date>() {
        date.to_zoned(zone)
    } else {
        return err(format!(
            "format_date(..): {:?} is not a date (YYYY-MM-DD) or a timestamp (RFC 3339)",
            shorten(value)
        ));
    };
    zoned
        .and_then(|zoned| jiff::fmt::strtime::format(pattern, &zoned))
        .map_err(|e| super::eval::EvalError(format!("format_date(..): {e}")))
}

fn time_zone(name: &str) -> EvalResult<TimeZone> {
    locales::time_zone(name).map_or_else(
        || {
            err(format!(
                "format_date(..): {:?} is not an IANA time zone (e.g. \"Europe/Paris\", \"UTC\")",
                shorten(name)
            ))
        },
        Ok,
    )
}

/// `date ± duration`: a date moved by whole days stays a date (`2026-12-02`); anything
/// else is a timestamp in UTC (`2026-12-01T02:00:00Z`), a date counting as its midnight UTC.
pub(crate) fn moved_date(value: &str, ms: u64, forward: bool) -> EvalResult<String> {
    const DAY_MS: u64 = 86_400_000;
    let overflow =
        |e: jiff::Error| super::eval::EvalError(format!("the date is out of range: {e}"));
    let millis = i64::try_from(ms)
        .map_err(|_| super::eval::EvalError("the duration is out of range".into()))?;
    let signed = if forward { millis } else { -millis };
    let span = jiff::SignedDuration::from_millis(signed);
    if let Ok(ts) = value.parse::<Timestamp>() {
        return Ok(ts.checked_add(span).map_err(overflow)?.to_string());
    }
    // Only a bare date: a date and time without an offset is no instant to move.
    let Some(date) = value
        .parse::<Date>()
        .ok()
        .filter(|_| value.len() == "YYYY-MM-DD".len())
    else {
        return err(format!(
            "{:?} is not a date (YYYY-MM-DD) or a timestamp (RFC 3339) to move by a duration",
            shorten(value)
        ));
    };
    if ms.is_multiple_of(DAY_MS) {
        let days = jiff::Span::new()
            .try_days(signed / DAY_MS as i64)
            .map_err(overflow)?;
        return Ok(date.checked_add(days).map_err(overflow)?.to_string());
    }
    let midnight = date.to_zoned(TimeZone::UTC).map_err(overflow)?.timestamp();
    Ok(midnight.checked_add(span).map_err(overflow)?.to_string())
}

/// `slice(seq, start, end?)`: indexes count characters of a text, items of a list; a
/// negative one counts from the end; both are clamped to the sequence.
fn slice(seq: &Value, start: &Value, end: &Value) -> EvalResult<Value> {
    let len = match seq {
        Value::Text(s) => s.chars().count(),
        Value::List(items) => items.len(),
        Value::Null => return Ok(Value::Null),
        other => return type_error("slice", "a text or list", other),
    };
    let index = |value: &Value, default: usize| -> EvalResult<usize> {
        let n = match value {
            Value::Null => return Ok(default),
            other => number("slice", other)?,
        };
        if n.fract() != 0.0 {
            return err(format!("slice(..) needs whole-number indexes, found {n}"));
        }
        let from_end = n < 0.0;
        let n = n.abs().min(len as f64) as usize;
        Ok(if from_end { len - n } else { n })
    };
    let (from, to) = (index(start, 0)?, index(end, len)?);
    let to = to.max(from);
    Ok(match seq {
        Value::Text(s) => Value::Text(s.chars().skip(from).take(to - from).collect()),
        Value::List(items) => Value::List(items[from..to].to_vec()),
        _ => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use crate::catalogue::FUNCTIONS;
    use crate::ir::{Expr, Value};
    use crate::runtime::{eval_constant, MapEnv, Redactor};

    #[test]
    fn every_catalogue_function_is_implemented() {
        let (env, redactor) = (MapEnv::default(), Redactor::default());
        for f in FUNCTIONS {
            let call = Expr::Call(f.name.to_string(), Vec::new());
            if let Err(e) = eval_constant(&call, &env, &redactor) {
                assert!(!e.0.contains("not a built-in function"), "{}: {e}", f.name);
            }
        }
    }

    /// The other way round: every arm of `call` is a catalogue function, so none is
    /// reachable only from a hand-written IR file, or left behind by a removed entry.
    #[test]
    fn every_implemented_function_is_in_the_catalogue() {
        let source = include_str!("functions.rs");
        let body = &source[source.find("pub(crate) fn call(").unwrap()..];
        let body = &body[..body.find("\n}\n").unwrap()];
        let arms: Vec<&str> = body
            .lines()
            .filter_map(|line| line.strip_prefix("        \""))
            .filter_map(|rest| rest.split_once("\" =>").map(|(name, _)| name))
            .collect();
        let mut catalogued: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).collect();
        let mut implemented = arms.clone();
        catalogued.sort_unstable();
        implemented.sort_unstable();
        assert_eq!(implemented, catalogued);
    }

    /// Evaluates a call of literals.
    fn call(name: &str, args: &[Value]) -> Result<Value, String> {
        let args = args.iter().cloned().map(Expr::Lit).collect();
        let call = Expr::Call(name.to_string(), args);
        eval_constant(&call, &MapEnv::default(), &Redactor::default()).map_err(|e| e.0)
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn list(items: &[f64]) -> Value {
        Value::List(items.iter().map(|n| Value::Number(*n)).collect())
    }

    #[test]
    fn slices_count_characters_and_items_and_clamp() {
        let n = Value::Number;
        assert_eq!(
            call("slice", &[text("héllo"), n(1.0), n(-1.0)]),
            Ok(text("éll"))
        );
        assert_eq!(
            call("slice", &[list(&[1.0, 2.0, 3.0]), n(-2.0)]),
            Ok(list(&[2.0, 3.0]))
        );
        assert_eq!(call("slice", &[text("abc"), n(5.0)]), Ok(text("")));
        assert_eq!(call("slice", &[text("abc"), n(2.0), n(1.0)]), Ok(text("")));
        assert_eq!(
            call("slice", &[text("abc"), n(-9.0), n(2.0)]),
            Ok(text("ab"))
        );
        assert!(call("slice", &[text("abc"), n(1.5)])
            .unwrap_err()
            .contains("whole-number indexes"));
    }

    #[test]
    fn split_replace_join_and_sum() {
        let texts = |items: &[&str]| Value::List(items.iter().map(|s| text(s)).collect());
        assert_eq!(
            call("split", &[text("abc"), text("")]),
            Ok(texts(&["a", "b", "c"]))
        );
        assert_eq!(
            call("split", &[text("a,,b"), text(",")]),
            Ok(texts(&["a", "", "b"]))
        );
        assert_eq!(
            call("replace", &[text("aXbX"), text("X"), text("")]),
            Ok(text("ab"))
        );
        assert!(call("replace", &[text("a"), text(""), text("b")]).is_err());
        assert_eq!(call("join", &[Value::Null, text(", ")]), Ok(text("")));
        assert_eq!(
            call("sum", &[list(&[0.1, 0.2])]),
            Ok(Value::Number(0.1 + 0.2))
        );
        assert!(call("sum", &[texts(&["1"])])
            .unwrap_err()
            .contains("item 0 is text"));
        assert_eq!(call("first", &[Value::List(vec![])]), Ok(Value::Null));
    }

    #[test]
    fn texts_that_would_grow_past_the_limit_are_refused_before_they_are_built() {
        let long = text(&"a".repeat(1 << 16));
        let wide = text(&"b".repeat(1 << 10));
        let refused = call("replace", &[long.clone(), text("a"), wide.clone()]);
        assert!(refused.unwrap_err().contains("longer than"));
        let many = Value::List(vec![text("x"); 2_000]);
        assert!(call("join", &[many, wide])
            .unwrap_err()
            .contains("longer than"));
    }

    #[test]
    fn powers_stay_finite_numbers() {
        let n = Value::Number;
        assert_eq!(call("pow", &[n(2.0), n(10.0)]), Ok(n(1024.0)));
        assert!(call("pow", &[n(10.0), n(400.0)])
            .unwrap_err()
            .contains("overflows"));
        assert!(call("pow", &[n(-8.0), n(0.5)])
            .unwrap_err()
            .contains("not a number"));
    }

    #[test]
    fn dates_move_by_durations_and_format_in_a_time_zone() {
        let moved = |date: &str, ms: u64, forward: bool| super::moved_date(date, ms, forward);
        const DAY: u64 = 86_400_000;
        assert_eq!(moved("2026-12-01", DAY, true).unwrap(), "2026-12-02");
        assert_eq!(moved("2026-12-01", 7 * DAY, false).unwrap(), "2026-11-24");
        assert_eq!(
            moved("2026-12-01", 7_200_000, true).unwrap(),
            "2026-12-01T02:00:00Z"
        );
        let late = "2026-12-01T23:30:00+01:00";
        assert_eq!(
            moved(late, 3_600_000, true).unwrap(),
            "2026-12-01T23:30:00Z"
        );
        assert!(moved("soon", DAY, true)
            .unwrap_err()
            .0
            .contains("not a date"));
        assert!(moved("9999-12-31", DAY, true)
            .unwrap_err()
            .0
            .contains("out of range"));
        let summer = [
            text("2026-07-01T12:00:00Z"),
            text("%H:%M %Z"),
            text("America/New_York"),
        ];
        assert_eq!(call("format_date", &summer), Ok(text("08:00 EDT")));
        let utc = [text("2026-07-01"), text("%A %d %B")];
        assert_eq!(call("format_date", &utc), Ok(text("Wednesday 01 July")));
        let unknown = [text("2026-07-01"), text("%d"), text("Mars/Base")];
        assert!(call("format_date", &unknown)
            .unwrap_err()
            .contains("not an IANA time zone"));
    }
}
