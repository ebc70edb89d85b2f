//! `kill -9` and restart: nothing acknowledged is lost, nothing is done twice.

use super::support::{client, counting_service, get, in_flight, post, program, Server};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

const STARTED: &str = r#"{"id":"d-1","conversation":"c-1","event":"conversation_started","payload":{"user":{"name":"Ana"}}}"#;
const MESSAGE: &str =
    r#"{"id":"d-2","conversation":"c-1","event":"message_received","payload":{"text":"late"}}"#;
const LOOKUP: &str =
    r#"{"id":"d-3","conversation":"c-1","event":"usecase","payload":{"name":"lookup"}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_side_effect_cut_off_by_a_crash_is_not_sent_again_and_ends_as_outcome_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, behaviour) = counting_service();
    program(dir.path(), service, "Hello");
    let server = Server::start(dir.path(), &[]);
    let http = client();
    post(&http, &server.url, STARTED).await.unwrap();
    let cut = in_flight(&behaviour, &counts, &server.url, MESSAGE, 1).await;
    drop(server); // SIGKILL
    assert!(cut.await.unwrap().is_err(), "no answer was given");
    behaviour.hang.store(false, Ordering::SeqCst);
    let server = Server::start(dir.path(), &[]);
    let (status, answer) = post(&http, &server.url, MESSAGE).await.unwrap();
    assert_eq!(status, 200, "{answer}");
    let ticket = &answer["actions"][0];
    assert_eq!(
        (&ticket["name"], &ticket["status"]),
        (&json!("open_ticket"), &json!("failed"))
    );
    assert!(
        ticket["error"]
            .as_str()
            .unwrap()
            .starts_with("outcome unknown"),
        "{answer}"
    );
    assert_eq!(
        answer["replies"],
        json!([{"name": "sorry", "text": "Sorry!"}])
    );
    assert_eq!(
        counts.all().values().sum::<u32>(),
        1,
        "sent once: {:?}",
        counts.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_cut_off_by_a_crash_is_sent_again_and_a_finished_step_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, behaviour) = counting_service();
    program(dir.path(), service, "Hello");
    let server = Server::start(dir.path(), &[]);
    let http = client();
    post(&http, &server.url, STARTED).await.unwrap();
    let (_, opened) = post(&http, &server.url, MESSAGE).await.unwrap();
    let cut = in_flight(&behaviour, &counts, &server.url, LOOKUP, 2).await;
    drop(server);
    assert!(cut.await.unwrap().is_err());
    behaviour.hang.store(false, Ordering::SeqCst);
    let server = Server::start(dir.path(), &[]);
    let (status, answer) = post(&http, &server.url, LOOKUP).await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["params"]["found"]["body"]["id"]
            .as_str()
            .map(|s| s.starts_with("T-")),
        Some(true),
        "{answer}"
    );
    assert_eq!(
        counts.get("GET /tickets/T-1"),
        2,
        "a read is sent again: {:?}",
        counts.all()
    );
    // The ticket opened before the crash stays in the state, and its answer is the first.
    assert_eq!(answer["params"]["ticket"], opened["params"]["ticket"]);
    assert_eq!(post(&http, &server.url, MESSAGE).await.unwrap().1, opened);
}

/// One conversation's events, as a platform sends them: in order, each once answered.
fn events(conversation: usize, messages: usize) -> Vec<String> {
    let mut events = vec![format!(
        r#"{{"id":"{conversation}-0","conversation":"k-{conversation}","event":"conversation_started"}}"#
    )];
    for m in 1..=messages {
        events.push(format!(
            r#"{{"id":"{conversation}-{m}","conversation":"k-{conversation}","event":"message_received","payload":{{"text":"m{m}"}}}}"#
        ));
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_load_several_times_every_event_is_handled_once_and_every_key_sent_once() {
    const CONVERSATIONS: usize = 12;
    // Each message waits 25 ms at the service, so no conversation can finish its 60 before
    // the third kill (250 + 400 + 550 ms of serving): every kill comes mid-load.
    const MESSAGES: usize = 60;
    let dir = tempfile::tempdir().unwrap();
    let (service, counts, behaviour) = counting_service();
    *behaviour.delay.lock().unwrap() = Duration::from_millis(25);
    program(dir.path(), service, "Hello");
    let http = client();
    // Per conversation, how many of its events were answered.
    let mut answered = vec![0usize; CONVERSATIONS];
    // Conversations whose sender lost its server mid-way, over the rounds.
    let mut cut = 0;
    for round in 0..4 {
        let server = Server::start(dir.path(), &[]);
        let mut senders = Vec::new();
        for (c, done) in answered.iter().enumerate() {
            let (http, url, done) = (http.clone(), server.url.clone(), *done);
            senders.push(tokio::spawn(async move {
                let mut done = done;
                for event in events(c, MESSAGES).into_iter().skip(done) {
                    match post(&http, &url, &event).await {
                        Ok((200, _)) => done += 1,
                        Ok((status, answer)) => panic!("{status}: {answer}"),
                        // The server was killed: this one is re-sent after the restart.
                        Err(_) => break,
                    }
                }
                done
            }));
        }
        if round < 3 {
            tokio::time::sleep(Duration::from_millis(250 + 150 * round as u64)).await;
            drop(server); // SIGKILL in the middle of the load
        }
        for (c, sender) in senders.into_iter().enumerate() {
            answered[c] = sender.await.unwrap();
            cut += usize::from(answered[c] < MESSAGES + 1);
        }
    }
    assert!(answered.iter().all(|&n| n == MESSAGES + 1), "{answered:?}");
    assert_eq!(cut, 3 * CONVERSATIONS, "every kill came mid-load");
    let server = Server::start(dir.path(), &[]);
    let mut ok = 0;
    let mut unknown = 0;
    for c in 0..CONVERSATIONS {
        let (_, trace) = get(
            &http,
            &format!("{}/v1/conversations/k-{c}/trace", server.url),
        )
        .await;
        let records = trace["records"].as_array().unwrap();
        let mut seqs: HashMap<u64, usize> = HashMap::new();
        for record in records.iter().filter(|r| r["type"] == "event") {
            *seqs.entry(record["seq"].as_u64().unwrap()).or_default() += 1;
        }
        assert_eq!(
            seqs.len(),
            MESSAGES + 1,
            "k-{c}: each event handled: {records:?}"
        );
        assert!(
            seqs.values().all(|&n| n == 1),
            "k-{c}: each event once: {seqs:?}"
        );
        for action in records.iter().filter(|r| r["action"] == "open_ticket") {
            match action["status"].as_str() {
                Some("ok") => ok += 1,
                _ if action["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("outcome unknown")) =>
                {
                    unknown += 1
                }
                other => panic!("{other:?}: {action}"),
            }
        }
    }
    let all = counts.all();
    assert!(
        all.values().all(|&n| n == 1),
        "one request per idempotency key: {all:?}"
    );
    let sent = all.len();
    assert_eq!(ok + unknown, CONVERSATIONS * MESSAGES);
    assert!(
        ok <= sent && sent <= ok + unknown,
        "ok {ok}, unknown {unknown}, sent {sent}"
    );
    eprintln!("{cut} conversations cut off; {ok} tickets opened, {unknown} outcomes unknown");
}
