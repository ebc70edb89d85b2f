//! What Tab offers at the cursor: `:commands` and their arguments here; everything else is
//! the language's completion (`ide::completion`), which the language server offers too.

use super::commands::{COMMANDS, LIST_KINDS};
use crate::diagnostics::ALL_CODES;
use crate::ide::completion::{self, words_at};
use crate::ide::scan::{self, Kind, Token};
use crate::ide::Names;

/// What to offer for the word that ends at the cursor.
#[derive(Debug, PartialEq)]
pub enum Offer {
    /// Replace `buffer[start..pos]` with one of these.
    Words { start: usize, words: Vec<String> },
    /// A file path: the front end's path completer handles it.
    Path,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

pub fn complete(names: &Names, buffer: &str, pos: usize) -> Offer {
    let before = &buffer[..pos];
    let (start, context) = completion::context(before);
    let Some(context) = context else {
        return Offer::Words {
            start,
            words: Vec::new(),
        };
    };
    let tokens = scan::tokens(before);
    let Some(command) = tokens.first().filter(|t| t.kind == Kind::Command) else {
        let offer = completion::complete(names, before);
        return Offer::Words {
            start: offer.start,
            words: offer.words,
        };
    };
    let offer = if pos <= command.range.end {
        // Still typing the command's name: offer `:name`.
        let start = command.range.start;
        let commands = COMMANDS.iter().map(|c| format!(":{}", c.name));
        words_at(start, &before[start..], commands)
    } else {
        let name = command.text(before).trim_start_matches(':');
        match command_args(names, name, before, &context[1..]) {
            Some(words) => words_at(start, &before[start..], words),
            None => return Offer::Path,
        }
    };
    Offer::Words {
        start: offer.start,
        words: offer.words,
    }
}

/// The arguments of a `:command`; `None` for a file path.
fn command_args(names: &Names, command: &str, source: &str, args: &[Token]) -> Option<Vec<String>> {
    let arg = |i: usize| args.get(i).map(|t| t.text(source));
    let owned = |words: &[&str]| words.iter().map(|w| w.to_string()).collect();
    Some(match command {
        "load" => return None,
        "help" => COMMANDS.iter().map(|c| c.name.to_string()).collect(),
        "list" | "ls" if args.is_empty() => owned(LIST_KINDS),
        "show" if args.is_empty() => completion::declared(names),
        "explain" if args.is_empty() => ALL_CODES.iter().map(|c| c.as_str().to_string()).collect(),
        "dry-run" if args.is_empty() => owned(&["on", "off"]),
        "type" | "t" => completion::expression(names, source, args),
        "mock" => match args.len() {
            0 => names.targets.iter().map(|(n, _)| n.clone()).collect(),
            1 => owned(METHODS),
            _ => Vec::new(),
        },
        "send" => match (arg(0), arg(1), args.len()) {
            (_, _, 0) => {
                let mut words = owned(&["usecase", "block", "wait"]);
                words.extend(completion::events(names));
                words
            }
            (Some("usecase"), _, 1) => names.usecases.iter().map(|(u, _)| u.clone()).collect(),
            (Some("block"), _, 1) => names
                .usecases
                .iter()
                .map(|(u, _)| format!("{u}."))
                .collect(),
            (Some("block"), Some(usecase), 3) if arg(2) == Some(".") => {
                completion::blocks(names, usecase)
            }
            (Some("wait"), ..) => Vec::new(),
            _ => completion::expression(names, source, &args[1..]),
        },
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words offered with the cursor at the end of `buffer`.
    fn offer(buffer: &str) -> Vec<String> {
        match complete(&Names::sample(), buffer, buffer.len()) {
            Offer::Words { start, words } => {
                assert!(start <= buffer.len(), "start {start} past the cursor");
                words
            }
            Offer::Path => vec!["<path>".into()],
        }
    }

    #[test]
    fn commands_and_their_arguments() {
        assert_eq!(offer(":li"), vec![":list"]);
        assert_eq!(offer(":re"), vec![":reload", ":reset"]);
        assert_eq!(offer(":list re"), vec!["replies"]);
        assert_eq!(offer(":load ex"), vec!["<path>"]);
        assert_eq!(offer(":send usecase o"), vec!["order_status"]);
        assert_eq!(offer(":send block order_status.s"), vec!["show_status"]);
        assert_eq!(offer(":mock o"), vec!["orders"]);
        assert_eq!(
            offer(":explain E020"),
            (1..=9).map(|i| format!("E020{i}")).collect::<Vec<_>>()
        );
        // Events of the agent's channels only: a chat agent has no call events.
        assert!(offer(":send ").contains(&"message_received".to_string()));
        assert!(!offer(":send ").contains(&"call_ringing".to_string()));
    }

    #[test]
    fn code_is_the_languages_completion() {
        assert_eq!(offer("on conversation_s"), vec!["conversation_started"]);
        assert!(offer(":send \"unfinished te").is_empty());
    }
}
