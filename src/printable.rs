//! Text from outside (a conversation id, a label, a service's error body, a test name) made
//! safe to print on a terminal: control characters would drive it (clear the screen, move
//! the cursor, forge a line with a newline) and bidirectional overrides would show a line
//! in another order than it is stored. Every place the CLI prints outside text uses
//! [`escape`]; JSON output uses [`escape_json`].

use std::borrow::Cow;

/// Characters that never reach a terminal as they are: C0 controls, DEL, C1 controls, and
/// the bidirectional marks, embeddings, overrides and isolates.
pub fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every unsafe character written as an escape: `\n`, `\t`, `\r`, otherwise
/// `\u{1b}` (Rust's notation). Borrowed when there is nothing to escape.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A message of several lines (an error and its help line), each line escaped, joined
/// with `separator` (a newline and an indent).
pub fn escape_lines(text: &str, separator: &str) -> String {
    let lines: Vec<_> = text.split('\n').map(escape).collect();
    lines.join(separator)
}

/// A line of JSON with the unsafe characters serde leaves raw (DEL, C1, bidirectional
/// marks) written as `\uXXXX`: the same JSON value, safe on a terminal. They can only occur
/// inside strings, where the escape means the same character.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    if !json.contains(unsafe_char) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 12);
    for c in json.chars() {
        if unsafe_char(c) {
            // Every unsafe character is in the Basic Multilingual Plane: one `\u` escape.
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_escaped_and_the_rest_kept() {
        assert_eq!(
            escape("c-1\n\x1b[2J\u{202e}vip\u{85}\u{7f}é"),
            "c-1\\n\\u{1b}[2J\\u{202e}vip\\u{85}\\u{7f}é"
        );
        assert!(matches!(escape("plain ✓ text"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_stays_the_same_json() {
        let value = serde_json::json!({"id": "a\u{202e}b\u{9b}c\u{7f}\n"});
        let line = serde_json::to_string(&value).unwrap();
        let safe = escape_json(&line);
        assert!(!safe.contains(unsafe_char), "{safe}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&safe).unwrap(),
            value
        );
    }
}
