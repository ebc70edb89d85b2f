//! Whether a REPL entry goes on to the next line: only when more text could complete it.
//! The scanner says what is still open; the parser says whether what was typed is wrong
//! already (`action x {` then `target: )`), in which case it is reported at once instead
//! of swallowing the lines that follow.

use super::errors;
use super::grammar::Rule;
use super::lexer::{self, Kind};
use super::scan::{self, Scan};
use crate::diagnostics::FileId;

/// What an entry is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// Declarations (`action …`, `on …`, `test …`).
    Declarations,
    /// One expression.
    Expression,
    /// A command's arguments, which are not one rule of the grammar: an open bracket (a
    /// payload record) continues them.
    Arguments,
}

/// The words besides infix operators after which a line may break inside an expression
/// (docs/language.md, "Lines").
const BREAKING_WORDS: &[&str] = &["then", "else"];

/// Whether more lines could complete `text`: it ends inside a bracket, a triple-quoted
/// string, an interpolation or a block comment, or (declarations, expressions) right after
/// an infix operator, `then` or `else` — and nothing before its end is wrong already. A
/// `"` string cannot span lines: an unclosed one is an error to show, not a reason to wait.
pub fn is_incomplete(text: &str, entry: Entry) -> bool {
    let scanned = scan::scan(FileId::default(), text, 0);
    // (Too deep a nesting is broken too, so pest never recurses past the bound.)
    if scanned.broken {
        return false;
    }
    if scanned.ends_in_text || entry == Entry::Arguments {
        return scanned.incomplete;
    }
    let end = content_end(text, &scanned);
    if !scanned.incomplete && !ends_after_infix(&text[..end]) {
        return false;
    }
    let rule = match entry {
        Entry::Expression => Rule::expr_input,
        _ => Rule::file,
    };
    let blanked = super::blank(text, 0, &scanned.comments);
    match errors::parse_detailed(rule, &blanked) {
        Ok(_) => false,
        // The parser went as far as the text did: it wants more, not something else.
        Err(error) => errors::stopped_at(&error) >= end,
    }
}

/// Where the text ends, without its trailing blanks and comments.
fn content_end(text: &str, scanned: &Scan) -> usize {
    let mut end = text.trim_end().len();
    for comment in scanned.comments.iter().rev() {
        let (start, stop) = (comment.span.start as usize, comment.span.end as usize);
        if stop < end {
            break;
        }
        end = text[..start.min(end)].trim_end().len();
    }
    end
}

/// Whether `text` ends with an infix operator (as the lexer reads one), `then` or `else`;
/// not with a field named like one (`event.in`).
fn ends_after_infix(text: &str) -> bool {
    let tokens = lexer::tokens(text, 0);
    let Some(last) = tokens.last() else {
        return false;
    };
    let before = tokens.len().checked_sub(2).map(|i| &tokens[i]);
    if last.kind == Kind::Word && before.is_some_and(|t| t.kind == Kind::Punct('.')) {
        return false;
    }
    if last.kind == Kind::Word && BREAKING_WORDS.contains(&last.text(text)) {
        return true;
    }
    // An operator of two symbols (`<=`, `??`) is two tokens, the first right before.
    let glued = before.filter(|t| t.range.end == last.range.start && last.kind != Kind::Word);
    let operators = glued.into_iter().chain([last]);
    let mut starts = operators.map(|t| t.range.start);
    starts.any(|at| {
        lexer::infix_at(text.as_bytes(), at).is_some_and(|(_, len)| at + len == text.len())
    })
}
