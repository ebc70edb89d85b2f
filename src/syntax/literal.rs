//! Numbers, durations and string literals: from their source text to values.

use super::ast::{Expr, StrLit, StrPart, ThinVec};
use super::thin;
use crate::diagnostics::{Code, Diagnostic, FileId, Span};

/// The unit suffixes a duration may carry, with their length in milliseconds.
const UNITS: &[(&str, f64)] = &[
    ("ms", 1.0),
    ("s", 1_000.0),
    ("m", 60_000.0),
    ("h", 3_600_000.0),
    ("d", 86_400_000.0),
];

/// What a `number` token denotes.
#[derive(Debug, PartialEq)]
pub enum NumberValue {
    Number(f64),
    /// Milliseconds.
    Duration(u64),
}

/// Reads `42`, `3.14`, `250ms`, `1.5s`; anything else glued to the digits is an error.
pub fn number(text: &str, file: FileId, start: usize) -> Result<NumberValue, Diagnostic> {
    let digits_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    let span = Span::new(file, start, start + text.len());
    let value: f64 = digits.parse().map_err(|_| {
        Diagnostic::new(Code::BadLiteral, format!("invalid number `{text}`"), span)
            .with_help("write a number like `42` or `3.14`")
    })?;
    if suffix.is_empty() {
        if !value.is_finite() {
            return Err(Diagnostic::new(
                Code::BadLiteral,
                format!("number `{text}` is too large"),
                span,
            )
            .with_help("numbers must fit in a 64-bit float"));
        }
        return Ok(NumberValue::Number(value));
    }
    let Some((first_unit, rest)) = split_unit(suffix) else {
        return Err(bad_unit(text, suffix, span));
    };
    let Some(&(_, scale)) = UNITS.iter().find(|(unit, _)| *unit == first_unit) else {
        return Err(bad_unit(text, suffix, span));
    };
    // Whole numbers are read exactly; a fraction (`1.5s`) through f64.
    let first = match digits.parse::<u128>() {
        Ok(whole) => whole.saturating_mul(scale as u128),
        Err(_) => {
            let millis = value * scale;
            if millis.fract() != 0.0 {
                return Err(Diagnostic::new(
                    Code::BadLiteral,
                    format!("duration `{text}` is not a whole number of milliseconds"),
                    span,
                )
                .with_help("use a smaller unit, e.g. `1500ms` instead of `1.5005s`"));
            }
            millis.min(u128::MAX as f64) as u128
        }
    };
    let Some(millis) = more_parts(first, scale, rest) else {
        return Err(Diagnostic::new(
            Code::BadLiteral,
            format!("invalid duration `{text}`"),
            span,
        )
        .with_label_message("not a duration")
        .with_help("a duration of several units writes each once, largest first, in whole numbers after the first (`5m30s`, `1h30m`, `1s500ms`)"));
    };
    if millis > (u64::MAX / 2) as u128 {
        return Err(Diagnostic::new(
            Code::BadLiteral,
            format!("duration `{text}` is too long"),
            span,
        )
        .with_help("durations must be shorter than a few million years"));
    }
    Ok(NumberValue::Duration(millis as u64))
}

/// A suffix's first unit and what follows it (`m30s` → `m`, `30s`).
fn split_unit(suffix: &str) -> Option<(&str, &str)> {
    let end = suffix
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(suffix.len());
    (end > 0).then(|| suffix.split_at(end))
}

/// Adds the parts after the first (`30s` of `5m30s`): whole numbers, each with a unit
/// smaller than the one before it (`scale`); `None` when one is not.
fn more_parts(mut total: u128, mut scale: f64, mut rest: &str) -> Option<u128> {
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let amount: u128 = rest[..digits].parse().ok()?;
        let (unit, after) = split_unit(&rest[digits..])?;
        let &(_, next) = UNITS.iter().find(|(u, _)| *u == unit)?;
        if next >= scale {
            return None;
        }
        total = total.checked_add(amount.checked_mul(next as u128)?)?;
        (scale, rest) = (next, after);
    }
    Some(total)
}

fn bad_unit(text: &str, suffix: &str, span: Span) -> Diagnostic {
    let first_unit_char = suffix
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic());
    let message = if first_unit_char {
        format!("unknown duration unit `{suffix}` in `{text}`")
    } else {
        format!("invalid number `{text}`")
    };
    Diagnostic::new(Code::BadLiteral, message, span)
        .with_label_message("not a number or a duration")
        .with_help("durations end in `ms`, `s`, `m`, `h` or `d` (`250ms`, `5s`, `3m`); a name cannot start with a digit")
}

/// Resolves one escape sequence (`\n`, `\u{1F600}`, ...) written at `start`.
pub fn escape(text: &str, file: FileId, start: usize) -> Result<char, Diagnostic> {
    let span = Span::new(file, start, start + text.len());
    let bad = |what: String| {
        Diagnostic::new(Code::BadEscape, what, span).with_help(
            "valid escapes are \\\" \\\\ \\n \\t \\r \\{ \\} and \\u{HEX}; write \\\\ for a backslash",
        )
    };
    let body = &text[1..];
    match body {
        "\"" => Ok('"'),
        "\\" => Ok('\\'),
        "n" => Ok('\n'),
        "t" => Ok('\t'),
        "r" => Ok('\r'),
        "{" => Ok('{'),
        "}" => Ok('}'),
        _ if body.starts_with("u{") => {
            let hex = &body[2..body.len() - 1];
            let code = (1..=6)
                .contains(&hex.len())
                .then(|| u32::from_str_radix(hex, 16).ok())
                .flatten();
            code.and_then(char::from_u32).ok_or_else(|| {
                bad(format!("invalid unicode escape `{text}`"))
                    .with_label_message("expected 1 to 6 hex digits naming a character")
            })
        }
        _ => Err(bad(format!("invalid escape `\\{}`", body.escape_debug()))),
    }
}

/// The indentation common to every non-blank line of a triple-quoted string's raw body,
/// counted in bytes of spaces and tabs. The first line (right after `"""`) is not counted
/// when it is blank, as it is then dropped.
fn common_indent(raw: &str) -> usize {
    raw.split('\n')
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0)
}

/// Puts a string literal together from its pieces as they are read (both parsers use it):
/// text runs and escapes are joined, and a triple-quoted string loses the indentation
/// common to its lines and its blank first and last lines.
pub struct StrParts {
    parts: Vec<StrPart>,
    text: String,
    triple: bool,
    /// Blanks to drop after each raw line break of a triple-quoted string.
    indent: usize,
    /// Blanks still to drop on the current line.
    strip: usize,
}

impl StrParts {
    /// `raw` is the whole literal as written, quotes included.
    pub fn new(raw: &str, triple: bool) -> StrParts {
        let indent = if triple {
            common_indent(triple_body(raw))
        } else {
            0
        };
        StrParts {
            parts: Vec::new(),
            text: String::new(),
            triple,
            indent,
            strip: 0,
        }
    }

    /// A run of text between escapes and interpolations, as written.
    pub fn text(&mut self, raw: &str) {
        if !self.triple {
            self.text.push_str(raw);
            return;
        }
        for c in raw.chars() {
            if self.strip > 0 && (c == ' ' || c == '\t') {
                self.strip -= 1;
                continue;
            }
            self.strip = 0;
            if c == '\n' {
                if self.text.ends_with('\r') {
                    self.text.pop();
                }
                self.strip = self.indent;
            }
            self.text.push(c);
        }
    }

    /// An escape sequence: its character, or `None` when it was invalid (and reported).
    pub fn escape(&mut self, c: Option<char>) {
        self.strip = 0;
        self.text.extend(c);
    }

    pub fn interpolation(&mut self, expr: Expr) {
        self.strip = 0;
        if !self.text.is_empty() {
            self.parts
                .push(StrPart::Lit(std::mem::take(&mut self.text)));
        }
        self.parts.push(StrPart::Interp(expr));
    }

    pub fn finish(mut self) -> StrLit {
        let last = (!self.text.is_empty()).then_some(StrPart::Lit(self.text));
        if self.triple {
            self.parts.extend(last);
            trim_triple_edges(&mut self.parts);
            return StrLit {
                parts: thin::exact(self.parts.into_iter()),
            };
        }
        // Most strings are one run of text: no list is grown for it.
        let mut parts = ThinVec::with_capacity(self.parts.len() + usize::from(last.is_some()));
        parts.extend(self.parts);
        parts.extend(last);
        StrLit { parts }
    }
}

/// The raw text between the `"""` delimiters.
fn triple_body(raw: &str) -> &str {
    raw.get(3..raw.len().saturating_sub(3)).unwrap_or("")
}

/// A triple string opened by `"""` then a line break starts on the next line, and one whose
/// closing `"""` sits on its own line ends with the line before it.
fn trim_triple_edges(parts: &mut Vec<StrPart>) {
    if let Some(StrPart::Lit(first)) = parts.first_mut() {
        let blanks = first.trim_start_matches([' ', '\t']);
        if let Some(rest) = blanks.strip_prefix('\n') {
            *first = rest.to_string();
        }
    }
    if let Some(StrPart::Lit(last)) = parts.last_mut() {
        if let Some(newline) = last.rfind('\n') {
            if last[newline + 1..].trim_matches([' ', '\t']).is_empty() {
                last.truncate(newline);
            }
        }
    }
    parts.retain(|p| !matches!(p, StrPart::Lit(s) if s.is_empty()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations() {
        let f = FileId(0);
        assert_eq!(number("42", f, 0), Ok(NumberValue::Number(42.0)));
        assert_eq!(number("2.5", f, 0), Ok(NumberValue::Number(2.5)));
        assert_eq!(number("250ms", f, 0), Ok(NumberValue::Duration(250)));
        assert_eq!(number("3m", f, 0), Ok(NumberValue::Duration(180_000)));
        assert_eq!(number("1.5s", f, 0), Ok(NumberValue::Duration(1_500)));
        assert_eq!(number("1d", f, 0), Ok(NumberValue::Duration(86_400_000)));
        let err = number("5x", f, 10).unwrap_err();
        assert_eq!(err.code, Code::BadLiteral);
        assert_eq!(err.span(), Span::new(f, 10, 12));
        assert!(number("12abc", f, 0).is_err());
        assert_eq!(number("5m30s", f, 0), Ok(NumberValue::Duration(330_000)));
        assert_eq!(number("1s500ms", f, 0), Ok(NumberValue::Duration(1_500)));
        assert_eq!(
            number("1.5h30m", f, 0),
            Ok(NumberValue::Duration(7_200_000))
        );
        for wrong_order in ["30s5m", "5m5m", "5m30", "5m30x", "1h1.5m"] {
            let err = number(wrong_order, f, 0).unwrap_err();
            assert_eq!(err.code, Code::BadLiteral, "{wrong_order}");
        }
    }

    #[test]
    fn escapes() {
        let f = FileId(0);
        assert_eq!(escape("\\n", f, 0), Ok('\n'));
        assert_eq!(escape("\\u{1F600}", f, 0), Ok('😀'));
        assert_eq!(
            escape("\\q", f, 0).unwrap_err().message,
            "invalid escape `\\q`"
        );
        assert!(escape("\\u{110000}", f, 0).is_err());
    }
}
