//! For machines: one JSON document per run, versioned. The shape is documented in
//! `docs/diagnostics.md`; adding a field keeps `version`, any other change bumps it.

use super::{file_path, Counts, Region};
use crate::diagnostics::{Code, Diagnostic, Label, Severity, SourceMap, Span};
use serde::Serialize;

/// The version of the JSON shape below.
pub const JSON_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: Code,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    #[serde(flatten)]
    place: Place,
    help: Option<&'a str>,
    labels: Vec<JsonLabel<'a>>,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    message: Option<&'a str>,
    file: &'a str,
    #[serde(flatten)]
    place: Place,
    primary: bool,
}

/// Lines and columns are 1-based, columns count characters, ends are exclusive; `offset` and
/// `length` are in bytes.
#[derive(Serialize)]
struct Place {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    offset: u32,
    length: usize,
}

impl Place {
    fn of(sources: &SourceMap, span: Span) -> Place {
        let region = Region::of(sources, span);
        Place {
            line: region.line,
            column: region.column,
            end_line: region.end_line,
            end_column: region.end_column,
            offset: span.start,
            length: span.len(),
        }
    }
}

/// The whole run as one pretty-printed JSON document, with a trailing newline.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let counts = Counts::of(diagnostics);
    let report = Report {
        version: JSON_VERSION,
        errors: counts.errors,
        warnings: counts.warnings,
        diagnostics: diagnostics
            .iter()
            .map(|d| JsonDiagnostic {
                code: d.code,
                severity: d.severity,
                message: &d.message,
                file: file_path(sources, d.span()),
                place: Place::of(sources, d.span()),
                help: d.help.as_deref(),
                labels: d.labels.iter().map(|l| label(sources, l)).collect(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&report).expect("plain data always serializes");
    text.push('\n');
    text
}

fn label<'a>(sources: &'a SourceMap, label: &'a Label) -> JsonLabel<'a> {
    JsonLabel {
        message: label.message.as_deref(),
        file: file_path(sources, label.span),
        place: Place::of(sources, label.span),
        primary: label.primary,
    }
}
