//! Parsing in chunks on several threads gives exactly what one parse of the whole text
//! gives: the same items, comments and diagnostics, in the same order, with the same spans.

use super::*;
use agentc_gen::programs as generate;

const F: FileId = FileId(0);

fn assert_same_on_any_split(text: &str) {
    let whole = parse_on(F, text, 1, Engine::Descent);
    for threads in [2, 3, 7] {
        let split = parse_on(F, text, threads, Engine::Descent);
        assert_eq!(split.file, whole.file, "items differ with {threads} chunks");
        assert_eq!(
            split.diagnostics, whole.diagnostics,
            "diagnostics differ with {threads} chunks"
        );
    }
}

#[test]
fn generated_programs() {
    for seed in 0..4 {
        let text = generate::program_of_units(30, seed);
        assert!(parse_on(F, &text, 1, Engine::Descent)
            .diagnostics
            .is_empty());
        assert_same_on_any_split(&text);
    }
}

#[test]
fn the_examples() {
    for program in super::descent_tests::example_programs() {
        assert_same_on_any_split(&program);
    }
}

/// Breaks one declaration in the middle of a generated program in `how`.
fn broken(how: &str) -> String {
    let text = generate::program_of_units(12, 7);
    let at = text.len() / 2;
    let at = at + text[at..].find("\naction ").unwrap() + 1;
    format!("{}{how}\n\n{}", &text[..at], &text[at..])
}

#[test]
fn programs_with_errors() {
    for how in [
        // pest fails: recovery takes over in both cases.
        "action oops { target }",
        "reply r { text: \"a\" \"b\" }",
        // The scanner objects.
        "action oops { target: x",
        "reply r { text: \"never closed }",
        "action oops { target: x ) }",
        // The builder objects while the parse succeeds.
        "action action { target: 5x }",
        "action a { when: 1 < 2 < 3 }",
    ] {
        assert_same_on_any_split(&broken(how));
    }
}

#[test]
fn too_deep_is_reported_once_across_chunks() {
    let deep = format!(
        "action deep {{ when: {}x }}\n\n",
        "not ".repeat(MAX_DEPTH + 1)
    );
    let program = generate::program_of_units(6, 3);
    let text = format!("{program}{deep}{program}{deep}");
    let whole = parse_on(F, &text, 1, Engine::Descent);
    let deep_count = |p: &Parsed| {
        p.diagnostics
            .iter()
            .filter(|d| d.code == Code::TooDeep)
            .count()
    };
    assert_eq!(deep_count(&whole), 1);
    assert_same_on_any_split(&text);
}

/// A chunk is blanked and parsed a piece at a time: the tree, its comments and its
/// diagnostics are those pest and the builder make of the whole text blanked at once, for a
/// text of many pieces with comments in each and a too-deep expression in two of them.
#[test]
fn pieces_give_what_the_whole_text_gives() {
    let deep = format!(
        "// too deep\naction deep {{ when: {}x }}\n\n",
        "not ".repeat(MAX_DEPTH + 1)
    );
    let program = generate::program_of_units(30, 1).replace("\naction ", "\n// a note\naction ");
    let text = format!("{program}{program}{deep}{program}{program}{deep}{program}");
    assert!(
        text.len() > 3 * PIECE_BYTES,
        "{} bytes: too few pieces",
        text.len()
    );
    let scanned = scan::scan(F, &text, 0);
    let blanked = blank(&text, 0, &scanned.comments);
    let pair = AgentParser::parse(Rule::file, &blanked)
        .unwrap()
        .next()
        .unwrap();
    let (mut items, mut diagnostics) = (Vec::new(), Vec::new());
    Builder::new(F, 0, &text, &mut diagnostics).items(pair, &mut items);
    for engine in [Engine::Descent, Engine::Pest] {
        let pieces = parse_on(F, &text, 1, engine);
        assert_eq!(pieces.file.items, items, "{engine:?}");
        assert_eq!(pieces.file.comments, scanned.comments, "{engine:?}");
        assert_eq!(pieces.diagnostics, diagnostics, "{engine:?}");
    }
    assert_same_on_any_split(&text);
}
