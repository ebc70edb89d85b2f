//! Input that reaches agentc as bytes: the event stream of `agentc run` (points 5, 1 and 15
//! of issue 9).

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
