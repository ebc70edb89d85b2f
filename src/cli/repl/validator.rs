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
    crate::syntax::is_incomplete(text)
}
