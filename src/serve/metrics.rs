//! `/metrics`: counters, gauges and histograms in the Prometheus text format, kept in
//! atomics (no lock on the request path). Every label value is one the server chose (a
//! route, a status, an action status), never text from a request.

use super::store::prune::Pruned;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Microseconds.
    sum: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|&bound| seconds <= bound) {
            self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum.fetch_add(micros, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// Counters by a label the server chose.
#[derive(Default)]
struct Labelled(Mutex<BTreeMap<String, u64>>);

impl Labelled {
    fn add(&self, label: String, n: u64) {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *counts.entry(label).or_default() += n;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        let counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for (labels, n) in counts.iter() {
            let _ = writeln!(out, "{name}{{{labels}}} {n}");
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    requests: Labelled,
    events: Labelled,
    actions: Labelled,
    retries: AtomicU64,
    pruned: Labelled,
    pub event_latency: Histogram,
    pub store_commit: Histogram,
    in_flight: AtomicI64,
}

impl Metrics {
    /// A request answered: its route (the pattern, not the path) and status.
    pub fn request(&self, route: &str, status: u16) {
        self.requests
            .add(format!("route=\"{route}\",status=\"{status}\""), 1);
    }

    /// An event's outcome: `done`, `running` (past the deadline) or `duplicate`.
    pub fn event(&self, outcome: &str) {
        self.events.add(format!("outcome=\"{outcome}\""), 1);
    }

    /// An action that ended with `status` after `attempts` tries.
    pub fn action(&self, status: &str, attempts: u64) {
        self.actions.add(format!("status=\"{status}\""), 1);
        self.retries
            .fetch_add(attempts.saturating_sub(1), Ordering::Relaxed);
    }

    /// Rows the retention sweep deleted, by table.
    pub fn pruned(&self, pruned: &Pruned) {
        for (table, rows) in pruned.by_table().into_iter().filter(|(_, rows)| *rows > 0) {
            self.pruned.add(format!("table=\"{table}\""), rows);
        }
    }

    /// Counts an event running from now until the guard is dropped.
    pub fn running(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// The text `/metrics` answers; `conversations` is how many have a worker now.
    pub fn render(&self, conversations: usize) -> String {
        let mut out = String::new();
        self.requests.render(
            &mut out,
            "agentc_http_requests_total",
            "Requests answered, by route and status.",
        );
        self.events.render(
            &mut out,
            "agentc_events_total",
            "Events answered: done, running past the deadline, or a duplicate delivery.",
        );
        self.actions.render(
            &mut out,
            "agentc_actions_total",
            "Actions of the events answered, by status.",
        );
        let gauge = |out: &mut String, name: &str, help: &str, kind: &str, value: i64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        let retries = self.retries.load(Ordering::Relaxed) as i64;
        gauge(
            &mut out,
            "agentc_action_retries_total",
            "Tries past each action's first.",
            "counter",
            retries,
        );
        let in_flight = self.in_flight.load(Ordering::Relaxed);
        gauge(
            &mut out,
            "agentc_events_in_flight",
            "Events being handled now.",
            "gauge",
            in_flight,
        );
        gauge(
            &mut out,
            "agentc_conversation_workers",
            "Conversations with a worker (an event queued or handled lately).",
            "gauge",
            conversations as i64,
        );
        self.pruned.render(
            &mut out,
            "agentc_store_pruned_rows_total",
            "Journal rows deleted past --retain, by table.",
        );
        self.event_latency.render(
            &mut out,
            "agentc_event_duration_seconds",
            "From an event's arrival to its answer.",
        );
        self.store_commit.render(
            &mut out,
            "agentc_store_commit_duration_seconds",
            "One group commit of the journal.",
        );
        out
    }
}

pub struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_prometheus_exposition_format() {
        let metrics = Metrics::default();
        metrics.request("/v1/events", 200);
        metrics.event("done");
        metrics.action("ok", 3);
        metrics.pruned(&Pruned {
            events: 2,
            ..Pruned::default()
        });
        metrics.event_latency.observe(Duration::from_millis(7));
        let text = metrics.render(1);
        assert!(text.contains("agentc_http_requests_total{route=\"/v1/events\",status=\"200\"} 1"));
        assert!(text.contains("agentc_action_retries_total 2"));
        assert!(text.contains("agentc_store_pruned_rows_total{table=\"events\"} 2"));
        assert!(
            !text.contains("table=\"trace\""),
            "only tables rows went from"
        );
        assert!(text.contains("agentc_event_duration_seconds_bucket{le=\"0.005\"} 0"));
        assert!(text.contains("agentc_event_duration_seconds_bucket{le=\"0.01\"} 1"));
        assert!(text.contains("agentc_event_duration_seconds_count 1"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
