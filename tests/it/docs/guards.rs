//! ARCHITECTURE.md and CONTRIBUTING.md name the test that guards each invariant and each
//! checklist step. A test renamed or moved leaves the claim pointing at nothing, and no
//! other test notices: here every test name, file and directory they cite must exist.

use super::markdown::ROOT;
use std::collections::BTreeSet;
use std::path::Path;

/// Where cited tests and files live.
const TREES: &[&str] = &[
    "src", "tests", "benches", "gen", "fuzz", "examples", "editors",
];

/// The documents whose citations are checked.
const DOCS: &[&str] = &["ARCHITECTURE.md", "CONTRIBUTING.md"];

/// Every file (relative to the repository, `/`-separated) and every `fn` name in `TREES`.
struct Tree {
    files: BTreeSet<String>,
    functions: BTreeSet<String>,
}

impl Tree {
    fn read() -> Tree {
        let mut tree = Tree {
            files: BTreeSet::new(),
            functions: BTreeSet::new(),
        };
        for top in TREES {
            tree.files.insert(top.to_string());
            tree.walk(&Path::new(ROOT).join(top));
        }
        tree
    }

    fn walk(&mut self, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.ends_with("target") {
                continue;
            }
            let relative = path.strip_prefix(ROOT).expect("under the root");
            self.files
                .insert(relative.to_string_lossy().replace('\\', "/"));
            if path.is_dir() {
                self.walk(&path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a readable source");
                self.functions.extend(function_names(&text));
            }
        }
    }

    /// A cited path exists: exactly, as a directory (`tests/check/soql/`), or, with `*`s,
    /// as some file matching it (`src/**/snapshots/`).
    fn has_path(&self, cited: &str) -> bool {
        let cited = cited.trim_end_matches('/');
        self.files.iter().any(|file| matches_wildcards(file, cited))
    }

    /// A cited test exists: exactly, or, ending in `*`, as a prefix of one.
    fn has_function(&self, cited: &str) -> bool {
        match cited.strip_suffix('*') {
            Some(prefix) => self.functions.iter().any(|f| f.starts_with(prefix)),
            None => self.functions.contains(cited),
        }
    }
}

/// `file` is `pattern`, where each `*` in the pattern stands for any text.
fn matches_wildcards(file: &str, pattern: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = file.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = parts.collect();
    let Some(last) = parts.pop() else {
        return rest.is_empty();
    };
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

fn function_names(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split("fn ").skip(1).filter_map(|after| {
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    })
}

/// The spans between backticks outside fenced blocks (a span may wrap onto the next line).
fn code_spans(doc: &str) -> impl Iterator<Item = &str> {
    doc.split("```")
        .step_by(2)
        .flat_map(|prose| prose.split('`').skip(1).step_by(2))
}

/// What a span cites: paths under one of `TREES`, and test names, taken as snake-case words
/// of four parts or more (`a_use_case_that_starts_itself`); a `*` stands for any ending.
fn citations(span: &str) -> Vec<Citation> {
    span.split([':', '{', '}', ',', ' ', '\n', '(', ')'])
        .filter(|piece| !piece.is_empty())
        .filter_map(|piece| {
            let piece = piece.trim_end_matches('.');
            // `tests/check/<area>/<name>.agent` is a pattern, not a citation.
            if piece.contains('<') {
                None
            } else if TREES
                .iter()
                .any(|top| piece.starts_with(&format!("{top}/")))
            {
                Some(Citation::Path(piece.to_string()))
            } else if piece
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_*".contains(c))
                && piece.matches('_').count() >= 3
            {
                Some(Citation::Test(piece.to_string()))
            } else {
                None
            }
        })
        .collect()
}

#[derive(Debug)]
enum Citation {
    Path(String),
    Test(String),
}

#[test]
fn every_test_and_file_the_architecture_cites_exists() {
    let tree = Tree::read();
    let mut missing = Vec::new();
    for doc in DOCS {
        let text = std::fs::read_to_string(Path::new(ROOT).join(doc)).expect("the document");
        for span in code_spans(&text) {
            for citation in citations(span) {
                let found = match &citation {
                    Citation::Path(path) => tree.has_path(path),
                    Citation::Test(name) => tree.has_function(name),
                };
                if !found {
                    missing.push(format!("{doc}: `{span}` cites {citation:?}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "cited but not found (renamed or moved?):\n{}",
        missing.join("\n")
    );
}

#[test]
fn a_citation_of_nothing_is_caught() {
    let tree = Tree::read();
    let cited = citations("tests/it/runtime.rs::{a_test_that_is_not_there_at_all, x}");
    assert!(matches!(&cited[0], Citation::Path(p) if tree.has_path(p)));
    assert!(matches!(&cited[1], Citation::Test(t) if !tree.has_function(t)));
    assert_eq!(cited.len(), 2, "{cited:?}");
}
