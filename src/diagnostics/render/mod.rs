//! Renderers: plain functions from diagnostics and the files they point into to text, one
//! module per output format. None of them writes anywhere or asks the terminal anything; the
//! CLI decides where the text goes and whether it may be coloured.

mod github;
mod human;
mod json;
mod sarif;

pub use github::render as github;
pub use human::{failure, render as human, summary, HumanOptions};
pub use json::{render as json, JSON_VERSION};
pub use sarif::render as sarif;

use super::{Diagnostic, Severity, SourceMap, Span};

/// How many errors and warnings a list holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
}

impl Counts {
    pub fn of(diagnostics: &[Diagnostic]) -> Counts {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        Counts {
            errors,
            warnings: diagnostics.len() - errors,
        }
    }
}

/// Puts diagnostics in reading order: by file, then position, errors before warnings at the
/// same place. Stable, so diagnostics at one spot keep the order the checker found them in.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| {
        let span = d.span();
        (span.file, span.start, d.severity != Severity::Error)
    });
}

/// A span as people count: 1-based lines and columns (columns in characters), end exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Region {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Region {
    pub fn of(sources: &SourceMap, span: Span) -> Region {
        if !known(sources, span) {
            return Region {
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
            };
        }
        let (line, column) = sources.line_col(span.file, span.start as usize);
        let (end_line, end_column) = sources.line_col(span.file, span.end as usize);
        Region {
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// The display path of the file a span is in, or "" for a span into no known file.
pub(crate) fn file_path(sources: &SourceMap, span: Span) -> &str {
    if (span.file.0 as usize) < sources.len() {
        &sources.get(span.file).path
    } else {
        ""
    }
}

/// Whether the span points into a file of the map (renderers never index out of bounds).
pub(crate) fn known(sources: &SourceMap, span: Span) -> bool {
    (span.file.0 as usize) < sources.len()
}
