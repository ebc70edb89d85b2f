//! Input that reaches agentc as bytes: the event stream of `agentc run` (points 5, 1 and 15
//! of issue 9) and the files a program in a pull request makes it read (point 8).

use assert_cmd::Command;
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;

const PROGRAM: &str = r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi!" }

on conversation_started reply welcome
"#;

/// What a file outside the program holds: it must never appear in any output.
const SECRET: &str = "TOKEN=hunter2-do-not-print";

fn dir(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

struct Output {
    code: i32,
    text: String,
}

fn agentc(dir: &Path, args: &[&str], stdin: Vec<u8>) -> Output {
    let output = Command::cargo_bin("agentc")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .write_stdin(stdin)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    Output {
        code: output.status.code().unwrap_or(-1),
        text: String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    }
}

// ---- the event stream ----

const STARTED: &str = r#"{"conversation":"c-2","event":"conversation_started"}"#;

/// `agentc run` on `events`: the exit status and the JSON records.
fn run(events: Vec<u8>) -> (i32, Vec<serde_json::Value>) {
    let dir = dir(&[("main.agent", PROGRAM)]);
    let args = ["run", "main.agent", "--events", "-", "--trace", "json"];
    let output = agentc(dir.path(), &args, events);
    let records = output
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (output.code, records)
}

/// The input errors as `(line, message)`, and whether conversation `c-2` was replied to.
fn outcome(records: &[serde_json::Value]) -> (Vec<(u64, String)>, bool) {
    let errors = records
        .iter()
        .filter(|r| r["type"] == "error")
        .map(|r| {
            let line = r["line"].as_u64().expect("an input error has its line");
            (line, r["message"].as_str().unwrap().to_string())
        })
        .collect();
    let replied = records
        .iter()
        .any(|r| r["type"] == "reply" && r["conversation"] == "c-2");
    (errors, replied)
}

#[test]
fn a_line_that_is_not_utf8_is_skipped_and_the_run_goes_on() {
    let mut events =
        b"{\"conversation\":\"c-1\xff\",\"event\":\"conversation_started\"}\n".to_vec();
    events.extend_from_slice(STARTED.as_bytes());
    let (code, records) = run(events);
    let (errors, replied) = outcome(&records);
    assert_eq!(errors.len(), 1, "{records:?}");
    assert_eq!(errors[0].0, 1);
    assert!(errors[0].1.contains("not UTF-8"), "{}", errors[0].1);
    assert!(replied, "the next line still runs: {records:?}");
    assert_eq!(code, 1);
}

#[test]
fn an_event_line_over_the_cap_is_skipped_and_the_run_goes_on() {
    // 3 MiB of one JSON string: valid JSON, only too long.
    let mut events =
        br#"{"conversation":"c-1","event":"message_received","payload":{"text":""#.to_vec();
    events.resize(3 << 20, b'a');
    events.extend_from_slice(b"\"}}\n\n");
    events.extend_from_slice(STARTED.as_bytes());
    let (code, records) = run(events);
    let (errors, replied) = outcome(&records);
    assert_eq!(errors.len(), 1, "{records:?}");
    assert_eq!(errors[0].0, 1);
    assert!(errors[0].1.contains("longer than 1 MiB"), "{}", errors[0].1);
    assert!(replied, "the line after it still runs: {records:?}");
    assert_eq!(code, 1);
}

#[test]
fn duplicate_keys_in_an_event_line_are_an_error() {
    let lines = [
        r#"{"conversation":"c-1","event":"conversation_started","event":"message_received"}"#,
        r#"{"conversation":"c-1","event":"message_received","payload":{"text":"a","text":"b"}}"#,
        STARTED,
    ];
    let (code, records) = run(lines.join("\n").into_bytes());
    let (errors, replied) = outcome(&records);
    assert_eq!(errors.len(), 2, "{records:?}");
    assert_eq!(errors[0].0, 1);
    assert!(
        errors[0].1.contains("duplicate key `event`"),
        "{}",
        errors[0].1
    );
    assert_eq!(errors[1].0, 2);
    assert!(
        errors[1].1.contains("duplicate key `payload.text`"),
        "{}",
        errors[1].1
    );
    assert!(replied);
    assert_eq!(code, 1);
}

// ---- files a program makes agentc read ----

/// `agentc check` in `dir` with `args`.
fn check(dir: &Path, args: &[&str]) -> Output {
    let args: Vec<&str> = ["check"].into_iter().chain(args.iter().copied()).collect();
    agentc(dir, &args, Vec::new())
}

fn importing(path: &str) -> String {
    format!("import \"{path}\"\n{PROGRAM}")
}

#[test]
fn an_import_outside_the_root_is_refused_and_never_read() {
    let outside = format!("reply welcome {{ text: \"{SECRET}\" }}\n{SECRET}\n");
    let tree = dir(&[("secrets/leak.agent", &outside)]);
    let absolute = tree.path().join("secrets/leak.agent");
    for import in ["../secrets/leak.agent", absolute.to_str().unwrap()] {
        std::fs::create_dir_all(tree.path().join("prog")).unwrap();
        std::fs::write(tree.path().join("prog/main.agent"), importing(import)).unwrap();
        let output = check(tree.path(), &["prog"]);
        assert_eq!(output.code, 1, "{}", output.text);
        assert!(output.text.contains("error[E0107]"), "{}", output.text);
        assert!(output.text.contains("--import-root"), "{}", output.text);
        assert!(!output.text.contains("hunter2"), "{}", output.text);
    }
}

#[test]
fn a_link_inside_the_root_that_leads_out_of_it_is_refused() {
    let tree = dir(&[
        ("secrets/leak.agent", SECRET),
        ("prog/main.agent", &importing("lib/leak.agent")),
    ]);
    std::fs::create_dir_all(tree.path().join("prog/lib")).unwrap();
    std::os::unix::fs::symlink(
        tree.path().join("secrets/leak.agent"),
        tree.path().join("prog/lib/leak.agent"),
    )
    .unwrap();
    let output = check(tree.path(), &["prog/main.agent"]);
    assert!(output.text.contains("error[E0107]"), "{}", output.text);
    assert!(!output.text.contains("hunter2"), "{}", output.text);
    // Walking `prog` would find the link before any import follows it.
    let output = check(tree.path(), &["prog"]);
    assert_eq!(output.code, 2, "{}", output.text);
    assert!(
        output.text.contains("leads out of `prog`"),
        "{}",
        output.text
    );
    assert!(!output.text.contains("hunter2"), "{}", output.text);
}

#[test]
fn import_root_widens_where_imports_are_read() {
    let tree = dir(&[
        ("shared/replies.agent", "reply welcome { text: \"Hi!\" }\n"),
        (
            "prog/main.agent",
            &importing("../shared/replies.agent").replace("reply welcome { text: \"Hi!\" }\n", ""),
        ),
    ]);
    let refused = check(tree.path(), &["prog"]);
    assert!(refused.text.contains("E0107"), "{}", refused.text);
    // Every command that loads a program keeps the rule.
    let run = agentc(tree.path(), &["run", "prog", "--events", "-"], Vec::new());
    assert_eq!(run.code, 1, "{}", run.text);
    assert!(run.text.contains("E0107"), "{}", run.text);
    let widened = check(tree.path(), &["prog", "--import-root", "shared"]);
    assert_eq!(widened.code, 0, "{}", widened.text);
}

#[test]
fn a_file_that_is_not_an_agent_program_is_never_quoted() {
    let tree = dir(&[(".env", SECRET), ("main.agent", &importing(".env"))]);
    let output = check(tree.path(), &["main.agent"]);
    assert!(
        output.text.contains("only `.agent` files"),
        "{}",
        output.text
    );
    assert!(!output.text.contains("hunter2"), "{}", output.text);
    // Binary or not UTF-8, an `.agent` import is named, not shown.
    std::fs::write(tree.path().join("bin.agent"), b"hunter2\xff\x00").unwrap();
    std::fs::write(tree.path().join("main.agent"), importing("bin.agent")).unwrap();
    let output = check(tree.path(), &["main.agent"]);
    assert!(output.text.contains("not UTF-8"), "{}", output.text);
    assert!(!output.text.contains("hunter2"), "{}", output.text);
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success());
}

#[test]
fn walks_and_imports_read_regular_files_only() {
    let tree = dir(&[("prog/main.agent", &importing("pipe.agent"))]);
    mkfifo(&tree.path().join("prog/pipe.agent"));
    std::os::unix::fs::symlink("/dev/zero", tree.path().join("prog/zero.agent")).unwrap();
    // Without the rule the walk blocks on the FIFO (the timeout fails the test) or reads
    // `/dev/zero` until memory runs out.
    let output = check(tree.path(), &["prog"]);
    assert_eq!(output.code, 1, "{}", output.text);
    assert!(
        output.text.contains("not a regular file"),
        "{}",
        output.text
    );
    // `fmt` walks the same way: it formats main.agent and touches neither.
    let output = agentc(tree.path(), &["fmt", "--check", "prog"], Vec::new());
    assert_eq!(
        output.code, 1,
        "main.agent is not in canonical layout: {}",
        output.text
    );
    assert!(!output.text.contains("zero.agent"), "{}", output.text);
}

#[test]
fn a_source_file_past_the_size_cap_is_refused() {
    let big = format!("{PROGRAM}{}", "\n".repeat(16 << 20));
    let tree = dir(&[("big.agent", &big), ("main.agent", &importing("big.agent"))]);
    let output = check(tree.path(), &["big.agent"]);
    assert_eq!(output.code, 2, "{}", output.text);
    assert!(
        output.text.contains("larger than 16 MiB"),
        "{}",
        output.text
    );
    let output = agentc(tree.path(), &["fmt", "--check", "big.agent"], Vec::new());
    assert!(
        output.text.contains("larger than 16 MiB"),
        "{}",
        output.text
    );
    // As an import, the same limit is E0101 at the `import`.
    let output = check(tree.path(), &["main.agent"]);
    assert!(output.text.contains("error[E0101]"), "{}", output.text);
    assert!(
        output.text.contains("larger than 16 MiB"),
        "{}",
        output.text
    );
}

#[test]
fn the_repl_reads_files_under_the_same_rules() {
    let tree = dir(&[
        ("secrets/leak.agent", SECRET),
        ("prog/main.agent", &importing("../secrets/leak.agent")),
    ]);
    let prog = tree.path().join("prog");
    let typed = b":load ../secrets/leak.agent\n:load main.agent\n".to_vec();
    let output = agentc(&prog, &["repl"], typed);
    assert!(
        output.text.contains("outside the directory `.`"),
        "{}",
        output.text
    );
    assert!(output.text.contains("E0107"), "{}", output.text);
    assert!(!output.text.contains("hunter2"), "{}", output.text);
}
