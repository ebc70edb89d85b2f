//! The real `agentc` binary on files in temporary directories: `check` in every format with
//! its exit statuses, directory discovery, colour rules, bad paths and files; `explain`;
//! `compile`. Commands run inside the temporary directory with relative paths, so outputs
//! hold no temporary path.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;
use tempfile::TempDir;

const CLEAN: &str = r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome
"#;

/// Two errors (an unknown name with a help line, an unknown reply) and two warnings (the
/// misspelt reply leaves `welcome` unused, and `goodbye` is never sent).
const BROKEN: &str = r#"agent shop {
  channels: [chat]
  params: {
    order_id: text
  }
}

reply welcome { text: "Hi! How can I help?" }
reply goodbye { text: "Bye!" }

action tag_order {
  target: conversation
  task: add_label("order")
  when: ordr_id != null
}

on conversation_started reply welcom
on message_received do tag_order
"#;

/// Only a warning: an unused reply.
const WARNS: &str = r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help?" }
reply goodbye { text: "Bye!" }

on conversation_started reply welcome
"#;

fn dir(files: &[(&str, &[u8])]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}

fn agentc(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("agentc").unwrap();
    cmd.current_dir(dir)
        .env_remove("NO_COLOR")
        .env("COLUMNS", "100");
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let output = agentc(dir).args(args).output().unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[test]
fn clean_file_checks_with_status_0() {
    let d = dir(&[("main.agent", CLEAN.as_bytes())]);
    let r = run(d.path(), &["check", "main.agent"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.stdout, "ok: checked `main.agent`: no problems\n");
    assert_eq!(r.stderr, "");
}

/// A broken `agent` block is one mistake: its syntax error, not also "no `agent` block" and an
/// unknown name for every parameter it declared.
#[test]
fn a_broken_agent_block_is_reported_once() {
    let program = "agent bank {\n  channels: [chat]\n  params: { vip: bool = false, pnr: text? }\n}\n\
                   action tag { target: conversation, task: add_label(if vip then pnr else \"x\") }\n\
                   on message_received do tag\n";
    let d = dir(&[("main.agent", program.as_bytes())]);
    let r = run(d.path(), &["check", "main.agent", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let codes: Vec<String> = serde_json::from_str::<Value>(&r.stdout).unwrap()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["E0001"], "{}", r.stdout);
}

/// The bench's programs (`agentc_gen::shapes`) check clean, imports and all: a bench that
/// stopped at the first error would flatter the checker.
#[test]
fn every_bench_shape_checks_clean() {
    for shape in agentc_gen::shapes::SHAPES {
        let files = shape.files(120 * 1024);
        let files: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_bytes()))
            .collect();
        let d = dir(&files);
        let r = run(d.path(), &["check", files[0].0]);
        assert_eq!(r.code, 0, "{}: {}", shape.name(), r.stdout);
        assert!(
            r.stdout.starts_with("ok: checked ") && r.stdout.ends_with(": no problems\n"),
            "{}: {}",
            shape.name(),
            r.stdout
        );
    }
}

#[test]
fn errors_give_status_1_and_a_readable_report() {
    let d = dir(&[("main.agent", BROKEN.as_bytes())]);
    let r = run(d.path(), &["check", "main.agent"]);
    assert_eq!(r.code, 1);
    assert!(
        !r.stdout.contains('\u{1b}'),
        "no colour when not on a terminal"
    );
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn json_format() {
    let d = dir(&[("main.agent", BROKEN.as_bytes())]);
    let r = run(d.path(), &["check", "--format", "json", "main.agent"]);
    assert_eq!(r.code, 1);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (
            json["version"].as_u64(),
            json["errors"].as_u64(),
            json["warnings"].as_u64()
        ),
        (Some(1), Some(2), Some(2))
    );
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn github_format() {
    let d = dir(&[("main.agent", BROKEN.as_bytes())]);
    let r = run(d.path(), &["check", "--format=github", "main.agent"]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn sarif_format() {
    let d = dir(&[("main.agent", BROKEN.as_bytes())]);
    let r = run(d.path(), &["check", "--format", "sarif", "main.agent"]);
    assert_eq!(r.code, 1);
    let log: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["W0602", "W0602", "E0201", "E0211"], "in source order");
    let region = &results[2]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(14), Some(9))
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let d = dir(&[("main.agent", WARNS.as_bytes())]);
    let r = run(d.path(), &["check", "main.agent"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .ends_with("warning: checked `main.agent`: 1 warning\n"),
        "{}",
        r.stdout
    );
    let r = run(d.path(), &["check", "--deny-warnings", "main.agent"]);
    assert_eq!(r.code, 1);
    assert!(r
        .stdout
        .ends_with("error: could not check `main.agent`: 1 warning (warnings are denied)\n"));
    let r = run(
        d.path(),
        &["check", "--deny-warnings", "--format", "json", "main.agent"],
    );
    assert_eq!(r.code, 1);
}

/// A program in a tree: a root importing a file in a subdirectory, a file nothing imports,
/// a hidden directory and a file of another kind (both ignored).
fn tree() -> TempDir {
    dir(&[
        ("app/main.agent", b"import \"lib/replies.agent\"\n\nagent shop {\n  channels: [chat]\n}\n\non conversation_started reply welcome\n"),
        ("app/lib/replies.agent", b"reply welcome { text: \"Hi!\" }\n"),
        ("app/old/unused.agent", b"reply goodbye { text: \"Bye!\" }\n"),
        ("app/.git/broken.agent", b"this is not a program {"),
        ("app/notes.txt", b"not checked {"),
    ])
}

#[test]
fn directories_are_searched_for_agent_files() {
    let d = tree();
    let r = run(d.path(), &["check", "app"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    insta::assert_snapshot!(r.stdout);
    // No path: the current directory.
    let r = run(&d.path().join("app"), &["check", "--format", "json"]);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    let found: Vec<(&str, &str)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["file"].as_str().unwrap()))
        .collect();
    assert_eq!(found, [("W0605", "old/unused.agent")]);
}

#[cfg(unix)]
#[test]
fn a_link_back_to_a_parent_directory_is_walked_once() {
    let d = tree();
    std::os::unix::fs::symlink("..", d.path().join("app/lib/up")).unwrap();
    let r = run(d.path(), &["check", "--format", "json", "app"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["warnings"], 1, "the orphan, once: {}", r.stdout);
}

#[test]
fn several_paths_and_a_file_named_twice() {
    let d = tree();
    let r = run(
        d.path(),
        &["check", "app/main.agent", "app/lib", "app/main.agent"],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.stdout, "ok: checked 2 files: no problems\n");
}

#[test]
fn a_file_that_is_not_utf8_is_a_diagnostic() {
    let latin1 = b"agent loja {\n  channels: [chat]\n}\n\nreply welcome { text: \"Ol\xe1!\" }\n";
    let d = dir(&[("main.agent", latin1), ("bin.agent", b"\x7fELF\x00\x00")]);
    let r = run(d.path(), &["check", "."]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn a_missing_path_is_an_io_error() {
    let d = dir(&[("main.agent", CLEAN.as_bytes())]);
    let r = run(d.path(), &["check", "main.agent", "nope.agent"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "error: cannot read `nope.agent`: no such file or directory\n"
    );
}

#[test]
fn a_missing_import_is_a_diagnostic_not_an_io_error() {
    let d = dir(&[(
        "main.agent",
        format!("import \"gone.agent\"\n{CLEAN}").as_bytes(),
    )]);
    let r = run(d.path(), &["check", "main.agent"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("error[E0101]"), "{}", r.stdout);
}

#[test]
fn a_directory_without_programs_is_an_error() {
    let d = dir(&[("notes.txt", b"nothing here")]);
    let r = run(d.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: no `.agent` files found in the current directory\n"
    );
    let r = run(d.path(), &["check", "."]);
    assert_eq!(r.stderr, "error: no `.agent` files found in `.`\n");
}

#[test]
fn usage_errors_give_status_2() {
    let d = dir(&[]);
    let r = run(d.path(), &["check", "--format", "xml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("possible values: human, json, github, sarif"),
        "{}",
        r.stderr
    );
}

/// Colour needs a terminal: run under a pseudo-terminal, with and without `NO_COLOR`.
#[test]
fn colour_on_a_terminal_unless_no_color() {
    let d = dir(&[("main.agent", BROKEN.as_bytes())]);
    let on_terminal = |no_color: Option<&str>| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("agentc"));
        cmd.current_dir(d.path())
            .args(["check", "main.agent"])
            .env_remove("NO_COLOR");
        if let Some(value) = no_color {
            cmd.env("NO_COLOR", value);
        }
        let mut session = expectrl::Session::spawn(cmd).unwrap();
        let output = session.expect(expectrl::Eof).unwrap();
        String::from_utf8_lossy(output.as_bytes()).into_owned()
    };
    let coloured = on_terminal(None);
    assert!(coloured.contains("E0201"), "{coloured}");
    assert!(coloured.contains('\u{1b}'), "colour on a terminal");
    assert!(
        !on_terminal(Some("1")).contains('\u{1b}'),
        "NO_COLOR turns it off"
    );
    assert!(
        on_terminal(Some("")).contains('\u{1b}'),
        "an empty NO_COLOR does not count"
    );
}

#[test]
fn explain_a_code() {
    let d = dir(&[]);
    let r = run(d.path(), &["explain", "E0211"]);
    assert_eq!(r.code, 0);
    insta::assert_snapshot!(r.stdout);
    // Lower case, or without the leading zero or the letter, name the same code.
    assert_eq!(run(d.path(), &["explain", "e211"]).stdout, r.stdout);
    assert_eq!(run(d.path(), &["explain", "0211"]).stdout, r.stdout);
    assert!(run(d.path(), &["explain", "601"])
        .stdout
        .starts_with("warning[W0601]"));
}

#[test]
fn explain_an_unknown_code_suggests_one() {
    let d = dir(&[]);
    let r = run(d.path(), &["explain", "E0291"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "error: unknown diagnostic code `E0291`\n  help: did you mean `E0201` (unknown name)?\n"
    );
    let r = run(d.path(), &["explain", "banana"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("agentc explain --list"), "{}", r.stderr);
}

#[test]
fn explain_lists_every_code() {
    let d = dir(&[]);
    let r = run(d.path(), &["explain", "--list"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout.lines().count(),
        agentc::diagnostics::ALL_CODES.len()
    );
    assert!(r.stdout.contains("E0201  unknown name\n"));
    assert_eq!(
        run(d.path(), &["explain"]).code,
        2,
        "a code or --list is required"
    );
}

#[test]
fn compile_writes_deterministic_ir() {
    let d = dir(&[("main.agent", CLEAN.as_bytes())]);
    let r = run(d.path(), &["compile", "main.agent"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.ends_with("}\n"));
    let ir: agentc::ir::Program = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(ir.version, agentc::ir::IR_VERSION);
    assert_eq!(ir.agent.name, "shop");
    assert_eq!(
        run(d.path(), &["compile", "main.agent"]).stdout,
        r.stdout,
        "deterministic"
    );

    let r2 = run(d.path(), &["compile", "main.agent", "-o", "out.json"]);
    assert_eq!(
        (r2.code, r2.stdout.as_str(), r2.stderr.as_str()),
        (0, "", "")
    );
    assert_eq!(
        std::fs::read_to_string(d.path().join("out.json")).unwrap(),
        r.stdout
    );
}

/// A program with one external target, and a mocks file with `mocks` in it.
fn program_with_mocks(mocks: &str) -> TempDir {
    let program = "agent shop { channels: [chat] }\n\
        target orders: http { base_url: \"https://orders.example\" }\n\
        action look { target: orders, task: get(\"/x\") }\n\
        on message_received do look\n";
    dir(&[
        ("main.agent", program.as_bytes()),
        ("shop.mocks", mocks.as_bytes()),
        ("events.jsonl", b"{\"conversation\":\"c\",\"event\":\"message_received\",\"payload\":{\"text\":\"hi\"}}\n"),
    ])
}

fn run_with_mocks(d: &TempDir, mocks: &str) -> Run {
    let mut cmd = agentc(d.path());
    cmd.env("NO_COLOR", "1");
    let output = cmd
        .args([
            "run",
            "main.agent",
            "--events",
            "events.jsonl",
            "--mocks",
            mocks,
        ])
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn a_mocks_file_is_checked_like_a_test_block() {
    let d = program_with_mocks(
        "mock orders GET \"/x\" -> 200 {}\nmock ordrs GET \"/x\" -> 200\nmock orders GET \"/y\" -> 999\nsend message_received\n",
    );
    let r = run_with_mocks(&d, "shop.mocks");
    assert_eq!(r.code, 1, "{}", r.stderr);
    let errors = &r.stderr;
    assert!(
        errors.contains("E0202") && errors.contains("unknown target `ordrs`"),
        "{errors}"
    );
    assert!(errors.contains("did you mean `orders`?"), "{errors}");
    assert!(
        errors.contains("shop.mocks:2:6"),
        "every error has its line: {errors}"
    );
    assert!(
        errors.contains("E0501") && errors.contains("shop.mocks:3:"),
        "{errors}"
    );
    assert!(
        errors.contains("only `mock` statements belong in a mocks file")
            && errors.contains("shop.mocks:4:1"),
        "{errors}"
    );
    assert!(r.stdout.is_empty(), "nothing runs: {}", r.stdout);
}

#[test]
fn an_unreadable_mocks_file_is_an_io_error() {
    let d = program_with_mocks("");
    let r = run_with_mocks(&d, "nope.mocks");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot read `nope.mocks`"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_same_mock_mistake_gets_the_same_code_everywhere() {
    // A mistake of each part of each form of mock step (HTTP, SMTP, SQL), and what it says.
    let mistakes = [
        (
            "mock ordrs GET \"/x\" -> 200",
            "E0202",
            "did you mean `orders`?",
        ),
        (
            "mock orders GET \"/x\" -> 700",
            "E0501",
            "a status must be a whole number",
        ),
        (
            "mock orders FETCH \"/x\" -> 200",
            "E0217",
            "`FETCH` is not an HTTP method",
        ),
        (
            "mock conversation GET \"/x\"",
            "E0501",
            "`conversation` is built in",
        ),
        (
            "mock mail RCPT \"a@b.example\" -> 1000",
            "E0501",
            "a status must be a whole number",
        ),
        (
            "mock db INSERT \"INSERT INTO t VALUES (1)\"",
            "E0501",
            "`db` is a sql target",
        ),
        (
            "mock db SQL \"CREATE TABLE t (a)\" -> 200",
            "E0501",
            "`db` is a sql target",
        ),
    ];
    for (mock, code, says) in mistakes {
        let d = program_with_mocks(&format!("{mock}\n"));
        let program = std::fs::read_to_string(d.path().join("main.agent")).unwrap();
        let with_more_targets = format!(
            "{program}target mail: smtp {{ host: \"smtp.example\", from: \"a@b.example\" }}\n\
             target db: sql {{ url: \"sqlite::memory:\" }}\n"
        );
        std::fs::write(d.path().join("main.agent"), with_more_targets).unwrap();
        let in_a_mocks_file = run_with_mocks(&d, "shop.mocks").stderr;
        let test_block = format!("import \"main.agent\"\ntest \"t\" {{\n  {mock}\n}}\n");
        std::fs::write(d.path().join("main_test.agent"), test_block).unwrap();
        let in_a_test = run(d.path(), &["test", "main_test.agent"]).stdout;
        let output = agentc(d.path())
            .env("NO_COLOR", "1")
            .env("AGENTC_HISTORY", "/dev/null")
            .args(["repl", "main.agent"])
            .write_stdin(format!(":{mock}\n"))
            .output()
            .unwrap();
        let in_the_repl = String::from_utf8_lossy(&output.stdout).into_owned();
        for text in [&in_a_mocks_file, &in_a_test, &in_the_repl] {
            assert!(text.contains(code), "{mock}: {text}");
            assert!(text.contains(says), "{mock}: {text}");
        }
    }
}

/// One secrets policy for every mocked world (docs/testing.md, "Placeholder secrets"):
/// under `test`, `run --mocks` and the REPL's `:send`, `secret("X")` and `env("X")` read
/// `mock-X` even when the variable is set, and the mocks receive only the placeholder.
#[test]
fn a_secret_reads_the_same_placeholder_under_test_run_mocks_and_the_repl() {
    let program = "agent shop { channels: [chat] }\n\
        target orders: http { base_url: \"https://orders.example\", headers: { \"x-token\": secret(\"SHOP_TOKEN\") } }\n\
        action look { target: orders, task: get(\"/x\") }\n\
        action tell { target: conversation, task: reply(\"region {env(\"SHOP_REGION\")}, a token of {len(secret(\"SHOP_TOKEN\"))} characters\") }\n\
        on message_received do look\n\
        on message_received do tell\n";
    let mock = "mock orders GET \"/x\" -> 200 { ok: true }\n";
    let test = format!(
        "import \"main.agent\"\ntest \"t\" {{\n  {mock}  send message_received {{ text: \"hi\" }}\n  \
         expect reply \"region mock-SHOP_REGION, a token of 15 characters\"\n  \
         expect request orders GET \"/x\" {{ headers: {{ \"x-token\": \"mock-SHOP_TOKEN\" }} }}\n}}\n"
    );
    let d = dir(&[
        ("main.agent", program.as_bytes()),
        ("main_test.agent", test.as_bytes()),
        ("shop.mocks", mock.as_bytes()),
        ("events.jsonl", b"{\"conversation\":\"c\",\"event\":\"message_received\",\"payload\":{\"text\":\"hi\"}}\n"),
    ]);
    let with_env = |args: &[&str], stdin: &str| {
        let output = agentc(d.path())
            .env("NO_COLOR", "1")
            .env("AGENTC_HISTORY", "/dev/null")
            .env("SHOP_TOKEN", "real")
            .env("SHOP_REGION", "eu")
            .args(args)
            .write_stdin(stdin)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let in_a_test = with_env(&["test", "main_test.agent"], "");
    assert!(in_a_test.contains("1 passed"), "{in_a_test}");
    let reply = "» reply: \"region mock-SHOP_REGION, a token of 15 characters\"";
    let with_mocks = with_env(
        &[
            "run",
            "main.agent",
            "--events",
            "events.jsonl",
            "--mocks",
            "shop.mocks",
        ],
        "",
    );
    assert!(with_mocks.contains(reply), "{with_mocks}");
    let in_the_repl = with_env(
        &["repl", "main.agent"],
        &format!(":{mock}:send message_received {{ text: \"hi\" }}\n"),
    );
    assert!(in_the_repl.contains(reply), "{in_the_repl}");
}

/// A `{name}` segment in a mock's path matches any one segment (docs/testing.md) in a
/// `--mocks` file, a test block and the REPL's `:mock`: `look` asks for `/x`.
#[test]
fn a_name_segment_in_a_mock_path_is_a_wildcard_everywhere() {
    let mock = "mock orders GET \"/{what}\" -> 200 { ok: true }\n";
    let d = program_with_mocks(mock);
    let in_a_mocks_file = run_with_mocks(&d, "shop.mocks");
    assert_eq!(in_a_mocks_file.code, 0, "{}", in_a_mocks_file.stderr);
    assert!(
        in_a_mocks_file.stdout.contains("✓ look"),
        "{}",
        in_a_mocks_file.stdout
    );
    let test_block = format!(
        "import \"main.agent\"\ntest \"t\" {{\n  {mock}  send message_received {{ text: \"hi\" }}\n  expect request orders GET \"/x\"\n}}\n"
    );
    std::fs::write(d.path().join("main_test.agent"), test_block).unwrap();
    let in_a_test = run(d.path(), &["test", "main_test.agent"]);
    assert_eq!(
        in_a_test.code, 0,
        "{}{}",
        in_a_test.stdout, in_a_test.stderr
    );
    let output = agentc(d.path())
        .env("NO_COLOR", "1")
        .env("AGENTC_HISTORY", "/dev/null")
        .args(["repl", "main.agent"])
        .write_stdin(format!(
            ":{mock}:send message_received {{ text: \"hi\" }}\n"
        ))
        .output()
        .unwrap();
    let in_the_repl = String::from_utf8_lossy(&output.stdout);
    assert!(in_the_repl.contains("✓ look"), "{in_the_repl}");
}

/// What `check` says about a sent payload: each known field named once in the help, and a
/// `channel` the agent lacks refused (a channel it has is accepted: docs/testing.md).
#[test]
fn sent_payload_fields_and_channels_are_checked_readably() {
    let program = format!(
        "{CLEAN}\ntest \"t\" {{\n  send conversation_started {{ channel: \"chat\" }}\n  send conversation_started {{ channel: \"email\" }}\n  send message_received {{ body: \"hi\" }}\n}}\n"
    );
    let d = dir(&[("main.agent", program.as_bytes())]);
    let r = run(d.path(), &["check", "main.agent"]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn compile_leaves_tests_out_unless_asked() {
    let program = format!(
        "{CLEAN}\ntest \"greets\" {{\n  send conversation_started\n  expect reply welcome\n}}\n"
    );
    let d = dir(&[("main.agent", program.as_bytes())]);
    let tests = |args: &[&str]| {
        let r = run(d.path(), args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let ir: Value = serde_json::from_str(&r.stdout).unwrap();
        ir["tests"].as_array().unwrap().len()
    };
    assert_eq!(tests(&["compile", "main.agent"]), 0);
    assert_eq!(tests(&["compile", "main.agent", "--with-tests"]), 1);
}

#[test]
fn compile_with_errors_writes_nothing() {
    let d = dir(&[("main.agent", BROKEN.as_bytes())]);
    let r = run(d.path(), &["compile", "main.agent", "-o", "out.json"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("error[E0201]") && r.stderr.contains("could not check `main.agent`"));
    assert!(!d.path().join("out.json").exists());
}

#[test]
fn compile_shows_warnings_and_still_compiles() {
    let d = dir(&[("main.agent", WARNS.as_bytes())]);
    let r = run(d.path(), &["compile", "main.agent"]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("warning[W0602]"), "{}", r.stderr);
    serde_json::from_str::<Value>(&r.stdout).unwrap();
}

#[test]
fn compile_a_missing_file_is_an_io_error() {
    let d = dir(&[]);
    let r = run(d.path(), &["compile", "nope.agent"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: cannot read `nope.agent`: no such file or directory\n"
    );
}

/// The repository's examples: every format agrees they are clean, even with warnings denied,
/// and every program among them compiles to the same IR twice.
#[test]
fn the_examples_check_clean_and_compile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let r = run(root, &["check", "--deny-warnings", "examples"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.starts_with("ok: checked ") && r.stdout.ends_with(" files: no problems\n"));
    let json: Value =
        serde_json::from_str(&run(root, &["check", "--format", "json", "examples"]).stdout)
            .unwrap();
    assert_eq!(json["diagnostics"], serde_json::json!([]));
    assert_eq!(
        run(root, &["check", "--format", "github", "examples"]).stdout,
        ""
    );
    let sarif: Value =
        serde_json::from_str(&run(root, &["check", "--format", "sarif", "examples"]).stdout)
            .unwrap();
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));

    let mut programs = 0;
    for entry in std::fs::read_dir(root.join("examples")).unwrap() {
        let file = entry.unwrap().path().join("agent.agent");
        if !file.exists() {
            continue;
        }
        let path = file.strip_prefix(root).unwrap().to_str().unwrap();
        let r = run(root, &["compile", path]);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{path}");
        let ir: agentc::ir::Program = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(ir.files[0], path);
        assert_eq!(
            run(root, &["compile", path]).stdout,
            r.stdout,
            "{path}: deterministic"
        );
        programs += 1;
    }
    assert!(programs >= 5, "the five example programs");
}

const EMAIL_ONLY: &str = r#"agent desk {
  channels: [email]
}

reply ack { text: "We got your email." }

on conversation_started reply ack
"#;

#[test]
fn run_refuses_events_of_a_channel_the_agent_lacks() {
    let events = concat!(
        r#"{"conversation":"m-1","event":"call_started","payload":{}}"#,
        "\n",
        r#"{"conversation":"m-1","event":"conversation_started","payload":{}}"#,
        "\n",
        r#"{"conversation":"m-2","event":"conversation_started","channel":"voice","payload":{}}"#,
        "\n",
    );
    let dir = dir(&[
        ("desk.agent", EMAIL_ONLY.as_bytes()),
        ("events.jsonl", events.as_bytes()),
    ]);
    let out = run(
        dir.path(),
        &["run", "desk.agent", "--events", "events.jsonl"],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(
        "m-1: `call_started` is a voice event, and agent `desk` has only email: the event is not handled"
    ), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("m-2: `conversation_started` came on voice, and agent `desk` has only email"),
        "{}",
        out.stderr
    );
    // The conversation goes on with the events it can take.
    assert!(out.stdout.contains("m-1    » reply ack"), "{}", out.stdout);
    assert!(!out.stdout.contains("m-2"), "{}", out.stdout);
}

/// A program that runs, with a test block that does not check (an unknown action).
const BROKEN_TEST: &str = r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome

test "greets" {
  send conversation_started {}
  expect ran no_such_action
}
"#;

#[test]
fn run_starts_despite_a_broken_test_block_that_test_and_check_refuse() {
    // A test that does not check, and one that does not even parse.
    let unparsable = BROKEN_TEST.replace("expect ran no_such_action", "expect ran");
    for (source, mistake) in [
        (BROKEN_TEST, "no_such_action"),
        (unparsable.as_str(), "E0001"),
    ] {
        let dir = dir(&[
            ("shop.agent", source.as_bytes()),
            (
                "events.jsonl",
                b"{\"conversation\":\"c\",\"event\":\"conversation_started\",\"payload\":{}}\n",
            ),
        ]);
        let args = [
            "run",
            "shop.agent",
            "--events",
            "events.jsonl",
            "--color",
            "never",
        ];
        let out = run(dir.path(), &args);
        assert_eq!(out.code, 0, "{mistake}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stdout.contains("c    » reply welcome"),
            "{}",
            out.stdout
        );
        assert!(!out.stderr.contains(mistake), "{}", out.stderr);
        for command in ["check", "test"] {
            let out = run(dir.path(), &[command, "shop.agent"]);
            assert_eq!(out.code, 1, "{command}: {}{}", out.stdout, out.stderr);
            assert!(
                out.stdout.contains(mistake) || out.stderr.contains(mistake),
                "{command}: {}{}",
                out.stdout,
                out.stderr
            );
        }
    }
}
