//! Back-off between tries: exponential from `backoff`, capped by `max_backoff`, with jitter
//! so that many conversations failing together do not retry in lockstep.

use crate::ir::Retry;
use rand::Rng;
use std::time::Duration;

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
