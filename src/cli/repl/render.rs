//! Everything the REPL prints goes through a [`Printer`]: one place decides colour, and
//! write errors (a closed pipe) are ignored instead of killing the session. Notes, errors
//! and values are escaped ([`crate::printable`]); a caller of [`Printer::line`] escapes
//! the outside text it puts in.

use crate::diagnostics::render::{self, HumanOptions};
use crate::diagnostics::{Diagnostic, SourceMap};
use crate::printable::{escape, escape_lines};
use crate::syntax::lexer;
use anstyle::{AnsiColor, Style};
use std::io::Write;

pub mod palette {
    use super::*;
    pub const KEYWORD: Style = AnsiColor::Magenta.on_default().bold();
    pub const STRING: Style = AnsiColor::Green.on_default();
    pub const NUMBER: Style = AnsiColor::Cyan.on_default();
    pub const NAME: Style = AnsiColor::Blue.on_default();
    pub const COMMENT: Style = Style::new().dimmed();
    pub const COMMAND: Style = AnsiColor::Yellow.on_default().bold();
    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    pub const NOTE: Style = Style::new().dimmed();
    pub const TYPE: Style = AnsiColor::Cyan.on_default().italic();
}

/// `text` wrapped in `style`, or bare when colour is off.
pub fn paint(color: bool, style: Style, text: &str) -> String {
    if color && !style.is_plain() {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

pub struct Printer {
    out: Box<dyn Write>,
    pub color: bool,
    /// Set by [`Printer::error`] and error diagnostics; a scripted session exits non-zero.
    pub failed: bool,
}

impl Printer {
    pub fn new(out: Box<dyn Write>, color: bool) -> Self {
        Printer {
            out,
            color,
            failed: false,
        }
    }

    pub fn paint(&self, style: Style, text: &str) -> String {
        paint(self.color, style, text)
    }

    /// One line of plain output.
    pub fn line(&mut self, text: impl AsRef<str>) {
        let _ = writeln!(self.out, "{}", text.as_ref());
        let _ = self.out.flush();
    }

    /// A remark about what the session did (`replaced action x`).
    pub fn note(&mut self, text: impl AsRef<str>) {
        let text = self.paint(palette::NOTE, &escape_lines(text.as_ref(), "\n"));
        self.line(text);
    }

    /// A failure that is not a diagnostic of the program (a missing file, a bad command).
    pub fn error(&mut self, text: impl AsRef<str>) {
        self.failed = true;
        let head = self.paint(palette::ERROR, "error");
        self.line(format!("{head}: {}", escape_lines(text.as_ref(), "\n")));
    }

    /// A value (already shown, see [`show_value`]) with its type: `42 : number`.
    pub fn value(&mut self, shown: &str, ty: &str) {
        let ty = self.paint(palette::TYPE, ty);
        self.line(format!("{} : {ty}", escape(shown)));
    }

    /// Diagnostics, drawn by the shared renderer against the text they point into.
    pub fn diagnostics(&mut self, sources: &SourceMap, diagnostics: &[Diagnostic]) {
        if diagnostics.is_empty() {
            return;
        }
        self.failed |= diagnostics.iter().any(Diagnostic::is_error);
        let options = HumanOptions {
            color: self.color,
            width: super::super::files::width(),
        };
        let _ = write!(self.out, "{}", render::human(diagnostics, sources, options));
        let _ = self.out.flush();
    }
}

/// A value as the user would write it: texts quoted, records and lists as in the language.
pub fn show_value(value: &crate::ir::Value) -> String {
    use crate::ir::Value;
    match value {
        Value::Text(s) => format!("{s:?}"),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(show_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Record(map) if map.is_empty() => "{}".into(),
        Value::Record(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    let key = if lexer::is_word(k) {
                        k.clone()
                    } else {
                        format!("{k:?}")
                    };
                    format!("{key}: {}", show_value(v))
                })
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Value;

    #[test]
    fn values_print_as_written() {
        let record = Value::Record(
            [
                ("tier".to_string(), Value::Text("gold".into())),
                ("X-Key".to_string(), Value::List(vec![Value::Number(1.0)])),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(show_value(&record), r#"{ tier: "gold", "X-Key": [1] }"#);
    }
}
