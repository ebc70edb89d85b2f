//! The VS Code extension in `editors/vscode`: its TextMate grammar knows every word the
//! language reserves (a keyword added to `src/syntax/keywords.rs` or to the grammar fails
//! here until it is coloured), and its own tests — the grammar's scope assertions and
//! snapshots over `examples/`, the extension's unit tests, `vsce package` — pass. Those
//! need Node.js and `npm ci` in `editors/vscode`: without them they are skipped with a
//! note, unless AGENTC_REQUIRE_NPM=1 (`.ci/deps.sh` installs them, `.ci/run` sets it).

use agentc::catalogue::scope::ROOTS;
use agentc::syntax::ast::EFFECTS;
use agentc::syntax::{DECLARATIONS, KEYWORDS};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn extension_dir() -> PathBuf {
    Path::new(ROOT).join("editors/vscode")
}

fn grammar() -> Value {
    let path = extension_dir().join("syntaxes/agent.tmLanguage.json");
    let text = std::fs::read_to_string(&path).expect("the TextMate grammar exists");
    serde_json::from_str(&text).expect("the TextMate grammar is JSON")
}

/// Every regular expression of the grammar, with the name of the repository rule it is in.
fn regexes(grammar: &Value) -> Vec<(String, String)> {
    fn walk(rule: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("match" | "begin" | "end", Value::String(regex)) => {
                            out.push((rule.to_string(), regex.clone()))
                        }
                        _ => walk(rule, value, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(rule, item, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("patterns", &grammar["patterns"], &mut out);
    for (name, rule) in grammar["repository"].as_object().expect("a repository") {
        walk(name, rule, &mut out);
    }
    out
}

/// The words of the alternation `(?:a|b|c)` that follows `prefix` in `regex`.
fn alternation_after(regex: &str, prefix: &str) -> Option<BTreeSet<String>> {
    let start = regex.find(prefix)? + prefix.len();
    let end = start + regex[start..].find(')')?;
    Some(regex[start..end].split('|').map(str::to_string).collect())
}

/// Whether `regex` spells `word` as a whole word (`\b` counts as a boundary).
fn spells(regex: &str, word: &str) -> bool {
    let regex = regex.replace("\\b", " ");
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    regex.match_indices(word).any(|(at, _)| {
        let before = regex[..at].chars().next_back();
        let after = regex[at + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

fn set<'a>(words: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    words.into_iter().map(str::to_string).collect()
}

/// The `reserved-words` rule lists exactly the language's keywords: one written where no
/// other rule expects it is still coloured as a keyword, and never as a name.
#[test]
fn the_textmate_grammar_reserves_every_keyword() {
    let grammar = grammar();
    let regex = grammar["repository"]["reserved-words"]["match"]
        .as_str()
        .expect("a reserved-words rule");
    let listed = alternation_after(regex, "\\b(?:").expect("an alternation of words");
    assert_eq!(
        listed,
        set(KEYWORDS.iter().copied()),
        "editors/vscode/syntaxes/agent.tmLanguage.json's `reserved-words` and \
         src/syntax/keywords.rs's KEYWORDS differ"
    );
}

/// Every block of the grammar that ends where a declaration starts in column 0 (as the
/// parser's recovery does) lists the first word of every declaration, and each
/// declaration's words are coloured by a rule of their own.
#[test]
fn the_textmate_grammar_knows_every_declaration() {
    let regexes = regexes(&grammar());
    let starts = set(DECLARATIONS.iter().map(|(first, _)| *first));
    let recoveries: Vec<&(String, String)> = regexes
        .iter()
        .filter(|(_, regex)| regex.contains("^(?=(?:"))
        .collect();
    assert!(recoveries.len() >= 4, "the blocks' recovery is gone");
    for (rule, regex) in recoveries {
        assert_eq!(
            alternation_after(regex, "^(?=(?:").as_ref(),
            Some(&starts),
            "rule `{rule}` ends at other words than the declarations' first ones"
        );
    }
    for (first, second) in DECLARATIONS {
        for word in std::iter::once(first).chain(second) {
            assert!(
                regexes.iter().any(|(rule, regex)| matches!(
                    rule.as_str(),
                    "declarations" | "task-declaration" | "import" | "test" | "bindings"
                ) && spells(regex, word)),
                "no declaration or binding rule of the TextMate grammar colours `{word}`"
            );
        }
    }
}

/// The words grammar/agent.pest reads as keywords only in their place (`k_ran`,
/// `k_wait`, …) and the effects `expect` names are coloured by a rule that knows the
/// place: a step word added to the grammar fails here until the TextMate grammar has it.
#[test]
fn the_textmate_grammar_knows_every_contextual_word() {
    let pest = std::fs::read_to_string(Path::new(ROOT).join("grammar/agent.pest"))
        .expect("grammar/agent.pest");
    let keyword_rules: Vec<&str> = pest
        .lines()
        .filter_map(|line| line.strip_prefix("k_")?.split_whitespace().next())
        .collect();
    assert!(
        keyword_rules.len() > 20,
        "the pest grammar's keyword rules moved"
    );
    let regexes = regexes(&grammar());
    let placed = |word: &str| {
        regexes
            .iter()
            .any(|(rule, regex)| rule != "reserved-words" && spells(regex, word))
    };
    let missing: Vec<&str> = keyword_rules
        .iter()
        .copied()
        .chain(EFFECTS.iter().copied())
        .filter(|word| !placed(word))
        .collect();
    assert!(
        missing.is_empty(),
        "words of grammar/agent.pest no rule of the TextMate grammar colours: {missing:?}"
    );
}

/// The `roots` rule colours exactly the built-in roots of the catalogue.
#[test]
fn the_textmate_grammar_knows_the_builtin_roots() {
    let grammar = grammar();
    let regex = grammar["repository"]["roots"]["match"]
        .as_str()
        .expect("a roots rule");
    assert_eq!(
        alternation_after(regex, "\\b(?:"),
        Some(set(ROOTS.iter().map(|root| root.name))),
        "the TextMate grammar's `roots` and src/catalogue/scope.rs's ROOTS differ"
    );
}

/// `test/snap/examples` links every `.agent` and `.mocks` file of `examples/`, so that the
/// snapshots cover each example and a new one fails until it is linked and snapshotted.
#[test]
fn the_grammar_snapshots_cover_every_example() {
    let examples = Path::new(ROOT).join("examples");
    let links = extension_dir().join("test/snap/examples");
    let wanted: BTreeSet<PathBuf> = files_under(&examples)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "agent" || e == "mocks"))
        .map(|p| p.strip_prefix(&examples).unwrap().to_path_buf())
        .collect();
    let linked: BTreeSet<PathBuf> = files_under(&links)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e != "snap"))
        .map(|p| p.strip_prefix(&links).unwrap().to_path_buf())
        .collect();
    assert_eq!(
        linked, wanted,
        "editors/vscode/test/snap/examples should link each example: from the repository, \
         `ln -s` each missing one (relative link), then `npm run snap:update` in editors/vscode"
    );
    for file in &linked {
        let link = links.join(file);
        assert!(
            link.is_symlink(),
            "{} is a copy, not a link",
            link.display()
        );
        assert_eq!(
            std::fs::canonicalize(&link).unwrap(),
            std::fs::canonicalize(examples.join(file)).unwrap(),
            "{} links another file",
            link.display()
        );
        let snap = PathBuf::from(format!("{}.snap", link.display()));
        assert!(
            snap.exists() || std::env::var("CI").as_deref() != Ok("true"),
            "{} has no snapshot: run `npm run snap:update` in editors/vscode and commit it",
            link.display()
        );
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.is_symlink() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Whether the extension's npm tools are installed; without them the tests that need them
/// are skipped with a note, unless AGENTC_REQUIRE_NPM=1.
fn npm_tools() -> bool {
    let installed = extension_dir()
        .join("node_modules/.bin/vscode-tmgrammar-test")
        .exists()
        && Command::new("node").arg("--version").output().is_ok();
    if !installed {
        assert!(
            std::env::var("AGENTC_REQUIRE_NPM").as_deref() != Ok("1"),
            "AGENTC_REQUIRE_NPM=1 but editors/vscode has no node_modules (run `npm ci` there)"
        );
        eprintln!("note: skipped, Node.js or `npm ci` in editors/vscode is missing");
    }
    installed
}

/// Runs an npm script of the extension, bounded in time (`timeout` stops npm and every
/// process it started), and fails with its output.
fn npm(args: &[&str]) {
    let output = Command::new("timeout")
        .args(["-k", "10", "300", "npm", "--silent"])
        .args(args)
        .current_dir(extension_dir())
        .output()
        .expect("timeout and npm run");
    assert!(
        output.status.success(),
        "`npm {}` in editors/vscode failed ({}):\n{}{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `npm test`: the extension's unit tests, the grammar's scope assertions
/// (`test/cases`) and its snapshots (`test/snap`, over the examples).
#[test]
fn the_extensions_own_tests_pass() {
    if npm_tools() {
        npm(&["test"]);
    }
}

/// `vsce package` builds an installable `.vsix` (offline) holding the extension, its
/// grammars and the language client it starts `agentc lsp` with, and no tests.
#[test]
fn the_extension_packages() {
    if !npm_tools() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let vsix = out.path().join("agentc.vsix");
    npm(&["run", "package", "--", "--out", vsix.to_str().unwrap()]);
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; print(*zipfile.ZipFile(sys.argv[1]).namelist(), sep='\\n')",
        ])
        .arg(&vsix)
        .output()
        .expect("python3 runs");
    let files = String::from_utf8_lossy(&listing.stdout);
    for wanted in [
        "extension/package.json",
        "extension/extension.js",
        "extension/server.js",
        "extension/language-configuration.json",
        "extension/syntaxes/agent.tmLanguage.json",
        "extension/syntaxes/agent-mocks.tmLanguage.json",
        "extension/node_modules/vscode-languageclient/node.js",
    ] {
        assert!(
            files.lines().any(|f| f == wanted),
            "{wanted} is not in the .vsix:\n{files}"
        );
    }
    assert!(
        !files.lines().any(|f| f.starts_with("extension/test/")),
        "the .vsix holds the tests:\n{files}"
    );
}

/// The grammar's hand-written cases are `.agent` (and `--mocks`) text as agentc reads it —
/// their scope assertions are comments — except the cases about mistakes: the assertions
/// are about the language, not about a dialect of the grammar's own.
#[test]
fn the_grammar_cases_are_agent_files() {
    let cases = extension_dir().join("test/cases");
    for (case, mistakes) in [
        ("declarations.agent", false),
        ("bindings.agent", false),
        ("tests.agent", false),
        ("lexical.agent", true),
        ("recovery.agent", true),
        ("mocks.mocks", false),
    ] {
        let text = std::fs::read_to_string(cases.join(case)).expect("a grammar case");
        let diagnostics = if case.ends_with(".mocks") {
            agentc::syntax::parse_test_steps(Default::default(), &text).1
        } else {
            agentc::syntax::parse(Default::default(), &text).diagnostics
        };
        assert_eq!(
            !diagnostics.is_empty(),
            mistakes,
            "{case}: {:#?}",
            diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
    }
}
