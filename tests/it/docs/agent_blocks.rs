//! Every ```agent block of the documentation is a program `agentc check` accepts, unless
//! the comment line just before its fence says otherwise:
//!
//! - `<!-- fragment: declarations -->`, `<!-- fragment: fields -->` (lines inside a block),
//!   `<!-- fragment: steps -->` (lines of a `test` block) or `<!-- fragment: expression -->`:
//!   a piece of a program, parsed as what it says (so a typo still fails) but not checked;
//! - `<!-- expect E0403 -->` (one or more codes): a program that gets these diagnostics
//!   (a warning's code may be listed too) and no error of another code.

use super::markdown::{all_blocks, Block};
use agentc::check::{check_program, MemoryLoader};
use agentc::diagnostics::{Diagnostic, FileId, Severity, SourceMap};
use agentc::syntax;

#[test]
fn every_agent_block_in_the_docs_checks_as_it_says() {
    let problems: Vec<String> = all_blocks()
        .iter()
        .filter(|b| b.info == "agent")
        .filter_map(|b| verdict(b).err().map(|why| format!("{}: {why}", b.place())))
        .collect();
    assert!(
        problems.is_empty(),
        "agent blocks in the docs that do not hold:\n{}",
        problems.join("\n")
    );
}

fn verdict(block: &Block) -> Result<(), String> {
    let text = block.text.as_str();
    match block.marker.as_deref() {
        None => no_errors(&check(text)),
        Some(marker) => match marker.strip_prefix("fragment:").map(str::trim) {
            Some("declarations") => clean(syntax::parse(FileId::default(), text).diagnostics),
            Some("fields") => {
                let wrapped = format!("action fragment {{\n{text}}}\n");
                clean(syntax::parse(FileId::default(), &wrapped).diagnostics)
            }
            Some("steps") => clean(syntax::parse_test_steps(FileId::default(), text).1),
            Some("expression") => clean(syntax::parse_expr(FileId::default(), text).1),
            Some(other) => Err(format!("unknown fragment kind `{other}`")),
            None => match marker.strip_prefix("expect ") {
                Some(codes) => fails_with(&check(text), codes),
                None => Err(format!("unknown marker `<!-- {marker} -->`")),
            },
        },
    }
}

fn check(text: &str) -> Vec<Diagnostic> {
    let mut sources = SourceMap::new();
    let root = sources.add("block.agent", text);
    check_program(&mut sources, root, &mut MemoryLoader::new()).diagnostics
}

fn errors(diagnostics: &[Diagnostic]) -> Vec<&Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

fn describe(diagnostics: &[&Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn no_errors(diagnostics: &[Diagnostic]) -> Result<(), String> {
    let errors = errors(diagnostics);
    if errors.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} (mark it `<!-- fragment: … -->` or `<!-- expect CODE -->` if it is meant so)",
        describe(&errors)
    ))
}

fn clean(diagnostics: Vec<Diagnostic>) -> Result<(), String> {
    no_errors(&diagnostics)
}

fn fails_with(diagnostics: &[Diagnostic], codes: &str) -> Result<(), String> {
    let wanted: Vec<&str> = codes.split_whitespace().collect();
    let found: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
    let errors = errors(diagnostics);
    let missing: Vec<&&str> = wanted.iter().filter(|c| !found.contains(c)).collect();
    let other: Vec<&Diagnostic> = errors
        .iter()
        .copied()
        .filter(|d| !wanted.contains(&d.code.as_str()))
        .collect();
    if missing.is_empty() && other.is_empty() {
        return Ok(());
    }
    let all: Vec<&Diagnostic> = diagnostics.iter().collect();
    Err(format!(
        "expected {codes}, got: {}",
        if all.is_empty() {
            "nothing".to_string()
        } else {
            describe(&all)
        }
    ))
}

/// The markers are read from the line before the fence, and each one can fail.
#[test]
fn agent_block_markers_fail_what_they_should() {
    let doc = "\
<!-- fragment: steps -->
```agent
send message_received { text: \"hi\" }
expect ran
```

<!-- expect E0201 -->
```agent
agent a {
  channels: [chat]
}
```

<!-- fragment: expresion -->
```agent
1 + 2
```

```agent
reply r { text: \"no agent\" }
```
";
    let verdicts: Vec<bool> = super::markdown::blocks("sample.md", doc)
        .iter()
        .map(|b| verdict(b).is_ok())
        .collect();
    assert_eq!(verdicts, [false, false, false, false]);
    let fine = "\
<!-- fragment: expression -->
```agent
1 + 2
```
<!-- expect W0602 -->
```agent
agent a {
  channels: [chat]
}
reply r { text: \"never sent\" }
```
<!-- expect E0201 -->
```agent
agent a {
  channels: [chat]
}
reply r { text: \"{nope}\" }
on conversation_started reply r
```
";
    let blocks = super::markdown::blocks("fine.md", fine);
    assert_eq!(blocks[0].line, 2);
    for block in &blocks {
        assert_eq!(verdict(block), Ok(()), "{}", block.place());
    }
}
