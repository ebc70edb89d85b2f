//! The comments of a file, handed out in source order. Each comment is emitted exactly once:
//! the printer takes the ones that come before a node, trails the ones on its line, and
//! drops only those inside a literal it copies verbatim (they are part of that text).

use crate::syntax::ast::{Comment, Span};

pub(super) struct Comments<'a> {
    /// Sorted by start.
    list: Vec<&'a Comment>,
    /// Copied verbatim as part of a literal.
    taken: Vec<bool>,
    /// Every comment before this index has been emitted or taken.
    next: usize,
}

impl<'a> Comments<'a> {
    pub(super) fn new(comments: &'a [Comment]) -> Self {
        let mut list: Vec<&Comment> = comments.iter().collect();
        list.sort_by_key(|c| c.span.start);
        Comments {
            taken: vec![false; list.len()],
            list,
            next: 0,
        }
    }

    pub(super) fn peek(&mut self) -> Option<&'a Comment> {
        while self.next < self.list.len() && self.taken[self.next] {
            self.next += 1;
        }
        self.list.get(self.next).copied()
    }

    pub(super) fn pop(&mut self) -> Option<&'a Comment> {
        let comment = self.peek()?;
        self.next += 1;
        Some(comment)
    }

    /// The next comment if it starts before `pos`.
    pub(super) fn pop_before(&mut self, pos: u32) -> Option<&'a Comment> {
        match self.peek() {
            Some(c) if c.span.start < pos => self.pop(),
            _ => None,
        }
    }

    /// Whether any comment starts inside `span` (such a node cannot be printed on one line).
    pub(super) fn any_within(&self, span: Span) -> bool {
        let first = self.list.partition_point(|c| c.span.start < span.start);
        self.list
            .get(first)
            .is_some_and(|c| c.span.start < span.end)
    }

    /// The comment that starts at `pos`, if any.
    pub(super) fn starting_at(&self, pos: usize) -> Option<&'a Comment> {
        let i = self.list.partition_point(|c| (c.span.start as usize) < pos);
        self.list
            .get(i)
            .copied()
            .filter(|c| c.span.start as usize == pos)
    }

    /// The comment inside `within` that ends at `pos`, if any.
    pub(super) fn ending_at(&self, pos: usize, within: Span) -> Option<&'a Comment> {
        let first = self.list.partition_point(|c| c.span.start < within.start);
        self.list[first..]
            .iter()
            .take_while(|c| (c.span.start as usize) < pos)
            .find(|c| c.span.end as usize == pos)
            .copied()
    }

    /// Marks the comments inside `span` as already printed (a literal copied verbatim).
    pub(super) fn take_within(&mut self, span: Span) {
        let mut i = self.list.partition_point(|c| c.span.start < span.start);
        while i < self.list.len() && self.list[i].span.start < span.end {
            self.taken[i] = true;
            i += 1;
        }
    }
}
