//! The language's reserved words and the words that start a declaration, kept once: the
//! builder and the descent parser refuse keywords as names, the scanner finds where
//! declarations start, syntax errors suggest them, and the REPL highlights, completes and
//! dispatches by them. The grammar (`grammar/agent.pest`) spells each out in its rules;
//! the test below checks this table against it.

/// The reserved words (docs/language.md, "Lexical structure"); `call` is only a keyword
/// after `before`/`after`.
pub const KEYWORDS: &[&str] = &[
    "agent", "target", "task", "action", "reply", "usecase", "on", "in", "at", "do", "when",
    "before", "after", "import", "test", "mock", "send", "expect", "true", "false", "null", "if",
    "then", "else", "and", "or", "not",
];

pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Every declaration's first word, with the word that must follow it where there is one
/// (`in usecase`, `before call`).
pub const DECLARATIONS: &[(&str, Option<&str>)] = &[
    ("agent", None),
    ("target", None),
    ("task", None),
    ("action", None),
    ("reply", None),
    ("usecase", None),
    ("on", None),
    ("in", Some("usecase")),
    ("at", Some("block")),
    ("before", Some("call")),
    ("after", Some("call")),
    ("import", None),
    ("test", None),
];

/// The declarations that declare a name, written after their first word (`action NAME`).
pub const NAMED: &[&str] = &["agent", "target", "task", "action", "reply", "usecase"];

/// Whether `word` is the first word of a declaration.
pub fn starts_declaration(word: &str) -> bool {
    DECLARATIONS.iter().any(|(first, _)| *first == word)
}

/// The first words of every declaration.
pub fn declaration_starts() -> impl Iterator<Item = &'static str> {
    DECLARATIONS.iter().map(|(first, _)| *first)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRAMMAR: &str = include_str!("../../grammar/agent.pest");

    /// The body of the rule `name = { … }` (or `_{ … }`) in the grammar.
    fn rule(name: &str) -> &'static str {
        let line = GRAMMAR
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name) && l.contains('='))
            .unwrap_or_else(|| panic!("no rule `{name}` in the grammar"));
        let body = &line[line.find('{').unwrap() + 1..];
        body.trim_end().trim_end_matches('}').trim()
    }

    /// The word a keyword rule (`k_in`) matches.
    fn keyword(token: &str) -> Option<String> {
        let name = token.trim().strip_prefix("k_")?;
        assert!(rule(token.trim()).contains(&format!("\"{name}\"")));
        assert!(
            is_keyword(name) || name == "call" || name == "block",
            "`{name}` is not reserved"
        );
        Some(name.to_string())
    }

    /// `DECLARATIONS` lists exactly the declarations of the grammar's `item` and `trigger`
    /// rules, each with the keywords it starts with: a declaration added to the grammar but
    /// not here (so the scanner would not see it start, nor the REPL complete it) fails.
    #[test]
    fn the_declarations_are_the_grammars() {
        let alternatives =
            |name: &str| -> Vec<&str> { rule(name).split('|').map(str::trim).collect::<Vec<_>>() };
        let mut from_grammar: Vec<(String, Option<String>)> = alternatives("item")
            .into_iter()
            .flat_map(|alt| {
                if alt == "binding" {
                    alternatives("trigger")
                } else {
                    vec![alt]
                }
            })
            .map(|alt| {
                let mut tokens = rule(alt).split('~');
                let first = keyword(tokens.next().unwrap())
                    .unwrap_or_else(|| panic!("`{alt}` does not start with a keyword"));
                (first, tokens.next().and_then(keyword))
            })
            .collect();
        let mut table: Vec<(String, Option<String>)> = DECLARATIONS
            .iter()
            .map(|(first, second)| (first.to_string(), second.map(str::to_string)))
            .collect();
        from_grammar.sort();
        table.sort();
        assert_eq!(table, from_grammar);
    }
}
