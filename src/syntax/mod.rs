//! Source text → AST with spans, plus every syntax error found (never just the first).
//!
//! The pipeline: [`scan`] walks the bytes once (comments, strings, brackets, depth, where
//! declarations start). When it finds nothing wrong, the hand-written [`descent`] parser
//! reads the whole file (the fast path); should it meet anything to report, pest parses the
//! file again and the builder explains. When pest fails too, each declaration is parsed on
//! its own, so one broken declaration does not hide the errors of the next ones.

pub mod ast;
mod build;
mod decode;
mod descent;
mod errors;
mod grammar;
mod incomplete;
mod keywords;
pub mod lexer;
mod literal;
mod name;
mod recover;
mod scan;
pub mod thin;

use std::borrow::Cow;

use pest::Parser as _;

use crate::diagnostics::{Code, Diagnostic, FileId, Span};
use build::Builder;
use grammar::{AgentParser, Rule};
use recover::Recovered;

pub use decode::{decode, decoded, DecodeError, DecodeErrorKind};
pub use incomplete::{is_incomplete, Entry};
pub use keywords::{is_keyword, starts_declaration, DECLARATIONS, KEYWORDS};

/// How deeply brackets, strings and expressions may nest (E0006 beyond).
pub const MAX_DEPTH: usize = 128;
/// Syntax errors reported per file before giving up (E0010).
pub const MAX_ERRORS: usize = 50;

/// The tree and the syntax errors of one file. The tree holds every declaration that parsed.
#[derive(Debug, Default)]
pub struct Parsed {
    pub file: ast::File,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one file. A leading BOM is skipped (spans still count its bytes). Large files
/// are parsed on every available core.
pub fn parse(file: FileId, text: &str) -> Parsed {
    let threads = if text.len() < PARALLEL_MIN_BYTES {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    parse_on(file, text, threads, Engine::Descent)
}

/// The byte ranges of the declarations of `text` that are `test` blocks, cut where the
/// scanner cuts a file (at the lines that start a declaration), so a test block broken
/// past parsing is found too: `agentc run` leaves what is wrong inside one out.
pub fn test_block_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let (body, base) = decode::strip_bom(text);
    let starts = scan::scan(FileId(0), body, base).item_starts;
    let ends = starts.iter().skip(1).copied().chain([body.len()]);
    starts
        .iter()
        .zip(ends)
        .filter(|(start, _)| {
            body[**start..]
                .strip_prefix("test")
                .is_some_and(|rest| rest.starts_with([' ', '\t', '"']))
        })
        .map(|(start, end)| base + start..base + end)
        .collect()
}

/// `items` without spare room. A list grows to room for four at its first element, and a
/// tree keeps its lists for life: a call's one argument or a string's one part would hold
/// three more (a third of a parsed expression-heavy program was such room).
pub(crate) fn exact<T>(items: Vec<T>) -> Vec<T> {
    if items.capacity() == items.len() {
        return items;
    }
    // Not `shrink_to_fit`: the allocator may keep a block in place that is still half used.
    let mut exact = Vec::with_capacity(items.len());
    exact.extend(items);
    exact
}

/// Which parser reads clean text first.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Engine {
    /// The hand-written parser, then pest when it gives up.
    Descent,
    /// pest alone (what the descent parser is tested against).
    #[cfg_attr(not(test), allow(dead_code))]
    Pest,
}

/// [`parse`] with the clean text cut into at most `threads` chunks parsed side by side.
fn parse_on(file: FileId, text: &str, threads: usize, engine: Engine) -> Parsed {
    let (body, base) = decode::strip_bom(text);
    let scanned = scan::scan(file, body, base);
    let clean = scanned.problems.is_empty() && scanned.stray_closers.is_empty();
    let fast = clean
        .then(|| {
            let clean = Clean {
                file,
                original: body,
                base,
                comments: &scanned.comments,
                item_starts: &scanned.item_starts,
                engine,
            };
            parse_in_chunks(
                &clean,
                &chunk_starts(body.len(), &scanned.item_starts, threads),
            )
        })
        .flatten();
    let mut unparsed = Vec::new();
    let (items, mut diagnostics) = fast.unwrap_or_else(|| {
        let blanked = blank(body, base, &scanned.comments);
        let source = Source {
            file,
            original: body,
            blanked: &blanked,
            base,
        };
        let (mut items, mut diagnostics) = (Vec::new(), Vec::new());
        let mut out = Recovered {
            items: &mut items,
            diagnostics: &mut diagnostics,
            unparsed: &mut unparsed,
        };
        recover::parse_each_item(&source, &scanned, &mut out);
        (items, diagnostics)
    });
    cap_errors(&mut diagnostics, file, text.len());
    Parsed {
        file: ast::File {
            id: file,
            items,
            comments: scanned.comments,
            unparsed,
        },
        diagnostics,
    }
}

/// The text of a file as written and as pest sees it (same offsets), for recovery.
struct Source<'t> {
    file: FileId,
    original: &'t str,
    blanked: &'t str,
    /// Where `original` starts in the file (after a BOM).
    base: usize,
}

/// A file the scan found nothing wrong in, for the fast path: each piece of it is blanked
/// as it is parsed, so no blanked copy of the whole text is held beside its tree.
struct Clean<'t> {
    file: FileId,
    original: &'t str,
    /// Where `original` starts in the file (after a BOM).
    base: usize,
    comments: &'t [ast::Comment],
    item_starts: &'t [usize],
    engine: Engine,
}

/// `text` with its comments, tabs, carriage returns and form feeds turned into spaces,
/// byte for byte: pest then skips blanks with one comparison, and offsets do not move.
fn blank<'t>(text: &'t str, base: usize, comments: &[ast::Comment]) -> Cow<'t, str> {
    let odd_blank = |b: &u8| *b != b' ' && lexer::is_blank(*b);
    if comments.is_empty() && !text.as_bytes().iter().any(odd_blank) {
        return Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for b in bytes.iter_mut().filter(|b| odd_blank(b)) {
        *b = b' ';
    }
    for comment in comments {
        let range = comment.span.start as usize - base..comment.span.end as usize - base;
        bytes[range].fill(b' ');
    }
    // Only ASCII bytes and whole characters (comment spans) were replaced by spaces.
    Cow::Owned(
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// Inputs at least this large are parsed on several threads; below, spawning costs more
/// than it saves.
pub(crate) const PARALLEL_MIN_BYTES: usize = 256 * 1024;
/// pest, the builder and the checker recurse: give helper threads the stack a main thread
/// has.
pub(crate) const THREAD_STACK_BYTES: usize = 8 * 1024 * 1024;

/// `job(0)` here and each of `job(1)`, …, `job(n - 1)` on a thread of its own, their
/// results in that order. A thread that could not start or that panicked has its job run
/// here, so the outcome is the same as without threads.
pub(crate) fn side_by_side<T: Send>(n: usize, job: impl Fn(usize) -> T + Sync) -> Vec<T> {
    if n < 2 {
        return (0..n).map(job).collect();
    }
    let job = &job;
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..n)
            .map(|k| {
                std::thread::Builder::new()
                    .stack_size(THREAD_STACK_BYTES)
                    .spawn_scoped(scope, move || job(k))
            })
            .collect();
        let mut done = Vec::with_capacity(n);
        done.push(job(0));
        for (k, helper) in helpers.into_iter().enumerate() {
            let part = helper.ok().and_then(|h| h.join().ok());
            done.push(part.unwrap_or_else(|| job(k + 1)));
        }
        done
    })
}

/// Where the chunks parsed side by side start: about `threads` chunks of equal size, each
/// starting at a declaration, so no chunk cuts one.
fn chunk_starts(len: usize, item_starts: &[usize], threads: usize) -> Vec<usize> {
    let mut starts = vec![0];
    for k in 1..threads {
        let wanted = len * k / threads;
        let at = item_starts.partition_point(|&s| s < wanted);
        if let Some(&start) = item_starts.get(at) {
            if start > *starts.last().unwrap_or(&0) {
                starts.push(start);
            }
        }
    }
    starts
}

/// The fast path: pest parses each chunk (whole declarations) in one go, on its own
/// thread when there are several. `None` when any chunk fails: recovery takes over then.
/// The result is the one a single parse of the whole text gives, in source order.
fn parse_in_chunks(source: &Clean, starts: &[usize]) -> Option<(Vec<ast::Item>, Vec<Diagnostic>)> {
    let end_of = |k: usize| starts.get(k + 1).copied().unwrap_or(source.original.len());
    let parse_chunk = |k: usize| parse_whole(source, starts[k], end_of(k));
    let parts = side_by_side(starts.len(), parse_chunk);
    let parts = parts.into_iter().collect::<Option<Vec<_>>>()?;
    // Items are large: sized once, the joined list is not copied again as it grows.
    let mut items = Vec::with_capacity(parts.iter().map(|(items, _)| items.len()).sum());
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for (chunk_items, chunk_diagnostics) in parts {
        items.extend(chunk_items);
        // The builder reports "nested too deep" once per parse, not once per chunk.
        let seen_deep = diagnostics.iter().any(|d| d.code == Code::TooDeep);
        diagnostics.extend(
            chunk_diagnostics
                .into_iter()
                .filter(|d| !(seen_deep && d.code == Code::TooDeep)),
        );
    }
    Some((items, diagnostics))
}

/// How much text one piece of a chunk has before it is blanked and parsed: large enough that
/// a piece costs nothing to start, small enough that its blanked copy is nothing to hold.
const PIECE_BYTES: usize = 64 * 1024;

/// Parses `original[start..end]` (whole declarations) a piece at a time, each piece cut at
/// a declaration's start.
fn parse_whole(
    source: &Clean,
    start: usize,
    end: usize,
) -> Option<(Vec<ast::Item>, Vec<Diagnostic>)> {
    let (mut items, mut diagnostics) = (Vec::new(), Vec::new());
    let mut from = start;
    while from < end {
        let wanted = (from + PIECE_BYTES).min(end);
        let at = source.item_starts.partition_point(|&s| s < wanted);
        let to = source
            .item_starts
            .get(at)
            .copied()
            .filter(|&s| s < end)
            .unwrap_or(end);
        let (piece_items, piece_diagnostics) = parse_piece(source, from, to)?;
        items.extend(piece_items);
        // The builder reports "nested too deep" once per parse, not once per piece.
        let seen_deep = diagnostics
            .iter()
            .any(|d: &Diagnostic| d.code == Code::TooDeep);
        diagnostics.extend(
            piece_diagnostics
                .into_iter()
                .filter(|d| !(seen_deep && d.code == Code::TooDeep)),
        );
        from = to;
    }
    Some((exact(items), diagnostics))
}

/// Parses `original[start..end]` (whole declarations): with the descent parser when it
/// can, else with pest and the builder.
fn parse_piece(
    source: &Clean,
    start: usize,
    end: usize,
) -> Option<(Vec<ast::Item>, Vec<Diagnostic>)> {
    let original = &source.original[start..end];
    let (first, last) = (source.base + start, source.base + end);
    let comments = &source.comments[source
        .comments
        .partition_point(|c| (c.span.start as usize) < first)
        ..source
            .comments
            .partition_point(|c| (c.span.start as usize) < last)];
    let blanked = blank(original, first, comments);
    if source.engine == Engine::Descent {
        if let Some(items) = descent::parse_items(source.file, first, original, &blanked) {
            return Some((items, Vec::new()));
        }
    }
    let pair = AgentParser::parse(Rule::file, &blanked).ok()?.next()?;
    let mut items = Vec::new();
    let mut diagnostics = Vec::new();
    Builder::new(source.file, first, original, &mut diagnostics).items(pair, &mut items);
    Some((items, diagnostics))
}

fn cap_errors(diagnostics: &mut Vec<Diagnostic>, file: FileId, len: usize) {
    if diagnostics.len() > MAX_ERRORS {
        let last = diagnostics[MAX_ERRORS - 1].span();
        diagnostics.truncate(MAX_ERRORS);
        let span = Span::new(file, last.end as usize, len);
        diagnostics.push(
            Diagnostic::new(
                Code::TooManyErrors,
                format!("too many syntax errors; stopped after {MAX_ERRORS}"),
                span,
            )
            .with_help("fix the errors above and check again"),
        );
    }
}

/// Parses a small input as `rule` (no recovery) and builds it with `build`.
fn parse_small<T>(
    file: FileId,
    text: &str,
    rule: Rule,
    build: impl FnOnce(&Builder, pest::iterators::Pair<Rule>) -> T,
) -> Result<(T, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (body, base) = decode::strip_bom(text);
    let scanned = scan::scan(file, body, base);
    if let Some(problems) = scanned.blocking_problems() {
        return Err(problems);
    }
    let blanked = blank(body, base, &scanned.comments);
    match errors::parse_detailed(rule, &blanked) {
        Ok(pair) => {
            let mut diagnostics = Vec::new();
            let built = build(&Builder::new(file, base, body, &mut diagnostics), pair);
            Ok((built, diagnostics))
        }
        Err(error) => Err(vec![errors::describe(&error, file, body, base)]),
    }
}

/// Parses one expression (the REPL's input).
pub fn parse_expr(file: FileId, text: &str) -> (Option<ast::Expr>, Vec<Diagnostic>) {
    match parse_small(file, text, Rule::expr_input, |b, pair| {
        pair.into_inner().next().map(|e| b.expr(e))
    }) {
        Ok(parsed) => parsed,
        Err(diagnostics) => (None, diagnostics),
    }
}

/// Parses a sequence of `mock` / `send` / `expect` lines, as in a `test` block's body (used
/// by `agentc run --mocks FILE` and the REPL's `:mock`).
pub fn parse_test_steps(file: FileId, text: &str) -> (Vec<ast::TestStep>, Vec<Diagnostic>) {
    match parse_small(file, text, Rule::steps, |b, pair| b.steps(pair)) {
        Ok(parsed) => parsed,
        Err(diagnostics) => (Vec::new(), diagnostics),
    }
}

#[cfg(test)]
mod chunk_tests;
#[cfg(test)]
mod descent_tests;
#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod lexer_tests;
#[cfg(test)]
mod robust_tests;
#[cfg(test)]
mod tests;
