//! Secrets and output (issue 9, points 4, 7, 9 and the IR loading of 12): a secret never
//! reaches an output in any form a service or an expression can give it; text from outside
//! cannot drive the terminal; a long line cannot crash the diagnostic renderer; a compiled
//! program is checked again when it is loaded, and every program `compile` writes loads.

use assert_cmd::Command;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use std::path::Path;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A secret with characters that every encoding changes (`/`, `+`, `=`, `"`, a space).
const SECRET: &str = "Zq8/Kp+w=Lx\"Tr9 mN3!vB7";
/// A secret a service may echo back as a JSON number.
const PIN: &str = "48151623";

/// Every form of `secret` a leak could take: as written, in either case, percent-encoded,
/// JSON-escaped, base64 alone and as `user:secret`, plus any 8 characters of it in a row
/// (what a cut through it would leave).
fn forms(secret: &str) -> Vec<String> {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let json = serde_json::to_string(secret).unwrap();
    let mut forms = vec![
        secret.to_string(),
        secret.to_uppercase(),
        secret.to_lowercase(),
        utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string(),
        json[1..json.len() - 1].to_string(),
        json[1..json.len() - 1].replace('/', "\\/"),
        STANDARD.encode(secret),
        STANDARD.encode(format!("bot:{secret}")),
        URL_SAFE_NO_PAD.encode(format!("x{secret}")),
    ];
    let chars: Vec<char> = secret.chars().collect();
    forms.extend(chars.windows(8).map(|w| w.iter().collect::<String>()));
    forms
}

/// The forms of the secrets found in `output`.
fn leaks(output: &str) -> Vec<String> {
    let mut found: Vec<String> = forms(SECRET)
        .into_iter()
        .filter(|form| output.contains(form.as_str()))
        .collect();
    if output.contains(PIN) {
        found.push(PIN.to_string());
    }
    found
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

struct Output {
    stdout: String,
    stderr: String,
    code: i32,
}

impl Output {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

fn agentc(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let output = Command::cargo_bin("agentc")
        .unwrap()
        .current_dir(dir)
        .env("TOKEN", SECRET)
        .env("PIN", PIN)
        .env("NO_COLOR", "1")
        .env("AGENTC_HISTORY", "/dev/null")
        .args(args)
        .write_stdin(stdin)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    Output {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

/// A program whose `api` target authenticates with `basic("bot", secret("TOKEN"))` and
/// sends `secret("PIN")` in a body; `fetch` saves what `/echo` answers, `fail` posts to
/// `/fail`.
fn service_program(base_url: &str) -> String {
    format!(
        r#"agent desk {{
  channels: [chat]
  params: {{ echo: record }}
}}

target api: http {{
  base_url: "{base_url}"
  auth: basic("bot", secret("TOKEN"))
  allow_hosts: ["127.0.0.1"]
  retry: {{ attempts: 1 }}
}}

action fetch {{
  target: api
  task: post("/echo", body: {{ pin: secret("PIN") }})
  save: echo
}}

action fail {{
  target: api
  task: post("/fail", body: {{ text: event.text }})
}}

on message_received do fetch, fail
"#
    )
}

const ONE_MESSAGE: &str =
    "{\"conversation\":\"c-1\",\"event\":\"message_received\",\"payload\":{\"text\":\"hi\"}}\n";

/// What a careless service sends back: the credentials it received in every encoding.
fn echo_body() -> serde_json::Value {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    serde_json::json!({
        "authorization": format!("Basic {}", STANDARD.encode(format!("bot:{SECRET}"))),
        "alone": STANDARD.encode(SECRET),
        "shifted": URL_SAFE_NO_PAD.encode(format!("x{SECRET}")),
        "next": format!("https://cb.example/?t={}", utf8_percent_encode(SECRET, NON_ALPHANUMERIC)),
        "upper": SECRET.to_uppercase(),
        "lower": SECRET.to_lowercase(),
        "raw": format!("{{\"token\":{}}}", serde_json::to_string(SECRET).unwrap()),
        "pin": PIN.parse::<u64>().unwrap(),
    })
}

async fn careless_service() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/echo"))
        .respond_with(ResponseTemplate::new(200).set_body_json(echo_body()))
        .mount(&server)
        .await;
    // The secret straddles the 200th character, where the quoted answer is cut.
    let body = format!("{}{SECRET}{}", "x".repeat(190), "y".repeat(50));
    Mock::given(method("POST"))
        .and(path("/fail"))
        .respond_with(ResponseTemplate::new(500).set_body_string(body))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn echoed_secrets_never_reach_the_trace_in_any_encoding() {
    let server = careless_service().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "desk.agent", &service_program(&server.uri()));
    for trace in ["human", "json"] {
        let path = dir.path().to_path_buf();
        let output = tokio::task::spawn_blocking(move || {
            let args = ["run", "desk.agent", "--events", "-", "--trace", trace];
            agentc(&path, &args, ONE_MESSAGE)
        })
        .await
        .unwrap();
        assert!(output.stdout.contains("fetch"), "{}", output.all());
        assert!(output.stdout.contains("answered 500"), "{}", output.all());
        assert_eq!(
            leaks(&output.all()),
            Vec::<String>::new(),
            "{}",
            output.all()
        );
    }
}

#[test]
fn a_secret_in_a_mocks_file_is_redacted_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    // The program reads no secret: only the mocks file knows this one.
    let program = r#"agent desk {
  channels: [chat]
  params: { echo: record }
}

target api: http {
  base_url: "https://api.example"
}

action fetch {
  target: api
  task: post("/echo")
  save: echo
}

on message_received do fetch
"#;
    write(dir.path(), "desk.agent", program);
    write(
        dir.path(),
        "desk.mocks",
        "mock api POST \"/echo\" -> 200 { token: secret(\"TOKEN\"), copy: \"{secret(\"TOKEN\")}\" }\n",
    );
    // JSON: the timeline shortens long values, the JSON trace shows them whole.
    let args = [
        "run",
        "desk.agent",
        "--events",
        "-",
        "--mocks",
        "desk.mocks",
        "--trace",
        "json",
    ];
    let output = agentc(dir.path(), &args, ONE_MESSAGE);
    assert!(
        output.stdout.contains(r#""token":"[redacted]""#),
        "{}",
        output.all()
    );
    assert_eq!(
        leaks(&output.all()),
        Vec::<String>::new(),
        "{}",
        output.all()
    );
}

#[test]
fn env_of_a_variable_also_read_as_a_secret_is_redacted_from_the_first_event() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "desk.agent",
        r#"agent desk {
  channels: [chat]
}

target api: http {
  base_url: "https://api.example"
}

// The secret is read only when this runs, after the reply.
action notify {
  target: api
  task: post("/notify", body: { token: secret("TOKEN") })
}

reply hello { text: "configured with {env("TOKEN")}" }

on conversation_started reply hello
on message_received do notify
"#,
    );
    let events = "{\"conversation\":\"c-1\",\"event\":\"conversation_started\"}\n";
    for trace in ["human", "json"] {
        let args = ["run", "desk.agent", "--events", "-", "--trace", trace];
        let output = agentc(dir.path(), &args, events);
        assert!(
            output.stdout.contains("configured with"),
            "{}",
            output.all()
        );
        assert_eq!(
            leaks(&output.all()),
            Vec::<String>::new(),
            "{}",
            output.all()
        );
    }
}

#[test]
fn a_value_computed_from_a_secret_is_never_shown_by_the_repl() {
    let dir = tempfile::tempdir().unwrap();
    let input = [
        "lower(secret(\"TOKEN\"))",
        "\"<{upper(secret(\"PIN\"))}>\"",
        "secret(\"TOKEN\")",
        "len(secret(\"TOKEN\"))",
    ]
    .join("\n");
    let output = agentc(dir.path(), &["repl"], &format!("{input}\n"));
    assert!(
        output.stdout.contains("\"[redacted]\" : text"),
        "{}",
        output.all()
    );
    // A length says nothing of the value: it is shown. The REPL reads the placeholder
    // `mock-TOKEN`, set or not (docs/repl.md), and never shows it either.
    assert!(output.stdout.contains("10 : number"), "{}", output.all());
    assert!(
        !output.all().to_lowercase().contains("mock-"),
        "{}",
        output.all()
    );
    assert_eq!(
        leaks(&output.all()),
        Vec::<String>::new(),
        "{}",
        output.all()
    );
}

/// Outside text with the escapes an attacker would send: clear the screen, forge a record
/// on a new line, reverse the rest of the line.
const HOSTILE: &str = "x\u{1b}[2J\nc-1001 ■ end ended  labels [vip]\u{202e}\u{9b}\u{7f}";

fn has_raw_controls(text: &str) -> bool {
    text.chars().any(|c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn outside_text_cannot_drive_the_terminal_or_forge_timeline_lines() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string(HOSTILE))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let program = format!(
        r#"agent desk {{
  channels: [chat]
  params: {{ note: text }}
}}

target api: http {{
  base_url: "{}"
  allow_hosts: ["127.0.0.1"]
  retry: {{ attempts: 1 }}
}}

action tag {{
  target: conversation
  task: add_label(event.text)
}}

action remember {{
  target: conversation
  task: set(note: event.text)
}}

action call_api {{
  target: api
  task: post("/x", body: {{ text: event.text }})
}}

action hand_over {{
  target: conversation
  task: escalate(queue: event.text, reason: event.text)
}}

on message_received do tag, remember, call_api, hand_over
"#,
        server.uri()
    );
    write(dir.path(), "desk.agent", &program);
    let mut payload = serde_json::Map::new();
    payload.insert("text".into(), HOSTILE.into());
    payload.insert(HOSTILE.into(), HOSTILE.into());
    let event = serde_json::json!({
        "conversation": HOSTILE,
        "event": "message_received",
        "payload": payload,
    });
    // An id that makes a valid idempotency key, so the service is called and its error
    // body shown.
    let plain = serde_json::json!({
        "conversation": "c-2",
        "event": "message_received",
        "payload": { "text": HOSTILE },
    });
    let events = format!("{event}\n{plain}\n");
    let path = dir.path().to_path_buf();
    let (human, json) = tokio::task::spawn_blocking(move || {
        let human = agentc(&path, &["run", "desk.agent", "--events", "-"], &events);
        let json = agentc(
            &path,
            &["run", "desk.agent", "--events", "-", "--trace", "json"],
            &events,
        );
        (human, json)
    })
    .await
    .unwrap();
    assert!(human.stdout.contains("answered 500"), "{}", human.all());
    assert!(!has_raw_controls(&human.all()), "{:?}", human.all());
    // Every line is a line of one of the two conversations: none was forged.
    for line in human.stdout.lines() {
        assert!(
            line.starts_with("x\\u{1b}[2J\\nc-1001") || line.starts_with("c-2 "),
            "forged: {line:?}"
        );
    }
    assert!(!has_raw_controls(&json.all()), "{:?}", json.all());
    for line in json.stdout.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = record["conversation"].as_str().unwrap();
        assert!(
            id == HOSTILE || id == "c-2",
            "JSON keeps the text as it was: {id:?}"
        );
    }
}

#[test]
fn file_names_and_test_names_are_escaped_in_check_and_test_output() {
    let dir = tempfile::tempdir().unwrap();
    let program = r#"agent desk {
  channels: [chat]
}

reply hello { text: "Hi" }

on conversation_started reply helo

test "a \u{1b}[2J name \u{202e}" {
  send conversation_started
  expect reply hello
}
"#;
    write(dir.path(), "evil\u{1b}[2J\u{202e}.agent", program);
    for args in [&["check", "."][..], &["test", "."][..]] {
        let output = agentc(dir.path(), args, "");
        assert_eq!(output.code, 1, "{}", output.all());
        assert!(output.all().contains("evil\\u{1b}[2J"), "{}", output.all());
        assert!(!has_raw_controls(&output.all()), "{:?}", output.all());
    }
    write(
        dir.path(),
        "evil\u{1b}[2J\u{202e}.agent",
        &program.replace("helo", "hello"),
    );
    let output = agentc(dir.path(), &["test", "."], "");
    assert!(output.stdout.contains("name \\u{202e}"), "{}", output.all());
    assert!(!has_raw_controls(&output.all()), "{:?}", output.all());
}

#[test]
fn the_repl_escapes_what_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let input = format!(
        ":{HOSTILE}\n\"{}\"\n:send message_received {{ text: \"\\u{{1b}}[2J\" }}\n",
        "\\u{202e}"
    );
    let output = agentc(dir.path(), &["repl"], &input);
    assert!(
        output.stdout.contains("unknown command"),
        "{}",
        output.all()
    );
    assert!(!has_raw_controls(&output.all()), "{:?}", output.all());
}

/// A program whose only error sits on line 5 at column `column`.
fn long_line_program(column: usize) -> String {
    format!(
        "agent desk {{\n  channels: [chat]\n}}\n\n{}on conversation_started reply nowhere\n",
        " ".repeat(column - 1)
    )
}

#[test]
fn a_diagnostic_past_column_65535_is_reported_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "long.agent", &long_line_program(70_001));
    // A syntax error that far out, for `fmt`, which only reports those.
    write(
        dir.path(),
        "broken.agent",
        &format!(
            "agent desk {{\n  channels: [chat]\n}}\n{}}}\n",
            " ".repeat(70_000)
        ),
    );
    for args in [
        &["check", "long.agent"][..],
        &["test", "long.agent"][..],
        &["fmt", "--check", "broken.agent"][..],
    ] {
        let output = agentc(dir.path(), args, "");
        assert_ne!(output.code, 101, "{args:?} panicked: {}", output.stderr);
        assert!(matches!(output.code, 1 | 2), "{args:?}: {}", output.all());
        assert!(
            output.all().contains("not drawn"),
            "{args:?}: {}",
            output.all()
        );
    }
    let output = agentc(dir.path(), &["repl"], ":load long.agent\n1 + 1\n");
    assert_ne!(output.code, 101, "the REPL panicked: {}", output.stderr);
    assert!(
        output.stdout.contains("2 : number"),
        "the session goes on: {}",
        output.all()
    );
}

/// Whether `agentc check` accepts `source`.
fn checks(dir: &Path, source: &str) -> bool {
    write(dir, "deep.agent", source);
    let output = agentc(dir, &["check", "deep.agent"], "");
    output.code == 0
}

/// The largest `n` up to `limit` for which `source(n)` checks: the deepest nesting of that
/// kind the checker accepts (a few below the syntax's bracket limit, which the enclosing
/// declaration uses too).
fn deepest(dir: &Path, source: impl Fn(usize) -> String, limit: usize) -> usize {
    let mut n = limit;
    while !checks(dir, &source(n)) {
        n -= 1;
        assert!(
            n + 4 > limit,
            "nesting {n} of {limit} does not check:\n{}",
            source(n)
        );
    }
    n
}

/// Compiles `source`, runs the IR on one `conversation_started`, returns the JSON trace.
fn compile_and_run(dir: &Path, source: &str) -> String {
    write(dir, "deep.agent", source);
    let compiled = agentc(dir, &["compile", "deep.agent", "-o", "deep.json"], "");
    assert_eq!(compiled.code, 0, "{}", compiled.all());
    let events = "{\"conversation\":\"c-1\",\"event\":\"conversation_started\"}\n";
    let args = ["run", "deep.json", "--events", "-", "--trace", "json"];
    let output = agentc(dir, &args, events);
    assert_eq!(
        output.code,
        0,
        "the IR compile wrote does not run: {}",
        output.all()
    );
    output.stdout
}

#[test]
fn every_program_compile_writes_loads_at_the_deepest_nesting_the_checker_accepts() {
    let dir = tempfile::tempdir().unwrap();
    // Calls, as deep as the parser's bracket nesting allows (the reply's braces count).
    let calls = |n: usize| {
        format!(
            "agent a {{ channels: [chat] }}\nreply r {{ text: {}\"X\"{} }}\non conversation_started reply r\n",
            "lower(".repeat(n),
            ")".repeat(n)
        )
    };
    let n = deepest(dir.path(), calls, 128);
    let trace = compile_and_run(dir.path(), &calls(n));
    assert!(trace.contains(r#""text":"x""#), "{trace}");
    // A chain of operators nests one expression level per operator, with no bracket (the
    // parser bounds it too).
    let chain = |n: usize| {
        format!(
            "agent a {{\n  channels: [chat]\n  params: {{ n: number }}\n}}\naction count {{\n  target: conversation\n  task: set(n: 1{})\n}}\non conversation_started do count\n",
            " + 1".repeat(n)
        )
    };
    let n = deepest(dir.path(), chain, 129);
    let trace = compile_and_run(dir.path(), &chain(n));
    assert!(trace.contains(&format!(r#""n":{}"#, n + 1)), "{trace}");
}

#[test]
fn a_hand_edited_ir_that_breaks_the_secret_rules_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "desk.agent",
        r#"agent desk {
  channels: [chat]
}

target api: http {
  base_url: "https://api.example"
  auth: bearer(secret("TOKEN"))
}

action tag {
  target: conversation
  task: add_label("vip")
}

reply hello { text: "Hi" }

on conversation_started reply hello
on conversation_started do tag
"#,
    );
    let compiled = agentc(
        dir.path(),
        &["compile", "desk.agent", "-o", "desk.json"],
        "",
    );
    assert_eq!(compiled.code, 0, "{}", compiled.all());
    let mut ir: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("desk.json")).unwrap())
            .unwrap();
    let secret =
        serde_json::json!({"call": ["secret", [{"lit": {"type": "text", "value": "TOKEN"}}]]});
    ir["replies"]["hello"]["text"] = serde_json::json!({ "one": secret.clone() });
    ir["actions"]["tag"]["task"]["args"][0][1] = secret;
    ir["targets"]["api"]["fields"]["base_url"]["lit"]["value"] = "http://api.example".into();
    write(dir.path(), "desk.json", &ir.to_string());
    let events = "{\"conversation\":\"c-1\",\"event\":\"conversation_started\"}\n";
    let output = agentc(dir.path(), &["run", "desk.json", "--events", "-"], events);
    assert_eq!(output.code, 1, "{}", output.all());
    assert!(output.stdout.is_empty(), "nothing ran: {}", output.stdout);
    for expected in [
        "error[E0407]: a secret is placed in a reply, where it would be shown or stored (reply `hello`)",
        "error[E0407]: a secret is placed in argument `label` of `add_label`, where it would be shown or stored (action `tag`)",
        "error[E0406]: a secret would be sent in clear to `api.example` (target `api`)",
    ] {
        assert!(output.stderr.contains(expected), "{expected}\n{}", output.stderr);
    }
    assert_eq!(leaks(&output.all()), Vec::<String>::new());
}
