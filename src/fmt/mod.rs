//! `agentc fmt`: the canonical layout of `.agent` source (described in `docs/fmt.md`).
//!
//! The layout is rebuilt from the AST, so it depends only on the program (and the
//! parentheses it was written with), never on how it was typed; literals and comments are
//! copied from the source through their spans, so formatting never changes a value and
//! never drops a comment.

mod comments;
mod decls;
mod expr;
mod printer;

use crate::diagnostics::{Diagnostic, FileId};
use crate::syntax::{self, ast};

/// Lines longer than this break their lists, records and call arguments.
pub const MAX_WIDTH: usize = 100;
/// One level of indentation.
pub const INDENT: &str = "    ";

/// Formats a file that parsed without errors; `source` is the text it was parsed from.
pub fn format_file(file: &ast::File, source: &str) -> String {
    let mut printer = printer::Printer::new(source, &file.comments);
    printer.file(file);
    printer.finish()
}

/// Parses and formats one file; a file with syntax errors is refused with its diagnostics.
pub fn format_source(file: FileId, source: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = syntax::parse(file, source);
    if parsed.diagnostics.iter().any(Diagnostic::is_error) {
        return Err(parsed.diagnostics);
    }
    Ok(format_file(&parsed.file, source))
}
