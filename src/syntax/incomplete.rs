//! Whether a REPL entry goes on to the next line: only when more text could complete it.
//! The scanner says what is still open; the parser says whether what was typed is wrong
//! already (`action x {` then `target: )`), in which case it is reported at once instead
//! of swallowing the lines that follow.

use super::errors;
use super::grammar::Rule;
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

/// The words after which a line may break inside an expression (docs/language.md,
/// "Lines"), besides the infix operators' symbols.
const BREAKING_WORDS: &[&str] = &["or", "and", "in", "then", "else"];
/// Infix operators' symbols; a longer one (`<=`) ends in one of these.
const BREAKING_SYMBOLS: &[&str] = &["+", "-", "*", "/", "%", "=", "<", ">", "??"];

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

fn ends_after_infix(text: &str) -> bool {
    let word_start = text
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &text[word_start..];
    if !word.is_empty() {
        let field = text[..word_start].ends_with('.');
        return BREAKING_WORDS.contains(&word) && !field;
    }
    BREAKING_SYMBOLS.iter().any(|s| text.ends_with(s))
}
