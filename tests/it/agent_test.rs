//! `agentc test` through the real binary: passing and failing programs (snapshots), JUnit,
//! `--filter`, `--trace`, an unmocked request, programs that do not check, and every example
//! passing its own tests.

use agentc_gen::scenarios;
use assert_cmd::Command;
use std::fs;
use std::path::Path;

fn agentc() -> Command {
    let mut command = Command::cargo_bin("agentc").unwrap();
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1");
    command
}

fn output(command: &mut Command) -> (Option<i32>, String) {
    let output = command.output().unwrap();
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.code(), text)
}

/// Snapshots of traces and reports, without what changes from run to run: the mock
/// services' ports and how long things took.
macro_rules! assert_stable_snapshot {
    ($text:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT");
        settings.add_filter(r"\b\d+ms\b", "Nms");
        settings.add_filter(r#"time="[0-9.]+""#, r#"time="T""#);
        settings.bind(|| insta::assert_snapshot!($text));
    }};
}

#[test]
fn every_target_kind_is_mocked_and_every_expectation_passes() {
    let (code, text) = output(agentc().args(["test", "tests/agent_test/services.agent"]));
    insta::assert_snapshot!(text);
    assert_eq!(code, Some(0));
}

#[test]
fn zendesk_and_salesforce_tasks_are_mocked_at_the_endpoints_the_reference_names() {
    let (code, text) = output(agentc().args(["test", "tests/agent_test/crm.agent"]));
    assert!(text.ends_with("2 passed, 0 failed\n"), "{text}");
    assert_eq!(code, Some(0));
}

#[test]
fn every_effect_and_how_an_action_ended_can_be_expected() {
    let (code, text) = output(agentc().args(["test", "tests/agent_test/calls.agent"]));
    assert!(text.ends_with("4 passed, 0 failed\n"), "{text}");
    assert_eq!(code, Some(0));
}

/// Issue 10's "flow": a digit starts a use case (which reaches a block), a binding of two
/// events, a list of fallbacks; the trace says which action started each use case.
#[test]
fn a_digit_starts_a_use_case_and_fallbacks_run_in_order() {
    let file = "tests/data/flow.agent";
    let (code, text) = output(agentc().args(["test", file]));
    assert!(text.ends_with("4 passed, 0 failed\n"), "{text}");
    assert_eq!(code, Some(0));
    let (_, trace) = output(agentc().args(["test", file, "--trace", "--filter", "digit 1"]));
    for line in [
        "#4 usecase rebook_flight (started by start_rebooking)",
        "#5 block rebook_flight.ask_date (started by to_ask_date)",
    ] {
        assert!(trace.contains(line), "{trace}");
    }
}

/// `tests/agent_test/calls.agent`'s program with one test of `steps` after a failed lookup.
fn after_a_failed_lookup(steps: &str) -> (Option<i32>, String) {
    let program = fs::read_to_string("tests/agent_test/calls.agent").unwrap();
    let program = &program[..program.find("test \"").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("calls.agent"),
        format!(
            "{program}test \"t\" {{\n    mock crm GET \"/callers\" -> 503\n    send call_started {{ caller: {{ phone: \"+15550142\" }} }}\n    {steps}\n}}\n"
        ),
    )
    .unwrap();
    output(agentc().current_dir(dir.path()).args(["test", "."]))
}

#[test]
fn expect_not_ran_does_not_pass_for_an_action_that_failed() {
    let (code, text) = after_a_failed_lookup("expect not ran look_up_caller");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("error: `look_up_caller` ran and failed; write `expect failed look_up_caller` if that is expected"),
        "{text}"
    );
    assert!(text.contains("actual: it failed: GET "), "{text}");
}

#[test]
fn an_effect_that_did_not_happen_shows_the_ones_that_did() {
    let (code, text) = after_a_failed_lookup("expect say \"Welcome back!\"");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("error: no say like this happened"), "{text}");
    assert!(
        text.contains(r#"expected: say {"text":"Welcome back!"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"actual: say {"text":"Sorry, I cannot find your file right now."}"#),
        "{text}"
    );
    let (code, text) = after_a_failed_lookup("expect skipped apologise");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("error: `apologise` was not skipped"),
        "{text}"
    );
}

#[test]
fn failures_say_what_was_expected_and_what_happened() {
    let (code, text) = output(agentc().args(["test", "tests/agent_test/failing.agent"]));
    assert_eq!(code, Some(1));
    assert!(text.ends_with("0 passed, 11 failed\n"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn an_unmocked_request_fails_the_test_and_is_named() {
    let (code, text) = output(agentc().args([
        "test",
        "tests/agent_test/failing.agent",
        "--filter",
        "a request with no mock",
    ]));
    assert_eq!(code, Some(1));
    assert!(
        text.contains("a request was sent that no mock answers"),
        "{text}"
    );
    assert!(
        text.contains("GET /orders/A-1?expand=all on `orders`"),
        "{text}"
    );
    assert!(text.ends_with("0 passed, 1 failed\n"), "{text}");
}

#[test]
fn filter_selects_tests_by_name() {
    let (code, text) = output(agentc().args(["test", "tests/agent_test", "--filter", "status"]));
    insta::assert_snapshot!(text);
    assert_eq!(code, Some(1));
    let (code, text) =
        output(agentc().args(["test", "tests/agent_test", "--filter", "nothing like this"]));
    assert_eq!(code, Some(1), "a filter that selects nothing must not pass");
    assert!(
        text.contains("error: no tests ran: no test name contains `nothing like this`"),
        "{text}"
    );
    assert!(text.ends_with("0 passed, 0 failed\n"), "{text}");
}

/// `main.agent` with one test, `main_test.agent` importing it with another.
fn program_with_a_test_file() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("main.agent"),
        "agent shop { channels: [chat] }\n\
         reply welcome { text: \"Hi!\" }\n\
         on conversation_started reply welcome\n\
         test \"in the program\" {\n  send conversation_started\n  expect reply welcome\n}\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("main_test.agent"),
        "import \"main.agent\"\n\n\
         test \"greets\" {\n  send conversation_started\n  expect reply \"Hi!\"\n}\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_test_file_that_imports_its_program_is_found_and_run() {
    let dir = program_with_a_test_file();
    let (code, text) = output(agentc().current_dir(dir.path()).args(["test", "."]));
    assert_eq!(
        text,
        "ok   main.agent › in the program\nok   main_test.agent › greets\n\n2 passed, 0 failed\n"
    );
    assert_eq!(code, Some(0));
    // Named alone, the test file is a program: no false "has no `agent` block".
    let (code, text) = output(
        agentc()
            .current_dir(dir.path())
            .args(["test", "main_test.agent"]),
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("ok   main_test.agent › greets"), "{text}");
    assert!(text.ends_with("2 passed, 0 failed\n"), "{text}");
    // `check` treats it as a program too, not as a file no program imports.
    let checked = agentc()
        .current_dir(dir.path())
        .args(["check", "--deny-warnings", "."])
        .output()
        .unwrap();
    assert!(checked.status.success(), "{checked:?}");
}

#[test]
fn a_run_that_finds_no_test_fails() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("main.agent"),
        "agent shop { channels: [chat] }\nreply welcome { text: \"Hi!\" }\n\
         on conversation_started reply welcome\n",
    )
    .unwrap();
    let (code, text) = output(agentc().current_dir(dir.path()).args(["test", "."]));
    assert_eq!(code, Some(1));
    assert!(
        text.starts_with("error: no tests ran: no file found holds a `test` block"),
        "{text}"
    );
    assert!(text.ends_with("0 passed, 0 failed\n"), "{text}");
}

#[test]
fn trace_prints_what_the_runtime_did() {
    let (code, text) = output(agentc().args([
        "test",
        "tests/agent_test/services.agent",
        "--trace",
        "--filter",
        "time moves",
    ]));
    assert_eq!(code, Some(0));
    assert_stable_snapshot!(text);
}

#[test]
fn junit_report_lists_every_test_with_its_failure() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    let (code, _) = output(
        agentc()
            .args(["test", "tests/agent_test", "--junit"])
            .arg(&report),
    );
    assert_eq!(code, Some(1));
    let xml = fs::read_to_string(&report).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(r#"tests="25" skipped="0" failures="11""#),
        "{xml}"
    );
    assert_eq!(xml.matches("<testsuite ").count(), 5, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 11, "{xml}");
    // In full, on two tests: one failed, one passed.
    agentc()
        .args(["test", "tests/agent_test", "--filter", "status", "--junit"])
        .arg(&report)
        .assert()
        .code(1);
    assert_stable_snapshot!(fs::read_to_string(&report).unwrap());
}

#[test]
fn a_program_that_does_not_check_fails_with_its_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("broken.agent"),
        "agent a { channels: [chat] }\ntest \"t\" { expect ran nothing_like_this }\n",
    )
    .unwrap();
    let (code, text) = output(agentc().current_dir(dir.path()).args(["test", "."]));
    assert_eq!(code, Some(1));
    assert!(text.contains("E0210"), "{text}");
    assert!(
        text.contains("FAIL broken.agent › the program does not check"),
        "{text}"
    );
    assert!(text.ends_with("0 passed, 1 failed\n"), "{text}");
}

#[test]
fn a_missing_path_is_an_error() {
    let (code, text) = output(agentc().args(["test", "no/such/dir"]));
    assert_eq!(code, Some(2));
    assert!(text.contains("cannot read `no/such/dir`"), "{text}");
}

#[test]
fn many_scenarios_run_in_parallel_and_pass() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("shop.agent"), scenarios::program(200)).unwrap();
    let (code, text) = output(
        agentc()
            .current_dir(dir.path())
            .args(["test", "shop.agent"]),
    );
    assert!(text.ends_with("200 passed, 0 failed\n"), "{text}");
    assert_eq!(code, Some(0));
    // One line per test, in source order whatever order they finished in.
    let names: Vec<&str> = text.lines().filter_map(|l| l.split(" › ").nth(1)).collect();
    assert_eq!(names.len(), 200);
    assert!(names[0].starts_with("order 0 ") && names[199].starts_with("visitor 199 "));
}

#[test]
fn every_example_passes_its_own_tests() {
    // The `.agent` examples (the folder also holds cargo examples).
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let has_programs = fs::read_dir(&examples)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| entry.path().is_dir());
    if !has_programs {
        return;
    }
    let (code, text) = output(agentc().args(["test", "examples"]));
    assert!(text.ends_with(" 0 failed\n"), "{text}");
    assert!(
        !text.contains("\n0 passed"),
        "no example has tests:\n{text}"
    );
    assert_eq!(code, Some(0), "{text}");
}

/// `tests/data/matchers.agent`'s program with one test whose last step is `step`.
fn matched_after_a_call(step: &str) -> (Option<i32>, String) {
    let program = fs::read_to_string("tests/data/matchers.agent").unwrap();
    let program = &program[..program.find("test \"").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("matchers.agent"),
        format!(
            "{program}test \"t\" {{\n    mock orders POST \"/orders\" -> 201 {{}}\n    mock texts POST \"/Messages.json\" -> 201 {{}}\n    mock db SQL \"CREATE TABLE calls (ref TEXT, summary TEXT)\"\n    send call_started {{ caller: {{ phone: \"+15550142\" }} }}\n    {step}\n}}\n"
        ),
    )
    .unwrap();
    output(agentc().current_dir(dir.path()).args(["test", "."]))
}

#[test]
fn matchers_inside_expected_records_compare_long_texts() {
    let (code, text) = output(agentc().args(["test", "tests/data/matchers.agent"]));
    assert!(text.ends_with("1 passed, 0 failed\n"), "{text}");
    assert_eq!(code, Some(0));
}

#[test]
fn a_failed_matcher_shows_the_matcher_and_the_value() {
    let (code, text) = matched_after_a_call(
        "expect request orders POST \"/orders\" { body: { note: contains(\"exchange\") } }",
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(r#"expected: POST /orders with {"body":{"note":contains("exchange")}}"#),
        "{text}"
    );
    assert!(
        text.contains(r#""note":"Caller +15550142 asks for a refund of a damaged parcel""#),
        "{text}"
    );
    let (code, text) = matched_after_a_call("expect say matches(\"^Goodbye\")");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(r#"expected: say {"text":matches("^Goodbye")}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"actual: say {"text":"Your refund of order ord-1042 is on its way."}"#),
        "{text}"
    );
    let (code, text) = matched_after_a_call("expect reply contains(\"exchange\")");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(r#"error: the reply {"text":contains("exchange")} was not sent"#),
        "{text}"
    );
    assert!(
        text.contains(r#""text":"Thanks for calling about your refund.""#),
        "{text}"
    );
}

/// On a manual clock a conversation's time is the same on every run: `idle` is exactly the
/// time waited, and retry back-offs take their whole, unjittered time.
#[test]
fn conversation_inactive_idle_is_exact_on_the_manual_clock() {
    for _ in 0..3 {
        let (code, text) = output(agentc().args(["test", "tests/data/clock.agent"]));
        assert!(text.ends_with("2 passed, 0 failed\n"), "{text}");
        assert_eq!(code, Some(0));
    }
}

#[test]
fn the_expression_library_computes_what_the_reader_expects() {
    let (code, text) = output(agentc().args(["test", "tests/data/expressions.agent"]));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("1 passed, 0 failed"), "{text}");
}

/// Issue 10's "semantics that surprise": a failed `verify` guards its binding, a null
/// required argument or path value sends nothing, bare words in a computed priority and a
/// computed one outside the set, an answered call greets once.
#[test]
fn guards_null_arguments_words_and_the_voice_greeting_behave_as_documented() {
    let file = "tests/data/semantics.agent";
    let (code, text) = output(agentc().args(["test", file]));
    assert!(text.ends_with("7 passed, 0 failed\n"), "{text}");
    assert_eq!(code, Some(0));
    let trace =
        |filter: &str| output(agentc().args(["test", file, "--trace", "--filter", filter])).1;
    let guarded = trace("verify stops");
    assert!(
        guarded.contains("– give_balance  conversation.reply  verify `gate` failed"),
        "{guarded}"
    );
    let null = trace("null required");
    assert!(
        null.contains("✗ load_booking  api.get_booking  argument `pnr` of `get_booking` is null: nothing was sent"),
        "{null}"
    );
    assert!(
        null.contains("`{pnr}` in the path of `get` is null"),
        "{null}"
    );
    let level = trace("outside the set");
    assert!(
        level.contains(r#"argument `priority` of `create_ticket` is "critical", which is not one of low | normal | high | urgent"#),
        "{level}"
    );
    let greeted = trace("greets once");
    assert_eq!(greeted.matches("» reply welcome").count(), 1, "{greeted}");
    assert!(greeted.contains("#2 conversation_started"), "{greeted}");
}

#[test]
fn replies_choices_languages_one_off_texts_and_hold_music_can_be_expected() {
    let (code, text) = output(agentc().args(["test", "tests/agent_test/replies.agent"]));
    assert!(text.ends_with("4 passed, 0 failed\n"), "{text}");
    assert_eq!(code, Some(0));
    // Choices that were not offered fail and show what was sent.
    let program = fs::read_to_string("tests/agent_test/replies.agent").unwrap();
    let program = &program[..program.find("test \"").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("replies.agent"),
        format!("{program}test \"t\" {{\n    send conversation_started\n    expect reply {{ choices: [\"Order status\", \"Refunds\", \"Talk to a person\"] }}\n}}\n"),
    )
    .unwrap();
    let (code, text) = output(agentc().current_dir(dir.path()).args(["test", "."]));
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(r#"{"reply":"pick_topic","text":"What can I help with?","choices":[{"id":"Order status","label":"Order status"},{"id":"Returns","label":"Returns"},{"id":"human","label":"Talk to a person"}]}"#),
        "{text}"
    );
}

/// `send conversation_started { channel: "email" }` (docs/testing.md) puts the test's
/// conversation on that channel: the binding that looks at it runs.
#[test]
fn a_sent_channel_is_the_conversations_channel() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("main.agent"),
        "agent desk { channels: [chat, email] }\n\
         action tag_email { target: conversation, task: add_label(\"by email\") }\n\
         on conversation_started when conversation.channel == \"email\" do tag_email\n\
         test \"email\" {\n  send conversation_started { channel: \"email\" }\n  expect label \"by email\"\n}\n",
    )
    .unwrap();
    let (code, text) = output(agentc().current_dir(dir.path()).args(["test", "."]));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.ends_with("1 passed, 0 failed\n"), "{text}");
}
