//! An event stream as JSON Lines, written the way a platform (or an attacker feeding one)
//! might: mostly events the program listens to, with payloads that reach its params, user
//! and caller scopes, and among them lines of odd types, unknown events and use cases,
//! duplicate keys, extreme waits and plain garbage.

use crate::json;
use crate::programs::Subject;
use agentc::catalogue::{self, Channel, Ty};
use agentc::ir;
use libfuzzer_sys::arbitrary::{Result, Unstructured};

/// Conversation ids: a few, so that events meet the same conversation again.
const CONVERSATIONS: &[&str] = &["c-1", "c-2", "c-3"];

/// Waits as a platform may write them, from nothing to more than any clock holds.
const WAITS: &[&str] = &[
    "0",
    "1",
    "\"250ms\"",
    "\"5m\"",
    "\"1h30m\"",
    "\"1d\"",
    "\"99999999d\"",
    "\"18446744073709551615ms\"",
    "9007199254740991",
    "-1",
    "1.5",
    "\"soon\"",
    "null",
    "{}",
];

/// Keys of the `user` and `caller` scopes the examples read.
const PERSON_KEYS: &[&str] = &["id", "name", "email", "phone", "tier", "language"];

/// One line of the stream (without its newline).
pub fn line(u: &mut Unstructured, subject: &Subject) -> Result<String> {
    let mut out = String::new();
    match u.int_in_range(0..=15)? {
        0 if !subject.lines.is_empty() => out.push_str(u.choose(&subject.lines)?),
        1 => {
            let len = u.int_in_range(0..=64)?.min(u.len());
            out.push_str(&String::from_utf8_lossy(u.bytes(len)?));
        }
        2 => json::value(u, &subject.words, &mut out)?,
        _ => event(u, subject, &mut out)?,
    }
    Ok(out)
}

/// `{"conversation":…,"event":…,"payload":{…}}`, its fields sometimes repeated or missing.
fn event(u: &mut Unstructured, subject: &Subject, out: &mut String) -> Result<()> {
    let (name, payload) = kind(u, subject)?;
    out.push_str("{\"conversation\":");
    match u.int_in_range(0..=9)? {
        0 => json::text(u, &subject.words, out)?,
        1 => out.push_str(&u.int_in_range(0..=3)?.to_string()),
        _ => json::quoted(u.choose(CONVERSATIONS)?, out),
    }
    out.push_str(",\"event\":");
    json::quoted(&name, out);
    if u.ratio(1, 8)? {
        out.push_str(",\"channel\":");
        match u.choose(Channel::ALL).ok() {
            Some(channel) if u.arbitrary()? => json::quoted(channel.name(), out),
            _ => json::text(u, &subject.words, out)?,
        }
    }
    out.push_str(",\"payload\":");
    out.push_str(&payload);
    // Another field, perhaps one already given (a duplicate key).
    if u.ratio(1, 16)? {
        out.push(',');
        json::key(
            u,
            &["conversation".into(), "event".into(), "payload".into()],
            out,
        )?;
        out.push(':');
        json::value(u, &subject.words, out)?;
    }
    out.push('}');
    Ok(())
}

/// An event's name and its payload as JSON text.
fn kind(u: &mut Unstructured, subject: &Subject) -> Result<(String, String)> {
    let mut payload = String::from("{");
    let mut fields = Fields::default();
    let name = match u.int_in_range(0..=11)? {
        0 if !subject.usecases.is_empty() => {
            let (usecase, _) = u.choose(&subject.usecases)?;
            fields.text(&mut payload, "name", usecase);
            "usecase".to_string()
        }
        1 | 2 if !subject.usecases.is_empty() => {
            let (usecase, blocks) = u.choose(&subject.usecases)?;
            fields.text(&mut payload, "usecase", usecase);
            match u.choose(blocks).ok() {
                Some(block) if u.ratio(7, 8)? => fields.text(&mut payload, "block", block),
                _ => {
                    fields.key(&mut payload, "block");
                    json::text(u, &subject.words, &mut payload)?;
                }
            }
            "block".to_string()
        }
        3 => {
            fields.key(&mut payload, "for");
            payload.push_str(u.choose(WAITS)?);
            "wait".to_string()
        }
        // A name the catalogue does not have, or a use case it does not know.
        4 => {
            let mut name = String::new();
            json::text(u, &subject.words, &mut name)?;
            serde_json::from_str::<String>(&name).unwrap_or(name)
        }
        _ => {
            // Mostly one the program listens to: a value grows only when the same event
            // comes again and again.
            let listened = match u.choose(&subject.events).ok() {
                Some(name) if u.ratio(3, 4)? => catalogue::event(name),
                _ => None,
            };
            let spec = match listened {
                Some(spec) => spec,
                None => u.choose(catalogue::EVENTS)?,
            };
            for (key, ty) in spec.payload {
                if u.ratio(3, 4)? {
                    fields.key(&mut payload, key);
                    typed(u, *ty, subject, &mut payload)?;
                }
            }
            spec.name.to_string()
        }
    };
    if u.ratio(1, 2)? {
        fields.key(&mut payload, "params");
        params(u, subject, &mut payload)?;
    }
    for scope in ["user", "caller"] {
        if u.ratio(1, 4)? {
            fields.key(&mut payload, scope);
            person(u, subject, &mut payload)?;
        }
    }
    // Counted, not drawn one by one: an exhausted input answers `true` to every ratio.
    for _ in 0..u.int_in_range(0..=2)? {
        payload.push_str(if fields.any { "," } else { "" });
        fields.any = true;
        json::key(u, &subject.words, &mut payload)?;
        payload.push(':');
        json::value(u, &subject.words, &mut payload)?;
    }
    payload.push('}');
    // Now and then the payload is not a record at all.
    if u.ratio(1, 16)? {
        payload.clear();
        json::value(u, &subject.words, &mut payload)?;
    }
    Ok((name, payload))
}

/// Separators between the fields of a record being written.
#[derive(Default)]
struct Fields {
    any: bool,
}

impl Fields {
    fn key(&mut self, out: &mut String, key: &str) {
        if self.any {
            out.push(',');
        }
        self.any = true;
        json::quoted(key, out);
        out.push(':');
    }
    fn text(&mut self, out: &mut String, key: &str, text: &str) {
        self.key(out, key);
        json::quoted(text, out);
    }
}

/// A value the catalogue types `ty`, or (one time in four) anything.
fn typed(u: &mut Unstructured, ty: Ty, subject: &Subject, out: &mut String) -> Result<()> {
    if u.ratio(1, 4)? {
        return json::value(u, &subject.words, out);
    }
    match ty {
        Ty::Text => json::text(u, &subject.words, out)?,
        Ty::Number => out.push_str(&u.int_in_range(-5i32..=100)?.to_string()),
        Ty::Bool => out.push_str(if u.arbitrary()? { "true" } else { "false" }),
        Ty::Duration => out.push_str(u.choose(WAITS)?),
        _ => json::value(u, &subject.words, out)?,
    }
    Ok(())
}

/// `params`: values for the agent's params, of their type or not.
fn params(u: &mut Unstructured, subject: &Subject, out: &mut String) -> Result<()> {
    let mut fields = Fields::default();
    out.push('{');
    for (name, ty) in &subject.params {
        if u.ratio(1, 3)? {
            fields.key(out, name);
            let ty = match ty {
                ir::Type::Text => Ty::Text,
                ir::Type::Number => Ty::Number,
                ir::Type::Bool => Ty::Bool,
                ir::Type::Duration => Ty::Duration,
                _ => Ty::Any,
            };
            typed(u, ty, subject, out)?;
        }
    }
    out.push('}');
    Ok(())
}

/// A `user` or `caller` record.
fn person(u: &mut Unstructured, subject: &Subject, out: &mut String) -> Result<()> {
    let mut fields = Fields::default();
    out.push('{');
    for key in PERSON_KEYS {
        if u.ratio(1, 2)? {
            fields.key(out, key);
            typed(u, Ty::Text, subject, out)?;
        }
    }
    out.push('}');
    Ok(())
}
