//! What each stretch of text is, for colouring: keywords, strings, numbers, comments,
//! `:commands` and the names the program declares. The REPL paints by it as a line is typed
//! and the language server sends it as semantic tokens; both read the language's lexer
//! ([`scan::tokens`]), so every stretch is one of its tokens.

use super::names::Names;
use super::scan::{self, Kind};
use std::ops::Range;

/// The class of a highlighted stretch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Keyword,
    String,
    Number,
    Comment,
    /// A REPL `:command`.
    Command,
    /// A name the program declares.
    Name(NameKind),
}

/// What a declared name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameKind {
    Target,
    Task,
    Action,
    Reply,
    Usecase,
    Param,
}

/// The highlighted stretches of `source`, in order; what is not listed stays plain.
pub fn highlight(names: &Names, source: &str) -> Vec<(Range<usize>, Class)> {
    let tokens = scan::tokens(source);
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let class = match token.kind {
            Kind::Command => Class::Command,
            Kind::Str { .. } => Class::String,
            Kind::Number => Class::Number,
            Kind::Comment => Class::Comment,
            Kind::Word if scan::is_keyword(source, &tokens, i) => Class::Keyword,
            Kind::Word => match names.kind_of(token.text(source)) {
                Some(kind) => Class::Name(kind),
                None => continue,
            },
            Kind::Punct(_) => continue,
        };
        out.push((token.range.clone(), class));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_names_are_classed_by_kind_and_undeclared_ones_stay_plain() {
        let source = "on x do check_order // done\nreply welcome { text: \"{order_id}\" }";
        let classes: Vec<(&str, Class)> = highlight(&Names::sample(), source)
            .into_iter()
            .map(|(range, class)| (&source[range], class))
            .collect();
        assert_eq!(
            classes,
            vec![
                ("on", Class::Keyword),
                ("do", Class::Keyword),
                ("check_order", Class::Name(NameKind::Action)),
                ("// done", Class::Comment),
                ("reply", Class::Keyword),
                ("welcome", Class::Name(NameKind::Reply)),
                ("\"{order_id}\"", Class::String),
            ]
        );
    }
}
