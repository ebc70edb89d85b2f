//! When an entry is finished: input goes on over several lines while a brace, bracket or
//! triple-quoted string is open, or after an infix operator — unless what was typed is
//! wrong already, which is then shown at once. The parser decides
//! (`syntax::is_incomplete`), so what continues is exactly what the grammar would accept
//! with more text.

use super::commands;
use super::session::{kind_of, Kind};
use crate::syntax::{is_incomplete, Entry};

/// Whether `text` needs more lines before it can be understood.
pub fn needs_more(text: &str) -> bool {
    match kind_of(text) {
        None => false,
        Some(Kind::Command) => {
            // A command's argument may be a payload record spread over lines.
            let (_, rest) = commands::split(text);
            !rest.is_empty() && is_incomplete(rest, Entry::Arguments)
        }
        Some(Kind::Declaration) => is_incomplete(text, Entry::Declarations),
        Some(Kind::Expression) => is_incomplete(text, Entry::Expression),
    }
}

#[cfg(test)]
mod tests {
    use super::needs_more;

    #[test]
    fn open_delimiters_continue_the_entry() {
        assert!(needs_more("action a {\n  target: conversation"));
        assert!(needs_more("[1,\n 2"));
        assert!(needs_more("reply r { text: \"\"\"first line"));
        assert!(needs_more(":send message_received {"));
        assert!(!needs_more(
            "action a { target: conversation, task: end() }"
        ));
        assert!(!needs_more(":help"));
        assert!(!needs_more(":send"));
    }

    #[test]
    fn an_unclosed_simple_string_is_an_error_not_a_continuation() {
        assert!(!needs_more("\"abc"));
    }

    #[test]
    fn an_infix_operator_continues_and_a_broken_declaration_does_not() {
        assert!(needs_more("1 +"));
        assert!(needs_more("// a note\nattempts >"));
        assert!(!needs_more("action x {\n  target: )"));
        assert!(!needs_more(":send message_received { text: ] "));
    }
}
