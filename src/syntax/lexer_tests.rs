//! The lexer's rules are the grammar's terminals: on random texts, a word, a number, a
//! string and an infix operator end where pest's `word`, `number`, `string`, `triple` and
//! operator rules end (ARCHITECTURE.md's grammar-change checklist).

use pest::Parser as _;
use proptest::prelude::*;

use super::ast::BinOp;
use super::build::binop;
use super::grammar::{AgentParser, Rule};
use super::lexer::{self, Kind, Quote};

/// How many bytes pest's `rule` reads from the start of `text` (`None`: it fails).
fn pest_len(rule: Rule, text: &str) -> Option<usize> {
    let pairs = AgentParser::parse(rule, text).ok()?;
    Some(pairs.map(|pair| pair.as_span().end()).max().unwrap_or(0))
}

/// The first token of `text` when it is a closed string, and its length.
fn lexed_string(text: &str) -> Option<usize> {
    let first = lexer::tokens(text, 0).into_iter().next()?;
    (first.range.start == 0 && first.kind == Kind::Str { closed: true }).then_some(first.range.end)
}

/// Texts made of the characters the terminals turn on, and a few others.
fn texts(alphabet: &'static str) -> impl Strategy<Value = String> {
    let chars: Vec<char> = alphabet.chars().collect();
    proptest::collection::vec(proptest::sample::select(chars), 0..24)
        .prop_map(|chars| chars.into_iter().collect())
}

const WORDS: &str = "aZ_09.é -m\"";
const NUMBERS: &str = "0129.ms_x é-";
// No `{`: without interpolations, pest reads a string wherever the lexer does.
const STRINGS: &str = "\"\"\"\\\\ ab\nu}é";
const INTERPOLATED: &str = "\"\"\\{}a1 +\n";
const OPERATORS: &str = "<=>!?+-*/%orandi ";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_word_ends_where_the_grammars_word_ends(text in texts(WORDS)) {
        let lexed = lexer::word_len(text.as_bytes(), 0);
        prop_assert_eq!(lexed, pest_len(Rule::word, &text).unwrap_or(0), "{:?}", text);
    }

    #[test]
    fn a_number_ends_where_the_grammars_number_ends(text in texts(NUMBERS)) {
        let lexed = lexer::number_len(text.as_bytes(), 0);
        prop_assert_eq!(lexed, pest_len(Rule::number, &text).unwrap_or(0), "{:?}", text);
    }

    #[test]
    fn a_string_ends_where_the_grammars_string_ends(text in texts(STRINGS)) {
        let rule = match Quote::at(text.as_bytes(), 0) {
            Some(Quote::Triple) => Rule::triple,
            _ => Rule::string,
        };
        prop_assert_eq!(lexed_string(&text), pest_len(rule, &text), "{:?}", text);
    }

    /// With interpolations, pest also needs each to hold an expression: where it reads a
    /// string, the lexer reads the same one.
    #[test]
    fn an_interpolated_string_ends_where_the_grammars_string_ends(text in texts(INTERPOLATED)) {
        let rule = match Quote::at(text.as_bytes(), 0) {
            Some(Quote::Triple) => Rule::triple,
            _ => Rule::string,
        };
        if let Some(read) = pest_len(rule, &text) {
            prop_assert_eq!(lexed_string(&text), Some(read), "{:?}", text);
        }
    }

    /// `x <text> y`: the operator pest's `expr` reads after `x`, if any, is the lexer's, and
    /// where the lexer reads all of `text` as one operator, so does pest.
    #[test]
    fn an_operator_is_the_grammars_infix(op in texts(OPERATORS)) {
        let text = format!("x {} y", op.trim());
        let lexed = lexer::infix_at(text.as_bytes(), 2);
        let parsed = AgentParser::parse(Rule::expr, &text)
            .ok()
            .and_then(|mut pairs| pairs.next())
            .and_then(|expr| expr.into_inner().find_map(|p| {
                binop(p.as_rule()).map(|op| (op, p.as_str().trim_end().len()))
            }));
        if let Some(read) = parsed {
            prop_assert_eq!(lexed, Some(read), "{:?}", text);
        }
        if lexed.is_some_and(|(_, len)| len == op.trim().len()) {
            prop_assert_eq!(parsed, lexed, "{:?}", text);
        }
    }
}

#[test]
fn the_lexer_reads_every_operator_by_its_symbol() {
    for op in BinOp::ALL {
        let symbol = op.symbol();
        let text = format!("{symbol} x");
        assert_eq!(
            lexer::infix_at(text.as_bytes(), 0),
            Some((op, symbol.len())),
            "{symbol}"
        );
    }
}

#[test]
fn comments_run_to_their_line_break_or_their_close() {
    let text = b"a // note\r\nb /* x */ c /* open";
    let line = lexer::comment_at(text, 2).expect("a line comment");
    assert_eq!((line.end, line.block), (9, false));
    let block = lexer::comment_at(text, 13).expect("a block comment");
    assert_eq!((block.end, block.closed), (20, true));
    let open = lexer::comment_at(text, 23).expect("an open comment");
    assert_eq!((open.end, open.closed), (text.len(), false));
    assert_eq!(lexer::comment_at(text, 0), None);
}

/// The scanner finds comments by the lexer's rule: a comment-looking text inside a string
/// is not one, and one never closed runs to the end.
#[test]
fn the_scanners_comments_are_the_lexers() {
    let text = "a: \"// no\" // yes\nb /* c */ \"/*\" /* open";
    let scanned: Vec<&str> = super::scan::scan(super::ast::FileId(0), text, 0)
        .comments
        .iter()
        .map(|c| &text[c.span.start as usize..c.span.end as usize])
        .collect();
    let lexed: Vec<&str> = lexer::tokens(text, 0)
        .iter()
        .filter(|t| t.kind == Kind::Comment)
        .map(|t| t.text(text))
        .collect();
    assert_eq!(scanned, vec!["// yes", "/* c */", "/* open"]);
    assert_eq!(scanned, lexed);
}
