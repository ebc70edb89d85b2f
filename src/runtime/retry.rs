//! Whether a failed try may be followed by another, and the back-off between tries:
//! exponential from `backoff`, capped by `max_backoff`, with jitter so that many
//! conversations failing together do not retry in lockstep.

use super::effects::Delivery;
use crate::catalogue::{RetryClass, RetryRule};
use crate::ir::Retry;
use rand::Rng;
use std::time::Duration;

/// Why a failed try ends the action rather than waiting for the next one.
#[derive(Debug, PartialEq)]
pub enum Stop {
    /// The failure is final, or the tries are used up.
    Failed,
    /// An unsafe task's request may have been processed: a second try could mean `twice`.
    OutcomeUnknown { twice: &'static str },
}

/// Whether a try that failed so (`retryable`, `delivery`), after `attempts` tries of at
/// most `max_attempts`, ends the action. An unsafe task is tried again only after a failure
/// that provably sent nothing; when it may have been processed, its outcome is unknown,
/// whatever tries are left.
pub fn stop(
    retryable: bool,
    delivery: Delivery,
    rule: &RetryRule,
    attempts: u32,
    max_attempts: u32,
) -> Option<Stop> {
    if !retryable {
        return Some(Stop::Failed);
    }
    if let RetryClass::Unsafe { twice } = rule.class {
        if delivery == Delivery::MaybeSent {
            return Some(Stop::OutcomeUnknown { twice });
        }
    }
    (attempts >= max_attempts).then_some(Stop::Failed)
}

/// The pause after the `failed`-th failed try (1 for the first): a random time between half
/// and all of `backoff × 2^(failed-1)`, capped by `max_backoff`. Without a generator (a
/// manual clock, where no two conversations share real time) it is the whole of it, so a
/// conversation's clock, `now()` and `conversation_inactive`'s `idle` are the same on every
/// run.
pub fn backoff_delay(retry: &Retry, failed: u32, jitter: Option<&mut impl Rng>) -> Duration {
    let doubling = failed.saturating_sub(1).min(32);
    let ceiling = retry
        .backoff_ms
        .saturating_mul(1u64 << doubling)
        .min(retry.max_backoff_ms);
    Duration::from_millis(match jitter {
        Some(rng) => rng.gen_range(ceiling / 2..=ceiling),
        None => ceiling,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{retry, tasks, BuiltinTask};

    #[test]
    fn an_unsafe_task_is_tried_again_only_when_nothing_was_sent() {
        let sms = retry::task_rule(BuiltinTask::Sms(tasks::Sms::SendSms)).unwrap();
        let ticket = retry::task_rule(BuiltinTask::Zendesk(tasks::Zendesk::CreateTicket)).unwrap();
        let read = retry::method_rule("GET");
        // A refused connection; a timeout; a 404.
        let refused = (true, Delivery::NotSent);
        let timed_out = (true, Delivery::MaybeSent);
        let fatal = (false, Delivery::MaybeSent);
        let stop =
            |(retryable, delivery), rule, attempts| stop(retryable, delivery, rule, attempts, 3);
        for rule in [&sms, &ticket, &read] {
            assert_eq!(stop(refused, rule, 1), None);
            assert_eq!(stop(refused, rule, 3), Some(Stop::Failed));
            assert_eq!(stop(fatal, rule, 1), Some(Stop::Failed));
        }
        for rule in [&ticket, &read] {
            assert_eq!(stop(timed_out, rule, 1), None);
        }
        for attempts in [1, 3] {
            assert_eq!(
                stop(timed_out, &sms, attempts),
                Some(Stop::OutcomeUnknown {
                    twice: "a second SMS"
                }),
                "a timed-out SMS is not tried again"
            );
        }
    }

    #[test]
    fn doubles_with_jitter_and_stops_at_the_cap() {
        let retry = Retry {
            attempts: 10,
            backoff_ms: 200,
            max_backoff_ms: 1_000,
        };
        let mut rng = rand::thread_rng();
        for _ in 0..200 {
            let mut ms = |n| backoff_delay(&retry, n, Some(&mut rng)).as_millis();
            assert!((100..=200).contains(&ms(1)));
            assert!((200..=400).contains(&ms(2)));
            assert!((400..=800).contains(&ms(3)));
            assert!((500..=1_000).contains(&ms(4)));
            assert!((500..=1_000).contains(&ms(40)));
        }
    }

    #[test]
    fn without_jitter_the_pause_is_the_whole_back_off() {
        let retry = Retry {
            attempts: 10,
            backoff_ms: 200,
            max_backoff_ms: 1_000,
        };
        let ms = |n| backoff_delay(&retry, n, None::<&mut rand::rngs::ThreadRng>).as_millis();
        assert_eq!([ms(1), ms(2), ms(3), ms(4)], [200, 400, 800, 1_000]);
    }
}
