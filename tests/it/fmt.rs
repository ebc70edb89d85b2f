//! `agentc fmt`: the layout (snapshots), comments, idempotence, meaning preserved (same AST
//! modulo spans, same IR), and the command itself (`--check`, `--stdin`, exit codes,
//! refusal of broken files, atomic writes).

use agentc::check::{check_program, LoadError, Loader};
use agentc::diagnostics::{FileId, SourceMap};
use agentc::fmt::format_source;
use agentc::syntax::{ast, parse};
use agentc_gen::layout as gen;
use assert_cmd::Command;
use proptest::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

// ---- helpers ---------------------------------------------------------------------------

fn fmt(source: &str) -> String {
    match format_source(FileId(0), source) {
        Ok(text) => text,
        Err(diagnostics) => panic!("refused: {diagnostics:#?}\n--- source ---\n{source}"),
    }
}

/// The tree as JSON with every span erased and the parentheses marks taken out: what "the
/// same program" means for the parser. The marks come second, in tree order.
fn shape(file: &ast::File) -> (serde_json::Value, Vec<bool>) {
    let mut items = serde_json::to_value(&file.items).unwrap();
    erase_spans(&mut items);
    let mut parens = Vec::new();
    take_parens(&mut items, &mut parens);
    (items, parens)
}

fn take_parens(value: &mut serde_json::Value, marks: &mut Vec<bool>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(mark) = map.remove("parens") {
                marks.push(mark == serde_json::Value::Bool(true));
            }
            map.values_mut().for_each(|v| take_parens(v, marks));
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| take_parens(v, marks)),
        _ => {}
    }
}

fn erase_spans(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let is_span = map.len() == 3
                && ["file", "start", "end"]
                    .iter()
                    .all(|key| map.contains_key(*key));
            if is_span {
                *value = serde_json::Value::Null;
            } else {
                map.values_mut().for_each(erase_spans);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(erase_spans),
        _ => {}
    }
}

/// Comment texts in order (line comments without trailing blanks).
fn comment_texts(file: &ast::File, source: &str) -> Vec<String> {
    file.comments
        .iter()
        .map(|c| {
            let text = &source[c.span.range()];
            if c.block {
                text.replace("\r\n", "\n")
            } else {
                text.trim_end().to_string()
            }
        })
        .collect()
}

/// Imports are read from the disk (relative to the root's real path).
struct DiskLoader;
impl Loader for DiskLoader {
    fn load(&mut self, path: &str) -> Result<String, LoadError> {
        fs::read_to_string(path).map_err(|err| err.to_string().into())
    }
}

/// The program's IR as JSON with spans erased, or the error messages when it does not
/// check. `path` names the root so that its imports are found.
fn ir_shape(path: &str, source: &str) -> Result<serde_json::Value, Vec<String>> {
    let mut sources = SourceMap::new();
    let root = sources.add(path, source);
    let checked = check_program(&mut sources, root, &mut DiskLoader);
    let Some(program) = checked.program else {
        return Err(checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{}: {} at {:?}", d.code, d.message, d.span()))
            .collect());
    };
    let mut ir = serde_json::to_value(program).unwrap();
    erase_spans(&mut ir);
    Ok(ir)
}

/// Everything formatting promises for one source text that parses.
fn assert_formatting_is_sound(source: &str) {
    assert_formatting_is_sound_at("main.agent", source);
}

fn assert_formatting_is_sound_at(path: &str, source: &str) {
    let before = parse(FileId(0), source);
    assert!(before.diagnostics.is_empty(), "{:#?}", before.diagnostics);
    let once = fmt(source);
    let after = parse(FileId(0), &once);
    assert!(
        after.diagnostics.is_empty(),
        "formatted text does not parse: {:#?}\n--- formatted ---\n{once}",
        after.diagnostics
    );
    let (tree_before, parens_before) = shape(&before.file);
    let (tree_after, parens_after) = shape(&after.file);
    assert_eq!(
        tree_before, tree_after,
        "AST changed\n--- formatted ---\n{once}"
    );
    // Parentheses may be added where precedence needs them, never dropped.
    let dropped = parens_before
        .iter()
        .zip(&parens_after)
        .any(|(before, after)| *before && !*after);
    assert!(!dropped, "parentheses dropped\n--- formatted ---\n{once}");
    assert_eq!(
        comment_texts(&before.file, source),
        comment_texts(&after.file, &once),
        "comments changed\n--- formatted ---\n{once}"
    );
    let twice = fmt(&once);
    assert_eq!(once, twice, "not idempotent");
    // Same IR when it checks; the same errors (by code and message) when it does not.
    let without_spans = |errors: Vec<String>| -> Vec<String> {
        errors
            .into_iter()
            .map(|e| e[..e.rfind(" at Span").unwrap_or(e.len())].to_string())
            .collect()
    };
    assert_eq!(
        ir_shape(path, source).map_err(without_spans),
        ir_shape(path, &once).map_err(without_spans),
        "IR changed\n--- formatted ---\n{once}"
    );
}

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut found = Vec::new();
    let mut dirs = vec![dir];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "agent") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

// ---- layout ----------------------------------------------------------------------------

const MESSY: &str = r#"import   "common/replies.agent"
agent acme_support { name: "Acme Support", channels: [chat,voice]
  language:"en"
     inactivity: 3m
  params: { order_id: text, customer: record
    attempts: number=0 }
}
target orders: http { base_url: "https://orders.acme.example/v2", auth: bearer(secret("ORDERS_TOKEN")), timeout: 5s
  retry: {attempts: 3, backoff: 200ms, max_backoff: 5s}, headers: {"X-Client": "acme-agent"} }
task get_order(id:text, verbose : bool?, limit: number = 10) on orders { method: GET, path: "/orders/{id}"
result: { status: response.body.status, eta: response.body.delivery.eta, items: response.body.items, total: response.body.total } }
action check_order { target: orders, task: get_order(order_id), when: order_id != null and (attempts+1)*2 < 10, save: customer }
reply welcome { text: "Hi {user.name ?? "there"}! How can I help?" }
usecase order_status { description: """Customer asks
    where an order is""", blocks: [ask_order_id, show_status, offer_human] }
on conversation_started reply welcome
on message_received when contains(lower(event.text),"refund") do check_order,check_order


in usecase order_status do check_order
test "gold caller" {
  mock orders GET "/orders/A1" -> 200 { status: "shipped", delivery: { eta: "tomorrow" } }
  send message_received { text: "where is my order?" }, send wait 5m
  expect ran check_order
  expect not label "vip"
  expect request orders GET "/orders/A1" { query: { verbose: "true" } }
}
"#;

#[test]
fn messy_program_gets_the_canonical_layout() {
    insta::assert_snapshot!(fmt(MESSY));
}

#[test]
fn outcome_and_effect_steps_are_printed() {
    let source = "test \"t\" {\n  expect   failed  a, expect not skipped b\n  expect say   \"hi\"\n  expect transfer {to:\"+1\",mode:\"warm\"}\n  expect   hangup\n  expect not dtmf\n}\n";
    let formatted = fmt(source);
    assert_eq!(
        formatted,
        "test \"t\" {\n    expect failed a\n    expect not skipped b\n    expect say \"hi\"\n    expect transfer { to: \"+1\", mode: \"warm\" }\n    expect hangup\n    expect not dtmf\n}\n"
    );
    assert_eq!(fmt(&formatted), formatted);
}

#[test]
fn several_events_and_on_failure_lists_are_printed() {
    let source = "agent a { channels: [chat, voice] }\naction x { target: conversation, task: add_label(\"a\"), on_failure: [y,z] }\naction y { target: conversation, task: add_label(\"b\") }\naction z { target: conversation, task: add_label(\"c\") }\non message_received ,dtmf_received\n  when conversation.channel == \"voice\" do x\n";
    let formatted = fmt(source);
    assert!(
        formatted.contains("    on_failure: [y, z]\n"),
        "{formatted}"
    );
    assert!(
        formatted.contains(
            "on message_received, dtmf_received when conversation.channel == \"voice\" do x\n"
        ),
        "{formatted}"
    );
    assert_formatting_is_sound(source);
}

#[test]
fn long_lists_records_and_calls_break_one_entry_per_line() {
    let source = r#"action open_ticket {
  target: zendesk
  task: create_ticket(subject: "Refund requested by a customer on chat", comment: "The customer asked for a refund of order {order_id}", priority: "high", tags: ["refund", "chat", "automated"])
}
target orders: http { base_url: "https://orders.acme.example/v2", headers: { "X-Client": "acme-agent", "X-Request-Source": "agentc", "X-Team": "support-operations" } }
task log_call(phone: text, patient_id: text?, length: duration, outcome: text, notes: list = []) on crm { method: POST, path: "/calls" }
task short(id: text) on crm { method: GET, path: "/x/{id}" }
"#;
    insta::assert_snapshot!(fmt(source));
    assert_formatting_is_sound(source);
}

/// The source and what `fmt` makes of it, for snapshots that show both.
fn before_and_after(source: &str) -> String {
    format!("--- before\n{source}--- after\n{}", fmt(source))
}

#[test]
fn parentheses_written_are_kept_and_doubled_ones_collapse() {
    let source = r#"action a {
  target: conversation
  task: set(x: (1 + 2) * 3, y: 1 + (2 * 3), z: -(a + b), w: (a ?? b) ?? c, v: a ?? (b ?? c))
  when: (not (a and b)) or (c == (d == e)) or ((if a then b else c) == d)
  save: ( ("literal") )
  timeout: (5s)
}
"#;
    insta::assert_snapshot!(before_and_after(source));
    assert_formatting_is_sound(source);
}

#[test]
fn parentheses_precedence_needs_are_added() {
    // `not` and `-` take everything that binds tighter, so these trees need parentheses
    // when printed; the user wrote none.
    let source = "action a {\n  target: conversation\n  task: set(x: 1 + not b == c, y: - -x, z: -not v)\n}\n";
    assert_formatting_is_sound(source);
    assert!(
        fmt(source).contains("set(x: 1 + (not b == c), y: -(-x), z: -(not v))"),
        "{}",
        fmt(source)
    );
}

#[test]
fn long_conditions_break_after_and_or() {
    let source = r#"action check_refund {
  target: conversation
  task: add_label("refund")
  when: order_id != null and customer.tier in ["gold", "platinum"] and not contains(lower(event.text), "refund")
}
action mixed {
  target: conversation
  task: add_label("x")
  when: order_id != null and customer.tier in ["gold", "platinum", "diamond"] or attempts > 3 and (vip or score > 10)
}
on message_received when contains(lower(event.text), "refund") and customer.tier in ["gold", "platinum"] do check_refund, mixed
on message_received when vip and attempts < 3 do check_refund
at block order_status.offer_updates when order.status == "shipped" and wants_sms do check_refund, mixed
on message_received when lower(trim(event.text)) in ["agent", "human", "a real person", "someone else please"] do mixed
"#;
    insta::assert_snapshot!(before_and_after(source));
    assert_formatting_is_sound(source);
}

#[test]
fn if_chains_that_do_not_fit_break_one_branch_per_line() {
    let source = r#"action prioritise {
  target: conversation
  task: set(priority: if customer.tier == "platinum" then "urgent" else if customer.tier == "gold" then "high" else if event.channel == "voice" then "normal" else "low")
  save: if vip then "urgent" else if attempts > 3 then "high" else "normal"
  timeout: if vip and customer.tier == "platinum" and event.channel == "voice" then 30s else (if attempts > 3 then 10s else 5s)
}
"#;
    insta::assert_snapshot!(before_and_after(source));
    assert_formatting_is_sound(source);
}

#[test]
fn bindings_and_test_steps_stay_on_one_line() {
    let source = "on call_ringing\n  when caller.phone != null\n  do identify_caller,\n     tag_vip\nbefore call do a\nafter call do b, c\nat block order_status.offer_human do escalate\ntest \"t\" { send block order_status.ask , send usecase order_status\n expect status \"escalated\" , expect row crm_db \"calls\" { phone: \"+33\" } }\n";
    insta::assert_snapshot!(fmt(source));
}

#[test]
fn a_mock_status_stays_one_term() {
    let source = "test \"t\" {\n  mock api GET \"/x\" -> ((200)) [1]\n  mock api GET \"/y\" -> (-1 + 201) [2]\n  mock api GET \"/z\" -> ok\n}\n";
    assert_formatting_is_sound(source);
    assert_eq!(
        fmt(source),
        "test \"t\" {\n    mock api GET \"/x\" -> (200) [1]\n    mock api GET \"/y\" -> (-1 + 201) [2]\n    mock api GET \"/z\" -> ok\n}\n"
    );
}

#[test]
fn empty_blocks_and_an_empty_file() {
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("\n\n"), "");
    assert_eq!(fmt("action a {\n}\n"), "action a {}\n");
    assert_eq!(
        fmt("reply r { text: \"\" , }"),
        "reply r {\n    text: \"\"\n}\n"
    );
}

#[test]
fn literals_are_copied_as_written() {
    let source = "action a { target: conversation, task: set(n: 007, f: 1.50, d: 1500ms, s: \"\\u{1F600} \\{x\\} \\\"q\\\"\", t: \"\"\"\n      kept\n   as is\"\"\") }\n";
    let formatted = fmt(source);
    for literal in [
        "007",
        "1.50",
        "1500ms",
        "\"\\u{1F600} \\{x\\} \\\"q\\\"\"",
        "\"\"\"\n      kept\n   as is\"\"\"",
    ] {
        assert!(
            formatted.contains(literal),
            "{literal} lost in\n{formatted}"
        );
    }
    assert_formatting_is_sound(source);
}

#[test]
fn blank_lines_between_declarations_are_normalised() {
    let source = "import \"a.agent\"\nimport \"b.agent\"\n\n\n\nimport \"c.agent\"\naction a {}\naction b {}\non x do a\non y do b\n\n\n\non z do a\n";
    insta::assert_snapshot!(fmt(source));
}

#[test]
fn crlf_and_bom_come_out_as_plain_lf() {
    let source = "\u{FEFF}// head\r\nreply r {\r\n  text: \"\"\"\r\n    two\r\n    lines\"\"\" // note\r\n}\r\n";
    assert_formatting_is_sound(source);
    assert_eq!(
        fmt(source),
        "// head\nreply r {\n    text: \"\"\"\n    two\n    lines\"\"\" // note\n}\n"
    );
}

// ---- comments --------------------------------------------------------------------------

const COMMENTED: &str = r#"// Header comment.

/* A block
   comment. */
import "x.agent" // after an import

agent a { // after the brace
  // before a field
  name: "A" // after a field
  channels: [chat, /* inside a list */ voice]
  params: {
    // before a param
    x: text // after a param
    // at the end of params
  }
  // at the end of the agent
}

action b {
  target: conversation
  task: set(x: 1 + // after an operator
     2)
  when: a /* inside */ and b
}

on e /* between trigger and body */ do b // after a binding
test "t" {
  // before a step
  send e { /* first */ a: 1 // one
     , b: 2 }
  expect ran b /* trailing block */ // and line
}
// at the end of the file
"#;

#[test]
fn every_comment_is_kept() {
    insta::assert_snapshot!(fmt(COMMENTED));
    assert_formatting_is_sound(COMMENTED);
}

#[test]
fn comments_only() {
    let source = "// one\n\n\n// two\n/* three */\n";
    assert_eq!(fmt(source), "// one\n\n// two\n/* three */\n");
}

// ---- soundness over real and generated programs ------------------------------------------

/// Every form of the grammar (the texts that, with the examples, use each of its rules)
/// formats soundly: a rule `fmt` cannot print fails here.
#[test]
fn every_form_of_the_grammar_formats_soundly() {
    for text in agentc_gen::forms::FORMS {
        assert_formatting_is_sound(text);
    }
}

#[test]
fn examples_format_soundly() {
    for path in examples() {
        let shown = path.to_str().unwrap();
        let source = fs::read_to_string(&path).unwrap();
        // A root (the file with the agent block) must check, or the IR comparison is empty.
        let is_root = parse(FileId(0), &source)
            .file
            .items
            .iter()
            .any(|item| matches!(item, ast::Item::Agent(_)));
        if is_root {
            if let Err(errors) = ir_shape(shown, &source) {
                panic!("{shown} does not check: {errors:#?}");
            }
        }
        assert_formatting_is_sound_at(shown, &source);
    }
}

#[test]
fn formatted_examples_are_stable() {
    for path in examples() {
        let source = fs::read_to_string(&path).unwrap();
        let once = fmt(&source);
        assert_eq!(fmt(&once), once, "{}", path.display());
    }
}

#[test]
fn generated_programs_check() {
    // The generator aims at valid programs, so the IR comparison means something.
    for seed in 0..20 {
        let source = gen::Gen::program(seed);
        if let Err(errors) = ir_shape("main.agent", &source) {
            panic!("seed {seed} does not check: {errors:#?}\n{source}");
        }
    }
}

#[test]
fn a_large_generated_program_formats_soundly() {
    let source = gen::Gen::program_of_size(1, 300_000);
    if let Err(errors) = ir_shape("main.agent", &source) {
        panic!(
            "the large program does not check: {:#?}",
            &errors[..errors.len().min(5)]
        );
    }
    assert_formatting_is_sound(&source);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn generated_programs_format_soundly(seed in any::<u64>()) {
        assert_formatting_is_sound(&gen::Gen::program(seed));
    }
}

// ---- the command -------------------------------------------------------------------------

fn agentc() -> Command {
    Command::cargo_bin("agentc").unwrap()
}

const UGLY: &str = "action a {target: conversation, task: add_label(\"x\")}\n";
const PRETTY: &str = "action a {\n    target: conversation\n    task: add_label(\"x\")\n}\n";

#[test]
fn formats_files_in_place_and_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.agent"), UGLY).unwrap();
    fs::write(dir.path().join("b.agent"), PRETTY).unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    fs::write(dir.path().join("sub/c.agent"), UGLY).unwrap();
    fs::write(dir.path().join("notes.txt"), UGLY).unwrap();
    let output = agentc().arg("fmt").arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let listed: Vec<&str> = stdout.lines().collect();
    assert_eq!(listed.len(), 2, "{stdout}");
    assert!(
        listed[0].ends_with("a.agent") && listed[1].ends_with("c.agent"),
        "{stdout}"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("a.agent")).unwrap(),
        PRETTY
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("sub/c.agent")).unwrap(),
        PRETTY
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        UGLY
    );
}

#[test]
fn check_prints_a_diff_changes_nothing_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.agent");
    fs::write(&path, UGLY).unwrap();
    let output = agentc()
        .current_dir(dir.path())
        .args(["fmt", "--check", "a.agent"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(
        "check_diff",
        format!(
            "--- stdout\n{}--- stderr\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), UGLY);
}

#[test]
fn check_passes_on_formatted_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.agent"), PRETTY).unwrap();
    agentc()
        .args(["fmt", "--check"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
}

#[test]
fn stdin_is_formatted_to_stdout() {
    agentc()
        .args(["fmt", "--stdin"])
        .write_stdin(UGLY)
        .assert()
        .code(0)
        .stdout(PRETTY);
    agentc()
        .args(["fmt", "--stdin", "--check"])
        .write_stdin(UGLY)
        .assert()
        .code(1);
    agentc()
        .args(["fmt", "--stdin", "--check"])
        .write_stdin(PRETTY)
        .assert()
        .code(0)
        .stdout("");
}

#[test]
fn a_file_with_syntax_errors_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "action a {target: conversation\n  task: add_label(\"x\"\n}\n";
    fs::write(dir.path().join("broken.agent"), broken).unwrap();
    fs::write(dir.path().join("ok.agent"), UGLY).unwrap();
    let output = agentc()
        .current_dir(dir.path())
        .env_remove("COLUMNS")
        .args(["fmt", "."])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("refusal", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        fs::read_to_string(dir.path().join("broken.agent")).unwrap(),
        broken
    );
    // The other file is still formatted.
    assert_eq!(
        fs::read_to_string(dir.path().join("ok.agent")).unwrap(),
        PRETTY
    );
}

#[test]
fn a_file_that_is_not_utf8_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.agent");
    fs::write(&path, b"reply r { text: \"caf\xe9\" }\n").unwrap();
    let output = agentc().arg("fmt").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("E0008"));
    assert_eq!(fs::read(&path).unwrap(), b"reply r { text: \"caf\xe9\" }\n");
}

#[test]
fn a_missing_path_is_an_error() {
    agentc()
        .args(["fmt", "does/not/exist.agent"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "cannot read `does/not/exist.agent`: no such file or directory",
        ));
}

#[cfg(unix)]
#[test]
fn writes_are_atomic_renames_that_keep_permissions() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.agent");
    fs::write(&path, UGLY).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let inode_before = fs::metadata(&path).unwrap().ino();
    // A reader holding the old file keeps reading the old text: the new one is a new file.
    let held = fs::File::open(&path).unwrap();
    agentc().arg("fmt").arg(&path).assert().code(0);
    let after = fs::metadata(&path).unwrap();
    assert_ne!(after.ino(), inode_before, "the file was rewritten in place");
    assert_eq!(after.permissions().mode() & 0o777, 0o640);
    assert_eq!(fs::read_to_string(&path).unwrap(), PRETTY);
    assert_eq!(std::io::read_to_string(held).unwrap(), UGLY);
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(
        leftovers.len(),
        1,
        "temporary files left behind: {leftovers:?}"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_keeps_pointing_at_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.agent");
    let link = dir.path().join("link.agent");
    fs::write(&real, UGLY).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    agentc().arg("fmt").arg(&link).assert().code(0);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_to_string(&real).unwrap(), PRETTY);
}

#[cfg(unix)]
#[test]
fn an_unwritable_directory_leaves_the_file_as_it_was() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.agent");
    fs::write(&path, UGLY).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores permissions; the test only means something for other users.
    let writable = tempfile::tempfile_in(dir.path()).is_ok();
    let output = agentc().arg("fmt").arg(&path).output().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    if writable {
        return;
    }
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot write"));
    assert_eq!(fs::read_to_string(&path).unwrap(), UGLY);
}
