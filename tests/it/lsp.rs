//! `agentc lsp` spoken to over JSON-RPC, as an editor does: the real binary on pipes, a
//! workspace of real files in a temporary directory. Every wait is bounded.

use crate::support::exit_within;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

const MAIN: &str = r#"import "replies.agent"

agent desk {
    channels: [chat]
    params: {
        order_id: text
    }
}

target orders: http {
    base_url: "https://shop.example"
}

task get_order(id: text) on orders {
    method: GET
    path: "/orders/{id}"
}

on conversation_started reply welcome
on message_received do check_order

action check_order {
    target: orders
    task: get_order(id: order_id)
    on_failure: apologize
}

action apologise {
    target: conversation
    task: reply(sorry)
}
"#;

const REPLIES: &str = r#"reply welcome {
    text: "Hello, {user.name}!"
}

reply sorry {
    text: "Sorry, order {order_id} could not be found."
}
"#;

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Notifications received while waiting for something else.
    notifications: Vec<Value>,
    next_id: i64,
    dir: tempfile::TempDir,
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    /// Starts `agentc lsp` on a workspace holding `files`, and initialises it with the
    /// client `capabilities`.
    fn start(files: &[(&str, &str)], capabilities: Value) -> Client {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("agentc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, messages) = mpsc::channel();
        std::thread::spawn(move || {
            while let Some(message) = read_message(&mut stdout) {
                if send.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            messages,
            notifications: Vec::new(),
            next_id: 0,
            dir,
        };
        let root = client.uri("");
        let root = root.trim_end_matches('/').to_string();
        let answer = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root,
                "workspaceFolders": [{ "uri": root, "name": "workspace" }],
                "capabilities": capabilities,
            }),
        );
        assert!(answer["result"]["capabilities"]["hoverProvider"] == json!(true));
        client.notify("initialized", json!({}));
        client
    }

    fn uri(&self, name: &str) -> String {
        let path = self.dir.path().join(name);
        url::Url::from_file_path(path).unwrap().to_string()
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn next(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        self.messages
            .recv_timeout(left)
            .expect("the server answers in time")
    }

    /// The whole response (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = Instant::now() + WAIT;
        loop {
            let message = self.next(deadline);
            if message["id"] == json!(id) {
                return message;
            }
            self.notifications.push(message);
        }
    }

    /// The next diagnostics pushed for `name`.
    fn diagnostics(&mut self, name: &str) -> Value {
        let uri = self.uri(name);
        let is_it = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        };
        if let Some(i) = self.notifications.iter().position(is_it) {
            return self.notifications.remove(i)["params"]["diagnostics"].clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let message = self.next(deadline);
            if is_it(&message) {
                return message["params"]["diagnostics"].clone();
            }
            self.notifications.push(message);
        }
    }

    fn open(&mut self, name: &str, text: &str) {
        let uri = self.uri(name);
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "agent", "version": 1, "text": text } }),
        );
    }

    /// `{ textDocument, position }` at the first `marker` in `text`, `skip` bytes in.
    fn at(&self, name: &str, text: &str, marker: &str, skip: usize) -> Value {
        let offset = text.find(marker).expect("marker in the text") + skip;
        json!({ "textDocument": { "uri": self.uri(name) }, "position": position(text, offset) })
    }

    /// The value with this workspace's directory written `$ROOT` and the keys of every
    /// object sorted (a workspace edit's files come in any order), for snapshots.
    fn shown(&self, value: &Value) -> String {
        let root = self.uri("");
        serde_json::to_string_pretty(&sorted(value))
            .unwrap()
            .replace(root.trim_end_matches('/'), "$ROOT")
    }

    fn shutdown(mut self) {
        let answer = self.request("shutdown", Value::Null);
        assert_eq!(answer["result"], Value::Null);
        self.notify("exit", Value::Null);
        let status = exit_within(&mut self.child, WAIT).expect("agentc lsp exits");
        assert!(status.success(), "agentc lsp exited with {status}");
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The protocol position of a byte offset (the texts here are ASCII).
fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let character = offset - before.rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": character })
}

#[test]
fn an_editor_session_from_open_to_shutdown() {
    let mut client = Client::start(
        &[("main.agent", MAIN), ("replies.agent", REPLIES)],
        json!({}),
    );
    let mut transcript = Vec::new();
    client.open("main.agent", MAIN);
    let diagnostics = client.diagnostics("main.agent");
    transcript.push(format!(
        "diagnostics on open:\n{}",
        client.shown(&diagnostics)
    ));

    let typo = MAIN.find("apologize").unwrap();
    let uri = client.uri("main.agent");
    let answer = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri },
            "range": { "start": position(MAIN, typo), "end": position(MAIN, typo) },
            "context": { "diagnostics": [] },
        }),
    );
    let actions: Vec<String> = answer["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{} (preferred: {})", a["title"], a["isPreferred"]))
        .collect();
    transcript.push(format!("quick fixes at the typo:\n{}", actions.join("\n")));

    // Fix the misspelt action where it is used: one character changed.
    let at = MAIN.find("apologize").unwrap() + "apologi".len();
    let uri = client.uri("main.agent");
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 2 },
            "contentChanges": [{
                "range": { "start": position(MAIN, at), "end": position(MAIN, at + 1) },
                "text": "s",
            }],
        }),
    );
    let fixed = MAIN.replace("apologize", "apologise");
    let diagnostics = client.diagnostics("main.agent");
    assert_eq!(diagnostics, json!([]), "the edit fixed the only error");

    let steps: Vec<(&str, &str, Value)> = vec![
        (
            "textDocument/hover",
            "hover on a declared task",
            client.at("main.agent", &fixed, "get_order(id:", 2),
        ),
        (
            "textDocument/hover",
            "hover on an event",
            client.at("main.agent", &fixed, "message_received", 3),
        ),
        (
            "textDocument/hover",
            "hover on an expression",
            client.at("main.agent", &fixed, "\"/orders/{id}\"", 1),
        ),
        (
            "textDocument/definition",
            "definition of a reply in another file",
            client.at("main.agent", &fixed, "reply welcome", 7),
        ),
        (
            "textDocument/completion",
            "completion of a reply name",
            client.at("main.agent", &fixed, "reply welcome", 7),
        ),
        (
            "textDocument/signatureHelp",
            "signature help in a task call",
            client.at("main.agent", &fixed, "reply(sorry)", 7),
        ),
    ];
    for (method, what, params) in steps {
        let answer = client.request(method, params);
        transcript.push(format!(
            "{what} ({method}):\n{}",
            client.shown(&answer["result"])
        ));
    }
    let mut references = client.at("main.agent", &fixed, "check_order {", 0);
    references["context"] = json!({ "includeDeclaration": true });
    let answer = client.request("textDocument/references", references);
    transcript.push(format!(
        "references of an action:\n{}",
        client.shown(&answer["result"])
    ));
    let prepare = client.request(
        "textDocument/prepareRename",
        client.at("replies.agent", REPLIES, "sorry {", 2),
    );
    transcript.push(format!(
        "prepare to rename a reply (the whole name, from inside it):\n{}",
        client.shown(&prepare["result"])
    ));
    let mut rename = client.at("replies.agent", REPLIES, "sorry {", 0);
    rename["newName"] = json!("not_found");
    let answer = client.request("textDocument/rename", rename);
    transcript.push(format!(
        "rename a reply across files:\n{}",
        client.shown(&answer["result"])
    ));

    let uri = client.uri("main.agent");
    let tokens = client.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": uri } }),
    );
    let data = tokens["result"]["data"].as_array().unwrap();
    assert!(!data.is_empty() && data.len().is_multiple_of(5), "{tokens}");
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    let outline: Vec<String> = symbols["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["detail"].as_str().unwrap(),
                s["name"].as_str().unwrap()
            )
        })
        .collect();
    transcript.push(format!("outline:\n{}", outline.join("\n")));

    client.open("loose.agent", "agent  loose {channels: [chat]}");
    let uri = client.uri("loose.agent");
    let answer = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    transcript.push(format!("formatting:\n{}", client.shown(&answer["result"])));
    insta::assert_snapshot!(transcript.join("\n\n"));
    client.shutdown();
}

#[test]
fn a_workspace_folder_added_later_is_read_and_checked_apart() {
    let mut client = Client::start(
        &[("main.agent", MAIN), ("replies.agent", REPLIES)],
        json!({}),
    );
    // The first folder's program has one error and one warning (the misspelt action).
    assert_eq!(
        client.diagnostics("main.agent").as_array().unwrap().len(),
        2
    );
    let other = tempfile::tempdir().unwrap();
    let file = other.path().join("other.agent");
    std::fs::write(
        &file,
        "agent other { channels: [chat] }\non conversation_started reply hello\n",
    )
    .unwrap();
    let uri = url::Url::from_directory_path(other.path())
        .unwrap()
        .to_string();
    client.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({ "event": { "added": [{ "uri": uri, "name": "other" }], "removed": [] } }),
    );
    let file_uri = url::Url::from_file_path(&file).unwrap().to_string();
    let deadline = Instant::now() + WAIT;
    let found = loop {
        let message = client.next(deadline);
        if message["method"] == "textDocument/publishDiagnostics"
            && message["params"]["uri"] == file_uri
        {
            break message["params"]["diagnostics"].clone();
        }
    };
    let codes: Vec<&Value> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert_eq!(codes, vec!["E0211"], "{found:#}");
    client.shutdown();
}

#[test]
fn a_client_that_pulls_diagnostics_gets_them_on_request_and_none_pushed() {
    let capabilities =
        json!({ "textDocument": { "diagnostic": { "dynamicRegistration": false } } });
    let mut client = Client::start(
        &[("main.agent", MAIN), ("replies.agent", REPLIES)],
        capabilities,
    );
    client.open("main.agent", MAIN);
    let uri = client.uri("main.agent");
    let answer = client.request(
        "textDocument/diagnostic",
        json!({ "textDocument": { "uri": uri } }),
    );
    let items = &answer["result"]["items"];
    assert_eq!(answer["result"]["kind"], "full");
    let codes: Vec<&Value> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert_eq!(codes, vec!["E0210", "W0601"], "{items:#}");
    // Past the debounce: still nothing pushed.
    std::thread::sleep(Duration::from_millis(400));
    let _ = client.request("workspace/symbol", json!({ "query": "" }));
    assert!(
        !client
            .notifications
            .iter()
            .any(|m| m["method"] == "textDocument/publishDiagnostics"),
        "{:?}",
        client.notifications
    );
    client.shutdown();
}

/// Symbols and highlighting turn every range of a file into lines and columns: on a large
/// file that must not count lines from the top for each (seconds, then minutes, as it grew).
#[test]
fn a_large_files_symbols_and_tokens_are_answered_promptly() {
    let text = agentc_gen::programs::program(256 * 1024);
    let mut client = Client::start(&[("big.agent", &text)], json!({}));
    client.open("big.agent", &text);
    assert_eq!(client.diagnostics("big.agent"), json!([]));
    let document = json!({ "textDocument": { "uri": client.uri("big.agent") } });
    for (method, items) in [
        ("textDocument/documentSymbol", "/result"),
        ("textDocument/semanticTokens/full", "/result/data"),
    ] {
        let began = Instant::now();
        let answer = client.request(method, document.clone());
        let took = began.elapsed();
        let found = answer.pointer(items).and_then(Value::as_array);
        assert!(
            found.is_some_and(|f| f.len() > 1000),
            "{method}: {answer:.200}"
        );
        assert!(took < Duration::from_secs(2), "{method} took {took:?}");
    }
    client.shutdown();
}

#[test]
fn a_bad_request_is_answered_with_an_error_and_the_server_goes_on() {
    let mut client = Client::start(
        &[("main.agent", MAIN), ("replies.agent", REPLIES)],
        json!({}),
    );
    let answer = client.request("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    let answer = client.request("textDocument/unheardOf", json!({}));
    assert_eq!(answer["error"]["code"], -32601, "{answer}");
    // A position far past the end of the text, on a file never opened but on disk.
    let uri = client.uri("main.agent");
    let answer = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 9999, "character": 9999 } }),
    );
    assert!(answer.get("result").is_some(), "{answer}");
    let at = client.at("main.agent", MAIN, "conversation_started", 2);
    let mut rename = at.clone();
    rename["newName"] = json!("x");
    // A built-in name is refused before the editor asks for a new one, and if asked anyway.
    for (method, params) in [
        ("textDocument/prepareRename", at),
        ("textDocument/rename", rename),
    ] {
        let answer = client.request(method, params);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("built in"),
            "{method}: {answer}"
        );
    }
    client.shutdown();
}

/// The `.agent` files under examples/, as (path, text).
fn examples() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from("examples")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "agent") {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path.to_str().unwrap().to_string(), text));
            }
        }
    }
    found.sort();
    found
}

/// One edit: where (a fraction of the text), how much to delete, what to insert.
fn edit() -> impl Strategy<Value = (f64, usize, String)> {
    let inserted = prop_oneof![
        Just(String::new()),
        "[a-z_]{1,6}",
        Just("{".to_string()),
        Just("}".to_string()),
        Just("\"".to_string()),
        Just("(".to_string()),
        Just(".".to_string()),
        Just(":".to_string()),
        Just("\n".to_string()),
        Just("é".to_string()),
        Just("/*".to_string()),
    ];
    (0.0..1.0f64, 0usize..12, inserted)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random edit sequences over the examples, with every service asked at random
    /// places after each edit: nothing panics or hangs, and every range given back lies
    /// inside the text.
    #[test]
    fn no_edit_sequence_breaks_the_language_services(
        example in 0usize..8,
        edits in proptest::collection::vec((edit(), 0.0..1.0f64), 1..12),
    ) {
        let files = examples();
        let (path, _) = &files[example % files.len()];
        let mut world = agentc::ide::World::default();
        world.set_roots(vec!["examples".into()]);
        for (p, text) in &files {
            world.set_file(p, text.clone());
        }
        for ((at, delete, insert), probe) in edits {
            let mut text = world.text(path).unwrap().to_string();
            let mut start = (at * text.len() as f64) as usize;
            while !text.is_char_boundary(start) { start -= 1; }
            let mut end = (start + delete).min(text.len());
            while !text.is_char_boundary(end) { end += 1; }
            text.replace_range(start..end, &insert);
            world.set_file(path, text.clone());
            let found = world.diagnostics();
            let here = &found.iter().find(|(p, _)| p == path).unwrap().1;
            for d in here {
                prop_assert!(d.span().end as usize <= text.len());
            }
            let offset = (probe * text.len() as f64) as usize;
            let analysis = world.analysis();
            if let Some(offer) = analysis.completion(path, offset) {
                prop_assert!(offer.start <= offset.min(text.len()));
            }
            if let Some(hover) = analysis.hover(path, offset) {
                prop_assert!(hover.range.end <= text.len());
            }
            for l in analysis.definition(path, offset).iter().chain(&analysis.references(path, offset, true)) {
                prop_assert!(l.range.end <= world_len(&files, path, &text, &l.path));
            }
            let _ = analysis.rename(path, offset, "renamed");
            let _ = analysis.signature_help(path, offset);
            let _ = analysis.document_symbols(path);
            let _ = analysis.code_actions(path, 0..text.len(), here);
            let _ = analysis.format(path);
            for (range, _) in analysis.highlight(path) {
                prop_assert!(range.end <= text.len());
            }
        }
    }
}

/// The length of `other`'s text: the edited one's, or the example's as read.
fn world_len(files: &[(String, String)], edited: &str, text: &str, other: &str) -> usize {
    if other == edited {
        return text.len();
    }
    files
        .iter()
        .find(|(p, _)| p == other)
        .map_or(usize::MAX, |(_, t)| t.len())
}
