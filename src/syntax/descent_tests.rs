//! The descent parser agrees with pest: on any text, parsing with it first gives exactly
//! what pest alone gives (tree, comments, diagnostics, spans), and on clean programs it
//! does the work itself instead of giving up.

use proptest::prelude::*;

use super::*;
use ast::{BinOp, ExprKind, Prec, UnOp};

// The formatter tests' generator: noisy layouts, comments, every string form.
use agentc_gen::forms::FORMS;
use agentc_gen::layout as layout_gen;

const F: FileId = FileId(0);

/// What the descent parser alone makes of `text` (`None`: it gives up or the scan fails).
fn descent_alone(text: &str) -> Option<Vec<ast::Item>> {
    let (body, base) = decode::strip_bom(text);
    let scanned = scan::scan(F, body, base);
    if !scanned.problems.is_empty() || !scanned.stray_closers.is_empty() {
        return None;
    }
    let blanked = blank(body, base, &scanned.comments);
    descent::parse_items(F, base, body, &blanked)
}

/// Both engines give the same result on `text`.
fn assert_agree(text: &str) {
    let fast = parse_on(F, text, 1, Engine::Descent);
    let reference = parse_on(F, text, 1, Engine::Pest);
    assert_eq!(fast.file, reference.file, "trees differ on:\n{text}");
    assert_eq!(
        fast.diagnostics, reference.diagnostics,
        "diagnostics differ on:\n{text}"
    );
}

/// The descent parser reads `text` by itself, and as pest does.
fn assert_read_alone(text: &str) {
    let items = descent_alone(text).unwrap_or_else(|| panic!("descent gave up on:\n{text}"));
    let reference = parse_on(F, text, 1, Engine::Pest);
    assert!(
        reference.diagnostics.is_empty(),
        "{:?}",
        reference.diagnostics
    );
    assert_eq!(items, reference.file.items, "trees differ on:\n{text}");
}

/// The text of every `.agent` file in `examples/`.
pub(super) fn example_programs() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let mut programs = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        for file in std::fs::read_dir(entry.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if file.path().extension().is_some_and(|e| e == "agent") {
                programs.push(std::fs::read_to_string(file.path()).unwrap());
            }
        }
    }
    assert!(
        programs.len() >= 5,
        "the examples moved? found {}",
        programs.len()
    );
    programs
}

#[test]
fn reads_the_examples_alone() {
    for program in example_programs() {
        assert_read_alone(&program);
    }
}

#[test]
fn reads_the_benchmark_programs_alone() {
    for seed in 0..4 {
        assert_read_alone(&agentc_gen::programs::program_of_units(20, seed));
    }
}

/// `\}` is an escape like `\{` (docs/language.md), in both engines and both string forms.
#[test]
fn reads_the_closing_brace_escape() {
    let text = "reply r { text: \"\\{x\\} and }\", voice: \"\"\"\n  \\}\n  \"\"\" }\n";
    assert_read_alone(text);
    let parsed = parse(F, text);
    let ast::Item::Reply(reply) = &parsed.file.items[0] else {
        panic!("a reply: {:?}", parsed.file.items);
    };
    let texts: Vec<Option<String>> = reply
        .fields
        .iter()
        .map(|f| match &f.value.kind {
            ast::ExprKind::Str(lit, _) => lit.as_plain(),
            _ => None,
        })
        .collect();
    assert_eq!(texts, [Some("{x} and }".into()), Some("}".into())]);
}

#[test]
fn gives_up_where_the_builder_reports() {
    let cases = [
        "action on { target: conversation }",
        "action a { target: conversation, when: x == 1 == 2 }",
        "action a { target: conversation, when: 5x }",
        "action a { target: conversation, when: \"\\q\" }",
        "action a { target: conversation, when: if }",
        "action a { target: conversation, when: then }",
        "import \"{x}.agent\"",
        "test \"t {x}\" { send message_received }",
        "action a { target: conversation, when: { \"{k}\": 1 } }",
        "agent a { params: { on: text } }",
        "on message_received do a, on",
        "on message_received, on do a",
        "test \"t\" {\n  send usecase on\n}",
        "test \"t\" {\n  mock api GET \"/x\" -> if\n}",
        "action a { target: conversation, when: if(1) }",
    ];
    for text in cases {
        assert!(descent_alone(text).is_none(), "did not give up on {text}");
        assert!(!parse(F, text).diagnostics.is_empty(), "{text}");
        assert_agree(text);
    }
}

#[test]
fn follows_the_grammar_where_it_backtracks() {
    for text in FORMS {
        assert_read_alone(text);
    }
}

/// The rules pest used to read `text`.
fn rules_in(text: &str, seen: &mut std::collections::HashSet<Rule>) {
    let (body, base) = decode::strip_bom(text);
    let scanned = scan::scan(F, body, base);
    let blanked = blank(body, base, &scanned.comments);
    let mut stack: Vec<_> = AgentParser::parse(Rule::file, &blanked)
        .unwrap_or_else(|e| panic!("{e}"))
        .collect();
    while let Some(pair) = stack.pop() {
        seen.insert(pair.as_rule());
        stack.extend(pair.into_inner());
    }
}

/// Every rule of the grammar is used by a text the descent parser reads alone. A rule added
/// to pest only fails here: no text uses it yet (add one to `agentc_gen::forms::FORMS`), or descent gives up
/// on the text that does (teach `descent` the rule), or reads it differently.
#[test]
fn descent_reads_every_rule_of_the_grammar_alone() {
    let spec = include_str!("../../tests/data/spec_examples.agent");
    let mut texts: Vec<String> = example_programs();
    texts.push(spec.to_string());
    texts.extend(FORMS.iter().map(|t| t.to_string()));
    let mut seen = std::collections::HashSet::new();
    for text in &texts {
        assert_read_alone(text);
        rules_in(text, &mut seen);
    }
    // The REPL's entry points, read by pest alone (descent reads whole files), and the
    // silent rules (`_{ … }`), which never appear in a parse.
    let entry_points = [Rule::expr_input, Rule::steps, Rule::EOI];
    let grammar = include_str!("../../grammar/agent.pest");
    let silent = |rule: &Rule| {
        let name = format!("{rule:?}");
        grammar.lines().any(|line| {
            let words: Vec<&str> = line.split_whitespace().take(3).collect();
            words == [name.as_str(), "=", "_{"]
        })
    };
    let unused: Vec<_> = Rule::all_rules()
        .iter()
        .filter(|r| !seen.contains(r) && !entry_points.contains(r) && !silent(r))
        .collect();
    assert!(
        unused.is_empty(),
        "no text the descent parser reads uses {unused:?}"
    );
}

/// The shape of an expression's operators, `(p + q) * r` as `*(+(p q) r)`.
fn shape(e: &ast::Expr) -> String {
    match &e.kind {
        ExprKind::Binary(op, operands) => {
            let [l, r] = &**operands;
            format!("{}({} {})", op.symbol(), shape(l), shape(r))
        }
        ExprKind::Unary(op, x) => format!("{op:?}({})", shape(x)),
        ExprKind::Name(name) => name.to_string(),
        other => format!("{other:?}"),
    }
}

/// The `when` of `action x { when: EXPR }` as each parser reads it: descent alone, pest alone.
fn shapes_of(expr: &str) -> [String; 2] {
    let text = format!("action x {{ when: {expr} }}");
    let when = |items: &[ast::Item]| match &items[0] {
        ast::Item::Action(a) => shape(&a.fields[0].value),
        other => panic!("{other:?}"),
    };
    let descent = descent_alone(&text).unwrap_or_else(|| panic!("descent gave up on {text}"));
    let pest = parse_on(F, &text, 1, Engine::Pest);
    assert!(
        pest.diagnostics.is_empty(),
        "{text}: {:?}",
        pest.diagnostics
    );
    [when(&descent), when(&pest.file.items)]
}

/// Both parsers climb by the AST's one precedence table, `Prec`: for every pair of binary
/// operators, and for each prefix operator before each binary one, the tree is the one
/// `Prec` predicts. (An operator added to one parser only, or at another level, fails here.)
#[test]
fn both_parsers_follow_the_one_precedence_table() {
    for a in BinOp::ALL {
        for b in BinOp::ALL {
            if a.prec() == Prec::Compare && b.prec() == Prec::Compare {
                continue; // comparisons do not chain: an error, checked elsewhere
            }
            let (x, y) = (a.symbol(), b.symbol());
            let wanted = if a.prec() >= b.prec() {
                format!("{y}({x}(p q) r)")
            } else {
                format!("{x}(p {y}(q r))")
            };
            for got in shapes_of(&format!("p {x} q {y} r")) {
                assert_eq!(got, wanted, "p {x} q {y} r");
            }
        }
        for (op, written) in [(UnOp::Not, "not "), (UnOp::Neg, "-")] {
            let x = a.symbol();
            let wanted = if a.prec() > op.prec() {
                format!("{op:?}({x}(p q))")
            } else {
                format!("{x}({op:?}(p) q)")
            };
            for got in shapes_of(&format!("{written}p {x} q")) {
                assert_eq!(got, wanted, "{written}p {x} q");
            }
        }
    }
}

/// A few random edits of a valid program: what people have in their editor mid-change.
fn mutated(program: &str, edits: &[(usize, usize, usize)]) -> String {
    const PIECES: &[&str] = &[
        "", " ", "\n", ",", "(", ")", "{", "}", "[", "]", "\"", ":", ".", "-", ">", "->", "==",
        "=", "?", "??", "not ", " and ", " in ", "if ", " then ", " else ", "on", "do", "x", "1",
        "5m", "\"{a}\"", "\\n", "usecase", "params", "when ", "// c\n", "/* c */",
    ];
    let mut text = program.to_string();
    for &(at, len, piece) in edits {
        let mut start = at % (text.len() + 1);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + len % 8).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        text.replace_range(start..end, PIECES[piece % PIECES.len()]);
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn agrees_on_generated_layouts(seed in any::<u64>()) {
        let program = layout_gen::Gen::program(seed);
        assert_read_alone(&program);
    }

    #[test]
    fn agrees_on_edited_programs(
        seed in any::<u64>(),
        edits in prop::collection::vec((any::<usize>(), any::<usize>(), any::<usize>()), 1..4),
    ) {
        let program = layout_gen::Gen::program(seed);
        assert_agree(&mutated(&program, &edits));
    }

    #[test]
    fn agrees_on_edited_examples(
        which in any::<usize>(),
        edits in prop::collection::vec((any::<usize>(), any::<usize>(), any::<usize>()), 1..4),
    ) {
        let programs = example_programs();
        assert_agree(&mutated(&programs[which % programs.len()], &edits));
    }
}

/// Many edited programs, counted: a good share are still read by the descent parser (and
/// must read as pest does); the others must fall back to exactly pest's result.
#[test]
fn edited_programs_are_mostly_read_alone_and_always_agree() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let programs = example_programs();
    let (mut alone, total) = (0, 600);
    for k in 0..total {
        let program = &programs[k % programs.len()];
        let edits: Vec<_> = (0..rng.gen_range(1..3))
            .map(|_| (rng.gen(), rng.gen(), rng.gen()))
            .collect();
        let text = mutated(program, &edits);
        assert_agree(&text);
        alone += usize::from(descent_alone(&text).is_some());
    }
    eprintln!("read alone: {alone} of {total}");
    assert!(alone > total / 10, "only {alone} of {total} read alone");
}
