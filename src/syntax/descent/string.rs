//! String literals: `"…"` and `"""…"""`, with escapes and `{interpolation}`.

use super::expr::Built;
use super::Parser;
use crate::syntax::ast::*;
use crate::syntax::lexer::{escape_len, Quote};
use crate::syntax::literal::{self, StrParts};

/// A piece of a triple-quoted string, kept until its end is known: the indentation to
/// drop depends on every line.
enum Piece {
    Text(usize, usize),
    Escape(char),
    Interpolation(Expr),
}

impl Parser<'_> {
    /// A string (either kind) as an expression.
    pub(super) fn string(&mut self) -> Option<Built> {
        let start = self.pos;
        let triple = Quote::at(self.text, self.pos) == Some(Quote::Triple);
        let (lit, depth) = if triple {
            // pest would try `"` next, which cannot end well: `""` then a stray `"`.
            self.triple().or_else(|| self.give_up())?
        } else {
            self.quoted()?
        };
        Some(Built {
            expr: Expr {
                kind: ExprKind::Str(lit, triple),
                span: self.span(start),
                parens: false,
            },
            depth,
        })
    }

    /// The grammar's `string` (never triple-quoted), as an expression.
    pub(super) fn string_expr(&mut self) -> Option<Expr> {
        let (lit, span) = self.quoted_string()?;
        Some(Expr {
            kind: ExprKind::Str(lit, false),
            span,
            parens: false,
        })
    }

    /// The grammar's `string` and its span.
    pub(super) fn quoted_string(&mut self) -> Option<(StrLit, Span)> {
        let start = self.start();
        if self.peek() != b'"' {
            return None;
        }
        let (lit, _) = self.quoted()?;
        Some((lit, self.span(start)))
    }

    /// `"…"` at the cursor, and the depth of its deepest interpolation.
    fn quoted(&mut self) -> Option<(StrLit, usize)> {
        self.pos += 1;
        // Only the quotes' text matters to `StrParts` for a plain string.
        let mut parts = StrParts::new("", false);
        let mut depth = 1;
        loop {
            match self.peek() {
                b'"' => break,
                b'\\' => parts.escape(Some(self.escape()?)),
                b'{' => {
                    let inner = self.interpolation()?;
                    depth = depth.max(inner.depth + 1);
                    parts.interpolation(inner.expr);
                }
                b'\n' => return None,
                _ if self.at_end() => return None,
                _ => {
                    let from = self.pos;
                    self.pos += Quote::Plain.text_len(self.text, from);
                    parts.text(&self.original[from..self.pos]);
                }
            }
        }
        self.advance(1);
        Some((parts.finish(), depth))
    }

    /// `"""…"""` at the cursor, and the depth of its deepest interpolation.
    fn triple(&mut self) -> Option<(StrLit, usize)> {
        let start = self.pos;
        self.pos += 3;
        let mut pieces = Vec::new();
        let mut depth = 1;
        while !Quote::Triple.closes(self.text, self.pos) {
            pieces.push(match self.peek() {
                b'\\' => Piece::Escape(self.escape()?),
                b'{' => {
                    let inner = self.interpolation()?;
                    depth = depth.max(inner.depth + 1);
                    Piece::Interpolation(inner.expr)
                }
                _ if self.at_end() => return None,
                _ => {
                    let from = self.pos;
                    self.pos += Quote::Triple.text_len(self.text, from);
                    Piece::Text(from, self.pos)
                }
            });
        }
        self.advance(3);
        let mut parts = StrParts::new(&self.original[start..self.pos], true);
        for piece in pieces {
            match piece {
                Piece::Text(from, to) => parts.text(&self.original[from..to]),
                Piece::Escape(c) => parts.escape(Some(c)),
                Piece::Interpolation(expr) => parts.interpolation(expr),
            }
        }
        Some((parts.finish(), depth))
    }

    /// An escape sequence at the cursor; any the builder would refuse is pest's to report.
    fn escape(&mut self) -> Option<char> {
        let start = self.pos;
        let simple = match self.text.get(start + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'n') => '\n',
            Some(b't') => '\t',
            Some(b'r') => '\r',
            Some(b'{') => '{',
            Some(b'}') => '}',
            Some(b'u') if self.text.get(start + 2) == Some(&b'{') => {
                let len = escape_len(self.text, start);
                if len == 2 {
                    // `\u` then an unclosed `{`: pest reads an escape of `u`, refused.
                    return self.give_up();
                }
                self.advance(len);
                let text = &self.original[start..self.pos];
                return literal::escape(text, self.file, self.base + start)
                    .ok()
                    .or_else(|| self.give_up());
            }
            _ => return self.give_up(),
        };
        self.advance(2);
        Some(simple)
    }

    /// `{ expr }` inside a string.
    fn interpolation(&mut self) -> Option<Built> {
        self.advance(1);
        self.blank_lines();
        let inner = self.climb(0)?;
        self.blank_lines();
        if self.peek() != b'}' {
            return None;
        }
        self.advance(1);
        Some(inner)
    }
}
