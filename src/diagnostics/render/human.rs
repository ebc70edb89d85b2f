//! For people: a rustc-like header (`error[E0201]: unknown name `ordr_id``), the source with
//! labelled spans drawn by miette, the help line, then one summary line for the whole run.

use super::{known, Counts};
use crate::diagnostics::span::floor_char_boundary;
use crate::diagnostics::{Diagnostic, FileId, Label, Severity, SourceMap};
use crate::printable::{escape, escape_lines, unsafe_char};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use std::borrow::Cow;
use std::fmt::{self, Write};

#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    /// ANSI colours (the CLI turns them on for a terminal without `NO_COLOR`).
    pub color: bool,
    /// Columns available; long messages and labels wrap to fit.
    pub width: usize,
}

impl Default for HumanOptions {
    fn default() -> Self {
        HumanOptions {
            color: false,
            width: 100,
        }
    }
}

/// Every diagnostic, each followed by a blank line. The caller adds [`summary`].
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap, options: HumanOptions) -> String {
    let renderer = Renderer::new(options);
    let mut out = String::new();
    for diagnostic in diagnostics {
        renderer.diagnostic(&mut out, diagnostic, sources);
        out.push('\n');
    }
    out
}

/// The closing line of a run over `subject` (a file name or "3 files"), e.g.
/// `error: could not check `shop.agent`: 2 errors, 1 warning`. `deny_warnings` makes
/// warnings fail the run, which the line says.
pub fn summary(
    counts: Counts,
    subject: &str,
    deny_warnings: bool,
    options: HumanOptions,
) -> String {
    let theme = theme(options.color);
    let tally = tally(counts);
    let (word, style, text) = if counts.errors > 0 {
        let text = format!("could not check {subject}: {tally}");
        ("error", theme.styles.error, text)
    } else if counts.warnings > 0 && deny_warnings {
        let text = format!("could not check {subject}: {tally} (warnings are denied)");
        ("error", theme.styles.error, text)
    } else if counts.warnings > 0 {
        (
            "warning",
            theme.styles.warning,
            format!("checked {subject}: {tally}"),
        )
    } else {
        (
            "ok",
            theme.styles.advice,
            format!("checked {subject}: no problems"),
        )
    };
    format!("{}: {}\n", style.style(word), escape(&text))
}

/// A failure that is not a diagnostic (a test expectation not met): `error: MESSAGE`, the
/// source under `label`, then the caller's notes (`expected: …`, `actual: …`, each line of a
/// long one indented under the first) and a help line.
pub fn failure(
    message: &str,
    label: &Label,
    notes: &[(&str, &str)],
    help: Option<&str>,
    sources: &SourceMap,
    options: HumanOptions,
) -> String {
    let renderer = Renderer::new(options);
    let styles = &renderer.theme.styles;
    let mut out = format!("{}: {}\n", styles.error.style("error"), escape(message));
    if known(sources, label.span) {
        renderer.snippet(
            &mut out,
            Severity::Error,
            sources,
            label.span.file,
            &[label],
        );
    }
    let width = notes.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    for (name, text) in notes {
        let indent = " ".repeat(width + 4);
        let text = escape_lines(text, &format!("\n{indent}"));
        let _ = writeln!(out, "  {name:>width$}: {text}");
    }
    if let Some(help) = help {
        let _ = writeln!(out, "  {} {}", styles.help.style("help:"), escape(help));
    }
    out
}

fn tally(counts: Counts) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (counts.errors, counts.warnings) {
        (0, w) => plural(w, "warning"),
        (e, 0) => plural(e, "error"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

fn theme(color: bool) -> GraphicalTheme {
    if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    }
}

struct Renderer {
    handler: GraphicalReportHandler,
    theme: GraphicalTheme,
}

impl Renderer {
    fn new(options: HumanOptions) -> Self {
        let theme = theme(options.color);
        let handler = GraphicalReportHandler::new_themed(theme.clone())
            .with_links(false)
            .with_width(options.width)
            .without_syntax_highlighting();
        Renderer { handler, theme }
    }

    fn diagnostic(&self, out: &mut String, diagnostic: &Diagnostic, sources: &SourceMap) {
        let (word, style) = match diagnostic.severity {
            Severity::Error => ("error", self.theme.styles.error),
            Severity::Warning => ("warning", self.theme.styles.warning),
        };
        let header = format!("{word}[{}]", diagnostic.code);
        let _ = writeln!(
            out,
            "{}: {}",
            style.style(header),
            escape(&diagnostic.message)
        );

        // One snippet per file, the primary label's file first: miette draws one source each.
        let primary = diagnostic.span().file;
        let mut files: Vec<FileId> = vec![primary];
        for label in &diagnostic.labels {
            if !files.contains(&label.span.file) {
                files.push(label.span.file);
            }
        }
        for file in files {
            let labels: Vec<&Label> = diagnostic
                .labels
                .iter()
                .filter(|l| l.span.file == file && known(sources, l.span))
                .collect();
            if !labels.is_empty() {
                self.snippet(out, diagnostic.severity, sources, file, &labels);
            }
        }
        if let Some(help) = &diagnostic.help {
            let help = escape(help);
            let _ = writeln!(out, "  {} {help}", self.theme.styles.help.style("help:"));
        }
    }

    /// Draws the labels of one file with miette, without its message line (our header
    /// replaces it).
    fn snippet(
        &self,
        out: &mut String,
        severity: Severity,
        sources: &SourceMap,
        file: FileId,
        labels: &[&Label],
    ) {
        if self.too_long_to_draw(out, sources, file, labels) {
            return;
        }
        let source = sources.get(file);
        let len = source.text.len();
        let name = escape(&source.path);
        let snippet = Snippet {
            severity,
            source: FileSource {
                name: &name,
                text: &printable(&source.text),
                original: &source.text,
            },
            labels: labels
                .iter()
                .map(|label| {
                    // Clamp: a span past the end must not stop the report from rendering.
                    let start = (label.span.start as usize).min(len);
                    let end = (label.span.end as usize).clamp(start, len);
                    let span = SourceSpan::from(start..end);
                    let text = label.message.as_deref().map(|m| escape(m).into_owned());
                    if label.primary {
                        LabeledSpan::new_primary_with_span(text, span)
                    } else {
                        LabeledSpan::new_with_span(text, span)
                    }
                })
                .collect(),
        };
        let mut text = String::new();
        if self.handler.render_report(&mut text, &snippet).is_err() {
            return;
        }
        // The report opens with miette's own message line ("  × "): the snippet follows it.
        let body = text.split_once('\n').map_or("", |(_, rest)| rest);
        out.push_str(body);
    }

    /// miette pads to a label's column with a width that must fit in a `u16` (it panics
    /// past column 65,535), and a line that long cannot be read anyway: when a label sits on
    /// a line longer than [`MAX_DRAWN_LINE`] bytes, writes where each label is instead of
    /// the source, and says so.
    fn too_long_to_draw(
        &self,
        out: &mut String,
        sources: &SourceMap,
        file: FileId,
        labels: &[&Label],
    ) -> bool {
        let source = sources.get(file);
        let text = &source.text;
        let line_len = |offset: usize| {
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
            end - start
        };
        let long = labels.iter().any(|label| {
            let (start, end) = (label.span.start as usize, label.span.end as usize);
            line_len(floor_char_boundary(text, start.min(text.len()))) > MAX_DRAWN_LINE
                || line_len(floor_char_boundary(text, end.min(text.len()))) > MAX_DRAWN_LINE
        });
        if !long {
            return false;
        }
        let bar = self.theme.characters.vbar;
        let path = escape(&source.path);
        for label in labels {
            let (line, column) = sources.line_col(file, label.span.start as usize);
            let corner = self.theme.characters.ltop;
            let hbar = self.theme.characters.hbar;
            let _ = writeln!(out, "    {corner}{hbar}[{path}:{line}:{column}]");
            if let Some(message) = &label.message {
                let _ = writeln!(out, "    {bar} {}", escape(message));
            }
        }
        let _ = writeln!(
            out,
            "    {bar} (not drawn: the line is longer than {MAX_DRAWN_LINE} bytes)"
        );
        true
    }
}

/// The longest line drawn with its labels (see [`Renderer::too_long_to_draw`]).
const MAX_DRAWN_LINE: usize = 4096;

/// A report that is only source and labels, for miette to draw.
struct Snippet<'a> {
    severity: Severity,
    source: FileSource<'a>,
    labels: Vec<LabeledSpan>,
}

impl fmt::Debug for Snippet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("snippet")
    }
}

impl fmt::Display for Snippet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line with no break, so that the caller can drop it.
        f.write_str("-")
    }
}

impl std::error::Error for Snippet<'_> {}

impl miette::Diagnostic for Snippet<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// The text with control characters (a NUL, an escape sequence that would drive the
/// terminal) and bidirectional overrides shown as `.`, one per byte, so that byte offsets
/// stay valid.
fn printable(text: &str) -> Cow<'_, str> {
    let hidden = |c: char| unsafe_char(c) && !matches!(c, '\n' | '\t' | '\r');
    if !text.contains(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if hidden(c) {
            out.extend(std::iter::repeat_n('.', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A file's text under its display path, borrowed (miette's `NamedSource` wants to own it).
struct FileSource<'a> {
    name: &'a str,
    /// What is drawn: [`printable`].
    text: &'a str,
    /// What columns count: the file's own characters.
    original: &'a str,
}

impl SourceCode for FileSource<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        // miette counts columns in bytes; the header's `file:line:column` counts characters,
        // like every other output format.
        let start = inner.span().offset().min(self.original.len());
        let before = self.original.get(..start).unwrap_or_default();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}
