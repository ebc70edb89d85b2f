//! Every command output the documentation shows is what the binary prints. A block that
//! shows one says, on the line just before its fence, the command that prints it, run from
//! the repository's root: `<!-- output: agentc check examples/x.agent -->`, optionally in
//! another directory (`cd tests/data/docs && agentc …`) and keeping the lines that
//! contain a word (`… | grep c-1001`). A block whose first line is `$ agentc …` shows that
//! command, which must be the one in the marker. Timings (`12ms`) and local ports
//! (`127.0.0.1:40123`) are not compared. A ```console block, or any block starting with
//! `$ agentc`, that only illustrates says `<!-- illustrative -->`.
//! `AGENTC_UPDATE_DOCS=1 cargo test --test it docs::` rewrites the outputs from the binary.

use super::markdown::{all_blocks, Block, ROOT};
use assert_cmd::Command;
use regex::Regex;
use std::path::Path;

#[test]
fn every_documented_output_is_what_the_binary_prints() {
    let blocks = all_blocks();
    let unmarked: Vec<String> = blocks
        .iter()
        .filter(|b| shows_a_command(b) && b.marker.is_none())
        .map(Block::place)
        .collect();
    assert!(
        unmarked.is_empty(),
        "blocks that show a command's output without `<!-- output: … -->` or \
         `<!-- illustrative -->`:\n{}",
        unmarked.join("\n")
    );
    let update = std::env::var_os("AGENTC_UPDATE_DOCS").is_some();
    let mut stale = Vec::new();
    let mut rewrites: Vec<(&Block, String)> = Vec::new();
    for block in &blocks {
        let Some(command) = block
            .marker
            .as_deref()
            .and_then(|m| m.strip_prefix("output:"))
        else {
            continue;
        };
        let command = Marked::parse(command.trim()).unwrap_or_else(|why| {
            panic!("{}: {why}", block.place());
        });
        let (shown_command, shown) = split_prompt(&block.text);
        if let Some(shown_command) = shown_command {
            assert_eq!(
                shown_command,
                command.shown(),
                "{}: the block shows another command than its marker runs",
                block.place()
            );
        }
        let printed = command.run();
        if stable(shown) != stable(&printed) {
            if update {
                let prompt = shown_command.map_or(String::new(), |c| format!("$ {c}\n"));
                rewrites.push((block, format!("{prompt}{printed}")));
            } else {
                stale.push(format!(
                    "{} (`{}`) prints:\n{printed}",
                    block.place(),
                    command.shown()
                ));
            }
        }
    }
    rewrite(rewrites);
    assert!(
        stale.is_empty(),
        "documented outputs that the binary does not print (regenerate with \
         `AGENTC_UPDATE_DOCS=1 cargo test --test it docs::`):\n{}",
        stale.join("\n")
    );
}

/// A block that looks like a command's output and so must say what it is.
fn shows_a_command(block: &Block) -> bool {
    block.info == "console" || block.text.starts_with("$ agentc")
}

/// `$ COMMAND` on the block's first line, and the rest.
fn split_prompt(text: &str) -> (Option<&str>, &str) {
    match text.strip_prefix("$ ") {
        Some(rest) => {
            let (line, output) = rest.split_once('\n').unwrap_or((rest, ""));
            (Some(line), output)
        }
        None => (None, text),
    }
}

/// Output without what changes from run to run.
fn stable(text: &str) -> String {
    let timing = Regex::new(r"\b\d+ms\b").unwrap();
    let port = Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let text = timing.replace_all(text, "Nms");
    port.replace_all(&text, "127.0.0.1:PORT").into_owned()
}

/// What an `output:` marker runs.
struct Marked {
    dir: String,
    args: Vec<String>,
    grep: Option<String>,
}

impl Marked {
    fn parse(text: &str) -> Result<Self, String> {
        let (dir, rest) = match text.strip_prefix("cd ") {
            Some(rest) => rest
                .split_once(" && ")
                .map(|(d, r)| (d.to_string(), r))
                .ok_or("`cd DIR` is followed by `&& agentc …`")?,
            None => (".".to_string(), text),
        };
        let (rest, grep) = match rest.split_once(" | grep ") {
            Some((r, word)) => (r, Some(word.trim().to_string())),
            None => (rest, None),
        };
        let mut words = rest.split_whitespace();
        if words.next() != Some("agentc") {
            return Err(format!("`{text}` does not run `agentc`"));
        }
        let args: Vec<String> = words.map(str::to_string).collect();
        if args.iter().any(|a| a.contains(['"', '\'', '\\'])) {
            return Err(format!(
                "`{text}`: arguments are plain words, without quotes"
            ));
        }
        Ok(Marked { dir, args, grep })
    }

    /// The command as a reader types it (without `cd` and `grep`).
    fn shown(&self) -> String {
        format!("agentc {}", self.args.join(" "))
    }

    /// What the command prints (standard output, then standard error), kept to the lines
    /// with the `grep` word if any.
    fn run(&self) -> String {
        let output = Command::cargo_bin("agentc")
            .expect("the agentc binary")
            .current_dir(Path::new(ROOT).join(&self.dir))
            .args(&self.args)
            .env("NO_COLOR", "1")
            .env_remove("COLUMNS")
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .expect("agentc runs");
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        match &self.grep {
            None => text,
            Some(word) => text
                .lines()
                .filter(|l| l.contains(word.as_str()))
                .map(|l| format!("{l}\n"))
                .collect(),
        }
    }
}

/// Writes each block's new text into its file (`AGENTC_UPDATE_DOCS=1`).
fn rewrite(mut rewrites: Vec<(&Block, String)>) {
    // From the end of each file, so earlier ranges stay valid.
    rewrites.sort_by(|a, b| (&b.0.file, b.0.range.start).cmp(&(&a.0.file, a.0.range.start)));
    for (block, text) in rewrites {
        let path = Path::new(ROOT).join(&block.file);
        let mut doc = std::fs::read_to_string(&path).expect("the doc is readable");
        let indented: String = text
            .lines()
            .map(|l| format!("{}{l}\n", block.indent))
            .collect();
        doc.replace_range(block.range.clone(), &indented);
        std::fs::write(&path, doc).expect("write the doc");
    }
}

#[test]
fn output_markers_parse_and_compare_as_documented() {
    let marked = Marked::parse("cd tests/data/docs && agentc check acme.agent | grep error")
        .expect("a full marker");
    assert_eq!(marked.dir, "tests/data/docs");
    assert_eq!(marked.shown(), "agentc check acme.agent");
    assert_eq!(marked.grep.as_deref(), Some("error"));
    assert!(Marked::parse("cargo run -- check").is_err());
    assert!(Marked::parse("agentc check \"a b.agent\"").is_err());
    assert!(Marked::parse("cd tests agentc check").is_err());
    assert_eq!(
        stable("1 try 12ms GET http://127.0.0.1:40123/x"),
        stable("1 try 3ms GET http://127.0.0.1:5/x")
    );
    assert_ne!(stable("3 tries"), stable("2 tries"));
    let doc = "```console\n$ agentc repl a.agent\n```\n\n```text\n$ agentc check\nok\n```\n";
    let blocks = super::markdown::blocks("sample.md", doc);
    assert!(blocks
        .iter()
        .all(|b| shows_a_command(b) && b.marker.is_none()));
    assert_eq!(
        split_prompt(&blocks[1].text),
        (Some("agentc check"), "ok\n")
    );
}

/// README.md's `check` example is its tour program with the one binding the text says
/// changed, so the two cannot drift apart.
#[test]
fn the_readme_check_example_is_its_tour_with_one_binding_changed() {
    let readme = super::markdown::blocks(
        "README.md",
        &std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md"),
    );
    let tour = &readme
        .iter()
        .find(|b| b.info == "agent")
        .expect("the README's tour")
        .text;
    let (from, to) = (
        "on call_started do greet_caller",
        "before call do greet_caller",
    );
    assert!(
        tour.contains(from),
        "the tour binds `greet_caller` with `{from}`"
    );
    let example = std::fs::read_to_string(Path::new(ROOT).join("tests/data/docs/acme.agent"))
        .expect("tests/data/docs/acme.agent");
    assert_eq!(example, tour.replace(from, to));
}
