//! The Rasa webhook on the real binary: docs/rasa.md's example answers what the page
//! shows, and the rasa-sdk load comparison (benches/load/, too slow for CI) stays coherent:
//! its program checks, the wrk body is a Rasa call of its use case, and run against the
//! answer nginx gives, the program answers what rasa-sdk's action does (the script checks
//! both servers against the same answer before loading them).

use agentc::check::{check_program, MemoryLoader};
use agentc::diagnostics::SourceMap;
use agentc::ir::Program;
use agentc::serve::rasa::{webhook, Limits, Run};
use assert_cmd::Command;
use serde_json::{json, Value as Json};
use std::path::Path;

use crate::serve::support::{client, post_to, Server};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/load");

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(DIR).join(name)).unwrap()
}

#[test]
fn the_load_program_checks_and_is_formatted() {
    let program = format!("{DIR}/order_status.agent");
    for args in [["check", "--deny-warnings"], ["fmt", "--check"]] {
        Command::cargo_bin("agentc")
            .unwrap()
            .args(args)
            .arg(&program)
            .assert()
            .success();
    }
}

fn checked(source: &str) -> Program {
    let mut sources = SourceMap::new();
    let root = sources.add("main.agent", source);
    let checked = check_program(&mut sources, root, &mut MemoryLoader::new());
    checked
        .program
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics))
}

/// Posts the body to `agentc serve PROGRAM`'s `/webhook` (the real binary, its SQLite
/// journal in a fresh directory): Rasa's answer.
async fn run(source: &str, body: &str, env: &[(&str, &str)]) -> Json {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("desk.agent"), source).unwrap();
    let server = Server::start_with_env(dir.path(), &[], env);
    let (status, answer) = post_to(&client(), &server.url, "/webhook", body)
        .await
        .unwrap();
    assert_eq!(status, 200, "{}", server.stderr());
    answer
}

/// The text of the first fenced block of `info` in `doc`.
fn block<'d>(doc: &'d str, info: &str) -> &'d str {
    let fence = format!("```{info}\n");
    let start = doc.find(&fence).unwrap() + fence.len();
    let len = doc[start..].find("```").unwrap();
    &doc[start..start + len]
}

#[tokio::test]
async fn the_rasa_page_answers_what_it_shows() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rasa.md")).unwrap();
    let source = block(&doc, "agent");
    let program = checked(source);
    let body = json!({
        "next_action": "order_status",
        "sender_id": "c-doc",
        "tracker": { "sender_id": "c-doc", "slots": { "order_id": "A-1001", "status": null } },
        "domain": { "slots": { "order_id": {}, "status": {}, "eta": {} } },
    });
    let call = webhook(
        body.to_string().as_bytes(),
        None,
        &Limits::default(),
        &program,
    )
    .unwrap();
    assert_eq!(call.run, Run::Usecase("order_status".into()));
    let answer = run(source, &body.to_string(), &[]).await;
    let shown: Json = serde_json::from_str(block(&doc, "json")).unwrap();
    assert_eq!(answer, shown);
}

/// The fixed JSON nginx.conf answers with.
fn nginx_answer() -> String {
    let conf = read("nginx.conf");
    let line = conf.lines().find(|l| l.contains("return 200")).unwrap();
    let start = line.find('\'').unwrap() + 1;
    let end = line.rfind('\'').unwrap();
    line[start..end].to_string()
}

#[tokio::test]
async fn the_load_body_runs_the_use_case_and_answers_as_the_python_action_does() {
    let source = read("order_status.agent");
    let program = checked(&source);
    let body = read("webhook.json")
        .replace("@SENDER@", "c-load")
        .replace("@CALL@", "1");
    let call = webhook(body.as_bytes(), None, &Limits::default(), &program).unwrap();
    assert_eq!(call.run, Run::Usecase("order_status".into()));
    assert!(
        read("actions.py").contains(r#"return "order_status""#),
        "the Python action has the use case's name"
    );

    // nginx's answer, from a real local server.
    let answer = nginx_answer();
    let app = axum::Router::new().route(
        "/orders/:id",
        axum::routing::get(move || {
            let answer = answer.clone();
            async move { ([("content-type", "application/json")], answer) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let orders = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let answer = run(&source, &body, &[("ORDERS_URL", &orders)]).await;
    // What rasa_vs_agentc.sh's check_answer asks of both servers.
    assert_eq!(
        answer["events"],
        json!([
            { "event": "slot", "timestamp": null, "name": "status", "value": "shipped" },
            { "event": "slot", "timestamp": null, "name": "eta", "value": "2026-11-24" },
        ])
    );
    assert_eq!(answer["responses"][0]["text"], "Order A-1001 is shipped.");
}
