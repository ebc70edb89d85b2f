//! pest pairs → AST. Spans are byte offsets into the whole file (`base` is where the parsed
//! slice starts). Errors found while building (bad literals, keywords used as names,
//! expressions nested too deep) are collected and an `Error` node stands in, so the rest of
//! the tree survives.

use std::cell::RefCell;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, ConstPrattParser, Op};

use super::ast::*;
use super::grammar::Rule;
use super::keywords::is_keyword;
use super::literal::{self, NumberValue, StrParts};
use super::{thin, MAX_DEPTH};
use crate::diagnostics::{Code, Diagnostic};

/// pest's climber: the operators in the order of [`ast::Prec`], loosest first, `true` where
/// a new level starts (`if` is lower still, as a primary whose `else` branch takes
/// everything after it). `descent_tests` checks every pair of operators against `Prec`.
static PRATT: ConstPrattParser<Rule, 19> = ConstPrattParser::new_const([
    (Op::infix(Rule::or, Assoc::Left), true),
    (Op::infix(Rule::and, Assoc::Left), true),
    (Op::prefix(Rule::not), true),
    (Op::infix(Rule::eq, Assoc::Left), true),
    (Op::infix(Rule::ne, Assoc::Left), false),
    (Op::infix(Rule::lt, Assoc::Left), false),
    (Op::infix(Rule::le, Assoc::Left), false),
    (Op::infix(Rule::gt, Assoc::Left), false),
    (Op::infix(Rule::ge, Assoc::Left), false),
    (Op::infix(Rule::in_op, Assoc::Left), false),
    (Op::infix(Rule::coalesce, Assoc::Left), true),
    (Op::infix(Rule::add, Assoc::Left), true),
    (Op::infix(Rule::sub, Assoc::Left), false),
    (Op::infix(Rule::mul, Assoc::Left), true),
    (Op::infix(Rule::div, Assoc::Left), false),
    (Op::infix(Rule::rem, Assoc::Left), false),
    (Op::prefix(Rule::neg), true),
    (Op::postfix(Rule::member), true),
    (Op::postfix(Rule::index), false),
]);

/// An expression with what the builder needs to know about it while climbing.
struct Built {
    expr: Expr,
    /// Height of the tree, kept under [`MAX_DEPTH`] so nothing downstream overflows.
    depth: usize,
}

pub struct Builder<'d> {
    file: FileId,
    base: usize,
    /// The source text pest parsed (before blanking, see [`super::blank`]).
    source: &'d str,
    diags: RefCell<&'d mut Vec<Diagnostic>>,
    /// How deep `expr` calls are nested right now (pest's own tree may be deeper than the
    /// brackets the scanner counted, e.g. with `if` chains).
    nesting: std::cell::Cell<usize>,
}

impl<'d> Builder<'d> {
    pub fn new(file: FileId, base: usize, source: &'d str, diags: &'d mut Vec<Diagnostic>) -> Self {
        Builder {
            file,
            base,
            source,
            diags: RefCell::new(diags),
            nesting: std::cell::Cell::new(0),
        }
    }

    /// The pair's span without the blanks (and blanked comments) pest skipped after its
    /// last token.
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        let input = s.get_input().as_bytes();
        let start = s.start();
        let mut end = s.end();
        while end > start && matches!(input[end - 1], b' ' | b'\n') {
            end -= 1;
        }
        Span::new(self.file, self.base + start, self.base + end)
    }

    /// The pair's original text (pest saw comments, tabs and carriage returns as spaces).
    fn text(&self, pair: &Pair<'_, Rule>) -> &'d str {
        let s = pair.as_span();
        self.source.get(s.start()..s.end()).unwrap_or("")
    }

    fn error(&self, diagnostic: Diagnostic) {
        self.diags.borrow_mut().push(diagnostic);
    }

    // ---- declarations ------------------------------------------------------------------

    /// Items of a `file` pair.
    pub fn items(&self, file: Pair<Rule>, out: &mut Vec<Item>) {
        for pair in file.into_inner() {
            if let Some(item) = self.item(pair) {
                out.push(item);
            }
        }
    }

    fn item(&self, pair: Pair<Rule>) -> Option<Item> {
        let span = self.span(&pair);
        Some(match pair.as_rule() {
            Rule::import => {
                let string = pair.into_inner().nth(1)?;
                let path_span = self.span(&string);
                let lit = self.string(string);
                let path = lit.as_plain().unwrap_or_else(|| {
                    self.error(
                        Diagnostic::new(
                            Code::Syntax,
                            "an import path cannot interpolate",
                            path_span,
                        )
                        .with_help(
                            "write the path as plain text: `import \"common/replies.agent\"`",
                        ),
                    );
                    String::new()
                });
                Item::Import(Box::new(Import {
                    path,
                    path_span,
                    span,
                }))
            }
            Rule::agent => {
                let mut inner = pair.into_inner().skip(1);
                let name = self.name(inner.next()?);
                let entries = inner
                    .map(|p| match p.as_rule() {
                        Rule::params => {
                            let span = self.span(&p);
                            let params = p.into_inner().map(|d| self.param_decl(d)).collect();
                            AgentEntry::Params { params, span }
                        }
                        _ => AgentEntry::Field(self.field(p)),
                    })
                    .collect();
                Item::Agent(Box::new(Agent {
                    name,
                    entries,
                    span,
                }))
            }
            Rule::target => {
                let mut inner = pair.into_inner().skip(1);
                let name = self.name(inner.next()?);
                let kind = self.name(inner.next()?);
                let fields = inner.map(|p| self.field(p)).collect();
                Item::Target(Box::new(Target {
                    name,
                    kind,
                    fields,
                    span,
                }))
            }
            Rule::task => {
                let mut inner = pair.into_inner().skip(1);
                let name = self.name(inner.next()?);
                let mut params = Vec::new();
                let mut target = None;
                let mut fields = Vec::new();
                for p in inner {
                    match p.as_rule() {
                        Rule::task_param => params.push(self.task_param(p)),
                        Rule::word => target = Some(self.name(p)),
                        Rule::field => fields.push(self.field(p)),
                        _ => {}
                    }
                }
                Item::Task(Box::new(TaskDecl {
                    name,
                    params,
                    target: target?,
                    fields,
                    span,
                }))
            }
            Rule::action | Rule::reply | Rule::usecase => {
                let rule = pair.as_rule();
                let mut inner = pair.into_inner().skip(1);
                let name = self.name(inner.next()?);
                let fields = inner.map(|p| self.field(p)).collect();
                match rule {
                    Rule::action => Item::Action(Box::new(Action { name, fields, span })),
                    Rule::reply => Item::Reply(Box::new(Reply { name, fields, span })),
                    _ => Item::Usecase(Box::new(Usecase { name, fields, span })),
                }
            }
            Rule::binding => Item::Binding(Box::new(self.binding(pair)?)),
            Rule::test => {
                let mut inner = pair.into_inner().skip(1);
                let name_pair = inner.next()?;
                let name_span = self.span(&name_pair);
                let name = self.plain_string(name_pair, "a test name");
                let steps = inner.filter_map(|p| self.step(p)).collect();
                Item::Test(Box::new(Test {
                    name,
                    name_span,
                    steps,
                    span,
                }))
            }
            _ => return None,
        })
    }

    /// A name being declared or referred to; keywords are refused here (E0009).
    fn name(&self, pair: Pair<Rule>) -> Ident {
        let span = self.span(&pair);
        let name = self.text(&pair);
        if is_keyword(name) {
            self.error(
                Diagnostic::new(
                    Code::KeywordAsName,
                    format!("`{name}` is a keyword and cannot be used as a name"),
                    span,
                )
                .with_label_message("reserved word")
                .with_help(format!("pick another name, e.g. `{name}_`")),
            );
        }
        Ident {
            name: name.to_string(),
            span,
        }
    }

    /// A field key or record key: keywords are fine there (`task:`, `target:`).
    fn key(&self, pair: &Pair<Rule>) -> Ident {
        Ident {
            name: self.text(pair).to_string(),
            span: self.span(pair),
        }
    }

    fn word(&self, pair: &Pair<Rule>) -> Word {
        Word {
            name: Name::new(self.text(pair)),
            span: self.span(pair),
        }
    }

    fn field(&self, pair: Pair<Rule>) -> Field {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let key = inner.next().map(|k| self.word(&k));
        let value = inner.next().map(|v| self.expr(v));
        Field {
            key: key.unwrap_or(Word {
                name: Name::new(""),
                span,
            }),
            value: value.unwrap_or_else(|| self.error_expr(span)),
            span,
        }
    }

    fn param_decl(&self, pair: Pair<Rule>) -> ParamDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = inner.next().map(|p| self.name(p));
        let ty = inner.next().map(|p| self.name(p));
        let default = inner.next().map(|p| self.expr(p));
        ParamDecl {
            name: name.unwrap_or_else(|| self.missing_ident(span)),
            ty: ty.unwrap_or_else(|| self.missing_ident(span)),
            default,
            span,
        }
    }

    fn task_param(&self, pair: Pair<Rule>) -> TaskParam {
        let span = self.span(&pair);
        let mut name = None;
        let mut ty = None;
        let mut optional = false;
        let mut default = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::word if name.is_none() => name = Some(self.name(p)),
                Rule::word => ty = Some(self.name(p)),
                Rule::optional => optional = true,
                _ => default = Some(self.expr(p)),
            }
        }
        TaskParam {
            name: name.unwrap_or_else(|| self.missing_ident(span)),
            ty: ty.unwrap_or_else(|| self.missing_ident(span)),
            optional,
            default,
            span,
        }
    }

    fn binding(&self, pair: Pair<Rule>) -> Option<Binding> {
        let span = self.span(&pair);
        let mut trigger = None;
        let mut when = None;
        let mut body = None;
        for p in pair.into_inner() {
            let pspan = self.span(&p);
            match p.as_rule() {
                Rule::on_event => {
                    let events = p.into_inner().skip(1).map(|w| self.name(w)).collect();
                    trigger = Some(Trigger::Events(events))
                }
                Rule::before_call => trigger = Some(Trigger::BeforeCall(pspan)),
                Rule::after_call => trigger = Some(Trigger::AfterCall(pspan)),
                Rule::in_usecase => {
                    trigger = Some(Trigger::Usecase(self.name(p.into_inner().nth(2)?)))
                }
                Rule::at_block => {
                    let mut words = p.into_inner().skip(2);
                    let usecase = self.name(words.next()?);
                    let block = self.name(words.next()?);
                    trigger = Some(Trigger::Block { usecase, block });
                }
                Rule::expr => when = Some(self.expr(p)),
                Rule::do_body => {
                    body = Some(BindingBody::Do(
                        p.into_inner().skip(1).map(|w| self.name(w)).collect(),
                    ))
                }
                Rule::reply_body => {
                    body = Some(BindingBody::Reply(self.name(p.into_inner().nth(1)?)))
                }
                _ => {}
            }
        }
        Some(Binding {
            trigger: trigger?,
            when,
            body: body?,
            span,
        })
    }

    // ---- tests -------------------------------------------------------------------------

    /// Steps of a `steps` pair (a test body given on its own).
    pub fn steps(&self, steps: Pair<Rule>) -> Vec<TestStep> {
        steps.into_inner().filter_map(|p| self.step(p)).collect()
    }

    fn step(&self, pair: Pair<Rule>) -> Option<TestStep> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::mock => {
                let mut inner = pair.into_inner().skip(1);
                let target = self.name(inner.next()?);
                let method = self.name(inner.next()?);
                let path = self.string_expr(inner.next()?);
                let status = inner
                    .next()
                    .and_then(|s| s.into_inner().next())
                    .map(|p| self.primary(p).expr);
                let body = inner.next().map(|p| self.expr(p));
                Some(TestStep::Mock(Mock {
                    target,
                    method,
                    path,
                    status,
                    body,
                    span,
                }))
            }
            Rule::send => {
                let what_pair = pair.into_inner().nth(1)?;
                let rule = what_pair.as_rule();
                let mut inner = what_pair.into_inner();
                let (what, payload) = match rule {
                    Rule::send_usecase => (SendWhat::Usecase(self.name(inner.nth(1)?)), None),
                    Rule::send_block => {
                        let mut words = inner.skip(1);
                        let usecase = self.name(words.next()?);
                        let block = self.name(words.next()?);
                        (SendWhat::Block { usecase, block }, None)
                    }
                    Rule::send_wait => (SendWhat::Wait(self.expr(inner.nth(1)?)), None),
                    _ => {
                        let event = self.name(inner.next()?);
                        (SendWhat::Event(event), inner.next().map(|p| self.expr(p)))
                    }
                };
                Some(TestStep::Send(Send {
                    what,
                    payload,
                    span,
                }))
            }
            Rule::expect => {
                let mut inner = pair.into_inner().skip(1).peekable();
                let negated = inner.next_if(|p| p.as_rule() == Rule::not).is_some();
                let what_pair = inner.next()?;
                let rule = what_pair.as_rule();
                if rule == Rule::exp_effect {
                    let mut parts = what_pair.into_inner();
                    let effect = self.name(parts.next()?);
                    let fields = parts.next().map(|p| self.expr(p));
                    return Some(TestStep::Expect(Expect {
                        negated,
                        what: Expectation::Effect { effect, fields },
                        span,
                    }));
                }
                // Every other expectation starts with its keyword.
                let mut parts = what_pair.into_inner();
                let keyword = parts.next()?.as_rule();
                let what = match rule {
                    Rule::exp_ran => {
                        let outcome = match keyword {
                            Rule::k_failed => Outcome::Failed,
                            Rule::k_skipped => Outcome::Skipped,
                            _ => Outcome::Ran,
                        };
                        Expectation::Action(outcome, self.name(parts.next()?))
                    }
                    Rule::exp_label => Expectation::Label(self.expr(parts.next()?)),
                    Rule::exp_param => Expectation::Param(self.expr(parts.next()?)),
                    Rule::exp_reply => Expectation::Reply(self.expr(parts.next()?)),
                    Rule::exp_status => Expectation::Status(self.expr(parts.next()?)),
                    Rule::exp_request => Expectation::Request {
                        target: self.name(parts.next()?),
                        method: self.name(parts.next()?),
                        path: self.string_expr(parts.next()?),
                        fields: parts.next().map(|p| self.expr(p)),
                    },
                    Rule::exp_email => Expectation::Email {
                        target: self.name(parts.next()?),
                        fields: parts.next().map(|p| self.expr(p)),
                    },
                    Rule::exp_sms => Expectation::Sms {
                        target: self.name(parts.next()?),
                        fields: parts.next().map(|p| self.expr(p)),
                    },
                    Rule::exp_row => Expectation::Row {
                        target: self.name(parts.next()?),
                        table: self.string_expr(parts.next()?),
                        fields: parts.next().map(|p| self.expr(p)),
                    },
                    _ => return None,
                };
                Some(TestStep::Expect(Expect {
                    negated,
                    what,
                    span,
                }))
            }
            _ => None,
        }
    }

    // ---- expressions -------------------------------------------------------------------

    /// An `expr` pair.
    pub fn expr(&self, pair: Pair<Rule>) -> Expr {
        self.climb(pair).expr
    }

    fn climb(&self, pair: Pair<Rule>) -> Built {
        let span = self.span(&pair);
        let nesting = self.nesting.get();
        if nesting >= MAX_DEPTH || longest_prefix_run(pair.clone().into_inner()) >= MAX_DEPTH {
            self.too_deep(span);
            return self.error_built(span);
        }
        self.nesting.set(nesting + 1);
        let built = PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, rhs| {
                let op_span = self.span(&op);
                let op = if op.as_rule() == Rule::neg {
                    UnOp::Neg
                } else {
                    UnOp::Not
                };
                let span = op_span.to(rhs.expr.span);
                self.node(ExprKind::Unary(op, Box::new(rhs.expr)), span, rhs.depth + 1)
            })
            .map_postfix(|lhs, op| self.postfix(lhs, op))
            .map_infix(|lhs, op, rhs| self.infix(lhs, op, rhs))
            .parse(pair.into_inner());
        self.nesting.set(nesting);
        built
    }

    fn node(&self, kind: ExprKind, span: Span, depth: usize) -> Built {
        if depth > MAX_DEPTH {
            self.too_deep(span);
            return self.error_built(span);
        }
        Built {
            expr: Expr {
                kind,
                span,
                parens: false,
            },
            depth,
        }
    }

    fn too_deep(&self, span: Span) {
        let already = self.diags.borrow().iter().any(|d| d.code == Code::TooDeep);
        if !already {
            self.error(
                Diagnostic::new(Code::TooDeep, "expression nested too deep", span).with_help(
                    format!(
                        "split it into smaller expressions; at most {MAX_DEPTH} levels are allowed"
                    ),
                ),
            );
        }
    }

    fn error_built(&self, span: Span) -> Built {
        Built {
            expr: self.error_expr(span),
            depth: 1,
        }
    }

    fn error_expr(&self, span: Span) -> Expr {
        Expr {
            kind: ExprKind::Error,
            span,
            parens: false,
        }
    }

    fn missing_ident(&self, span: Span) -> Ident {
        Ident {
            name: String::new(),
            span,
        }
    }

    fn postfix(&self, lhs: Built, op: Pair<Rule>) -> Built {
        let op_span = self.span(&op);
        let span = lhs.expr.span.to(op_span);
        let rule = op.as_rule();
        let Some(inner) = op.into_inner().next() else {
            return self.error_built(span);
        };
        match rule {
            Rule::member => {
                let field = self.word(&inner);
                self.node(
                    ExprKind::Field(Box::new((lhs.expr, field))),
                    span,
                    lhs.depth + 1,
                )
            }
            _ => {
                let index = self.climb(inner);
                let depth = lhs.depth.max(index.depth) + 1;
                self.node(
                    ExprKind::Index(Box::new([lhs.expr, index.expr])),
                    span,
                    depth,
                )
            }
        }
    }

    fn infix(&self, lhs: Built, op: Pair<Rule>, rhs: Built) -> Built {
        // `PRATT`'s infix operators are the rules `binop` knows.
        let op = binop(op.as_rule()).unwrap_or(BinOp::Rem);
        let span = lhs.expr.span.to(rhs.expr.span);
        let chained = (!lhs.expr.parens)
            .then(|| chained_comparison(&lhs.expr.kind, op))
            .flatten();
        if let Some(inner) = chained {
            self.error(
                Diagnostic::new(
                    Code::Syntax,
                    format!(
                        "comparisons cannot be chained: `{}` after `{}`",
                        op.symbol(),
                        inner.symbol()
                    ),
                    span,
                )
                .with_help(
                    "join two comparisons with `and` (`a < b and b < c`), or add parentheses",
                ),
            );
            return self.error_built(span);
        }
        let depth = lhs.depth.max(rhs.depth) + 1;
        self.node(
            ExprKind::Binary(op, Box::new([lhs.expr, rhs.expr])),
            span,
            depth,
        )
    }

    fn primary(&self, pair: Pair<Rule>) -> Built {
        let span = self.span(&pair);
        let leaf = |kind| Built {
            expr: Expr {
                kind,
                span,
                parens: false,
            },
            depth: 1,
        };
        match pair.as_rule() {
            Rule::number => match literal::number(self.text(&pair), self.file, span.start as usize)
            {
                Ok(NumberValue::Number(n)) => leaf(ExprKind::Number(n)),
                Ok(NumberValue::Duration(ms)) => leaf(ExprKind::Duration(ms)),
                Err(d) => {
                    self.error(d);
                    leaf(ExprKind::Error)
                }
            },
            Rule::string | Rule::triple => {
                let mut depth = 1;
                let triple = pair.as_rule() == Rule::triple;
                let lit = self.string_with_depth(pair, &mut depth);
                Built {
                    expr: Expr {
                        kind: ExprKind::Str(lit, triple),
                        span,
                        parens: false,
                    },
                    depth,
                }
            }
            Rule::word => leaf(self.bare_word(&pair)),
            Rule::paren => match pair.into_inner().next() {
                Some(inner) => {
                    let mut built = self.climb(inner);
                    built.expr.span = span;
                    built.expr.parens = true;
                    built
                }
                None => self.error_built(span),
            },
            Rule::if_expr => {
                let mut parts = pair
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::expr)
                    .map(|p| self.climb(p));
                let (Some(c), Some(t), Some(o)) = (parts.next(), parts.next(), parts.next()) else {
                    return self.error_built(span);
                };
                let depth = c.depth.max(t.depth).max(o.depth) + 1;
                let kind = ExprKind::If(Box::new([c.expr, t.expr, o.expr]));
                self.node(kind, span, depth)
            }
            Rule::list => {
                let mut depth = 0;
                let items = thin::exact(pair.into_inner().map(|p| {
                    let b = self.climb(p);
                    depth = depth.max(b.depth);
                    b.expr
                }));
                self.node(ExprKind::List(items), span, depth + 1)
            }
            Rule::record => {
                let mut depth = 0;
                let entries: Vec<_> = pair
                    .into_inner()
                    .filter_map(|entry| {
                        let mut inner = entry.into_inner();
                        let key = self.record_key(inner.next()?);
                        let value = self.climb(inner.next()?);
                        depth = depth.max(value.depth);
                        Some(RecordEntry {
                            key,
                            value: value.expr,
                        })
                    })
                    .collect();
                let entries = thin::exact(entries.into_iter());
                self.node(ExprKind::Record(entries), span, depth + 1)
            }
            Rule::name_or_call => {
                let mut inner = pair.into_inner();
                let Some(word) = inner.next() else {
                    return self.error_built(span);
                };
                match inner.next() {
                    None => leaf(self.bare_word(&word)),
                    Some(args) => {
                        let callee = self.word(&word);
                        if callee.name != "reply" && is_keyword(&callee.name) {
                            self.name(word);
                        }
                        let mut depth = 0;
                        let args = thin::exact(args.into_inner().map(|arg| {
                            let mut parts = arg.into_inner().peekable();
                            let name = parts
                                .next_if(|p| p.as_rule() == Rule::word)
                                .map(|p| Box::new(self.key(&p)));
                            let value = match parts.next() {
                                Some(v) => self.climb(v),
                                None => self.error_built(span),
                            };
                            depth = depth.max(value.depth);
                            Arg {
                                name,
                                value: value.expr,
                            }
                        }));
                        self.node(
                            ExprKind::Call(Box::new(Call { callee, args })),
                            span,
                            depth + 1,
                        )
                    }
                }
            }
            // A nested `expr` (e.g. the status of a mock written in parentheses).
            Rule::expr => self.climb(pair),
            _ => self.error_built(span),
        }
    }

    /// A bare word as an expression; a keyword there is reported (E0009).
    fn bare_word(&self, pair: &Pair<Rule>) -> ExprKind {
        word_value(self.text(pair)).unwrap_or_else(|| {
            self.name(pair.clone());
            ExprKind::Error
        })
    }

    fn record_key(&self, pair: Pair<Rule>) -> RecordKey {
        let span = self.span(&pair);
        if pair.as_rule() == Rule::string {
            let name = self.plain_string(pair, "a record key");
            RecordKey {
                name,
                quoted: true,
                span,
            }
        } else {
            RecordKey {
                name: self.text(&pair).to_string(),
                quoted: false,
                span,
            }
        }
    }

    // ---- strings -----------------------------------------------------------------------

    fn string_expr(&self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        Expr {
            kind: ExprKind::Str(self.string(pair), false),
            span,
            parens: false,
        }
    }

    fn string(&self, pair: Pair<Rule>) -> StrLit {
        self.string_with_depth(pair, &mut 1)
    }

    /// A string that must not interpolate (test names, record keys).
    fn plain_string(&self, pair: Pair<Rule>, what: &str) -> String {
        let span = self.span(&pair);
        self.string(pair).as_plain().unwrap_or_else(|| {
            self.error(
                Diagnostic::new(Code::Syntax, format!("{what} cannot interpolate"), span)
                    .with_help("write plain text, or escape the brace as `\\{`"),
            );
            String::new()
        })
    }

    fn string_with_depth(&self, pair: Pair<Rule>, depth: &mut usize) -> StrLit {
        let mut parts = StrParts::new(self.text(&pair), pair.as_rule() == Rule::triple);
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::str_text | Rule::tri_text => parts.text(self.text(&part)),
                Rule::escape => {
                    let span = self.span(&part);
                    let escaped = literal::escape(self.text(&part), self.file, span.start as usize);
                    parts.escape(escaped.map_err(|d| self.error(d)).ok());
                }
                _ => {
                    let span = self.span(&part);
                    let built = match part.into_inner().next() {
                        Some(e) => self.climb(e),
                        None => self.error_built(span),
                    };
                    *depth = (*depth).max(built.depth + 1);
                    parts.interpolation(built.expr);
                }
            }
        }
        parts.finish()
    }
}

/// What a bare word denotes: `true`, `false`, `null` or a name; `None` for a keyword,
/// except `usecase`, which docs/language.md ("Names in scope") puts in scope in `in usecase` and `at block` bindings.
pub(super) fn word_value(word: &str) -> Option<ExprKind> {
    Some(match word {
        "true" => ExprKind::Bool(true),
        "false" => ExprKind::Bool(false),
        "null" => ExprKind::Null,
        "usecase" => ExprKind::Name(Name::new(word)),
        _ if is_keyword(word) => return None,
        _ => ExprKind::Name(Name::new(word)),
    })
}

/// The comparison `lhs` (not in parentheses) ends with when `op` would chain onto it.
pub(super) fn chained_comparison(lhs: &ExprKind, op: BinOp) -> Option<BinOp> {
    let is_comparison = |op: BinOp| {
        matches!(
            op,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In
        )
    };
    match *lhs {
        ExprKind::Binary(inner, ..) if is_comparison(op) && is_comparison(inner) => Some(inner),
        _ => None,
    }
}

/// The longest run of prefix operators in an `expr`'s children. pest's Pratt parser recurses
/// once per prefix operator, so a long run (`not not not …`) must be refused before it.
fn longest_prefix_run(children: Pairs<Rule>) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for child in children {
        if matches!(child.as_rule(), Rule::not | Rule::neg) {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// The operator an infix rule of the grammar reads.
pub(super) fn binop(rule: Rule) -> Option<BinOp> {
    Some(match rule {
        Rule::or => BinOp::Or,
        Rule::and => BinOp::And,
        Rule::eq => BinOp::Eq,
        Rule::ne => BinOp::Ne,
        Rule::lt => BinOp::Lt,
        Rule::le => BinOp::Le,
        Rule::gt => BinOp::Gt,
        Rule::ge => BinOp::Ge,
        Rule::in_op => BinOp::In,
        Rule::coalesce => BinOp::Coalesce,
        Rule::add => BinOp::Add,
        Rule::sub => BinOp::Sub,
        Rule::mul => BinOp::Mul,
        Rule::div => BinOp::Div,
        Rule::rem => BinOp::Rem,
        _ => return None,
    })
}
