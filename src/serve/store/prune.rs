//! Retention (`--retain`, docs/serve.md "Retention"): a periodic sweep deletes the journal
//! of finished work older than the retention, one bounded batch per transaction, so the
//! store of a server running for months stays the size of its recent work.
//!
//! What may go, once older than the retention:
//! - an event already answered, with its answer and its delivery `id` (the retention is
//!   the window in which a delivery sent again is answered from the journal; past it, it
//!   runs again). The next event of a conversation all of whose events went is numbered
//!   from 1 again: the number names an event among those journaled, while idempotency keys
//!   count the conversation's `seq`, which its state keeps;
//! - an attempt journaled more than the recovery margin before the oldest event still
//!   unanswered (a restart or a takeover hands that event the attempts journaled since);
//! - a conversation that ended, with its trace, events and lease, once no event of it is
//!   unanswered and no node holds it; its `id` is then unknown, and may start anew.
//!
//! What never goes: a conversation still running (its state, trace and pending timer), an
//! event not answered, and what recovery reads for one.

use super::Store;
use crate::serve::metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;

/// How much one transaction of the sweep deletes at most.
#[derive(Clone, Copy, Debug)]
pub struct Batch {
    /// Events, and attempts.
    pub rows: u32,
    /// Ended conversations, each with all its rows.
    pub conversations: u32,
}

/// Small enough that a batch holds the writer for milliseconds, not seconds.
const BATCH: Batch = Batch {
    rows: 1000,
    conversations: 50,
};

/// Rows one batch deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub events: u64,
    pub attempts: u64,
    pub conversations: u64,
    /// Trace records of the conversations deleted.
    pub trace: u64,
}

impl Pruned {
    /// Whether the batch was full: more may be left to delete now.
    fn full(&self, batch: Batch) -> bool {
        let rows = u64::from(batch.rows);
        self.events >= rows
            || self.attempts >= rows
            || self.conversations >= u64::from(batch.conversations)
    }

    /// By table, as `/metrics` labels them.
    pub fn by_table(&self) -> [(&'static str, u64); 4] {
        [
            ("events", self.events),
            ("attempts", self.attempts),
            ("conversations", self.conversations),
            ("trace", self.trace),
        ]
    }
}

/// How often the sweep runs: often enough that rows outlive the retention by a fraction
/// of it, and at most once a minute against a long one.
fn every(retain: Duration) -> Duration {
    (retain / 2).clamp(Duration::from_millis(100), Duration::from_secs(60))
}

/// Sweeps for as long as the server runs; a `retain` of zero keeps everything.
pub async fn sweep(store: Arc<dyn Store>, retain: Duration, metrics: Arc<Metrics>) {
    if retain.is_zero() {
        return;
    }
    let mut tick = tokio::time::interval(every(retain));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Batch after batch while they come back full: a backlog (the first start on an
        // old journal) goes in one sweep, each batch its own short transaction.
        loop {
            match store.prune(retain, BATCH).await {
                Ok(pruned) => {
                    metrics.pruned(&pruned);
                    if !pruned.full(BATCH) {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!("the journal was not pruned: {e}");
                    break;
                }
            }
            tokio::task::yield_now().await;
        }
    }
}
