//! The hub on a real store, wrapped to count what the hub asks of it.

use super::*;
use crate::check::{check_program, MemoryLoader};
use crate::diagnostics::SourceMap;
use crate::serve::metrics::Metrics;
use crate::serve::store::prune::{Batch, Pruned};
use crate::serve::store::sqlite::Sqlite;
use crate::serve::store::{Durable, Recovery};
use futures::future::BoxFuture;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A program whose conversations have an inactivity timer.
fn nudging() -> ir::Program {
    let mut sources = SourceMap::new();
    let root = sources.add(
        "desk.agent",
        "agent idle {\n  channels: [chat]\n  inactivity: 1s\n}\n\nreply nudge { text: \"Still \
         there?\" }\n\non conversation_inactive reply nudge\n",
    );
    let checked = check_program(&mut sources, root, &mut MemoryLoader::new());
    checked
        .program
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics))
}

/// A SQLite store that counts the hub's `due` reads, and says of the next
/// `failing_commits` accepts told early that their commit failed.
struct Counting {
    inner: Sqlite,
    dues: AtomicUsize,
    failing_commits: AtomicUsize,
}

impl Counting {
    async fn open(path: &std::path::Path, failing_commits: usize) -> Arc<Counting> {
        let inner = Sqlite::open(&path.to_string_lossy(), Arc::new(Metrics::default()))
            .await
            .expect("a store");
        Arc::new(Counting {
            inner,
            dues: AtomicUsize::new(0),
            failing_commits: AtomicUsize::new(failing_commits),
        })
    }
}

impl Store for Counting {
    fn accept(&self, event: Accept) -> Durable<Accepted> {
        self.inner.accept(event)
    }
    fn accept_early(&self, event: Accept) -> (Durable<Accepted>, Durable<()>) {
        let (applied, durable) = self.inner.accept_early(event);
        let fail = self
            .failing_commits
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        match fail {
            true => (
                applied,
                Durable::ready(Err(StoreError("the disk is full".into()))),
            ),
            false => (applied, durable),
        }
    }
    fn attempt_started(&self, conversation: &str, key: String) -> Durable<()> {
        self.inner.attempt_started(conversation, key)
    }
    fn attempt_ended(&self, conversation: &str, key: String, outcome: Json) -> Durable<()> {
        self.inner.attempt_ended(conversation, key, outcome)
    }
    fn stepped(&self, step: Step) -> Durable<()> {
        self.inner.stepped(step)
    }
    fn flush(&self) -> Durable<()> {
        self.inner.flush()
    }
    fn conversation(
        &self,
        id: &str,
    ) -> BoxFuture<'_, Result<Option<StoredConversation>, StoreError>> {
        self.inner.conversation(id)
    }
    fn trace(
        &self,
        id: &str,
        after: i64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<(i64, Json)>, StoreError>> {
        self.inner.trace(id, after, limit)
    }
    fn answer(
        &self,
        conversation: &str,
        n: u64,
    ) -> BoxFuture<'_, Result<Option<Json>, StoreError>> {
        self.inner.answer(conversation, n)
    }
    fn recover(&self) -> BoxFuture<'_, Result<Recovery, StoreError>> {
        self.inner.recover()
    }
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.ping()
    }
    fn prune(&self, retain: Duration, batch: Batch) -> BoxFuture<'_, Result<Pruned, StoreError>> {
        self.inner.prune(retain, batch)
    }
    fn shared(&self) -> bool {
        self.inner.shared()
    }
    fn due(&self, limit: u32) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        self.dues.fetch_add(1, Ordering::SeqCst);
        self.inner.due(limit)
    }
}

#[tokio::test]
async fn on_a_store_only_this_process_opens_no_sweep_reads_due_timers() {
    let dir = tempfile::tempdir().expect("a directory");
    let store = Counting::open(&dir.path().join("journal.sqlite"), 0).await;
    let every = Duration::from_millis(5);
    let (hub, _) = Hub::start(nudging(), store.clone(), every, every, every)
        .await
        .expect("a hub");
    tokio::time::sleep(every * 20).await;
    assert_eq!(store.dues.load(Ordering::SeqCst), 0);
    drop(hub);
}

/// An owed step journaled after an outage: read back, its age counts from when it was
/// taken, not from when the store took it, and its timer is not put off by the outage.
#[test]
fn a_step_journaled_late_goes_on_by_how_late_it_is() {
    let program = nudging();
    let mut state = ConversationState::initial("c-1", &program.agent);
    state.time = Duration::from_secs(5);
    state.idle_since = Some(Duration::from_secs(5));
    let step = Step {
        conversation: "c-1".into(),
        event: Some(1),
        state: serde_json::to_value(&state).expect("a state"),
        status: "active".into(),
        retired: false,
        records: Vec::new(),
        answer: None,
        due_in: state
            .inactive_in(program.agent.inactivity_ms)
            .map(|d| d.as_millis() as u64),
    };
    assert_eq!(step.due_in, Some(1_000));
    let late = later(&step, Duration::from_millis(700));
    let stored = StoredConversation {
        state: late.state.clone(),
        retired: false,
        age: Duration::from_millis(100),
    };
    let read = read_state(stored).expect("a state");
    assert_eq!(read.time, Duration::from_millis(5_800));
    assert_eq!(read.idle_since, state.idle_since);
    assert_eq!(late.due_in, Some(300));
    assert_eq!(
        read.inactive_in(program.agent.inactivity_ms),
        Some(Duration::from_millis(200))
    );
}

/// An event runs while its accept's commit reaches the disk; one whose commit then fails is
/// refused (503, not acknowledged), leaves no step, and what it did in memory is forgotten:
/// sent again, it runs from the journaled state, as the first event.
#[tokio::test]
async fn an_event_whose_accept_is_not_durable_after_all_is_refused_and_forgotten() {
    let dir = tempfile::tempdir().expect("a directory");
    let store = Counting::open(&dir.path().join("journal.sqlite"), 1).await;
    let every = Duration::from_secs(60);
    let (hub, _) = Hub::start(nudging(), store.clone(), every, every, every)
        .await
        .expect("a hub");
    let event = || {
        let line = br#"{"conversation":"c-1","event":"message_received","payload":{"text":"hi"}}"#;
        crate::serve::inbound::parse(line).expect("an event")
    };
    let seq = || async {
        store.flush().await.expect("the store commits");
        let stored = store.conversation("c-1").await.expect("the store answers");
        stored.expect("the conversation").state["seq"].clone()
    };
    match hub.submit(event()).await {
        Err(error) => assert_eq!(error.code, ErrorCode::StoreUnavailable),
        Ok(_) => panic!("acknowledged though its commit failed"),
    }
    assert_eq!(seq().await, 0, "no step is journaled for it");
    let Ok(Admission::Running(_, answer)) = hub.submit(event()).await else {
        panic!("the event sent again is not accepted");
    };
    answer.await.expect("an answer");
    assert_eq!(
        seq().await,
        1,
        "it ran from the journal, not from what was forgotten"
    );
}
