//! The output buffer and the line discipline shared by declarations, test steps and broken
//! lists: every node that starts a line goes through [`Printer::open_line`] (its leading
//! comments, the user's blank line) and [`Printer::close_line`] (comments on its line).

use super::comments::Comments;
use super::{INDENT, MAX_WIDTH};
use crate::syntax::ast::{Comment, Span};

/// A one-line layout was abandoned: too wide, or a literal spans lines.
pub(super) struct TooWide;

pub(super) struct Printer<'s> {
    pub(super) src: &'s str,
    pub(super) comments: Comments<'s>,
    pub(super) out: String,
    indent: usize,
    /// Byte index in `out` where the current line starts.
    line_start: usize,
    /// Source offset just past the last node or comment emitted (for blank-line detection).
    last_end: usize,
    /// Nothing emitted yet in the current block: no blank line may open it.
    fresh_block: bool,
    /// How many times an expression broke onto a continuation line so far.
    line_breaks: usize,
}

impl<'s> Printer<'s> {
    pub(super) fn new(src: &'s str, comments: &'s [Comment]) -> Self {
        Printer {
            src,
            comments: Comments::new(comments),
            out: String::with_capacity(src.len() + src.len() / 8),
            indent: 0,
            line_start: 0,
            last_end: 0,
            fresh_block: true,
            line_breaks: 0,
        }
    }

    pub(super) fn finish(mut self) -> String {
        self.end_of_block(u32::MAX);
        self.out
    }

    pub(super) fn write(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// The source text of `span`, as written.
    pub(super) fn source(&self, span: Span) -> &'s str {
        self.src.get(span.range()).unwrap_or("")
    }

    /// Copies a literal as written. Comments inside it are part of its text.
    pub(super) fn verbatim(&mut self, span: Span) -> Result<(), TooWide> {
        let text = self.source(span);
        self.comments.take_within(span);
        if text.contains('\n') {
            self.out.push_str(&text.replace("\r\n", "\n"));
            self.line_start = self.out.rfind('\n').map_or(0, |i| i + 1);
            return Err(TooWide);
        }
        self.out.push_str(text);
        Ok(())
    }

    /// A literal's own token. A parenthesised literal's span covers its parentheses (and
    /// any comment inside them); the layout writes the parentheses it needs itself, and the
    /// comments go where comments go.
    pub(super) fn literal_token(&self, span: Span) -> Span {
        let bytes = self.src.as_bytes();
        let (mut start, mut end) = (span.start as usize, (span.end as usize).min(bytes.len()));
        if bytes.get(start) != Some(&b'(') {
            return span;
        }
        while start < end {
            if bytes[start].is_ascii_whitespace() || bytes[start] == b'(' {
                start += 1;
            } else if let Some(comment) = self.comments.starting_at(start) {
                start = comment.span.end as usize;
            } else {
                break;
            }
        }
        while end > start {
            if bytes[end - 1].is_ascii_whitespace() || bytes[end - 1] == b')' {
                end -= 1;
            } else if let Some(comment) = self.comments.ending_at(end, span) {
                end = comment.span.start as usize;
            } else {
                break;
            }
        }
        Span::new(span.file, start, end)
    }

    /// Characters on the current line so far.
    pub(super) fn column(&self) -> usize {
        self.out[self.line_start..].chars().count()
    }

    /// Cheap early stop for one-line attempts (bytes never undercount characters).
    pub(super) fn clearly_too_wide(&self) -> bool {
        self.out.len() - self.line_start > 4 * MAX_WIDTH
    }

    pub(super) fn fits(&self, suffix: usize) -> bool {
        self.column() + suffix <= MAX_WIDTH
    }

    /// A rollback point for one-line attempts.
    pub(super) fn mark(&self) -> (usize, usize) {
        (self.out.len(), self.line_start)
    }

    pub(super) fn rollback(&mut self, (len, line_start): (usize, usize)) {
        self.out.truncate(len);
        self.line_start = line_start;
    }

    /// Runs `body` one level deeper: the continuation lines of an expression that breaks.
    pub(super) fn continued(&mut self, body: impl FnOnce(&mut Self)) {
        self.indent += 1;
        body(self);
        self.indent -= 1;
    }

    /// Ends the line inside an expression and starts the next at the current indentation.
    pub(super) fn line_break(&mut self) {
        self.newline();
        self.indentation();
        self.line_breaks += 1;
    }

    pub(super) fn line_breaks(&self) -> usize {
        self.line_breaks
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.line_start = self.out.len();
    }

    fn indentation(&mut self) {
        for _ in 0..self.indent {
            self.out.push_str(INDENT);
        }
    }

    /// A blank line before the next line when the user had one here (or `force`), never at
    /// the start of a block.
    fn separate(&mut self, pos: u32, force: bool) {
        if !self.fresh_block && (force || self.blank_line_between(self.last_end, pos as usize)) {
            self.newline();
        }
        self.fresh_block = false;
    }

    fn blank_line_between(&self, from: usize, to: usize) -> bool {
        let Some(gap) = self.src.get(from..to) else {
            return false;
        };
        let mut newlines = 0;
        for b in gap.bytes() {
            match b {
                b'\n' => {
                    newlines += 1;
                    if newlines == 2 {
                        return true;
                    }
                }
                b' ' | b'\t' | b'\r' => {}
                _ => newlines = 0,
            }
        }
        false
    }

    fn newline_between(&self, from: usize, to: usize) -> bool {
        self.src.get(from..to).is_some_and(|gap| gap.contains('\n'))
    }

    fn comment(&mut self, comment: &Comment) {
        let text = self.source(comment.span);
        if comment.block {
            self.out.push_str(&text.replace("\r\n", "\n"));
        } else {
            self.out.push_str(text.trim_end());
        }
        self.last_end = self.last_end.max(comment.span.end as usize);
    }

    /// Starts the line of a node beginning at `start`: the comments before it, each on its
    /// own line, then the indentation. `blank` forces a blank line before the first of them.
    pub(super) fn open_line(&mut self, start: u32, blank: bool) {
        let mut force = blank;
        while let Some(c) = self.comments.pop_before(start) {
            self.separate(c.span.start, force);
            force = false;
            self.indentation();
            self.comment(c);
            self.newline();
        }
        self.separate(start, force);
        self.indentation();
    }

    /// Ends the line of a node that ended at `end`: comments inside it that no inner line
    /// took, then comments on its source line that start before `limit` (the next node).
    pub(super) fn close_line(&mut self, end: u32, limit: u32) {
        self.last_end = self.last_end.max(end as usize);
        // Comments share the node's line until a line comment ends it; after that each one
        // gets a line of its own, as it will when the output is read again.
        let mut on_node_line = true;
        while let Some(c) = self.comments.peek() {
            let inside = c.span.start < end;
            let same_line =
                c.span.start < limit && !self.newline_between(self.last_end, c.span.start as usize);
            if !inside && !same_line {
                break;
            }
            self.comments.pop();
            if on_node_line {
                self.out.push(' ');
            } else {
                self.indentation();
            }
            self.comment(c);
            if !c.block || !on_node_line {
                self.newline();
                on_node_line = false;
            }
        }
        if on_node_line {
            self.newline();
        }
    }

    /// After an opening delimiter: the block's lines follow, one level deeper.
    pub(super) fn open_block(&mut self, delimiter: &str) {
        self.out.push_str(delimiter);
        self.newline();
        self.indent += 1;
        self.fresh_block = true;
    }

    /// The comments left before `end` (a block's closing delimiter), then the delimiter.
    pub(super) fn close_block(&mut self, end: u32, delimiter: &str) {
        self.end_of_block(end);
        self.indent -= 1;
        self.indentation();
        self.out.push_str(delimiter);
        self.fresh_block = false;
    }

    fn end_of_block(&mut self, end: u32) {
        while let Some(c) = self.comments.pop_before(end) {
            self.separate(c.span.start, false);
            self.indentation();
            self.comment(c);
            self.newline();
        }
    }

    /// Whether a block ending at `end` has comments left inside it.
    pub(super) fn comments_before(&mut self, end: u32) -> bool {
        self.comments.peek().is_some_and(|c| c.span.start < end)
    }
}
