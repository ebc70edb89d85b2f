//! `agentc repl`: scripted sessions through standard input (snapshots of what a user sees),
//! and a session in a real pseudo-terminal for completion, multi-line input, Ctrl-C, Ctrl-D
//! and the history file.

use assert_cmd::Command;

const ACME: &str = "tests/repl/acme.agent";

/// Runs a scripted session and returns its output, then its exit status.
fn session(files: &[&str], input: &str) -> String {
    let output = Command::cargo_bin("agentc")
        .expect("the agentc binary")
        .arg("repl")
        .args(files)
        .env("NO_COLOR", "1")
        .env("AGENTC_HISTORY", "/dev/null")
        .write_stdin(input)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("agentc repl runs");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !stderr.is_empty() {
        text.push_str(&format!("--- stderr\n{stderr}"));
    }
    text.push_str(&format!(
        "--- exit {}\n",
        output.status.code().unwrap_or(-1)
    ));
    text
}

/// Snapshots a session, with its input as the snapshot's description. The mock services'
/// port and the time actions took vary from run to run.
macro_rules! assert_session {
    ($name:literal, $files:expr, $input:expr) => {{
        let input: &str = $input;
        let output = session($files, input);
        insta::with_settings!({
            description => input,
            omit_expression => true,
            filters => vec![
                (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
                (r"(\d+ tr(y|ies)) +\d+ms", "$1 Nms"),
            ],
        }, {
            insta::assert_snapshot!($name, output);
        });
    }};
}

#[test]
fn help_listing_and_showing() {
    assert_session!(
        "listing",
        &[ACME],
        ":help\n:list\n:list events\n:list replys\n:show check_order\n:show chek_order\n:lst\n"
    );
}

#[test]
fn scripted_list_of_events_is_plain() {
    // The example of the issue: nothing but the answer, no colour, no banner.
    let output = session(&[ACME], ":list events\n");
    assert!(
        output.starts_with("events (16)\n  conversation_started  bound\n"),
        "{output}"
    );
    assert!(!output.contains('\x1b'));
    assert!(output.ends_with("--- exit 0\n"));
}

#[test]
fn expressions_are_evaluated_with_their_type() {
    assert_session!(
        "expressions",
        &[ACME],
        concat!(
            "1 + 2 * 3\n",
            "\"order \" + upper(\"a1\")\n",
            "attempts\n",
            "order_id ?? \"none\"\n",
            ":type len([1, 2, 3]) > 2\n",
            "[1, 2, 3]\n",
            "{ a: 1, \"X-Key\": \"v\" }\n",
            "ordr_id\n",
            "1 + \"a\"\n",
            "secret(\"ORDERS_TOKEN\")\n",
        )
    );
}

#[test]
fn declarations_join_replace_and_take_effect() {
    assert_session!(
        "declarations",
        &[ACME],
        concat!(
            // A declaration over several lines: the entry goes on while the brace is open.
            "action greet_vip {\n",
            "  target: conversation\n",
            "  task: add_label(\"greeted\")\n",
            "}\n",
            "on conversation_started do greet_vip\n",
            ":send conversation_started\n",
            // Redefining replaces, and says what it replaced.
            "action greet_vip { target: conversation, task: add_label(\"welcomed\") }\n",
            ":send conversation_started\n",
            ":list bindings\n",
            // A declaration that would break the program is refused; the old one stays.
            "action broken { target: nowhere, task: add_label(\"x\") }\n",
            ":show broken\n",
            "reply bye { text: \"Bye {user.name ?? \"you\"}\" }\n",
            ":show bye\n",
            ":state\n",
        )
    );
}

#[test]
fn events_mocks_and_the_conversation_state() {
    assert_session!(
        "events",
        &[ACME],
        concat!(
            ":send conversation_started\n",
            ":send message_received { text: \"where is A1?\", params: { order_id: \"A1\" } }\n",
            // Unmocked: the request fails the action, visibly, and on_failure runs.
            ":send usecase order_status\n",
            ":mock orders GET \"/orders/A1\" -> 200 { status: \"shipped\", eta: \"2026-11-24\" }\n",
            ":send usecase order_status\n",
            "order.status\n",
            ":send block order_status.show_status\n",
            ":send wait 5m\n",
            ":state\n",
            ":reset\n",
            ":state\n",
            ":send block order_status.nope\n",
            ":send usecase order_stats\n",
            ":send conversation_strated\n",
            ":send message_received \"text\"\n",
            ":mock ordrs GET \"/x\" -> 200\n",
        )
    );
}

#[test]
fn replies_show_their_choices_in_the_conversation_language() {
    assert_session!(
        "replies",
        &["tests/repl/replies.agent"],
        concat!(
            ":send conversation_started\n",
            ":send message_received { text: \"français\" }\n",
            "conversation.language\n",
            ":send message_received { text: \"where?\", params: { order_id: \"A1\" } }\n",
            ":reset\n",
            ":send call_started\n",
        )
    );
}

#[test]
fn mock_sql_runs_the_statement_and_invalid_sql_is_an_error() {
    assert_session!(
        "mock_sql",
        &["tests/repl/rows.agent"],
        concat!(
            ":mock db SQL \"CREATE TABLE customers (name TEXT)\"\n",
            ":mock db SQL \"INSERT INTO customers VALUES ('Maya')\"\n",
            ":mock db SQL \"INSRT INTO customers VALUES ('Ana')\"\n",
            ":mock db GET \"/customers\" -> 200\n",
            ":send message_received { text: \"hi\" }\n",
            // A new conversation gets a new database: the statements run on it again.
            ":reset\n",
            ":send message_received { text: \"again\" }\n",
        )
    );
}

#[test]
fn dry_run_answers_reads_from_the_mocks() {
    assert_session!(
        "dry_run",
        &[ACME],
        concat!(
            ":mock orders GET \"/orders/A1\" -> 200 { id: \"A1\", status: \"shipped\" }\n",
            ":dry-run on\n",
            ":send message_received { text: \"A1\", params: { order_id: \"A1\" } }\n",
            ":send usecase order_status\n",
            ":dry-run off\n",
            ":dry-run maybe\n",
        )
    );
}

#[test]
fn bad_input_never_ends_the_session() {
    assert_session!(
        "bad_input",
        &[ACME],
        concat!(
            "}\n",
            "\"unterminated\n",
            "1 + * 2\n",
            ":\n",
            ":frobnicate\n",
            ":send\n",
            ":show\n",
            ":load\n",
            ":load tests/repl/nope.agent\n",
            ":explain E9999\n",
            ":type\n",
            "\u{1F600} ???\n",
            // Wrong already (no name): reported at once, and the `}` is an entry of its own.
            "action {\n",
            "}\n",
            "2 + 2\n",
        )
    );
}

#[test]
fn a_changed_program_resumes_the_conversation_clock() {
    // `inactivity: 3m`: two waits of 2m with a change between them still make 4m idle.
    let output = session(
        &[ACME],
        ":send conversation_started\n:send wait 2m\n:dry-run on\n:send wait 2m\n",
    );
    let fired = output
        .lines()
        .find(|l| l.starts_with("repl #4 conversation_inactive"))
        .unwrap_or_else(|| panic!("{output}"));
    assert!(
        fired.contains("240000") || fired.contains("\"4m\""),
        "idle is the whole time: {fired}"
    );
}

#[test]
fn a_broken_entry_is_reported_at_once_and_an_infix_operator_continues() {
    assert_session!(
        "broken_entry_and_continued_operator",
        &[ACME],
        concat!(
            // A stray closer inside an open block: reported at that line, not at the end.
            "action x {\n",
            "  target: )\n",
            "1 + 2\n",
            // A field without a value: the next lines are entries of their own.
            "action y {\n",
            "  target: ,\n",
            ":list actions\n",
            // A line ending after an infix operator goes on to the next.
            "1 +\n",
            "2\n",
            "\"a\" + // a comment does not end it\n",
            "\"b\"\n",
            "if 1 > 2 then\n",
            "  \"no\" else \"yes\"\n",
        )
    );
}

#[test]
fn files_with_errors_still_open_a_session() {
    assert_session!(
        "broken_file",
        &["tests/repl/broken.agent", "tests/repl/missing.agent"],
        ":list actions\n1 + 1\n:send conversation_started\n"
    );
}

#[test]
fn an_empty_session_has_a_default_agent() {
    assert_session!(
        "empty",
        &[],
        concat!(
            "len(\"héllo\")\n",
            "action hi { target: conversation, task: add_label(\"hi\") }\n",
            "on conversation_started do hi\n",
            ":send conversation_started\n",
            ":load tests/repl/acme.agent\n",
            ":check\n",
            ":quit\n",
            "1 + 1\n",
        )
    );
}

/// A real terminal: Tab completes, an open brace continues the entry, Ctrl-C abandons the
/// line, Ctrl-D leaves, and the entries land in the history file.
#[cfg(unix)]
#[test]
fn terminal_completion_and_multi_line_input() {
    use expectrl::ControlCode;
    use std::time::Duration;

    let dir = tempfile::tempdir().expect("a temporary directory");
    let history = dir.path().join("state/agentc/history");
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("agentc"));
    command
        .args(["repl", ACME])
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("AGENTC_HISTORY", &history);
    let mut repl = expectrl::Session::spawn(command).expect("agentc repl in a pty");
    repl.set_expect_timeout(Some(Duration::from_secs(30)));
    repl.expect("agentc> ").expect("the prompt");

    // Tab completes a declared name after `:show`.
    repl.send(":show check_o").unwrap();
    repl.send("\t").unwrap();
    repl.send("\r").unwrap();
    repl.expect("on_failure: apologise")
        .expect("`:show check_order` after Tab");
    repl.expect("agentc> ").unwrap();

    // Tab completes a command; the catalogue's events after `:send`.
    repl.send(":li").unwrap();
    repl.send("\t").unwrap();
    repl.send(" events\r").unwrap();
    repl.expect("conversation_inactive { idle }")
        .expect("`:list events` after Tab");
    repl.expect("agentc> ").unwrap();

    // An open brace continues the entry on the next line.
    repl.send("action extra {\r").unwrap();
    repl.send("  target: conversation\r").unwrap();
    repl.send("  task: add_label(\"extra\")\r").unwrap();
    repl.send("}\r").unwrap();
    repl.expect("added action extra")
        .expect("a declaration typed over four lines");
    repl.expect("agentc> ").unwrap();

    // Ctrl-C abandons the line being typed; the session goes on.
    repl.send("1 + ").unwrap();
    repl.send(ControlCode::EndOfText).unwrap();
    repl.expect("agentc> ").unwrap();
    repl.send("20 + 22\r").unwrap();
    repl.expect("42 : number").expect("evaluation after Ctrl-C");

    // Ctrl-D leaves.
    repl.expect("agentc> ").unwrap();
    repl.send(ControlCode::EndOfTransmission).unwrap();
    repl.expect(expectrl::Eof).expect("the REPL ends on Ctrl-D");

    let saved = std::fs::read_to_string(&history).expect("the history file was written");
    assert!(saved.contains(":show check_order"), "{saved}");
    assert!(saved.contains("20 + 22"), "{saved}");
}

#[test]
fn send_refuses_an_event_of_a_channel_the_agent_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("desk.agent");
    std::fs::write(
        &file,
        "agent desk {\n  channels: [email]\n}\n\nreply ack { text: \"We got your email.\" }\n\non conversation_started reply ack\n",
    )
    .unwrap();
    let output = session(
        &[file.to_str().unwrap()],
        ":send call_started\n:send conversation_started\n",
    );
    assert!(
        output.contains("`call_started` is a voice event, and agent `desk` has only email: the event is not handled"),
        "{output}"
    );
    assert!(output.contains("» reply ack"), "{output}");
}
