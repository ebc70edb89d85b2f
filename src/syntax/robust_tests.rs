//! Hostile input: nothing may panic, hang or overflow the stack, and every span stays on
//! character boundaries inside the text. These run on the test harness's small (2 MiB)
//! thread stacks on purpose.

use super::*;

const F: FileId = FileId(0);

/// Parses `text` and checks every diagnostic span; returns the diagnostic codes.
fn codes(text: &str) -> Vec<Code> {
    let parsed = parse(F, text);
    for d in &parsed.diagnostics {
        for label in &d.labels {
            let r = label.span.range();
            assert!(r.start <= r.end && r.end <= text.len(), "{d:?}");
            assert!(
                text.is_char_boundary(r.start) && text.is_char_boundary(r.end),
                "{d:?}"
            );
        }
        assert!(
            d.help.is_some(),
            "every syntax error says what to do: {d:?}"
        );
    }
    parsed.diagnostics.iter().map(|d| d.code).collect()
}

fn in_action(expr: &str) -> String {
    format!("action a {{\n  target: conversation\n  when: {expr}\n}}\n")
}

#[test]
fn deep_brackets_are_refused_before_recursing() {
    for (open, close) in [("(", ")"), ("[", "]"), ("{", "}")] {
        let text = in_action(&format!("{}1{}", open.repeat(10_000), close.repeat(10_000)));
        assert_eq!(codes(&text), [Code::TooDeep]);
        let unbalanced = open.repeat(10_000);
        assert!(codes(&unbalanced).contains(&Code::TooDeep));
    }
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let depth = MAX_DEPTH - 4;
    let text = in_action(&format!("{}1{}", "[".repeat(depth), "]".repeat(depth)));
    assert_eq!(codes(&text), []);
    let text = in_action(&format!("{}1{}", "(".repeat(depth), ")".repeat(depth)));
    assert_eq!(codes(&text), []);
}

#[test]
fn long_operator_chains() {
    let text = in_action(&"not ".repeat(100_000));
    assert!(!codes(&text).is_empty());
    let text = in_action(&format!("{}x", "not ".repeat(100_000)));
    assert_eq!(codes(&text), [Code::TooDeep]);
    let text = in_action(&format!("{}x", "-".repeat(100_000)));
    assert_eq!(codes(&text), [Code::TooDeep]);
    let text = in_action(&format!("1{}", "+1".repeat(1_000_000)));
    assert_eq!(codes(&text), [Code::TooDeep]);
    let text = in_action(&format!("x{}", ".y".repeat(100_000)));
    assert_eq!(codes(&text), [Code::TooDeep]);
    let text = in_action(&format!("x{}", "[0]".repeat(100_000)));
    assert_eq!(codes(&text), [Code::TooDeep]);
    let text = in_action(&format!(
        "{}1{}",
        "if c then ".repeat(10_000),
        " else 2".repeat(10_000)
    ));
    assert_eq!(codes(&text), [Code::TooDeep]);
    let text = in_action(&format!("{}0", "if c then 1 else ".repeat(10_000)));
    assert_eq!(codes(&text), [Code::TooDeep]);
}

#[test]
fn nested_interpolation() {
    let mut s = String::from("1");
    for _ in 0..1_000 {
        s = format!("\"{{{s}}}\"");
    }
    assert_eq!(codes(&in_action(&s)), [Code::TooDeep]);
}

#[test]
fn unterminated_at_end_of_file() {
    for text in [
        "reply r { text: \"abc",
        "reply r { text: \"\"\"abc",
        "/* abc",
        "reply r { text: \"{",
        "action a {",
        "\"",
        "\"\"\"",
        "/*",
    ] {
        assert!(!codes(text).is_empty(), "{text:?}");
    }
}

#[test]
fn empty_and_odd_inputs() {
    for text in [
        "",
        "\u{FEFF}",
        "\n\r\n",
        "\r",
        "//",
        "}",
        ")",
        "]",
        "{",
        "\"\"\"\"\"\"",
        "é",
        "\u{FEFF}\u{FEFF}",
        "\0",
        "a\0b",
        "ኺ{",
        "aኺ: {",
        "action ኺ {",
    ] {
        codes(text);
    }
}

#[test]
fn many_errors_are_capped() {
    let text = "action a { target: }\n".repeat(200);
    let found = codes(&text);
    assert_eq!(found.len(), MAX_ERRORS + 1);
    assert_eq!(found.last(), Some(&Code::TooManyErrors));
}

#[test]
fn pseudo_random_bytes() {
    // A small xorshift generator: deterministic, no dependency.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: Vec<char> =
        "action{}()[]\"\\:,.\n /*-+<=>?!not if then else 0123456789ms é😀\t\r\u{FEFF}"
            .chars()
            .collect();
    for _ in 0..300 {
        let len = (next() % 200) as usize;
        let text: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        codes(&text);
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        codes(&String::from_utf8_lossy(&bytes));
    }
}
