//! Expressions: operators climbed by the AST's precedence table ([`Prec`]), as pest's
//! `build::PRATT` climbs them, over the same tokens.

use super::{Parser, GIVE_UP_DEPTH};
use crate::syntax::ast::*;
use crate::syntax::build::{chained_comparison, word_value};
use crate::syntax::lexer::{self, is_word_start};
use crate::syntax::literal::{self, NumberValue};

/// An expression with what climbing needs to know about it (as in the builder).
pub(super) struct Built {
    pub(super) expr: Expr,
    /// Height of the tree.
    pub(super) depth: usize,
}

/// How tightly `op` binds, as a number to climb by (the AST's one table, [`Prec`]).
fn power(op: BinOp) -> u8 {
    op.prec() as u8
}

impl Parser<'_> {
    /// An `expr`.
    pub(super) fn expr(&mut self) -> Option<Expr> {
        Some(self.climb(0)?.expr)
    }

    /// `expr?` where an expression may follow on the same line.
    pub(super) fn optional_expr(&mut self) -> Option<Option<Expr>> {
        self.blanks();
        let starts_expr = matches!(self.peek(), b'-' | b'"' | b'0'..=b'9' | b'[' | b'{' | b'(')
            || is_word_start(self.peek());
        if starts_expr {
            Some(Some(self.expr()?))
        } else {
            Some(None)
        }
    }

    /// An operand, then every operator that binds tighter than `floor`.
    pub(super) fn climb(&mut self, floor: u8) -> Option<Built> {
        if self.frames >= GIVE_UP_DEPTH {
            return self.give_up();
        }
        self.frames += 1;
        let built = self.climb_here(floor);
        self.frames -= 1;
        built
    }

    fn climb_here(&mut self, floor: u8) -> Option<Built> {
        let mut lhs = self.operand()?;
        loop {
            self.blanks();
            lhs = match self.peek() {
                b'.' | b'[' => self.postfix(lhs)?,
                _ => match lexer::infix_at(self.text, self.pos) {
                    Some((op, len)) if floor < power(op) => {
                        self.advance(len);
                        self.blank_lines();
                        let rhs = self.climb(power(op))?;
                        self.binary(op, lhs, rhs)?
                    }
                    _ => return Some(lhs),
                },
            };
        }
    }

    /// A primary after any number of prefix operators.
    fn operand(&mut self) -> Option<Built> {
        let start = self.start();
        let (op, floor) = if self.peek() == b'-' {
            self.advance(1);
            (UnOp::Neg, UnOp::Neg.prec() as u8 - 1)
        } else if self.keyword("not") {
            (UnOp::Not, UnOp::Not.prec() as u8 - 1)
        } else {
            return self.primary();
        };
        let op_span = self.span(start);
        let rhs = self.climb(floor)?;
        let span = op_span.to(rhs.expr.span);
        self.node(ExprKind::Unary(op, Box::new(rhs.expr)), span, rhs.depth + 1)
    }

    fn binary(&mut self, op: BinOp, lhs: Built, rhs: Built) -> Option<Built> {
        if !lhs.expr.parens && chained_comparison(&lhs.expr.kind, op).is_some() {
            return self.give_up();
        }
        let span = lhs.expr.span.to(rhs.expr.span);
        let depth = lhs.depth.max(rhs.depth) + 1;
        self.node(
            ExprKind::Binary(op, Box::new([lhs.expr, rhs.expr])),
            span,
            depth,
        )
    }

    /// `.field` or `[index]` after `lhs`.
    fn postfix(&mut self, lhs: Built) -> Option<Built> {
        let start = self.pos;
        self.advance(1);
        if self.text[start] == b'.' {
            let (name, field_span) = self.word()?;
            let field = Word {
                name: Name::new(name),
                span: field_span,
            };
            let span = lhs.expr.span.to(self.span(start));
            return self.node(
                ExprKind::Field(Box::new((lhs.expr, field))),
                span,
                lhs.depth + 1,
            );
        }
        self.blank_lines();
        let index = self.climb(0)?;
        self.blank_lines();
        self.expect(b']')?;
        let span = lhs.expr.span.to(self.span(start));
        let depth = lhs.depth.max(index.depth) + 1;
        self.node(
            ExprKind::Index(Box::new([lhs.expr, index.expr])),
            span,
            depth,
        )
    }

    fn node(&mut self, kind: ExprKind, span: Span, depth: usize) -> Option<Built> {
        if depth >= GIVE_UP_DEPTH {
            return self.give_up();
        }
        Some(Built {
            expr: Expr {
                kind,
                span,
                parens: false,
            },
            depth,
        })
    }

    fn leaf(&self, kind: ExprKind, start: usize) -> Built {
        Built {
            expr: Expr {
                kind,
                span: self.span(start),
                parens: false,
            },
            depth: 1,
        }
    }

    fn primary(&mut self) -> Option<Built> {
        let start = self.start();
        match self.peek() {
            b'"' => self.string(),
            b'0'..=b'9' => self.number(),
            b'(' => self.paren(),
            b'[' => {
                self.advance(1);
                let mut depth = 0;
                let items = self.delimited_thin(b']', |p| {
                    let item = p.climb(0)?;
                    depth = depth.max(item.depth);
                    Some(item.expr)
                })?;
                self.node(ExprKind::List(items), self.span(start), depth + 1)
            }
            b'{' => self.record(start),
            // When `if` does not start an `if` expression, pest reads it as a name: a
            // keyword used as one, which is the pest path's to report.
            b'i' if self.keyword("if") => self.if_expr(start).or_else(|| self.give_up()),
            b if is_word_start(b) => self.name_or_call(start),
            _ => None,
        }
    }

    /// The one term a mock's status is: a number, a parenthesised expression or a word.
    pub(super) fn status(&mut self) -> Option<Expr> {
        let start = self.start();
        let built = match self.peek() {
            b'0'..=b'9' => self.number()?,
            b'(' => self.paren()?,
            _ => {
                let (word, _) = self.word()?;
                match word_value(word) {
                    Some(kind) => self.leaf(kind, start),
                    None => return self.give_up(),
                }
            }
        };
        Some(built.expr)
    }

    /// `ASCII_DIGIT+ ("." ASCII_DIGIT+)? ic*`, read as a number or a duration.
    fn number(&mut self) -> Option<Built> {
        let start = self.pos;
        let end = start + lexer::number_len(self.text, start);
        self.advance(end - start);
        let text = &self.original[start..end];
        match literal::number(text, self.file, self.base + start) {
            Ok(NumberValue::Number(n)) => Some(self.leaf(ExprKind::Number(n), start)),
            Ok(NumberValue::Duration(ms)) => Some(self.leaf(ExprKind::Duration(ms), start)),
            Err(_) => self.give_up(),
        }
    }

    /// `( expr )`: the inner expression, spanning the parentheses.
    fn paren(&mut self) -> Option<Built> {
        let start = self.pos;
        self.advance(1);
        self.blank_lines();
        let mut inner = self.climb(0)?;
        self.blank_lines();
        self.expect(b')')?;
        inner.expr.span = self.span(start);
        inner.expr.parens = true;
        Some(inner)
    }

    fn record(&mut self, start: usize) -> Option<Built> {
        self.advance(1);
        let mut depth = 0;
        let entries = self.delimited_thin(b'}', |p| {
            let key_start = p.start();
            let key = if p.peek() == b'"' {
                let (lit, span) = p.quoted_string()?;
                let Some(name) = lit.as_plain() else {
                    return p.give_up();
                };
                RecordKey {
                    name,
                    quoted: true,
                    span,
                }
            } else {
                let (name, _) = p.word()?;
                RecordKey {
                    name: name.to_string(),
                    quoted: false,
                    span: p.span(key_start),
                }
            };
            p.expect(b':')?;
            let value = p.climb(0)?;
            depth = depth.max(value.depth);
            Some(RecordEntry {
                key,
                value: value.expr,
            })
        })?;
        self.node(ExprKind::Record(entries), self.span(start), depth + 1)
    }

    /// `if` has been read.
    fn if_expr(&mut self, start: usize) -> Option<Built> {
        let branch = |p: &mut Self, keyword: Option<&str>| {
            p.blank_lines();
            if let Some(keyword) = keyword {
                if !p.keyword(keyword) {
                    return None;
                }
                p.blank_lines();
            }
            p.climb(0)
        };
        let cond = branch(self, None)?;
        let then = branch(self, Some("then"))?;
        let otherwise = branch(self, Some("else"))?;
        let depth = cond.depth.max(then.depth).max(otherwise.depth) + 1;
        let kind = ExprKind::If(Box::new([cond.expr, then.expr, otherwise.expr]));
        self.node(kind, self.span(start), depth)
    }

    /// `word ("(" args ")")?`
    fn name_or_call(&mut self, start: usize) -> Option<Built> {
        let (word, callee_span) = self.word()?;
        if !self.eat(b'(') {
            return match word_value(word) {
                Some(kind) => Some(self.leaf(kind, start)),
                None => self.give_up(),
            };
        }
        if word != "reply" && crate::syntax::is_keyword(word) {
            return self.give_up();
        }
        let mut depth = 0;
        let args = self.delimited_thin(b')', |p| {
            let mark = p.mark();
            // The word is copied only once it is known to be a name.
            let name = match p.word() {
                Some((name, span)) if p.eat(b':') => Some(Box::new(Ident {
                    name: name.to_string(),
                    span,
                })),
                _ => {
                    p.reset(mark);
                    None
                }
            };
            let value = p.climb(0)?;
            depth = depth.max(value.depth);
            Some(Arg {
                name,
                value: value.expr,
            })
        })?;
        let callee = Word {
            name: Name::new(word),
            span: callee_span,
        };
        self.node(
            ExprKind::Call(Box::new(Call { callee, args })),
            self.span(start),
            depth + 1,
        )
    }
}
