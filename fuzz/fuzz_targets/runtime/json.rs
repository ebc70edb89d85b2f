//! JSON text as platforms and services send it on a bad day: mostly valid, with the odd
//! shapes a parser must survive — deep nesting, long texts and lists, numbers out of range,
//! lone surrogates, control characters, duplicate keys. Event payloads and service answers
//! are both written by [`value`], so both meet the same hostility.

use libfuzzer_sys::arbitrary::{Result, Unstructured};

/// How far [`value`] recurses on its own; [`Shape::Deep`] nests further without recursing.
const MAX_NESTING: usize = 5;
/// Nesting of a deep value: past serde_json's limit (128) and past any value bound.
const MAX_DEEP: usize = 300;
/// Bytes of a long text (repeated, so the fuzz input stays small).
const MAX_LONG_TEXT: usize = 64 * 1024;
/// Items of a long list.
const MAX_LONG_LIST: usize = 5_000;
/// Entries of an ordinary list or record.
const MAX_ENTRIES: usize = 6;
/// Bytes of the text being written (an event line, an answer), past which only `null` is
/// added: long texts inside long lists must not exhaust the fuzzer's own memory.
const MAX_BYTES: usize = 256 * 1024;

/// Numbers as JSON spells them, including the ones f64 cannot hold.
const ODD_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "1e308",
    "-1e308",
    "1e400",
    "2.5e-320",
    "9007199254740993",
    "123456789012345678901234567890",
    "1E2",
    "1.0",
    "86400000",
    "18446744073709551615",
];

/// Texts that break naive printing and matching.
const ODD_TEXTS: &[&str] = &[
    "",
    " ",
    "\u{1b}[2J\u{1b}[H",
    "line one\nc-1001 \u{25a0} end ended  labels [vip]",
    "\u{202e}gnp.exe",
    "\0",
    "[redacted]",
    "{user.name}",
    "{{",
    "${HOME}",
    "../../../../etc/passwd",
    "A-1/../../7/orders/B-2",
    "http://169.254.169.254/latest/meta-data/",
    "'; DROP TABLE customers; --",
    "\u{feff}",
    "e\u{301}",
];

/// Writes one JSON value to `out`. `words` are names and texts the program knows, so that
/// keys and texts often mean something to it.
pub fn value(u: &mut Unstructured, words: &[String], out: &mut String) -> Result<()> {
    nested(u, words, MAX_NESTING, out)
}

/// What the next value looks like.
enum Shape {
    Null,
    Bool,
    Number,
    Text,
    LongText,
    List,
    Record,
    Deep,
    LongList,
}

fn nested(u: &mut Unstructured, words: &[String], room: usize, out: &mut String) -> Result<()> {
    let shapes = [
        Shape::Null,
        Shape::Bool,
        Shape::Number,
        Shape::Text,
        Shape::Text,
        Shape::LongText,
        Shape::List,
        Shape::Record,
        Shape::Record,
        Shape::Deep,
        Shape::LongList,
    ];
    let left = MAX_BYTES.saturating_sub(out.len());
    if left == 0 {
        out.push_str("null");
        return Ok(());
    }
    let shape = u.choose(&shapes)?;
    match shape {
        Shape::List | Shape::Record if room == 0 => text(u, words, out),
        Shape::Null => {
            out.push_str("null");
            Ok(())
        }
        Shape::Bool => {
            out.push_str(if u.arbitrary()? { "true" } else { "false" });
            Ok(())
        }
        Shape::Number => number(u, out),
        Shape::Text => text(u, words, out),
        Shape::LongText => {
            let unit = u.choose(&["a", "\u{e9}", "\\n", "\\u0000", "\\\"", "\u{1f600}"])?;
            let bytes = u.int_in_range(1..=MAX_LONG_TEXT)?.min(left);
            out.push('"');
            out.push_str(&unit.repeat(bytes / unit.len()));
            out.push('"');
            Ok(())
        }
        Shape::List => {
            let n = u.int_in_range(0..=MAX_ENTRIES)?;
            out.push('[');
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                nested(u, words, room - 1, out)?;
            }
            out.push(']');
            Ok(())
        }
        Shape::Record => {
            let n = u.int_in_range(0..=MAX_ENTRIES)?;
            out.push('{');
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                key(u, words, out)?;
                out.push(':');
                nested(u, words, room - 1, out)?;
            }
            out.push('}');
            Ok(())
        }
        Shape::Deep => {
            let levels = u.int_in_range(1..=MAX_DEEP)?.min(left / 8);
            let record = u.arbitrary::<bool>()?;
            for _ in 0..levels {
                out.push_str(if record { "{\"a\":" } else { "[" });
            }
            number(u, out)?;
            for _ in 0..levels {
                out.push(if record { '}' } else { ']' });
            }
            Ok(())
        }
        Shape::LongList => {
            let mut item = String::new();
            match u.int_in_range(0..=1)? {
                0 => number(u, &mut item)?,
                _ => text(u, words, &mut item)?,
            }
            let n = u
                .int_in_range(1..=MAX_LONG_LIST)?
                .min(left / (item.len() + 1));
            out.push('[');
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&item);
            }
            out.push(']');
            Ok(())
        }
    }
}

fn number(u: &mut Unstructured, out: &mut String) -> Result<()> {
    match u.int_in_range(0..=2)? {
        0 => out.push_str(u.choose(ODD_NUMBERS)?),
        1 => out.push_str(&u.arbitrary::<i64>()?.to_string()),
        _ => {
            let n = u.arbitrary::<f64>()?;
            // JSON has no NaN or infinity: a real service cannot send them.
            out.push_str(&if n.is_finite() { n } else { 0.0 }.to_string());
        }
    }
    Ok(())
}

/// A text: one the program knows, an odd one, or arbitrary characters.
pub fn text(u: &mut Unstructured, words: &[String], out: &mut String) -> Result<()> {
    match u.int_in_range(0..=4)? {
        0 | 1 if !words.is_empty() => quoted(u.choose(words)?, out),
        2 => quoted(u.choose(ODD_TEXTS)?, out),
        // Escapes serde_json accepts or refuses: a lone surrogate, a bad escape.
        3 => out.push_str(u.choose(&[
            r#""\ud800""#,
            r#""\udc00\ud800""#,
            r#""\x41""#,
            r#""\u00""#,
        ])?),
        _ => quoted(&u.arbitrary::<String>()?, out),
    }
    Ok(())
}

/// A record key: usually one the program reads, sometimes anything.
pub fn key(u: &mut Unstructured, words: &[String], out: &mut String) -> Result<()> {
    if !words.is_empty() && u.ratio(3, 4)? {
        quoted(u.choose(words)?, out);
        Ok(())
    } else {
        text(u, words, out)
    }
}

/// `text` as a JSON string.
pub fn quoted(text: &str, out: &mut String) {
    out.push_str(&serde_json::Value::from(text).to_string());
}
