//! Expressions. Each is printed on one line when it fits (and holds no comment); otherwise
//! its lists, records and call arguments break one entry per line with trailing commas, an
//! `and`/`or` chain breaks after each operator and an `if` chain before each `else`, their
//! continuation lines one level deeper. Parentheses are kept where they were written (one
//! pair of any number) and added where precedence needs them.

use super::printer::{Printer, TooWide};
use crate::syntax::ast::{Arg, BinOp, Expr, ExprKind, Prec, RecordEntry, Span, UnOp};

/// The minimum strength of each operand of `op`: operators chain to the left, comparisons
/// do not chain.
fn operand_precs(op: BinOp) -> (Prec, Prec) {
    let prec = op.prec();
    match prec {
        Prec::Compare => (prec.tighter(), prec.tighter()),
        _ => (prec, prec.tighter()),
    }
}

/// The operands of the chain of `op` that `e` is (`a and b and c`: `a`, `b`, `c`); an operand
/// in parentheses is one operand.
fn chain_operands(e: &Expr, op: BinOp) -> Vec<&Expr> {
    let mut operands = Vec::new();
    let mut node = e;
    while let ExprKind::Binary(node_op, sides) = &node.kind {
        if *node_op != op || (node.parens && !std::ptr::eq(node, e)) {
            break;
        }
        operands.push(&sides[1]);
        node = &sides[0];
    }
    operands.push(node);
    operands.reverse();
    operands
}

/// What kind of line-breakable sequence a node has.
#[derive(Clone, Copy)]
enum Delims {
    Record,
    List,
    Args,
}

impl Delims {
    fn open(self) -> &'static str {
        match self {
            Delims::Record => "{",
            Delims::List => "[",
            Delims::Args => "(",
        }
    }
    fn close(self) -> &'static str {
        match self {
            Delims::Record => "}",
            Delims::List => "]",
            Delims::Args => ")",
        }
    }
}

/// One entry of a sequence: a list element, a record entry or a call argument.
#[derive(Clone, Copy)]
enum Entry<'a> {
    Element(&'a Expr),
    Keyed(&'a RecordEntry),
    Arg(&'a Arg),
}

impl Entry<'_> {
    fn span(self) -> Span {
        match self {
            Entry::Element(e) => e.span,
            Entry::Keyed(entry) => entry.key.span.to(entry.value.span),
            Entry::Arg(arg) => match &arg.name {
                Some(name) => name.span.to(arg.value.span),
                None => arg.value.span,
            },
        }
    }
}

impl Printer<'_> {
    /// Prints `e` at the current position; `suffix` is the width of what must follow it on
    /// the same line (a comma, a closing delimiter).
    pub(super) fn expr(&mut self, e: &Expr, suffix: usize) {
        self.expr_at(e, Prec::Lowest, suffix);
    }

    fn expr_at(&mut self, e: &Expr, min: Prec, suffix: usize) {
        let mark = self.mark();
        // Whether it fits decides the layout; a comment inside only moves to the line's end
        // (so the next run, which finds it there, makes the same choice).
        let fits = self.flat(e, min).is_ok() && self.fits(suffix);
        if fits && !self.comments.any_within(e.span) {
            return;
        }
        self.rollback(mark);
        self.broken(e, min, suffix, fits);
    }

    /// Whether `e` fits on one line here, `suffix` columns still to come after it.
    pub(super) fn fits_flat(&mut self, e: &Expr, suffix: usize) -> bool {
        let mark = self.mark();
        let fits = self.flat(e, Prec::Lowest).is_ok() && self.fits(suffix);
        self.rollback(mark);
        fits
    }

    fn parenthesised(e: &Expr, min: Prec) -> bool {
        e.parens || Self::prec(e) < min
    }

    fn prec(e: &Expr) -> Prec {
        match &e.kind {
            ExprKind::If { .. } => Prec::Lowest,
            ExprKind::Binary(op, ..) => op.prec(),
            ExprKind::Unary(op, _) => op.prec(),
            _ => Prec::Postfix,
        }
    }

    /// The one-line layout, abandoned as soon as it cannot fit.
    fn flat(&mut self, e: &Expr, min: Prec) -> Result<(), TooWide> {
        if self.clearly_too_wide() {
            return Err(TooWide);
        }
        let parens = Self::parenthesised(e, min);
        if parens {
            self.write("(");
        }
        match &e.kind {
            ExprKind::Record(entries) => {
                let entries: Vec<Entry> = entries.iter().map(Entry::Keyed).collect();
                self.flat_sequence(Delims::Record, &entries)?;
            }
            ExprKind::List(items) => {
                let items: Vec<Entry> = items.iter().map(Entry::Element).collect();
                self.flat_sequence(Delims::List, &items)?;
            }
            ExprKind::Call(call) => {
                self.write(&call.callee.name);
                let args: Vec<Entry> = call.args.iter().map(Entry::Arg).collect();
                self.flat_sequence(Delims::Args, &args)?;
            }
            ExprKind::Field(field) => {
                let (base, name) = &**field;
                self.flat(base, Prec::Postfix)?;
                self.write(".");
                self.write(&name.name);
            }
            ExprKind::Index(operands) => {
                let [base, index] = &**operands;
                self.flat(base, Prec::Postfix)?;
                self.write("[");
                self.flat(index, Prec::Lowest)?;
                self.write("]");
            }
            ExprKind::Unary(op, operand) => {
                self.unary_op(*op);
                self.flat(operand, Self::unary_operand_prec(*op, operand))?;
            }
            ExprKind::Binary(op, operands) => {
                let [left, right] = &**operands;
                let (lmin, rmin) = operand_precs(*op);
                self.flat(left, lmin)?;
                self.binary_op(*op);
                self.flat(right, rmin)?;
            }
            ExprKind::If(parts) => {
                let [cond, then, otherwise] = &**parts;
                self.write("if ");
                self.flat(cond, Prec::Lowest)?;
                self.write(" then ");
                self.flat(then, Prec::Lowest)?;
                self.write(" else ");
                self.flat(otherwise, Prec::Lowest)?;
            }
            _ => self.atom(e)?,
        }
        if parens {
            self.write(")");
        }
        Ok(())
    }

    /// The layout when one line is not enough (`fits` false) or a comment is inside:
    /// sequences break, and when it does not fit `and`/`or` and `if` chains too; everything
    /// else keeps its shape and lets its operands choose.
    fn broken(&mut self, e: &Expr, min: Prec, suffix: usize, fits: bool) {
        let parens = Self::parenthesised(e, min);
        if parens {
            self.write("(");
        }
        let suffix = suffix + usize::from(parens);
        match &e.kind {
            ExprKind::Record(entries) => {
                let entries: Vec<Entry> = entries.iter().map(Entry::Keyed).collect();
                self.broken_sequence(Delims::Record, &entries, e.span);
            }
            ExprKind::List(items) => {
                let items: Vec<Entry> = items.iter().map(Entry::Element).collect();
                self.broken_sequence(Delims::List, &items, e.span);
            }
            ExprKind::Call(call) => {
                self.write(&call.callee.name);
                let args: Vec<Entry> = call.args.iter().map(Entry::Arg).collect();
                self.broken_sequence(Delims::Args, &args, e.span);
            }
            ExprKind::Field(field) => {
                let (base, name) = &**field;
                self.expr_at(base, Prec::Postfix, name.name.len() + 1 + suffix);
                self.write(".");
                self.write(&name.name);
            }
            ExprKind::Index(operands) => {
                let [base, index] = &**operands;
                self.expr_at(base, Prec::Postfix, 0);
                self.write("[");
                self.expr_at(index, Prec::Lowest, 1 + suffix);
                self.write("]");
            }
            ExprKind::Unary(op, operand) => {
                self.unary_op(*op);
                self.expr_at(operand, Self::unary_operand_prec(*op, operand), suffix);
            }
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), ..) if !fits => {
                self.broken_chain(e, *op, suffix);
            }
            ExprKind::Binary(op, operands) => {
                let [left, right] = &**operands;
                let (lmin, rmin) = operand_precs(*op);
                self.expr_at(left, lmin, 0);
                self.binary_op(*op);
                self.expr_at(right, rmin, suffix);
            }
            ExprKind::If(_) if !fits => self.broken_if_chain(e, suffix),
            ExprKind::If(parts) => {
                let [cond, then, otherwise] = &**parts;
                self.write("if ");
                self.expr_at(cond, Prec::Lowest, 0);
                self.write(" then ");
                self.expr_at(then, Prec::Lowest, 0);
                self.write(" else ");
                self.expr_at(otherwise, Prec::Lowest, suffix);
            }
            // A literal that spans lines (a triple-quoted string) is copied as written.
            _ => {
                let _ = self.atom(e);
            }
        }
        if parens {
            self.write(")");
        }
    }

    /// `a and b and c` on a line each, every line but the last ending with the operator (the
    /// grammar continues an expression only after one).
    fn broken_chain(&mut self, e: &Expr, op: BinOp, suffix: usize) {
        let operands = chain_operands(e, op);
        let (lmin, rmin) = operand_precs(op);
        let op_width = 1 + op.symbol().len();
        self.continued(|p| {
            for (i, operand) in operands.iter().enumerate() {
                let last = i + 1 == operands.len();
                let min = if i == 0 { lmin } else { rmin };
                p.expr_at(operand, min, if last { suffix } else { op_width });
                if !last {
                    p.write(" ");
                    p.write(op.symbol());
                    p.line_break();
                }
            }
        });
    }

    /// `if a then x`, then `else if b then y` and `else z` on lines of their own.
    fn broken_if_chain(&mut self, e: &Expr, suffix: usize) {
        self.continued(|p| {
            let mut branch = e;
            loop {
                match &branch.kind {
                    ExprKind::If(parts) if std::ptr::eq(branch, e) || !branch.parens => {
                        let [cond, then, otherwise] = &**parts;
                        p.write("if ");
                        p.expr_at(cond, Prec::Lowest, " then".len());
                        p.write(" then ");
                        p.expr_at(then, Prec::Lowest, 0);
                        p.line_break();
                        p.write("else ");
                        branch = otherwise;
                    }
                    _ => {
                        p.expr_at(branch, Prec::Lowest, suffix);
                        return;
                    }
                }
            }
        });
    }

    /// Literals and names.
    fn atom(&mut self, e: &Expr) -> Result<(), TooWide> {
        match &e.kind {
            ExprKind::Null => self.write("null"),
            ExprKind::Bool(true) => self.write("true"),
            ExprKind::Bool(false) => self.write("false"),
            ExprKind::Name(name) => self.write(name),
            // Numbers, durations and strings are copied as written.
            _ => return self.verbatim(self.literal_token(e.span)),
        }
        Ok(())
    }

    fn unary_op(&mut self, op: UnOp) {
        self.write(match op {
            UnOp::Not => "not ",
            UnOp::Neg => "-",
        });
    }

    /// `-(-x)`: a prefix minus never sits directly on another one.
    fn unary_operand_prec(op: UnOp, operand: &Expr) -> Prec {
        match op {
            UnOp::Neg if Self::prec(operand) == Prec::Prefix => Prec::Postfix,
            _ => op.prec(),
        }
    }

    fn binary_op(&mut self, op: BinOp) {
        self.write(" ");
        self.write(op.symbol());
        self.write(" ");
    }

    fn flat_sequence(&mut self, delims: Delims, entries: &[Entry]) -> Result<(), TooWide> {
        self.write(delims.open());
        let padded = matches!(delims, Delims::Record) && !entries.is_empty();
        if padded {
            self.write(" ");
        }
        for (i, entry) in entries.iter().enumerate() {
            if i > 0 {
                self.write(", ");
            }
            self.flat_entry(*entry)?;
        }
        if padded {
            self.write(" ");
        }
        self.write(delims.close());
        Ok(())
    }

    fn flat_entry(&mut self, entry: Entry) -> Result<(), TooWide> {
        match entry {
            Entry::Element(e) => self.flat(e, Prec::Lowest),
            Entry::Keyed(entry) => {
                self.record_key(entry);
                self.flat(&entry.value, Prec::Lowest)
            }
            Entry::Arg(arg) => {
                if let Some(name) = &arg.name {
                    self.write(&name.name);
                    self.write(": ");
                }
                self.flat(&arg.value, Prec::Lowest)
            }
        }
    }

    fn record_key(&mut self, entry: &RecordEntry) {
        if entry.key.quoted {
            let _ = self.verbatim(entry.key.span);
        } else {
            self.write(&entry.key.name);
        }
        self.write(": ");
    }

    /// One entry per line, each followed by a comma.
    fn broken_sequence(&mut self, delims: Delims, entries: &[Entry], span: Span) {
        if entries.is_empty() && !self.comments_before(span.end) {
            self.write(delims.open());
            self.write(delims.close());
            return;
        }
        self.open_block(delims.open());
        for (i, entry) in entries.iter().enumerate() {
            let entry_span = entry.span();
            let limit = entries
                .get(i + 1)
                .map_or(span.end, |next| next.span().start);
            self.open_line(entry_span.start, false);
            match *entry {
                Entry::Element(e) => self.expr(e, 1),
                Entry::Keyed(entry) => {
                    self.record_key(entry);
                    self.expr(&entry.value, 1);
                }
                Entry::Arg(arg) => {
                    if let Some(name) = &arg.name {
                        self.write(&name.name);
                        self.write(": ");
                    }
                    self.expr(&arg.value, 1);
                }
            }
            self.write(",");
            self.close_line(entry_span.end, limit);
        }
        self.close_block(span.end, delims.close());
    }
}
