//! The fast path for clean text: a hand-written recursive-descent parser that follows
//! `grammar/agent.pest` rule by rule and builds the very tree pest and the builder build,
//! four to five times faster.
//!
//! It reports nothing. Wherever pest would fail, or the builder would report a problem (a
//! keyword used as a name, a bad literal, a chained comparison, deep nesting), it gives up,
//! and the caller parses the text again with pest, whose diagnostics are the ones users
//! see. So it may give up more often than needed, never less: giving up is always right.
//! `descent_tests.rs` checks that the two parsers agree.
//!
//! It reads the blanked text (comments, tabs and carriage returns turned into spaces, see
//! [`super::blank`]), so skipping blanks is one comparison as in the grammar, and takes
//! names and string text from the original, at the same offsets.

mod expr;
mod items;
mod string;

use super::ast::{Arg, Expr, FileId, Ident, Item, RecordEntry, Span, ThinVec};
use super::lexer;
use super::{is_keyword, thin, MAX_DEPTH};

/// Nesting (of expressions and of operator climbing) at which the fast path gives up: well
/// below [`MAX_DEPTH`], so that pest, not this parser, decides what is too deep.
const GIVE_UP_DEPTH: usize = MAX_DEPTH / 2;

/// Parses whole declarations. `original` is the text as written, `blanked` the same text as
/// pest sees it; `base` is where they start in the file. `None` means: ask pest.
pub(super) fn parse_items(
    file: FileId,
    base: usize,
    original: &str,
    blanked: &str,
) -> Option<Vec<Item>> {
    debug_assert_eq!(original.len(), blanked.len());
    let mut parser = Parser {
        text: blanked.as_bytes(),
        original,
        file,
        base,
        pos: 0,
        end: 0,
        frames: 0,
        gave_up: false,
        stacks: Stacks::default(),
    };
    parser.file_items()
}

struct Parser<'t> {
    text: &'t [u8],
    original: &'t str,
    file: FileId,
    base: usize,
    pos: usize,
    /// Where the last token read ends: a node being built ends there (pest's spans, with
    /// the blanks skipped after the last token left out, as the builder trims them).
    end: usize,
    /// Operator-climbing calls under way (every nested expression goes through one).
    frames: usize,
    /// Set when the pest path must take over whatever happens next: a failure then is not
    /// an alternative that did not match, and no other alternative may be tried.
    gave_up: bool,
    stacks: Stacks,
}

/// The elements of the expressions' lists being read, one stack per type: a list's
/// elements are pushed as they are read (a nested list's above them) and moved at its end
/// into a list of exactly their number, so no list is grown and then copied to its length.
#[derive(Default)]
struct Stacks {
    exprs: Vec<Expr>,
    args: Vec<Arg>,
    entries: Vec<RecordEntry>,
}

/// An element type with its stack in [`Stacks`].
trait Stacked: Sized {
    fn stack(stacks: &mut Stacks) -> &mut Vec<Self>;
}

impl Stacked for Expr {
    fn stack(stacks: &mut Stacks) -> &mut Vec<Expr> {
        &mut stacks.exprs
    }
}

impl Stacked for Arg {
    fn stack(stacks: &mut Stacks) -> &mut Vec<Arg> {
        &mut stacks.args
    }
}

impl Stacked for RecordEntry {
    fn stack(stacks: &mut Stacks) -> &mut Vec<RecordEntry> {
        &mut stacks.entries
    }
}

/// A place to come back to when an alternative does not match.
#[derive(Clone, Copy)]
struct Mark {
    pos: usize,
    end: usize,
}

impl<'t> Parser<'t> {
    fn give_up<T>(&mut self) -> Option<T> {
        self.gave_up = true;
        None
    }

    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            end: self.end,
        }
    }

    fn reset(&mut self, mark: Mark) {
        self.pos = mark.pos;
        self.end = mark.end;
    }

    /// A PEG ordered choice: `second` from where `first` started, when `first` did not
    /// match (and did not give up).
    fn either<T>(
        &mut self,
        first: impl FnOnce(&mut Self) -> Option<T>,
        second: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<T> {
        let mark = self.mark();
        match first(self) {
            Some(found) => Some(found),
            None if self.gave_up => None,
            None => {
                self.reset(mark);
                second(self)
            }
        }
    }

    fn peek(&self) -> u8 {
        self.text.get(self.pos).copied().unwrap_or(0)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn looking_at(&self, token: &[u8]) -> bool {
        self.text[self.pos..].starts_with(token)
    }

    /// Reads `n` bytes of a token.
    fn advance(&mut self, n: usize) {
        self.pos += n;
        self.end = self.pos;
    }

    /// Skips blanks (pest's implicit `WHITESPACE`).
    fn blanks(&mut self) {
        while self.peek() == b' ' {
            self.pos += 1;
        }
    }

    /// Skips blanks and line breaks (`nl*`); whether there was a line break.
    fn blank_lines(&mut self) -> bool {
        let mut newline = false;
        loop {
            match self.peek() {
                b' ' => {}
                b'\n' => newline = true,
                _ => return newline,
            }
            self.pos += 1;
        }
    }

    /// Where the next token starts.
    fn start(&mut self) -> usize {
        self.blanks();
        self.pos
    }

    fn span(&self, start: usize) -> Span {
        Span::new(self.file, self.base + start, self.base + self.end)
    }

    /// Reads the punctuation `c`.
    fn eat(&mut self, c: u8) -> bool {
        self.blanks();
        let found = self.peek() == c;
        if found {
            self.advance(1);
        }
        found
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        self.eat(c).then_some(())
    }

    /// A `word` token: its text and span.
    fn word(&mut self) -> Option<(&'t str, Span)> {
        let start = self.start();
        let len = lexer::word_len(self.text, start);
        if len == 0 {
            return None;
        }
        self.advance(len);
        Some((&self.original[start..self.pos], self.span(start)))
    }

    /// Reads the keyword `kw` when it is the next word.
    fn keyword(&mut self, kw: &str) -> bool {
        self.blanks();
        let found = lexer::word_at(self.text, self.pos, kw.as_bytes());
        if found {
            self.advance(kw.len());
        }
        found
    }

    /// A name declared or referred to: a keyword there is for the pest path to report.
    fn name(&mut self) -> Option<Ident> {
        let (name, span) = self.word()?;
        if is_keyword(name) {
            return self.give_up();
        }
        Some(Ident {
            name: name.to_string(),
            span,
        })
    }

    /// `sep`: a comma (line breaks around it allowed) or line breaks.
    fn sep(&mut self) -> bool {
        let mark = self.mark();
        let newline = self.blank_lines();
        if self.peek() == b',' {
            self.advance(1);
            self.blank_lines();
            return true;
        }
        if !newline {
            self.reset(mark);
        }
        newline
    }

    /// `nl* (elem (sep elem)* sep?)? close`, after the opening bracket.
    fn delimited<T>(
        &mut self,
        close: u8,
        mut elem: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut out = Vec::new();
        self.each(close, |p| {
            out.push(elem(p)?);
            Some(())
        })?;
        Some(crate::syntax::exact(out))
    }

    /// [`Self::delimited`] for an expression's list, built on its stack.
    fn delimited_thin<T: Stacked>(
        &mut self,
        close: u8,
        mut elem: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<ThinVec<T>> {
        let base = T::stack(&mut self.stacks).len();
        let read = self.each(close, |p| {
            let item = elem(p)?;
            T::stack(&mut p.stacks).push(item);
            Some(())
        });
        let stack = T::stack(&mut self.stacks);
        let list = read.map(|()| thin::exact(stack.drain(base..)));
        stack.truncate(base);
        list
    }

    /// Reads the elements of `nl* (elem (sep elem)* sep?)? close`.
    fn each(&mut self, close: u8, mut elem: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.blank_lines();
        loop {
            if self.eat(close) {
                return Some(());
            }
            elem(self)?;
            if !self.sep() {
                return self.expect(close);
            }
        }
    }
}
