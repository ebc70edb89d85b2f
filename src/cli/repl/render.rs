//! Everything the REPL prints goes through a [`Printer`]: one place decides colour, and
//! write errors (a closed pipe) are ignored instead of killing the session.

use crate::diagnostics::{Diagnostic, Severity, SourceMap};
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
    pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
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
        let text = self.paint(palette::NOTE, text.as_ref());
        self.line(text);
    }

    /// A failure that is not a diagnostic of the program (a missing file, a bad command).
    pub fn error(&mut self, text: impl AsRef<str>) {
        self.failed = true;
        let head = self.paint(palette::ERROR, "error");
        self.line(format!("{head}: {}", text.as_ref()));
    }

    /// A value (already shown, see [`show_value`]) with its type: `42 : number`.
    pub fn value(&mut self, shown: &str, ty: &str) {
        let ty = self.paint(palette::TYPE, ty);
        self.line(format!("{shown} : {ty}"));
    }

    /// Diagnostics, each with its code, location, the source line and a help line.
    pub fn diagnostics(&mut self, sources: &SourceMap, diagnostics: &[Diagnostic]) {
        for diagnostic in diagnostics {
            self.failed |= diagnostic.is_error();
            let text = render_diagnostic(sources, diagnostic, self.color);
            let _ = write!(self.out, "{text}");
        }
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
                    let plain = k.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic())
                        && k.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
                    let key = if plain { k.clone() } else { format!("{k:?}") };
                    format!("{key}: {}", show_value(v))
                })
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
        other => other.to_string(),
    }
}

/// A compact rendering in the style of rustc, used until the shared miette renderers
/// arrive: `error[E0201]: message`, ` --> file:line:col`, the line with carets, `help:`.
fn render_diagnostic(sources: &SourceMap, diagnostic: &Diagnostic, color: bool) -> String {
    let (word, style) = match diagnostic.severity {
        Severity::Error => ("error", palette::ERROR),
        Severity::Warning => ("warning", palette::WARNING),
    };
    let mut out = format!(
        "{}: {}\n",
        paint(color, style, &format!("{word}[{}]", diagnostic.code)),
        diagnostic.message
    );
    for label in &diagnostic.labels {
        if label.span.file.0 as usize >= sources.len() {
            continue;
        }
        let file = sources.get(label.span.file);
        let (line, column) = sources.line_col(label.span.file, label.span.start as usize);
        let text = file.text.lines().nth(line - 1).unwrap_or("");
        let width = text
            .chars()
            .skip(column - 1)
            .take(label.span.len().max(1))
            .count()
            .max(1);
        let marker = if label.primary { '^' } else { '-' };
        let carets: String = std::iter::repeat_n(marker, width).collect();
        let gutter = line.to_string();
        let pad = " ".repeat(gutter.len());
        out += &format!(" {pad}--> {}:{line}:{column}\n", file.path);
        out += &format!(" {gutter} | {text}\n");
        let message = label.message.as_deref().unwrap_or("");
        let under = format!("{}{carets} {message}", " ".repeat(column - 1));
        out += &format!(" {pad} | {}\n", paint(color, style, under.trim_end()));
    }
    if let Some(help) = &diagnostic.help {
        out += &format!("  = help: {help}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::{Code, Span};
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

    #[test]
    fn diagnostics_point_at_the_typed_text() {
        let mut sources = SourceMap::new();
        let file = sources.add("<repl:1>", "1 + nope");
        let diagnostic = Diagnostic::new(Code::UnknownName, "unknown name `nope`", Span::new(file, 4, 8))
            .with_label_message("not declared")
            .with_help("declare it in the agent's params");
        let text = render_diagnostic(&sources, &diagnostic, false);
        assert_eq!(
            text,
            "error[E0201]: unknown name `nope`\n  --> <repl:1>:1:5\n 1 | 1 + nope\n   |     ^^^^ not declared\n  = help: declare it in the agent's params\n"
        );
    }
}
