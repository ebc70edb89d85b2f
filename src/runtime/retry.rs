//! Whether a failed try may be followed by another, and the back-off between tries:
//! exponential from `backoff`, capped by `max_backoff`, with jitter so that many
//! conversations failing together do not retry in lockstep.

use super::effects::{Delivery, TaskError};
use crate::catalogue::{RetryClass, RetryRule};
use crate::ir::Retry;
use rand::Rng;
use std::time::Duration;

/// Why a failed try ends the action rather than waiting for the next one.
pub enum Stop {
    /// The failure is final, or the tries are used up.
    Failed(String),
    /// An unsafe task's request may have been processed: a second try could do it twice.
    OutcomeUnknown(String),
}

/// Whether `error` (after `attempts` tries of at most `max_attempts`) ends the action. An
/// unsafe task is tried again only after a failure that provably sent nothing; when it may
/// have been processed, its outcome is unknown, whatever tries are left.
pub fn stop(error: &TaskError, rule: &RetryRule, attempts: u32, max_attempts: u32) -> Option<Stop> {
    if !error.retryable {
        return Some(Stop::Failed(error.message.clone()));
    }
    if let RetryClass::Unsafe { twice } = rule.class {
        if error.delivery == Delivery::MaybeSent {
            return Some(Stop::OutcomeUnknown(format!(
                "outcome unknown: the request may have been processed ({}); it is not tried \
                 again, as a second try could mean {twice}",
                error.message
            )));
        }
    }
    (attempts >= max_attempts).then(|| Stop::Failed(error.message.clone()))
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
        let refused = TaskError::not_sent("cannot connect");
        let timed_out = TaskError::retryable("timed out");
        for rule in [&sms, &ticket, &read] {
            assert!(stop(&refused, rule, 1, 3).is_none());
            assert!(matches!(stop(&refused, rule, 3, 3), Some(Stop::Failed(_))));
            assert!(matches!(
                stop(&TaskError::fatal("404"), rule, 1, 3),
                Some(Stop::Failed(_))
            ));
        }
        for rule in [&ticket, &read] {
            assert!(stop(&timed_out, rule, 1, 3).is_none());
        }
        for attempts in [1, 3] {
            let Some(Stop::OutcomeUnknown(message)) = stop(&timed_out, &sms, attempts, 3) else {
                panic!("a timed-out SMS is not tried again");
            };
            assert_eq!(
                message,
                "outcome unknown: the request may have been processed (timed out); it is not \
                 tried again, as a second try could mean a second SMS"
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
