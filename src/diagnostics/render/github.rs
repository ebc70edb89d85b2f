//! For GitHub Actions: one workflow command per diagnostic, which GitHub shows as an
//! annotation on the pull request's diff.
//! Format: `::error file=F,line=L,col=C,endLine=L,endColumn=C,title=E0201::message`.

use super::{file_path, Region};
use crate::diagnostics::{Diagnostic, Severity, SourceMap};
use std::fmt::Write;

pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let span = d.span();
        let region = Region::of(sources, span);
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            property(file_path(sources, span)),
            region.line,
            region.column,
            region.end_line,
            region.end_column,
            d.code,
            data(&message),
        );
    }
    out
}

/// Escapes a command's message (GitHub's `escapeData`).
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (GitHub's `escapeProperty`): also `:` and `,`.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_actions_toolkit() {
        assert_eq!(data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(property("a,b:c%"), "a%2Cb%3Ac%25");
    }
}
