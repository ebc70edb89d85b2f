//! Source text → AST with spans, plus every syntax error found (never just the first).
//!
//! The pipeline: [`scan`] walks the bytes once (comments, strings, brackets, depth, where
//! declarations start); when it finds nothing wrong, pest parses the whole file in one go
//! (the fast path). Otherwise — or when pest fails — each declaration is parsed on its own,
//! so one broken declaration does not hide the errors of the next ones.

pub mod ast;
mod build;
mod decode;
mod errors;
mod grammar;
mod literal;
mod scan;

use pest::Parser as _;

use crate::diagnostics::{Code, Diagnostic, FileId, Span};
use build::Builder;
use grammar::{AgentParser, Rule};

pub use build::{is_keyword, KEYWORDS};
pub use decode::{decode, DecodeError, DecodeErrorKind};

/// How deeply brackets, strings and expressions may nest (E0006 beyond).
pub const MAX_DEPTH: usize = 128;
/// Syntax errors reported per file before giving up (E0010).
pub const MAX_ERRORS: usize = 50;

/// The tree and the syntax errors of one file. The tree holds every declaration that parsed.
#[derive(Debug, Default)]
pub struct Parsed {
    pub file: ast::File,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one file. A leading BOM is skipped (spans still count its bytes).
pub fn parse(file: FileId, text: &str) -> Parsed {
    let (body, base) = decode::strip_bom(text);
    let scanned = scan::scan(file, body, base);
    let mut items = Vec::new();
    let mut diagnostics = Vec::new();
    let fast = scanned.problems.is_empty()
        && scanned.stray_closers.is_empty()
        && match AgentParser::parse(Rule::file, body) {
            Ok(mut pairs) => {
                if let Some(pair) = pairs.next() {
                    Builder::new(file, base, &scanned.comments, &mut diagnostics)
                        .items(pair, &mut items);
                }
                true
            }
            Err(_) => false,
        };
    if !fast {
        parse_each_item(file, body, base, &scanned, &mut items, &mut diagnostics);
    }
    cap_errors(&mut diagnostics, file, text.len());
    Parsed {
        file: ast::File {
            id: file,
            items,
            comments: scanned.comments,
        },
        diagnostics,
    }
}

/// The recovery path: every declaration (from one column-0 keyword to the next) is parsed
/// alone, and every one that parses is kept.
fn parse_each_item(
    file: FileId,
    body: &str,
    base: usize,
    scanned: &scan::Scan,
    items: &mut Vec<ast::Item>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let starts = &scanned.item_starts;
    let in_chunk = |d: &&Diagnostic, end: usize| (d.span().start as usize) < base + end;
    let mut problems = scanned.problems.iter().peekable();
    let mut strays = scanned.stray_closers.iter().peekable();
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(body.len());
        let mut first_problem = None;
        while let Some(problem) = problems.next_if(|p| in_chunk(p, end)) {
            first_problem.get_or_insert(problem.span().start as usize - base);
            diagnostics.push(problem.clone());
        }
        let stray = strays.next_if(|p| in_chunk(p, end));
        while strays.next_if(|p| in_chunk(p, end)).is_some() {}
        if diagnostics.len() > MAX_ERRORS {
            break;
        }
        let mut builder = |pair| {
            Builder::new(file, base + start, &scanned.comments, diagnostics).items(pair, items)
        };
        match first_problem {
            // pest would only repeat the scanner's error; still keep the declarations
            // that end before the line where it starts.
            Some(at) => {
                let line_start = body[..at.max(start)]
                    .rfind('\n')
                    .map_or(start, |n| (n + 1).max(start));
                if let Ok(Some(pair)) =
                    AgentParser::parse(Rule::file, &body[start..line_start]).map(|mut p| p.next())
                {
                    builder(pair);
                }
            }
            None => {
                let chunk = &body[start..end];
                let error = match errors::parse_detailed(Rule::file, chunk) {
                    Ok(pair) => {
                        builder(pair);
                        None
                    }
                    Err(error) => Some(errors::describe(&error, file, chunk, base + start)),
                };
                // A stray closer is the better explanation unless pest stopped before it.
                let explained = match (error, stray) {
                    (Some(e), Some(s)) if s.span().start <= e.span().start => s.clone(),
                    (Some(e), _) => e,
                    (None, Some(s)) => s.clone(),
                    (None, None) => continue,
                };
                diagnostics.push(explained);
            }
        }
    }
}

fn cap_errors(diagnostics: &mut Vec<Diagnostic>, file: FileId, len: usize) {
    if diagnostics.len() > MAX_ERRORS {
        let last = diagnostics[MAX_ERRORS - 1].span();
        diagnostics.truncate(MAX_ERRORS);
        let span = Span::new(file, last.end as usize, len);
        diagnostics.push(
            Diagnostic::new(
                Code::TooManyErrors,
                format!("too many syntax errors; stopped after {MAX_ERRORS}"),
                span,
            )
            .with_help("fix the errors above and check again"),
        );
    }
}

/// Parses one expression (the REPL's input).
pub fn parse_expr(file: FileId, text: &str) -> (Option<ast::Expr>, Vec<Diagnostic>) {
    let (body, base) = decode::strip_bom(text);
    let scanned = scan::scan(file, body, base);
    if let Some(problems) = scanned.blocking_problems() {
        return (None, problems);
    }
    match errors::parse_detailed(Rule::expr_input, body) {
        Ok(pair) => {
            let mut diagnostics = Vec::new();
            let expr = pair
                .into_inner()
                .next()
                .map(|e| Builder::new(file, base, &scanned.comments, &mut diagnostics).expr(e));
            (expr, diagnostics)
        }
        Err(error) => (None, vec![errors::describe(&error, file, body, base)]),
    }
}

/// Parses a sequence of `mock` / `send` / `expect` lines, as in a `test` block's body (used
/// by `agentc run --mocks FILE` and the REPL's `:mock`).
pub fn parse_test_steps(file: FileId, text: &str) -> (Vec<ast::TestStep>, Vec<Diagnostic>) {
    let (body, base) = decode::strip_bom(text);
    let scanned = scan::scan(file, body, base);
    if let Some(problems) = scanned.blocking_problems() {
        return (Vec::new(), problems);
    }
    match errors::parse_detailed(Rule::steps, body) {
        Ok(pair) => {
            let mut diagnostics = Vec::new();
            let steps = Builder::new(file, base, &scanned.comments, &mut diagnostics).steps(pair);
            (steps, diagnostics)
        }
        Err(error) => (Vec::new(), vec![errors::describe(&error, file, body, base)]),
    }
}

/// Whether `text` stops inside an open bracket, a triple-quoted string, an interpolation or
/// a block comment, so a REPL should read another line. (A `"` string cannot span lines: an
/// unclosed one is an error to show, not a reason to wait.)
pub fn is_incomplete(text: &str) -> bool {
    scan::scan(FileId::default(), text, 0).incomplete
}

#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod tests;
