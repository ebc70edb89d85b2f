//! `docs/serve.md` is what the server does: its program is the page's first ```agent block,
//! each request block (`<!-- serve: POST /v1/events -->`, `<!-- serve: GET … -->`) is sent in
//! order to a real `agentc serve`, and each answer block (`<!-- serve: answer 200 -->`) is
//! the status and JSON it answers; the error table lists exactly the server's codes.

use super::markdown::{blocks, ROOT};
use crate::serve::support::{client, counting_service, get, Server};
use agentc::serve::ErrorCode;

fn page() -> String {
    std::fs::read_to_string(format!("{ROOT}/docs/serve.md")).expect("docs/serve.md exists")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exchange_in_docs_serve_is_what_the_server_answers() {
    let page = page();
    let blocks = blocks("docs/serve.md", &page);
    let program = blocks
        .iter()
        .find(|b| b.info == "agent" && b.marker.is_none())
        .expect("docs/serve.md shows its program");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("desk.agent"), &program.text).unwrap();
    let (service, _, _) = counting_service();
    let tickets = format!("http://{service}");
    let server = Server::start_with_env(dir.path(), &[], &[("TICKETS_URL", &tickets)]);
    let http = client();
    let mut last = None;
    let mut exchanges = 0;
    for block in &blocks {
        let Some(what) = block
            .marker
            .as_deref()
            .and_then(|m| m.strip_prefix("serve:"))
        else {
            continue;
        };
        let what = what.trim();
        if let Some(path) = what.strip_prefix("POST ") {
            let url = format!("{}{path}", server.url);
            let response = http
                .post(url)
                .body(block.text.clone())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            last = Some((status, response.json().await.unwrap()));
        } else if let Some(path) = what.strip_prefix("GET ") {
            last = Some(get(&http, &format!("{}{path}", server.url)).await);
        } else if let Some(status) = what.strip_prefix("answer ") {
            let (got, answer): (u16, serde_json::Value) = last
                .take()
                .unwrap_or_else(|| panic!("{}: an answer without a request", block.place()));
            let shown: serde_json::Value = serde_json::from_str(&block.text)
                .unwrap_or_else(|e| panic!("{}: {e}", block.place()));
            assert_eq!(got.to_string(), status, "{}: {answer}", block.place());
            assert_eq!(answer, shown, "{}", block.place());
            exchanges += 1;
        } else if what != "error codes" {
            panic!("{}: unknown marker `serve: {what}`", block.place());
        }
    }
    assert!(exchanges >= 5, "{exchanges} exchanges");
}

#[test]
fn the_error_table_in_docs_serve_lists_every_code() {
    let page = page();
    let table = page
        .split("<!-- serve: error codes -->")
        .nth(1)
        .expect("docs/serve.md has the error table");
    let rows: Vec<(String, String, String)> = table
        .lines()
        .skip(3)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            (
                cells[0].trim_matches('`').to_string(),
                cells[1].to_string(),
                cells[2].to_string(),
            )
        })
        .collect();
    let codes: Vec<(String, String, String)> = ErrorCode::ALL
        .iter()
        .map(|c| {
            (
                c.code().to_string(),
                c.status().as_u16().to_string(),
                c.doc().to_string(),
            )
        })
        .collect();
    assert_eq!(rows, codes);
}
