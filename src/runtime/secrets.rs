//! Where `secret(..)` and `env(..)` read from, and the redactor that keeps every secret
//! value out of traces, errors and printed lines.

use crate::ir::{self, Value};
use regex::{NoExpand, Regex, RegexBuilder};
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

/// The secret values read so far, and one pattern that finds them in every form they are
/// redacted in. Cloning shares the set.
#[derive(Clone, Default)]
pub struct Redactor(Arc<RwLock<Known>>);

#[derive(Default)]
struct Known {
    secrets: Vec<String>,
    /// `None` while no secret is known.
    pattern: Option<Regex>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.0.read().map_or(0, |known| known.secrets.len());
        write!(f, "Redactor({count} secrets)")
    }
}

impl Redactor {
    /// Remembers a secret's value. Empty values are ignored (they would match everywhere).
    pub fn register(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        if let Ok(mut known) = self.0.write() {
            if !known.secrets.iter().any(|s| s == secret) {
                known.secrets.push(secret.to_string());
                // Longest first, so a secret containing another is replaced whole.
                known.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
                known.pattern = pattern(&known.secrets);
            }
        }
    }

    /// Registers the value of every `secret("NAME")` the program reads, before it runs:
    /// a variable read both as `secret("K")` and `env("K")` is then redacted from the
    /// first event on, whichever read comes first.
    pub fn register_program(&self, program: &ir::Program, env: &dyn Environment) {
        for root in program.expressions() {
            root.walk(&mut |expr| {
                let ir::Expr::Call(name, args) = expr else {
                    return;
                };
                if let ([ir::Expr::Lit(Value::Text(key))], "secret") =
                    (args.as_slice(), name.as_str())
                {
                    if let Some(value) = env.var(key) {
                        self.register(&value);
                    }
                }
            });
        }
    }

    /// `text` with every known secret, in any of the forms [`pattern`] knows, replaced by
    /// [`REDACTED`].
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Ok(known) = self.0.read() else {
            return Cow::Owned(REDACTED.to_string());
        };
        match &known.pattern {
            None => Cow::Borrowed(text),
            Some(pattern) => pattern.replace_all(text, NoExpand(REDACTED)),
        }
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

    /// Whether a number, written out, holds a secret (a numeric secret echoed as a number).
    pub fn number_is_secret(&self, number: &str) -> bool {
        matches!(self.redact(number), Cow::Owned(_))
    }

    /// Redacts every text (and record key) inside a value, in place; a number that holds
    /// a secret becomes the text [`REDACTED`].
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
            Value::Number(_) if self.number_is_secret(&value.to_string()) => {
                *value = Value::Text(REDACTED.to_string());
            }
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::Duration(_) => {}
        }
    }
}

/// One pattern for every secret (longest first), each in all its forms: as written,
/// percent-encoded, JSON-escaped (see [`spelled`]), and from [`MIN_DERIVED`] bytes on in
/// any case and base64-encoded (see [`base64_forms`]). Falls back to the plain values
/// should the pattern be too large.
fn pattern(secrets: &[String]) -> Option<Regex> {
    if secrets.is_empty() {
        return None;
    }
    let forms: Vec<String> = secrets.iter().map(|s| forms(s)).collect();
    RegexBuilder::new(&forms.join("|"))
        .size_limit(64 << 20)
        .build()
        .or_else(|_| {
            let plain: Vec<String> = secrets.iter().map(|s| regex::escape(s)).collect();
            Regex::new(&plain.join("|"))
        })
        .ok()
}

/// The shortest secret also matched in another case and inside a longer base64 encoding:
/// a shorter one would match unrelated text (a secret `t` in every `GET`).
const MIN_DERIVED: usize = 5;

fn forms(secret: &str) -> String {
    if secret.len() < MIN_DERIVED {
        return spelled(secret);
    }
    let mut forms = vec![format!("(?i:{})", spelled(secret))];
    forms.extend(base64_forms(secret));
    forms.join("|")
}

/// The secret as text, each character as itself or as the escapes that spell it in a URL
/// (`%2F`, `+` for a space) or in JSON (`\/`, `\u002f`).
fn spelled(secret: &str) -> String {
    secret
        .chars()
        .map(|c| {
            let mut buf = [0u8; 4];
            let literal = regex::escape(c.encode_utf8(&mut buf));
            if c.is_ascii_alphanumeric() {
                return literal;
            }
            let mut ways = vec![literal];
            let percent: String = c
                .encode_utf8(&mut buf)
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect();
            // Hex digits in either case.
            ways.push(format!("(?i:{percent})"));
            let mut units = [0u16; 2];
            let json: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!(r"\\u{u:04X}"))
                .collect();
            ways.push(format!("(?i:{json})"));
            let short = match c {
                '"' | '\\' | '/' => Some(format!(r"\\{}", regex::escape(&c.to_string()))),
                '\n' => Some(r"\\n".to_string()),
                '\t' => Some(r"\\t".to_string()),
                '\r' => Some(r"\\r".to_string()),
                '\u{8}' => Some(r"\\b".to_string()),
                '\u{c}' => Some(r"\\f".to_string()),
                ' ' => Some(r"\+".to_string()),
                _ => None,
            };
            ways.extend(short);
            format!("(?:{})", ways.join("|"))
        })
        .collect()
}

/// Shortest run of base64 characters matched inside a longer encoding (shorter ones would
/// match unrelated text; a secret of [`MIN_DERIVED`] bytes gives runs of 6).
const MIN_BASE64_RUN: usize = 6;

/// The secret in base64 (standard and URL-safe): encoded alone, and inside any longer
/// encoding (`user:secret` in a basic-auth header, a JSON document). Where the secret
/// starts in the encoded bytes (0, 1 or 2 bytes past a 3-byte group) fixes the characters
/// that encode it whatever surrounds it; each of the three runs is matched together with
/// the rest of the base64 word around it, so the whole encoding is redacted.
fn base64_forms(secret: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    const WORD: &str = "[A-Za-z0-9+/_-]*";
    let bytes = secret.as_bytes();
    let mut forms = Vec::new();
    for (padded, bare) in [(STANDARD, STANDARD_NO_PAD), (URL_SAFE, URL_SAFE_NO_PAD)] {
        forms.push(regex::escape(&padded.encode(bytes)));
        for shift in 0..3 {
            let mut shifted = vec![0u8; shift];
            shifted.extend_from_slice(bytes);
            let encoded = bare.encode(&shifted);
            let first = (8 * shift).div_ceil(6);
            let last = 8 * shifted.len() / 6;
            if last >= first + MIN_BASE64_RUN {
                let run = regex::escape(&encoded[first..last]);
                forms.push(format!("{WORD}{run}{WORD}={{0,2}}"));
            }
        }
    }
    forms
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

    #[test]
    fn derived_forms_are_redacted_whole() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        use base64::Engine;
        let secret = "s3cr/t+K y\"9";
        let r = Redactor::default();
        r.register(secret);
        let json = serde_json::to_string(secret).unwrap();
        for shown in [
            secret.to_uppercase(),
            secret.to_lowercase(),
            "s3cr%2ft%2BK+y%229".to_string(),
            json[1..json.len() - 1].replace('/', "\\/"),
            "s3cr\\u002Ft+K y\\\"9".to_string(),
            STANDARD.encode(secret),
            STANDARD.encode(format!("bot:{secret}")),
            URL_SAFE_NO_PAD.encode(format!("{{\"token\":\"{secret}\"}}")),
        ] {
            assert_eq!(r.redact(&format!("<{shown}>")), "<[redacted]>", "{shown}");
        }
    }

    #[test]
    fn numbers_holding_a_secret_are_redacted() {
        let r = Redactor::default();
        r.register("48151623");
        let mut v = Value::from_json(&serde_json::json!({"pin": 48151623, "n": 7}));
        r.redact_value(&mut v);
        assert_eq!(
            v.to_json(),
            serde_json::json!({"pin": "[redacted]", "n": 7})
        );
    }
}
