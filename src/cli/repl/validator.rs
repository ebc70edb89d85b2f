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
}
