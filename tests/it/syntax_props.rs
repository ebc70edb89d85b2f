//! Property tests for the parser: arbitrary and mutated input never panics and keeps its
//! spans inside the text; generated valid programs parse without a diagnostic.

use agentc::diagnostics::FileId;
use agentc::syntax::{self, ast::Item};
use proptest::prelude::*;

const SPEC: &str = include_str!("../data/spec_examples.agent");

/// Parses and checks that every span is a valid slice of `text`.
fn parse_in_bounds(text: &str) -> syntax::Parsed {
    let parsed = syntax::parse(FileId(0), text);
    for d in &parsed.diagnostics {
        assert!(d.help.is_some(), "{d:?}");
        for label in &d.labels {
            let r = label.span.range();
            assert!(r.start <= r.end && r.end <= text.len(), "{d:?}");
            assert!(
                text.is_char_boundary(r.start) && text.is_char_boundary(r.end),
                "{d:?}"
            );
        }
    }
    for item in &parsed.file.items {
        let r = item.span().range();
        assert!(
            r.end <= text.len() && text.is_char_boundary(r.start) && text.is_char_boundary(r.end)
        );
    }
    parsed
}

/// Pieces of the language, to insert where they do not belong.
const SNIPPETS: &[&str] = &[
    "{", "}", "(", ")", "[", "]", "\"", "\"\"\"", "/*", "*/", "//", "\n", ",", ":", ".", "->",
    "{x}", "\\", "\\u{", "not ", " and ", "if ", " then ", " else ", "action ", "on ", "do ", "5x",
    "1.5.5", "é", "😀", "\r\n", "\u{FEFF}", "\0",
];

fn floor(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A valid expression, as source text.
fn expr() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        "[a-z][a-z0-9_]{0,6}".prop_filter("not a keyword", |n| !syntax::is_keyword(n)),
        (0u32..10_000).prop_map(|n| n.to_string()),
        (
            0u32..100,
            prop::sample::select(vec!["ms", "s", "m", "h", "d"])
        )
            .prop_map(|(n, u)| format!("{n}{u}")),
        "[a-zA-Z0-9 !?.,]{0,12}".prop_map(|s| format!("\"{s}\"")),
        Just("null".to_string()),
        Just("true".to_string()),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec!["+", "-", "*", "/", "%", "??", "and", "or"]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            (
                inner.clone(),
                prop::sample::select(vec!["==", "!=", "<", "<=", ">", ">=", "in"]),
                inner.clone()
            )
                // Comparisons do not chain: the whole comparison is parenthesised so an
                // enclosing operator cannot make `a == b + c == d`.
                .prop_map(|(a, op, b)| format!("(({a}) {op} ({b}))")),
            inner.clone().prop_map(|a| format!("not ({a})")),
            inner.clone().prop_map(|a| format!("-({a})")),
            inner.clone().prop_map(|a| format!("({a}).field")),
            (inner.clone(), inner.clone()).prop_map(|(a, i)| format!("({a})[{i}]")),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec(inner.clone(), 0..3)
                .prop_map(|v| format!("[\n{}\n]", v.join("\n"))),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| {
                let entries: Vec<String> = v
                    .iter()
                    .enumerate()
                    .map(|(i, e)| format!("k{i}: {e}"))
                    .collect();
                format!("{{ {} }}", entries.join(", "))
            }),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("f({a}, named: {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("if {c} then {a} else {b}")),
            // A `"` string stays on one line, even inside its interpolations.
            inner.prop_map(|a| if a.contains('\n') {
                format!("\"\"\"text {{{a}}} more\"\"\"")
            } else {
                format!("\"text {{{a}}} more\"")
            }),
        ]
    })
    .boxed()
}

/// A valid declaration, as source text.
fn item() -> impl Strategy<Value = String> {
    let name = "[a-z][a-z0-9_]{0,8}".prop_filter("not a keyword", |n| !syntax::is_keyword(n));
    let fields = prop::collection::vec((name.clone(), expr()), 0..4)
        .prop_map(|fields| {
            fields
                .iter()
                .map(|(k, v)| format!("  {k}: {v}\n"))
                .collect::<String>()
        })
        .boxed();
    prop_oneof![
        (name.clone(), fields.clone()).prop_map(|(n, f)| format!("action {n} {{\n{f}}}")),
        (name.clone(), fields.clone()).prop_map(|(n, f)| format!("reply {n} {{\n{f}}}")),
        (name.clone(), name.clone(), fields.clone()).prop_map(|(n, k, f)| format!("target {n}: {k} {{\n{f}}}")),
        (name.clone(), name.clone(), fields).prop_map(|(n, t, f)| format!("task {n}(a: text, b: number?, c: bool = true) on {t} {{\n{f}}}")),
        (name.clone(), expr(), prop::collection::vec(name.clone(), 1..4))
            .prop_map(|(e, w, a)| format!("on {e} when {w} do {}", a.join(", "))),
        (name.clone(), name.clone()).prop_map(|(u, a)| format!("in usecase {u} do {a}")),
        (name.clone(), name.clone(), name.clone()).prop_map(|(u, b, a)| format!("at block {u}.{b} do {a}")),
        name.clone().prop_map(|a| format!("after call do {a}")),
        (name.clone(), expr()).prop_map(|(t, e)| format!("test \"t\" {{\n  mock {t} GET \"/x\" -> 200 {{ a: {e} }}\n  send wait 5m\n  expect param {e}\n}}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        parse_in_bounds(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let text = match syntax::decode(&bytes) {
            Ok(text) => text,
            Err(error) => error.text,
        };
        parse_in_bounds(&text);
        for entry in [syntax::Entry::Declarations, syntax::Entry::Expression, syntax::Entry::Arguments] {
            syntax::is_incomplete(&text, entry);
        }
        let _ = syntax::parse_expr(FileId(0), &text);
        let _ = syntax::parse_test_steps(FileId(0), &text);
    }

    #[test]
    fn deletions_from_a_valid_program(start in 0usize..SPEC.len(), len in 0usize..200) {
        let start = floor(SPEC, start);
        let end = floor(SPEC, start + len);
        let text = format!("{}{}", &SPEC[..start], &SPEC[end..]);
        parse_in_bounds(&text);
    }

    #[test]
    fn insertions_into_a_valid_program(
        inserts in prop::collection::vec((0usize..SPEC.len(), prop::sample::select(SNIPPETS)), 1..4)
    ) {
        let mut text = SPEC.to_string();
        for (at, snippet) in inserts {
            let at = floor(&text, at);
            text.insert_str(at, snippet);
        }
        parse_in_bounds(&text);
    }

    #[test]
    fn generated_programs_parse_cleanly(items in prop::collection::vec(item(), 0..8)) {
        let text = items.join("\n\n") + "\n";
        let parsed = parse_in_bounds(&text);
        prop_assert!(parsed.diagnostics.is_empty(), "{text}\n{:#?}", parsed.diagnostics);
        prop_assert_eq!(parsed.file.items.len(), items.len());
        for (item, source) in parsed.file.items.iter().zip(&items) {
            prop_assert_eq!(&text[item.span().range()], source.as_str());
            prop_assert!(!matches!(item, Item::Import(_)));
        }
    }

    #[test]
    fn generated_expressions_parse_cleanly(e in expr()) {
        let (parsed, diagnostics) = syntax::parse_expr(FileId(0), &e);
        prop_assert!(diagnostics.is_empty(), "{e}\n{diagnostics:#?}");
        let parsed = parsed.expect("an expression");
        prop_assert_eq!(&e[parsed.span.range()], e.as_str());
    }
}
