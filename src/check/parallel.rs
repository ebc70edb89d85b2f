//! The passes over declarations of one kind (replies, actions, bindings, tests) on several
//! threads, when there are enough of them to pay for the threads. Each thread checks a run
//! of consecutive declarations with a checker of its own ([`Checker::worker`]); the runs
//! are merged in declaration order, so what is reported is what one thread reports.

use super::checker::Checker;
use crate::catalogue::Moment;
use crate::diagnostics::Span;
use crate::syntax::THREAD_STACK_BYTES;
use std::ops::Range;

/// Fewer declarations of one kind than this are checked on one thread: spawning costs
/// more than it saves.
const PARALLEL_MIN_DECLS: usize = 1024;

#[cfg(test)]
thread_local! {
    /// How many threads the checker may use, set by tests (`None`: one per core).
    pub static THREADS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// How many threads the checker may run at once: one per core.
pub(super) fn cores() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    #[cfg(test)]
    let cores = THREADS.with(|t| t.get()).unwrap_or(cores);
    cores.max(1)
}

/// The trigger of an `on_failure` walk of the binding pass, as [`Checker::walked`] tells
/// them apart: its moment, whether it sets the use case, the block.
pub type WalkKey = (Moment, bool, bool);

/// An `on_failure` walk of the binding pass that reports, left for the merge: what it
/// reports depends on the walks of every earlier binding, some on other threads.
pub struct Deferred {
    /// How many of the thread's diagnostics come before the walk's.
    pub at: usize,
    pub start: usize,
    pub key: WalkKey,
    /// The trigger, as messages name it.
    pub label: String,
    pub bound_at: Span,
}

/// Runs `pass` on each declaration `i` of one kind (`outs[i]` is its own output), in order;
/// returns what it lowered, `(i, IR)` in order.
pub fn each<'a, O: Send, L: Send>(
    c: &mut Checker<'a>,
    outs: &mut [O],
    pass: impl Fn(&mut Checker<'a>, usize, &mut O) -> Option<L> + Sync,
) -> impl Iterator<Item = (usize, L)> {
    let threads = if outs.len() < PARALLEL_MIN_DECLS {
        1
    } else {
        cores().min(outs.len() / PARALLEL_MIN_DECLS)
    };
    let ranges: Vec<Range<usize>> = (0..threads)
        .map(|k| outs.len() * k / threads..outs.len() * (k + 1) / threads)
        .collect();
    let run = |c: &mut Checker<'a>, range: Range<usize>, outs: &mut [O]| {
        range
            .zip(outs)
            .filter_map(|(i, out)| Some((i, pass(c, i, out)?)))
            .collect::<Vec<_>>()
    };
    let mut parts: Vec<Vec<(usize, L)>> = Vec::with_capacity(threads);
    if threads == 1 {
        parts.push(run(c, 0..outs.len(), outs));
        return parts.into_iter().flatten();
    }
    let workers: Vec<Checker<'a>> = (1..threads).map(|_| c.worker()).collect();
    let done = std::thread::scope(|scope| {
        let (first, mut rest) = outs.split_at_mut(ranges[0].end);
        let run = &run;
        let helpers: Vec<_> = workers
            .into_iter()
            .zip(&ranges[1..])
            .map(|(mut worker, range)| {
                let (mine, others) = std::mem::take(&mut rest).split_at_mut(range.len());
                rest = others;
                let range = range.clone();
                std::thread::Builder::new()
                    .stack_size(THREAD_STACK_BYTES)
                    .spawn_scoped(scope, move || {
                        let lowered = run(&mut worker, range, mine);
                        (worker, lowered)
                    })
            })
            .collect();
        parts.push(run(c, ranges[0].clone(), first));
        helpers
            .into_iter()
            .map(|h| h.ok().and_then(|h| h.join().ok()))
            .collect::<Vec<_>>()
    });
    for (range, done) in ranges[1..].iter().zip(done) {
        match done {
            Some((worker, lowered)) => {
                merge(c, worker);
                parts.push(lowered);
            }
            // A thread that could not start or that panicked: its run is checked here, so
            // the outcome is the same as without threads.
            None => parts.push(run(c, range.clone(), &mut outs[range.clone()])),
        }
    }
    parts.into_iter().flatten()
}

/// Adds what a thread found to `c`, which has checked every declaration before the
/// thread's run: its diagnostics, in order, with its deferred walks done where they were met.
fn merge<'a>(c: &mut Checker<'a>, worker: Checker<'a>) {
    c.used.add(&worker.used);
    let mut diags = worker.diags.into_iter();
    let mut taken = 0;
    for walk in worker.deferred.unwrap_or_default() {
        c.diags.extend(diags.by_ref().take(walk.at - taken));
        taken = walk.at;
        c.reach_deferred(walk);
    }
    c.diags.extend(diags);
}
