//! When an entry is finished: input goes on over several lines while a brace, bracket or
//! string is open. The parser decides (`syntax::is_incomplete`), so what continues is
//! exactly what the grammar would accept with more text.

use super::commands;

/// Whether `text` needs more lines before it can be understood.
pub fn needs_more(text: &str) -> bool {
    if text.trim_start().starts_with(':') {
        // A command's argument may be a payload record spread over lines.
        let (_, rest) = commands::split(text);
        return !rest.is_empty() && incomplete(rest);
    }
    incomplete(text)
}

fn incomplete(text: &str) -> bool {
    // Until the parser's `is_incomplete` is merged: an unterminated string or an unclosed
    // delimiter, from the forgiving scanner.
    let tokens = super::scan::tokens(text);
    let mut depth = 0i32;
    for token in &tokens {
        match token.kind {
            super::scan::Kind::Str { closed: false } => return true,
            super::scan::Kind::Punct('{' | '[' | '(') => depth += 1,
            super::scan::Kind::Punct('}' | ']' | ')') => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}
