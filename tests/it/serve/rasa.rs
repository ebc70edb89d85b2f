//! The Rasa action-server protocol on the real binary (docs/rasa.md): a call is journaled
//! and run as an event of its conversation, the same body again runs nothing, an action
//! may be named alone, and the routes take the same token as `/v1` (Rasa's `?token=` too).

use super::support::{client, counting_service, get, post_to, program, Server};
use serde_json::{json, Value as Json};

fn body(action: &str, sender: &str) -> String {
    json!({
        "next_action": action,
        "sender_id": sender,
        "tracker": {
            "sender_id": sender,
            "slots": { "found": null, "requested_slot": null },
            "latest_message": { "text": "where is my ticket?" },
            "latest_event_time": 1700000003.52,
            "events": [],
        },
        "domain": { "slots": { "found": {}, "ticket": {}, "requested_slot": {} } },
        "version": "3.6.2",
    })
    .to_string()
}

async fn webhook(http: &reqwest::Client, url: &str, body: &str) -> (u16, Json) {
    post_to(http, url, "/webhook", body).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rasa_call_runs_once_and_answers_slot_events() {
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, _) = counting_service();
    program(dir.path(), service, "Hello");
    let server = Server::start(dir.path(), &[]);
    let http = client();

    let call = body("lookup", "r-1");
    let (status, answer) = webhook(&http, &server.url, &call).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["responses"], json!([]));
    let events = answer["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{answer}");
    assert_eq!(events[0]["event"], "slot");
    assert_eq!(events[0]["name"], "found");
    assert_eq!(events[0]["value"]["body"]["id"], "T-1", "{answer}");
    // The same call again (Rasa's tracker grows with every event, so the same body is
    // the same call): the first answer, nothing sent again.
    let (status, again) = webhook(&http, &server.url, &call).await;
    assert_eq!((status, &again), (200, &answer));
    assert_eq!(counts.get("GET /tickets/T-1"), 1, "{:?}", counts.all());

    // It is a conversation of the journal like any other.
    let (status, conversation) = get(&http, &format!("{}/v1/conversations/r-1", server.url)).await;
    assert_eq!(status, 200);
    assert_eq!(conversation["params"]["found"], events[0]["value"]);

    // An action named alone runs alone, with its on_failure.
    let (status, answer) = webhook(&http, &server.url, &body("open_ticket", "r-2")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["events"][0]["name"], "ticket", "{answer}");
    assert_eq!(counts.all().len(), 2, "{:?}", counts.all());

    let (status, unknown) = webhook(&http, &server.url, &body("lokup", "r-3")).await;
    assert_eq!(status, 404);
    assert_eq!(
        unknown,
        json!({
            "error": "No registered action found for name 'lokup'. Did you mean 'lookup'?",
            "action_name": "lokup",
        })
    );
    let (status, malformed) = webhook(&http, &server.url, "[]").await;
    assert_eq!((status, &malformed["action_name"]), (400, &Json::Null));
    let (status, _) = get(&http, &format!("{}/v1/conversations/r-3", server.url)).await;
    assert_eq!(status, 404, "a refused call journals nothing");

    let (status, health) = get(&http, &format!("{}/health", server.url)).await;
    assert_eq!((status, health), (200, json!({"status": "ok"})));
    let (status, actions) = get(&http, &format!("{}/actions", server.url)).await;
    assert_eq!(status, 200);
    assert_eq!(
        actions,
        json!([
            {"name": "lookup"},
            {"name": "apologise"},
            {"name": "find_ticket"},
            {"name": "open_ticket"},
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rasa_routes_take_the_token_as_a_header_rasas_query_parameter_or_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    let (service, _, _) = counting_service();
    program(dir.path(), service, "Hello");
    let token = "tok-r4sa-5ecret";
    let server = Server::start(dir.path(), &["--token", token]);
    let http = client();
    let call = body("lookup", "r-9");
    let (status, refused) = webhook(&http, &server.url, &call).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let response = http
        .post(format!("{}/webhook?token=nope", server.url))
        .body(call.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let response = http
        .post(format!("{}/webhook?token={token}", server.url))
        .body(call.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let response = http
        .get(format!("{}/actions", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // Rasa's `basic_auth`: the password is the token, the user anything.
    let basic = |password: &str| {
        http.post(format!("{}/webhook", server.url))
            .basic_auth("rasa", Some(password))
            .body(call.clone())
    };
    assert_eq!(basic("nope").send().await.unwrap().status().as_u16(), 401);
    assert_eq!(basic(token).send().await.unwrap().status().as_u16(), 200);
    // Health needs none; /v1 takes no token in the URL.
    assert_eq!(get(&http, &format!("{}/health", server.url)).await.0, 200);
    let (status, _) = get(
        &http,
        &format!("{}/v1/conversations/r-9?token={token}", server.url),
    )
    .await;
    assert_eq!(status, 401);
    let journal = std::fs::read(dir.path().join("journal.sqlite")).unwrap_or_default();
    let text = String::from_utf8_lossy(&journal).into_owned() + &server.stderr();
    assert!(!text.contains(token));
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("rasa:{token}"));
    assert!(!text.contains(&basic));
}
