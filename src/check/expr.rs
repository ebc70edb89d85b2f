//! Expressions: resolved against a [`Scope`], typed and lowered to the IR in one pass.
//! On an error the result stands in as `any`, so one mistake is reported once.

use super::scope::{Access, EventScope, RootField, Scope};
use super::types::Type;
use super::{unknown_help, ExprType};
use crate::catalogue::{self, Ty};
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::ir::{self, Value};
use crate::syntax::ast::{self, BinOp, ExprKind, StrPart, UnOp};

/// Deeper expressions are refused rather than risking the stack.
pub const MAX_DEPTH: u32 = 200;

/// A checked expression: its IR, its type, and where a secret flows into it (if one does).
#[derive(Debug)]
pub struct Typed {
    pub expr: ir::Expr,
    pub ty: Type,
    /// The `secret(..)` call whose value this expression may carry.
    pub secret: Option<Span>,
}

impl Typed {
    fn new(expr: ir::Expr, ty: Type) -> Self {
        Typed {
            expr,
            ty,
            secret: None,
        }
    }
    /// Stands in after an error: `any` accepts everything, so nothing cascades.
    pub fn error() -> Self {
        Typed::new(ir::Expr::Lit(Value::Null), Type::Any)
    }
    fn lit(value: Value, ty: Type) -> Self {
        Typed::new(ir::Expr::Lit(value), ty)
    }
    fn tainted(mut self, secret: Option<Span>) -> Self {
        self.secret = self.secret.or(secret);
        self
    }
}

/// Asks for the type of the smallest expression around one position (hover).
#[derive(Debug)]
pub struct Probe {
    pub at: Span,
    pub found: Option<ExprType>,
}

impl Probe {
    fn offer(&mut self, span: Span, ty: Option<Type>) {
        if self.found.is_none_or(|best| span.len() < best.span.len()) {
            self.found = Some(ExprType { span, ty });
        }
    }
}

pub struct ExprChecker<'s, 'd> {
    pub scope: Scope<'s>,
    pub diags: &'d mut Vec<Diagnostic>,
    pub probe: Option<&'d mut Probe>,
    /// Expressions that did not parse met so far (reported by the parser, not here).
    unparsed: u32,
    /// Where `usecase` was read when the scope defers that check to the bindings.
    pub read_usecase: Option<Span>,
    /// Where `block` was read, likewise.
    pub read_block: Option<Span>,
    depth: u32,
}

impl<'s, 'd> ExprChecker<'s, 'd> {
    pub fn new(scope: Scope<'s>, diags: &'d mut Vec<Diagnostic>) -> Self {
        ExprChecker {
            scope,
            diags,
            probe: None,
            unparsed: 0,
            read_usecase: None,
            read_block: None,
            depth: 0,
        }
    }

    /// Checks `expr` and that its type fits `want`; `what` names the slot for messages
    /// ("the `when` condition").
    pub fn expect(&mut self, expr: &ast::Expr, want: Type, what: &str) -> Typed {
        let typed = self.check(expr);
        if !want.accepts(typed.ty) {
            self.mismatch(expr.span, want.name(), typed.ty, what);
            return Typed::error();
        }
        typed
    }

    /// Like [`expect`](Self::expect) for a catalogue type: a word of a fixed set may be
    /// written bare (`method: GET`); everything else is a value.
    pub fn expect_spec(&mut self, expr: &ast::Expr, ty: Ty, what: &str) -> Typed {
        match ty {
            Ty::Word(words) => self.word(expr, words, what),
            other => self.expect(expr, Type::from_catalogue(other), what),
        }
    }

    /// A word of the set, or an expression whose value is one: the set fixes the type of
    /// every expression the value comes from (the branches of `if`, the sides of `??`), so
    /// a bare word works there too. A literal outside the set is an error here; a computed
    /// text is checked against the set when the action runs.
    fn word(&mut self, expr: &ast::Expr, words: &'static [&'static str], what: &str) -> Typed {
        // Past the depth bound `check` reports the expression as too deep.
        if self.depth < MAX_DEPTH {
            self.depth += 1;
            let branches = self.word_branches(expr, words, what);
            self.depth -= 1;
            if let Some(typed) = branches {
                return typed;
            }
        }
        self.single_word(expr, words, what)
    }

    /// `if` and `??` over words, each part checked as a word; `None` for other expressions.
    fn word_branches(
        &mut self,
        expr: &ast::Expr,
        words: &'static [&'static str],
        what: &str,
    ) -> Option<Typed> {
        match &expr.kind {
            ExprKind::If(parts) => {
                let [cond, then, otherwise] = &**parts;
                Some(self.if_expr(cond, then, otherwise, |c, branch| {
                    c.word(branch, words, what)
                }))
            }
            ExprKind::Binary(BinOp::Coalesce, operands) => {
                let [left, right] = &**operands;
                let a = self.word(left, words, what);
                let b = self.word(right, words, what);
                let ty = self.join(&a, &b, left.span, right.span, "the two sides of `??`");
                let secret = a.secret.or(b.secret);
                let lowered =
                    ir::Expr::Binary(ir::BinOp::Coalesce, Box::new(a.expr), Box::new(b.expr));
                Some(Typed::new(lowered, ty).tainted(secret))
            }
            _ => None,
        }
    }

    /// `if cond then a else b`, each branch checked by `branch` (as any expression, or as a
    /// word of a set).
    fn if_expr(
        &mut self,
        cond: &ast::Expr,
        then: &ast::Expr,
        otherwise: &ast::Expr,
        mut branch: impl FnMut(&mut Self, &ast::Expr) -> Typed,
    ) -> Typed {
        let cond = self.expect(cond, Type::Bool, "an `if` condition");
        let a = branch(self, then);
        let b = branch(self, otherwise);
        let ty = self.join(
            &a,
            &b,
            then.span,
            otherwise.span,
            "the two branches of `if`",
        );
        let secret = a.secret.or(b.secret);
        let lowered = ir::Expr::If(Box::new(cond.expr), Box::new(a.expr), Box::new(b.expr));
        Typed::new(lowered, ty).tainted(secret)
    }

    /// One word, or a value whose text is checked against the set (at once when literal).
    fn single_word(
        &mut self,
        expr: &ast::Expr,
        words: &'static [&'static str],
        what: &str,
    ) -> Typed {
        if let ExprKind::Name(name) = &expr.kind {
            if words.contains(&name.as_str()) {
                return Typed::lit(Value::Text(name.to_string()), Type::Text);
            }
            if self.scope.root_available(name) != Some(true) && self.scope.param(name).is_none() {
                self.not_a_word(name, expr.span, words, what);
                return Typed::error();
            }
        }
        let typed = self.expect(expr, Type::Text, what);
        if let ir::Expr::Lit(Value::Text(text)) = &typed.expr {
            if !words.contains(&text.as_str()) {
                let text = text.clone();
                self.not_a_word(&text, expr.span, words, what);
                return Typed::error();
            }
        }
        typed
    }

    fn not_a_word(&mut self, word: &str, span: Span, words: &[&str], what: &str) {
        let allowed = words.join(" | ");
        self.diags.push(
            Diagnostic::new(
                Code::UnknownWord,
                format!("`{word}` is not a valid {what}"),
                span,
            )
            .with_label_message(format!("expected one of {allowed}"))
            .with_help(unknown_help(
                word,
                words.iter().copied(),
                format!("write one of: {allowed}"),
            )),
        );
    }

    pub fn mismatch(&mut self, span: Span, want: &str, found: Type, what: &str) {
        self.diags.push(
            Diagnostic::new(
                Code::TypeMismatch,
                format!("{what} should be {want}, but this is {}", found.name()),
                span,
            )
            .with_label_message(format!("this is {}", found.name()))
            .with_help(conversion_help(want, found)),
        );
    }

    /// Checks and lowers one expression.
    pub fn check(&mut self, expr: &ast::Expr) -> Typed {
        if self.depth >= MAX_DEPTH {
            if self.depth == MAX_DEPTH {
                self.diags.push(
                    Diagnostic::new(
                        Code::TooDeep,
                        format!("expression nested more than {MAX_DEPTH} levels deep"),
                        expr.span,
                    )
                    .with_help(
                        "split it into smaller expressions, e.g. with intermediate parameters",
                    ),
                );
                self.depth += 1;
            }
            return Typed::error();
        }
        self.depth += 1;
        let mark = (self.diags.len(), self.unparsed);
        let typed = self.check_inner(expr);
        self.depth -= 1;
        if let Some(probe) = self.probe.as_deref_mut().filter(|p| expr.span.holds(p.at)) {
            let broken =
                self.unparsed > mark.1 || self.diags[mark.0..].iter().any(Diagnostic::is_error);
            probe.offer(expr.span, (!broken).then_some(typed.ty));
        }
        typed
    }

    fn check_inner(&mut self, expr: &ast::Expr) -> Typed {
        let span = expr.span;
        match &expr.kind {
            ExprKind::Null => Typed::lit(Value::Null, Type::Null),
            ExprKind::Bool(b) => Typed::lit(Value::Bool(*b), Type::Bool),
            ExprKind::Number(n) => Typed::lit(Value::Number(*n), Type::Number),
            ExprKind::Duration(ms) => Typed::lit(Value::Duration(*ms), Type::Duration),
            ExprKind::Str(s, _) => self.string(s),
            ExprKind::List(items) => {
                let mut secret = None;
                let items = items
                    .iter()
                    .map(|item| {
                        let t = self.check(item);
                        secret = secret.or(t.secret);
                        t.expr
                    })
                    .collect();
                Typed::new(ir::Expr::List(items), Type::List).tainted(secret)
            }
            ExprKind::Record(entries) => self.record(entries),
            ExprKind::Name(name) => self.name(name, span),
            ExprKind::Field(field) => self.field(&field.0, &field.1),
            ExprKind::Index(operands) => self.index(&operands[0], &operands[1]),
            ExprKind::Call(call) => self.call(&call.callee, &call.args, span),
            ExprKind::Unary(op, inner) => self.unary(*op, inner),
            ExprKind::Binary(op, operands) => self.binary(*op, &operands[0], &operands[1], span),
            ExprKind::If(parts) => {
                let [cond, then, otherwise] = &**parts;
                self.if_expr(cond, then, otherwise, Self::check)
            }
            // The parser already reported it.
            ExprKind::Error => {
                self.unparsed += 1;
                Typed::error()
            }
        }
    }

    fn string(&mut self, s: &ast::StrLit) -> Typed {
        if let Some(text) = s.as_plain() {
            return Typed::lit(Value::Text(text), Type::Text);
        }
        let mut secret = None;
        let parts = s
            .parts
            .iter()
            .map(|part| match part {
                StrPart::Lit(text) => ir::Expr::Lit(Value::Text(text.clone())),
                StrPart::Interp(e) => {
                    let t = self.check(e);
                    secret = secret.or(t.secret);
                    t.expr
                }
            })
            .collect();
        Typed::new(ir::Expr::Interp(parts), Type::Text).tainted(secret)
    }

    fn record(&mut self, entries: &[ast::RecordEntry]) -> Typed {
        let mut secret = None;
        // Most records are small: a scan beats hashing until they are not.
        let mut seen: std::collections::HashMap<&str, Span> = Default::default();
        let mut out: Vec<(String, ir::Expr)> = Vec::with_capacity(entries.len());
        for (k, entry) in entries.iter().enumerate() {
            let first = if entries.len() <= 16 {
                entries[..k]
                    .iter()
                    .find(|e| e.key.name == entry.key.name)
                    .map(|e| e.key.span)
            } else {
                match seen.entry(&entry.key.name) {
                    std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(entry.key.span);
                        None
                    }
                }
            };
            if let Some(first) = first {
                self.diags.push(
                    Diagnostic::new(
                        Code::DuplicateField,
                        format!("key `{}` appears twice in this record", entry.key.name),
                        entry.key.span,
                    )
                    .with_secondary(first, "first given here")
                    .with_help("remove one of the two entries"),
                );
            }
            let t = self.check(&entry.value);
            secret = secret.or(t.secret);
            out.push((entry.key.name.clone(), t.expr));
        }
        Typed::new(ir::Expr::Record(out), Type::Record).tainted(secret)
    }

    fn name(&mut self, name: &str, span: Span) -> Typed {
        let scope = self.scope;
        match scope.root_available(name) {
            Some(true) => return self.root(name, span),
            Some(false) => {
                self.diags.push(
                    Diagnostic::new(
                        Code::UnknownName,
                        format!("`{name}` cannot be read in {}", scope.place),
                        span,
                    )
                    .with_help(scope.unavailable_root_help(name)),
                );
                return Typed::error();
            }
            None => {}
        }
        if let Some(ty) = scope.param(name) {
            return Typed::new(ir::Expr::Var(ir::Scope::Param(name.to_string())), ty);
        }
        if scope.params_unknown && scope.params.is_some() {
            return Typed::error();
        }
        let fallback = match scope.declared.and_then(|d| d.get(name)) {
            _ if catalogue::function(name).is_some() => {
                format!("`{name}` is a function: call it, e.g. `{name}(…)`")
            }
            Some((decl, _)) => format!(
                "`{name}` is {}, not a value; {} can read {}",
                decl.describe(),
                scope.place,
                readable(&scope)
            ),
            None if scope.params.is_some() => format!(
                "declare it in the agent's `params`, or read one of: {}",
                readable_roots(&scope).join(", ")
            ),
            // A declared task sees only its own parameters (and `response` in `result`).
            None if scope.task_params.is_some() => format!(
                "add `{name}` to the task's parameters, e.g. `({name}: text)`; {} can read {}",
                scope.place,
                readable(&scope)
            ),
            None => format!(
                "{} can only use literals, `secret(\"NAME\")` and `env(\"NAME\")`",
                scope.place
            ),
        };
        self.diags.push(
            Diagnostic::new(Code::UnknownName, format!("unknown name `{name}`"), span)
                .with_label_message("not found in this scope")
                .with_help(unknown_help(name, scope.visible_names(), fallback)),
        );
        Typed::error()
    }

    fn root(&mut self, name: &str, span: Span) -> Typed {
        let scope = match name {
            "event" => ir::Scope::Event,
            "user" => ir::Scope::User,
            "caller" => {
                if !self.scope.voice {
                    self.diags.push(
                        Diagnostic::new(
                            Code::ChannelMismatch,
                            "`caller` is only set on voice conversations",
                            span,
                        )
                        .with_help("add `voice` to the agent's `channels`, or read `user` instead"),
                    );
                    return Typed::error();
                }
                ir::Scope::Caller
            }
            "conversation" => ir::Scope::Conversation,
            "usecase" => {
                if self.scope.usecase == Access::Deferred {
                    self.read_usecase.get_or_insert(span);
                }
                ir::Scope::Usecase
            }
            "block" => {
                if self.scope.block == Access::Deferred {
                    self.read_block.get_or_insert(span);
                }
                ir::Scope::Block
            }
            _ => ir::Scope::Response,
        };
        Typed::new(ir::Expr::Var(scope), Type::Record)
    }

    fn field(&mut self, base: &ast::Expr, field: &ast::Word) -> Typed {
        let root = match &base.kind {
            ExprKind::Name(name) if self.scope.root_available(name) == Some(true) => {
                Some(name.as_str())
            }
            _ => None,
        };
        let b = self.check(base);
        let mut ty = Type::Any;
        if let Some(root) = root {
            match self.scope.root_field(root, &field.name) {
                RootField::Found(t) => ty = t,
                RootField::Missing(fields) => {
                    let help = if fields.is_empty() {
                        format!("`{root}` has no fields here")
                    } else {
                        format!("its fields are: {}", fields.join(", "))
                    };
                    // A binding may name several events: say which one lacks the field.
                    let owner = match self.scope.event {
                        EventScope::Known(spec) if root == "event" => {
                            format!("`event` of `{}`", spec.name)
                        }
                        _ => format!("`{root}`"),
                    };
                    self.diags.push(
                        Diagnostic::new(
                            Code::UnknownField,
                            format!("{owner} has no field `{}`", field.name),
                            field.span,
                        )
                        .with_help(unknown_help(
                            &field.name,
                            fields.iter().copied(),
                            help,
                        )),
                    );
                    return Typed::error();
                }
                RootField::Unchecked => {}
            }
        } else if !matches!(b.ty, Type::Record | Type::Any | Type::Null) {
            self.diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("a {} value has no field `{}`", b.ty.name(), field.name),
                    field.span,
                )
                .with_secondary(base.span, format!("this is {}", b.ty.name()))
                .with_help("fields can only be read from records"),
            );
            return Typed::error();
        }
        Typed::new(
            ir::Expr::Field(Box::new(b.expr), field.name.to_string()),
            ty,
        )
        .tainted(b.secret)
    }

    fn index(&mut self, base: &ast::Expr, index: &ast::Expr) -> Typed {
        let b = self.check(base);
        let i = self.check(index);
        let want = match b.ty {
            Type::List => Some(Type::Number),
            Type::Record => Some(Type::Text),
            Type::Any | Type::Null => None,
            other => {
                self.diags.push(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("a {} value cannot be indexed", other.name()),
                        base.span,
                    )
                    .with_label_message(format!("this is {}", other.name()))
                    .with_help("only lists (by number) and records (by text) can be indexed"),
                );
                return Typed::error();
            }
        };
        if let Some(want) = want {
            if !want.accepts(i.ty) {
                self.mismatch(index.span, want.name(), i.ty, "the index");
                return Typed::error();
            }
        }
        Typed::new(
            ir::Expr::Index(Box::new(b.expr), Box::new(i.expr)),
            Type::Any,
        )
        .tainted(b.secret)
    }

    fn call(&mut self, callee: &ast::Word, args: &[ast::Arg], span: Span) -> Typed {
        let Some(spec) = catalogue::function(&callee.name) else {
            let names = catalogue::FUNCTIONS.iter().map(|f| f.name);
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownFunction,
                    format!("unknown function `{}`", callee.name),
                    callee.span,
                )
                .with_help(unknown_help(
                    &callee.name,
                    names,
                    "see `agentc explain E0214` for the built-in functions".to_string(),
                )),
            );
            return Typed::error();
        };
        let signature = spec.signature().label;
        if let Some(named) = args.iter().find_map(|a| a.name.as_ref()) {
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownArgument,
                    format!("`{}` takes no named arguments", spec.name),
                    named.span,
                )
                .with_help(format!("pass the arguments in order: {signature}")),
            );
            return Typed::error();
        }
        if args.len() < spec.min_args {
            self.diags.push(
                Diagnostic::new(
                    Code::MissingArgument,
                    format!(
                        "`{}` needs {} argument{}, found {}",
                        spec.name,
                        spec.min_args,
                        if spec.min_args == 1 { "" } else { "s" },
                        args.len()
                    ),
                    span,
                )
                .with_help(format!("call it as {signature}")),
            );
            return Typed::error();
        }
        if args.len() > spec.params.len() {
            let extra = args[spec.params.len()]
                .value
                .span
                .to(args[args.len() - 1].value.span);
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownArgument,
                    format!(
                        "`{}` takes at most {} argument{}, found {}",
                        spec.name,
                        spec.params.len(),
                        if spec.params.len() == 1 { "" } else { "s" },
                        args.len()
                    ),
                    extra,
                )
                .with_label_message("extra arguments")
                .with_help(format!("call it as {signature}")),
            );
            return Typed::error();
        }
        if matches!(spec.name, "secret" | "env") {
            return self.env_read(spec.name, &args[0].value, span);
        }
        let mut secret = None;
        let mut lowered = Vec::with_capacity(args.len());
        let mut first = Type::Any;
        for (i, (arg, &ty)) in args.iter().zip(spec.params).enumerate() {
            let what = format!("argument of `{}`", spec.name);
            let t = match ty {
                Ty::Seq => self.sequence(&arg.value, &what),
                Ty::Zone => self.time_zone(&arg.value, &what),
                other => self.expect_spec(&arg.value, other, &what),
            };
            if i == 0 {
                first = t.ty;
            }
            secret = secret.or(t.secret);
            lowered.push(t.expr);
        }
        if spec.name == "matches" {
            if let (Some(pattern), ir::Expr::Lit(Value::Text(text))) = (args.get(1), &lowered[1]) {
                self.literal_pattern(text, pattern.value.span);
            }
        }
        let result = match spec.result {
            Ty::Seq if matches!(first, Type::Text | Type::List) => first,
            other => Type::from_catalogue(other),
        };
        let carries = super::security::call_carries(spec.result);
        Typed::new(ir::Expr::Call(spec.name.to_string(), lowered), result).tainted(if carries {
            secret
        } else {
            None
        })
    }

    /// A text or a list (`slice`).
    fn sequence(&mut self, expr: &ast::Expr, what: &str) -> Typed {
        let typed = self.check(expr);
        if typed.ty.is_known() && !matches!(typed.ty, Type::Text | Type::List) {
            self.mismatch(expr.span, "a text or list", typed.ty, what);
            return Typed::error();
        }
        typed
    }

    /// The name of an IANA time zone: checked here when it is written out, at run time
    /// otherwise.
    fn time_zone(&mut self, expr: &ast::Expr, what: &str) -> Typed {
        let typed = self.expect(expr, Type::Text, what);
        if let ir::Expr::Lit(Value::Text(name)) = &typed.expr {
            if catalogue::locales::time_zone(name).is_none() {
                let zones = catalogue::locales::time_zones().available();
                let zones: Vec<String> = zones.map(|z| z.to_string()).collect();
                self.diags.push(
                    Diagnostic::new(
                        Code::UnknownWord,
                        format!("`{name}` is not an IANA time zone"),
                        expr.span,
                    )
                    .with_help(unknown_help(
                        name,
                        zones.iter().map(String::as_str),
                        "write a zone of the IANA database, e.g. \"Europe/Paris\" or \"UTC\""
                            .to_string(),
                    )),
                );
                return Typed::error();
            }
        }
        typed
    }

    /// A pattern written out is compiled now, so a mistake in it is found before the
    /// program runs rather than on every event that reaches it.
    fn literal_pattern(&mut self, pattern: &str, span: Span) {
        self.diags.extend(invalid_pattern(pattern, span));
    }

    /// `secret("NAME")` / `env("NAME")`: the name must be written out, so it can be checked
    /// and so a secret's value can be traced to where it goes.
    fn env_read(&mut self, function: &str, arg: &ast::Expr, span: Span) -> Typed {
        let Some(name) = super::consts::text(arg) else {
            self.diags.push(
                Diagnostic::new(
                    Code::NotConstant,
                    format!("the name given to `{function}` must be a plain string"),
                    arg.span,
                )
                .with_help(format!(
                    "write the variable's name, e.g. {function}(\"API_TOKEN\")"
                )),
            );
            return Typed::error();
        };
        let call = ir::Expr::Call(function.to_string(), vec![ir::Expr::Lit(Value::Text(name))]);
        let typed = Typed::new(call, Type::Text);
        if function == "secret" {
            typed.tainted(Some(span))
        } else {
            typed
        }
    }

    fn unary(&mut self, op: UnOp, inner: &ast::Expr) -> Typed {
        let t = self.check(inner);
        let ty = match (op, t.ty) {
            (UnOp::Not, Type::Bool | Type::Any | Type::Null) => Type::Bool,
            (UnOp::Neg, Type::Number | Type::Duration) => t.ty,
            (UnOp::Neg, Type::Any | Type::Null) => Type::Number,
            (UnOp::Not, other) => {
                self.mismatch(inner.span, "bool", other, "the operand of `not`");
                return Typed::error();
            }
            (UnOp::Neg, other) => {
                self.mismatch(inner.span, "number", other, "the operand of `-`");
                return Typed::error();
            }
        };
        Typed::new(ir::Expr::Unary(super::ops::unary(op), Box::new(t.expr)), ty).tainted(t.secret)
    }

    fn binary(&mut self, op: BinOp, left: &ast::Expr, right: &ast::Expr, span: Span) -> Typed {
        let a = self.check(left);
        let b = self.check(right);
        let (x, y) = (a.ty, b.ty);
        let sym = op.symbol();
        let ty = match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                match arithmetic(op, x, y) {
                    Some(ty) => ty,
                    None => return self.bad_operands(op, &a, &b, left, right, span),
                }
            }
            BinOp::Eq | BinOp::Ne => {
                if x.is_known() && y.is_known() && x != y {
                    return self.bad_operands(op, &a, &b, left, right, span);
                }
                Type::Bool
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ordered = |t: Type| matches!(t, Type::Number | Type::Text | Type::Duration);
                let ok = match (x.is_known(), y.is_known()) {
                    (true, true) => x == y && ordered(x),
                    (true, false) => ordered(x),
                    (false, true) => ordered(y),
                    (false, false) => true,
                };
                if !ok {
                    return self.bad_operands(op, &a, &b, left, right, span);
                }
                Type::Bool
            }
            BinOp::And | BinOp::Or => {
                for (t, e) in [(x, left), (y, right)] {
                    if !Type::Bool.accepts(t) {
                        self.mismatch(e.span, "bool", t, &format!("each side of `{sym}`"));
                        return Typed::error();
                    }
                }
                Type::Bool
            }
            BinOp::Coalesce => self.join(&a, &b, left.span, right.span, "the two sides of `??`"),
            BinOp::In => {
                if !matches!(
                    y,
                    Type::List | Type::Text | Type::Record | Type::Any | Type::Null
                ) {
                    self.mismatch(
                        right.span,
                        "a list, text or record",
                        y,
                        "the right side of `in`",
                    );
                    return Typed::error();
                }
                Type::Bool
            }
        };
        // Comparisons and tests yield a fresh bool: a secret does not flow through them.
        let secret = match ty {
            Type::Bool => None,
            _ => a.secret.or(b.secret),
        };
        Typed::new(
            ir::Expr::Binary(super::ops::binary(op), Box::new(a.expr), Box::new(b.expr)),
            ty,
        )
        .tainted(secret)
    }

    fn bad_operands(
        &mut self,
        op: BinOp,
        a: &Typed,
        b: &Typed,
        left: &ast::Expr,
        right: &ast::Expr,
        span: Span,
    ) -> Typed {
        let sym = op.symbol();
        let help = match (op, a.ty, b.ty) {
            (BinOp::Add, Type::Text, _) | (BinOp::Add, _, Type::Text) => {
                "to build a text, interpolate: \"{a}{b}\", or convert with text(x)".to_string()
            }
            (BinOp::Eq | BinOp::Ne, _, _) => format!(
                "a {} is never equal to a {}; convert one side with text(..) or number(..)",
                a.ty.name(),
                b.ty.name()
            ),
            _ => format!("`{sym}` works on two numbers{}", op_extra(op)),
        };
        // The picture: each operand labelled with its type, the operator between them.
        let operator = if left.span.end < right.span.start {
            Span::new(span.file, left.span.end as usize, right.span.start as usize)
        } else {
            span
        };
        self.diags.push(
            Diagnostic::new(
                Code::TypeMismatch,
                format!("`{sym}` cannot combine {} and {}", a.ty.name(), b.ty.name()),
                operator,
            )
            .with_label_message(format!("`{sym}`"))
            .with_secondary(left.span, format!("this is {}", a.ty.name()))
            .with_secondary(right.span, format!("this is {}", b.ty.name()))
            .with_help(help),
        );
        Typed::error()
    }

    fn join(&mut self, a: &Typed, b: &Typed, sa: Span, sb: Span, what: &str) -> Type {
        match Type::join(a.ty, b.ty) {
            Some(ty) => ty,
            None => {
                self.diags.push(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "{what} have different types: {} and {}",
                            a.ty.name(),
                            b.ty.name()
                        ),
                        sa.to(sb),
                    )
                    .with_secondary(sa, format!("this is {}", a.ty.name()))
                    .with_secondary(sb, format!("this is {}", b.ty.name()))
                    .with_help("make both sides the same type, e.g. with text(..) or number(..)"),
                );
                Type::Any
            }
        }
    }
}

fn op_extra(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => ", two texts (concatenation), two durations, or a date and a duration",
        BinOp::Sub => ", two durations, or a date and a duration",
        BinOp::Mul | BinOp::Div => ", or a duration and a number",
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => ", two texts or two durations",
        _ => "",
    }
}

/// The result type of an arithmetic operator, or `None` when it does not apply.
fn arithmetic(op: BinOp, x: Type, y: Type) -> Option<Type> {
    use Type::*;
    let unknown = |t: Type| matches!(t, Any | Null);
    match (op, x, y) {
        (_, Number, Number) => Some(Number),
        (BinOp::Add, Text, Text) => Some(Text),
        // A date or timestamp moved by a duration.
        (BinOp::Add | BinOp::Sub, Text, Duration) => Some(Text),
        (BinOp::Add | BinOp::Sub, Duration, Duration) => Some(Duration),
        (BinOp::Mul | BinOp::Div, Duration, Number) => Some(Duration),
        (BinOp::Mul, Number, Duration) => Some(Duration),
        (_, a, b) if unknown(a) && unknown(b) => Some(Any),
        (BinOp::Add, Text, b) | (BinOp::Add, b, Text) if unknown(b) => Some(Text),
        (_, Number, b) | (_, b, Number) if unknown(b) => Some(Any),
        (BinOp::Add | BinOp::Sub, Duration, b) if unknown(b) => Some(Duration),
        // A duration or a date moved by one.
        (BinOp::Add | BinOp::Sub, b, Duration) if unknown(b) => Some(Any),
        _ => None,
    }
}

fn readable_roots(scope: &Scope) -> Vec<String> {
    super::scope::root_names()
        .filter(|r| scope.root_available(r) == Some(true))
        .map(|r| format!("`{r}`"))
        .collect()
}

/// What an expression may read where it is written, for a help line.
fn readable(scope: &Scope) -> String {
    let params = if scope.task_params.is_some() && scope.params.is_none() {
        "only the task's own parameters"
    } else {
        "parameters"
    };
    match readable_roots(scope).as_slice() {
        [] => params.to_string(),
        roots => format!("{params} and {}", roots.join(", ")),
    }
}

fn conversion_help(want: &str, found: Type) -> String {
    match (want, found) {
        ("text", Type::Number | Type::Bool | Type::Duration) => {
            "convert it with text(..) or interpolate it: \"{x}\"".into()
        }
        ("number", Type::Text) => "convert it with number(..)".into(),
        ("bool", _) => "write a condition, e.g. `x == \"value\"` or `x != null`".into(),
        ("auth", _) => "write bearer(secret(\"TOKEN\")), basic(\"user\", secret(\"PASSWORD\")) \
                        or api_key(\"X-Api-Key\", secret(\"KEY\"))"
            .into(),
        ("duration", Type::Number) => {
            "write a duration with its unit: 250ms, 5s, 3m, 2h, 1d".into()
        }
        _ => format!("give a {want} value here"),
    }
}

/// E0304 for a regular expression that does not compile (`span`: where it is written).
pub(super) fn invalid_pattern(pattern: &str, span: Span) -> Option<Diagnostic> {
    let error = catalogue::compile_pattern(pattern).err()?.to_string();
    // The regex crate explains over several lines; its last line says what is wrong.
    let why = error.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
    let why = why.trim().trim_start_matches("error: ");
    Some(
        Diagnostic::new(
            Code::InvalidRegex,
            "this regular expression does not compile",
            span,
        )
        .with_label_message(why.to_string())
        .with_help(
            "fix the pattern; a `(`, `[` or `.` meant literally is escaped with a \
             backslash, written `\\\\` in a string: `\"\\\\(\"`",
        ),
    )
}
