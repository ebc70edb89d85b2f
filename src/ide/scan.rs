//! The tokens of what is being typed. The parser wants whole entries; highlighting and
//! completion need tokens of half-typed ones (an unclosed string, a dangling `{`): the
//! language's lexer gives them ([`crate::syntax::lexer::entry_tokens`]), by the rules both
//! parsers read by. What is the REPL's own is which words are keywords where they stand.

use crate::syntax::KEYWORDS;

pub use crate::syntax::lexer::{entry_tokens as tokens, Kind, Token};

/// Whether `token` is a reserved word used as one: not a field key (`task:`), not a field
/// access (`x.target`), and `call` only right after `before`/`after`.
pub fn is_keyword(source: &str, tokens: &[Token], index: usize) -> bool {
    let token = &tokens[index];
    let previous = index.checked_sub(1).map(|i| &tokens[i]);
    if token.kind != Kind::Word {
        return false;
    }
    if token.text(source) == "call" {
        return previous.is_some_and(|p| matches!(p.text(source), "before" | "after"));
    }
    let next = tokens.get(index + 1).map(|t| t.kind);
    KEYWORDS.contains(&token.text(source))
        && next != Some(Kind::Punct(':'))
        && previous.map(|t| t.kind) != Some(Kind::Punct('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<(Kind, &str)> {
        tokens(source)
            .iter()
            .map(|t| (t.kind, t.text(source)))
            .collect()
    }

    #[test]
    fn strings_keep_interpolated_quotes_inside() {
        let source = r#"reply w { text: "Hi {user.name ?? "there"}!" }"#;
        let toks = kinds(source);
        assert!(toks.contains(&(
            Kind::Str { closed: true },
            r#""Hi {user.name ?? "there"}!""#
        )));
        assert_eq!(toks.last(), Some(&(Kind::Punct('}'), "}")));
    }

    #[test]
    fn unterminated_string_and_comment_run_to_the_end() {
        assert_eq!(
            kinds(r#"x + "abc"#),
            vec![
                (Kind::Word, "x"),
                (Kind::Punct('+'), "+"),
                (Kind::Str { closed: false }, r#""abc"#)
            ]
        );
        assert_eq!(kinds("/* open"), vec![(Kind::Comment, "/* open")]);
        let triple = "\"\"\"line\nline";
        assert_eq!(kinds(triple), vec![(Kind::Str { closed: false }, triple)]);
    }

    #[test]
    fn numbers_durations_and_commands() {
        assert_eq!(
            kinds(":send wait 5m"),
            vec![
                (Kind::Command, ":send"),
                (Kind::Word, "wait"),
                (Kind::Number, "5m")
            ]
        );
        assert_eq!(
            kinds("3.14 // pi"),
            vec![(Kind::Number, "3.14"), (Kind::Comment, "// pi")]
        );
    }

    #[test]
    fn keywords_in_context() {
        let source = "before call do x\naction a { target: call, task: x.call }";
        let toks = tokens(source);
        let keywords: Vec<&str> = (0..toks.len())
            .filter(|&i| is_keyword(source, &toks, i))
            .map(|i| toks[i].text(source))
            .collect();
        assert_eq!(keywords, vec!["before", "call", "do", "action"]);
    }
}
