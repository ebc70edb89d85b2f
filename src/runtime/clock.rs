//! The runtime's clock.
//!
//! Each conversation keeps its own time: the runtime's elapsed time plus an offset that its
//! `wait` events (and, on a manual clock, its retry back-offs) add to. Timers such as
//! `conversation_inactive` are deadlines on that time, so they fire both when real (or paused
//! and advanced tokio) time passes and when a `wait` event moves the conversation forward.
//!
//! Time arithmetic saturates: however many `wait`s a conversation gets, its time stops at
//! the longest `Duration` instead of overflowing.

use std::time::Duration;
use tokio::time::Instant;

/// How time passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// Tokio's clock: real time in production; tests pause and advance it
    /// (`#[tokio::test(start_paused = true)]`, `tokio::time::advance`).
    Tokio,
    /// Time only moves with `wait` events and retry back-offs, which then take no real time:
    /// deterministic, for `agentc test` and the REPL.
    Manual,
}

#[derive(Clone, Debug)]
pub struct Clock {
    mode: ClockMode,
    start: Instant,
    start_wall: jiff::Timestamp,
}

impl Clock {
    /// A clock whose wall time starts at `start_wall` (what `now()` returns at first).
    pub fn new(mode: ClockMode, start_wall: jiff::Timestamp) -> Self {
        Clock {
            mode,
            start: Instant::now(),
            start_wall,
        }
    }

    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// Time since the runtime started, shared by every conversation.
    pub fn elapsed(&self) -> Duration {
        match self.mode {
            ClockMode::Tokio => self.start.elapsed(),
            ClockMode::Manual => Duration::ZERO,
        }
    }

    /// The wall time at a conversation time.
    pub fn wall(&self, at: Duration) -> jiff::Timestamp {
        let at = jiff::SignedDuration::try_from(at).unwrap_or(jiff::SignedDuration::MAX);
        self.start_wall
            .checked_add(at)
            .unwrap_or(jiff::Timestamp::MAX)
    }

    /// The tokio instant at which a conversation whose offset is `offset` reaches `at`.
    pub fn instant_at(&self, at: Duration, offset: Duration) -> Instant {
        let real = at.saturating_sub(offset);
        self.start.checked_add(real).unwrap_or_else(far_future)
    }
}

/// A duration in whole milliseconds, as traces and `Value::Duration` hold it; one too long
/// for a `u64` (only a sum of huge `wait`s gets there) reads as the longest.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A `Duration` as people read it: [`crate::ir::duration_text`], which [`parse_duration`]
/// reads back.
pub fn show_duration(duration: Duration) -> String {
    crate::ir::duration_text(millis(duration))
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

/// Parses a duration written as in the language (`250ms`, `5s`, `3m`, `2h`, `1d`, or a
/// sequence such as `1h30m`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let amount: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_ms = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(Duration::from_millis(amount.checked_mul(unit_ms)?))?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_with_each_unit_largest_first() {
        let shown = [250, 5_000, 330_000, 3_600_000, 1_500, 93_600_000, 0]
            .map(|ms| show_duration(Duration::from_millis(ms)));
        assert_eq!(
            shown,
            ["250ms", "5s", "5m30s", "1h", "1s500ms", "1d2h", "0ms"]
        );
    }

    proptest::proptest! {
        /// What a duration prints as (values, the timeline) reads back as the same
        /// duration: through this parser (`--grace`, event payloads) and as a literal.
        #[test]
        fn printed_durations_read_back(ms in 0..=u64::MAX / 2) {
            let text = crate::ir::duration_text(ms);
            proptest::prop_assert_eq!(parse_duration(&text), Some(Duration::from_millis(ms)));
            let (expr, diagnostics) = crate::syntax::parse_expr(crate::diagnostics::FileId(0), &text);
            proptest::prop_assert!(diagnostics.is_empty(), "{text}: {diagnostics:?}");
            let kind = expr.map(|e| e.kind);
            proptest::prop_assert_eq!(kind, Some(crate::syntax::ast::ExprKind::Duration(ms)));
        }
    }

    #[test]
    fn durations_parse_like_the_language() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86_400)));
        for bad in ["", "5", "m", "5 minutes", "-3s", "99999999999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
