//! Actions: their target, their task call (arguments resolved by name, typed, defaults
//! filled), `when`, `save`, `timeout`, `retry`, `on_failure` and `idempotency_key`.

use super::checker::{ActionInfo, Checker, Reads, Referred, SigParam};
use super::decls::{default_value, retry, timeout};
use super::fields::Fields;
use super::program::Decl;
use super::scope::{Access, EventScope, Scope};
use super::security::{self, task_arg_sink, Sink};
use super::types::Type;
use super::unknown_help;
use crate::catalogue::{
    self, tasks, BuiltinTask, Kind, RetryClass, RetryRule, TargetKind, TaskSpec, Ty,
};
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::ir::{self, Value};
use crate::syntax::ast::{self, BinOp, ExprKind, StrPart};

/// The target an action names.
struct ActionTarget {
    name: String,
    kind: &'static TargetKind,
    /// Its index among declared targets (`None` for `conversation` and `call`).
    decl: Option<usize>,
}

/// The parameters a task takes, built in or declared.
struct Sig<'x> {
    /// `create_ticket`, for messages.
    name: String,
    params: Vec<SigParam<'x>>,
    variadic: bool,
    named_params: bool,
    result: Type,
    declared: Option<usize>,
    spec: Option<&'static TaskSpec>,
}

impl Sig<'_> {
    fn builtin(spec: &'static TaskSpec) -> Sig<'static> {
        Sig {
            name: spec.name().to_string(),
            params: spec
                .args
                .iter()
                .map(|a| SigParam {
                    name: a.name,
                    ty: a.ty,
                    required: a.required,
                    default: a.default.map(|d| default_value(a.ty, d)),
                })
                .collect(),
            variadic: spec.variadic,
            named_params: spec.named_params,
            result: Type::from_catalogue(spec.result),
            declared: None,
            spec: Some(spec),
        }
    }
}

/// A task call's arguments by parameter name, and the extra ones of a variadic task.
type LoweredArgs = (Vec<(String, ir::Expr)>, Vec<ir::Expr>);

/// What the binding pass needs of a lowered task call.
struct CallInfo {
    call: ir::TaskCall,
    /// How the task may be tried again (`None`: in process, never retried).
    retry: Option<RetryRule>,
    result: Type,
    not_at: &'static [(catalogue::Moment, &'static str)],
    label: String,
    span: Span,
}

impl<'a> Checker<'a> {
    /// Checks action `i` and lowers it; what the binding pass needs of it goes to `info`.
    pub fn action(&mut self, i: usize, info: &mut ActionInfo) -> Option<ir::Action> {
        let a = self.p.actions[i];
        let owner = format!("action `{}`", a.name.name);
        let fields = Fields::index(
            &a.fields,
            catalogue::ACTION_FIELDS,
            &owner,
            a.name.span,
            &mut self.diags,
        );
        let scope = Scope {
            usecase: Access::Deferred,
            block: Access::Deferred,
            ..self.conversation_scope("an action", EventScope::Any)
        };
        let mut reads = Reads::default();
        let target = fields.value("target").and_then(|v| self.action_target(v));
        let call = match (&target, fields.value("task")) {
            (Some(target), Some(task)) => self.task_call(target, task, scope, &mut reads),
            _ => None,
        };
        let when = fields.value("when").map(|v| {
            let (t, r) =
                self.with_expr(scope, |ex| ex.expect(v, Type::Bool, "the `when` condition"));
            merge(&mut reads, r);
            t.expr
        });
        let save = fields.value("save").and_then(|v| {
            let result = call.as_ref().map_or(Type::Any, |c| c.result);
            self.save(&a.name.name, v, result)
        });
        let timeout_ms = fields
            .value("timeout")
            .and_then(|v| timeout(v, &mut self.diags));
        let retry = fields
            .value("retry")
            .and_then(|v| retry(v, &mut self.diags));
        if let (Some(value), Some(policy), Some(call)) = (fields.value("retry"), &retry, &call) {
            self.retry_of_unsafe_task(&a.name.name, value.span, policy, call);
        }
        let on_failure = fields
            .value("on_failure")
            .map_or_else(Vec::new, |v| self.fallbacks(v));
        let idempotency_key = fields.value("idempotency_key").map(|v| {
            let (t, r) = self.with_expr(scope, |ex| ex.expect(v, Type::Text, "`idempotency_key`"));
            merge(&mut reads, r);
            if let Some(secret) = t.secret {
                self.diags
                    .push(security::secret_shown(secret, "an idempotency key"));
            }
            t.expr
        });
        // Recorded even when the task is wrong, so cycles and scopes are still checked.
        let fallback_names = on_failure
            .iter()
            .map(|&(j, _)| self.p.actions[j].name.name.clone())
            .collect();
        info.on_failure = on_failure;
        info.reads = reads;
        let target = target?;
        let call = call?;
        info.not_at = call.not_at;
        info.task_label = call.label.clone();
        info.task_span = call.span;
        info.starts = super::starts::started(&call.call);
        Some(ir::Action {
            name: a.name.name.clone(),
            target: target.name,
            target_kind: target.kind.kind,
            task: call.call,
            when,
            save,
            timeout_ms,
            retry,
            on_failure: fallback_names,
            idempotency_key,
            span: self.ir_span(a.span),
        })
    }

    /// W0608: an action's own `retry` on a task a second try could do twice. The runtime
    /// tries such a task again only when its request provably did not leave; a target's
    /// `retry` is a default for reads and writes alike, and is not warned about.
    fn retry_of_unsafe_task(
        &mut self,
        action: &str,
        span: Span,
        policy: &ir::Retry,
        call: &CallInfo,
    ) {
        let Some(RetryRule {
            class: RetryClass::Unsafe { twice },
            why,
            ..
        }) = call.retry
        else {
            return;
        };
        if policy.attempts <= 1 {
            return;
        }
        self.diags.push(
            Diagnostic::new(
                Code::RetryOnUnsafeTask,
                format!(
                    "action `{action}` retries `{}`, which a second try could do twice",
                    call.label
                ),
                span,
            )
            .with_label_message(format!("after a timeout this could mean {twice}"))
            .with_help(format!(
                "{why}, so agentc tries it again only when the request provably did not \
                 leave (a refused connection, a 429); after a timeout the action fails as \
                 `outcome unknown` and runs its `on_failure`. Remove `retry`, or use a task \
                 that is safe to repeat (docs/language.md, \"Retry classes\")"
            )),
        );
    }

    /// `on_failure: A` or `on_failure: [A, B]`: the actions to run, in order, with the span
    /// each is named at.
    fn fallbacks(&mut self, value: &ast::Expr) -> Vec<(usize, Span)> {
        let items = match &value.kind {
            ExprKind::List(items) => items.iter().collect(),
            _ => vec![value],
        };
        items
            .into_iter()
            .filter_map(|item| Some((self.action_ref(item, "`on_failure`")?, item.span)))
            .collect()
    }

    /// The name of an action (`do A`, `on_failure: A`, `expect ran A`), marked used.
    pub fn action_ref(&mut self, value: &ast::Expr, what: &str) -> Option<usize> {
        let ExprKind::Name(name) = &value.kind else {
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownAction,
                    format!("{what} must name an action"),
                    value.span,
                )
                .with_help(
                    "write the action's name, or a list of them run in order, e.g. \
                     `on_failure: [apologise, open_ticket]`",
                ),
            );
            return None;
        };
        self.action_by_name(name, value.span)
    }

    pub fn action_by_name(&mut self, name: &str, span: Span) -> Option<usize> {
        if let Some(j) = self.p.action(name) {
            self.used.actions[j] = true;
            return Some(j);
        }
        self.unknown_decl(
            Code::UnknownAction,
            ("action", "an action"),
            name,
            span,
            |d| matches!(d, Decl::Action(_)),
            format!("declare it: `action {name} {{ target: …, task: … }}`"),
        );
        None
    }

    fn action_target(&mut self, value: &ast::Expr) -> Option<ActionTarget> {
        let ExprKind::Name(name) = &value.kind else {
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownTarget,
                    "`target` must name a target",
                    value.span,
                )
                .with_help("write a declared target's name, or `conversation` / `call`"),
            );
            return None;
        };
        if let Some(kind) = catalogue::target_kind(name).filter(|k| k.builtin) {
            if !self.env.allows(kind.channels) {
                let needs: Vec<&str> = kind.channels.iter().map(|c| c.name()).collect();
                let mut d = Diagnostic::new(
                    Code::ChannelMismatch,
                    format!(
                        "the `{name}` target needs the {} channel, which this agent does not have",
                        needs.join(" or ")
                    ),
                    value.span,
                )
                .with_help(format!("add `{}` to the agent's `channels`", needs[0]));
                if let Some(span) = self.env.channels_span {
                    d = d.with_secondary(span, "the agent's channels");
                }
                self.diags.push(d);
                return None;
            }
            return Some(ActionTarget {
                name: name.to_string(),
                kind,
                decl: None,
            });
        }
        if let Some(j) = self.p.target(name) {
            self.used.targets[j] = true;
            self.referred(Referred::Target(j));
            return Some(ActionTarget {
                name: name.to_string(),
                kind: self.targets[j].kind?,
                decl: Some(j),
            });
        }
        if self.p.maybe_declared(name) {
            // Declared by a declaration that did not parse: its syntax error is the report.
            return None;
        }
        let help = match self.p.names.get(name.as_str()) {
            Some((decl, _)) => format!("`{name}` is {}, not a target", decl.describe()),
            None => {
                let mut candidates: Vec<&str> =
                    self.p.names_of(|d| matches!(d, Decl::Target(_))).collect();
                candidates.push("conversation");
                if self.env.voice() {
                    candidates.push("call");
                }
                unknown_help(
                    name,
                    candidates,
                    format!("declare it: `target {name}: http {{ base_url: \"https://…\" }}`"),
                )
            }
        };
        self.diags.push(
            Diagnostic::new(
                Code::UnknownTarget,
                format!("unknown target `{name}`"),
                value.span,
            )
            .with_help(help),
        );
        None
    }

    fn task_call(
        &mut self,
        target: &ActionTarget,
        value: &ast::Expr,
        scope: Scope<'a>,
        reads: &mut Reads,
    ) -> Option<CallInfo> {
        let (callee, args): (&ast::Word, &[ast::Arg]) = match &value.kind {
            ExprKind::Call(call) => (&call.callee, &call.args),
            _ => {
                self.diags.push(
                    Diagnostic::new(
                        Code::UnknownTask,
                        "`task` must be a task call, like `add_label(\"vip\")`",
                        value.span,
                    )
                    .with_help(format!(
                        "the tasks of `{}` are: {}",
                        target.name,
                        self.task_names(target).join(", ")
                    )),
                );
                return None;
            }
        };
        let sig = self.resolve_task(target, callee)?;
        let (args, rest) = self.bind_args(&sig, target, args, value.span, scope, reads)?;
        let label = format!("{}.{}", target.kind.name(), sig.name);
        let retry = match (sig.spec, sig.declared) {
            (Some(spec), _) => catalogue::retry::task_rule(spec.task),
            (None, Some(j)) => self.tasks[j]
                .method
                .as_deref()
                .map(catalogue::retry::method_rule),
            (None, None) => None,
        };
        Some(CallInfo {
            retry,
            call: ir::TaskCall {
                task: match sig.spec {
                    Some(spec) => ir::TaskRef::Builtin(spec.task),
                    None => ir::TaskRef::Declared(sig.name.clone()),
                },
                args,
                rest,
            },
            result: sig.result,
            not_at: sig.spec.map_or(&[], |s| s.not_at),
            label,
            span: callee.span,
        })
    }

    fn task_names(&self, target: &ActionTarget) -> Vec<&'a str> {
        let mut names: Vec<&str> = target.kind.tasks.iter().map(|t| t.name()).collect();
        if let Some(j) = target.decl {
            names.extend(
                self.p
                    .tasks
                    .iter()
                    .zip(self.tasks.iter())
                    .filter(|(_, info)| info.target == Some(j))
                    .map(|(t, _)| t.name.name.as_str()),
            );
        }
        names
    }

    fn resolve_task(&mut self, target: &ActionTarget, callee: &ast::Word) -> Option<Sig<'a>> {
        let name = callee.name.as_str();
        if let Some(spec) = target.kind.task(name) {
            return Some(Sig::builtin(spec));
        }
        if let Some(j) = self.p.task(name) {
            self.referred(Referred::Task(j));
            let info = &self.tasks[j];
            if self.p.tasks[j].target.name == target.name {
                // A declaration on a target that cannot take it is reported there.
                info.target?;
                self.used.tasks[j] = true;
                return Some(Sig {
                    name: name.to_string(),
                    params: info.params.clone(),
                    variadic: false,
                    named_params: false,
                    result: info.result,
                    declared: Some(j),
                    spec: None,
                });
            }
            let decl = self.p.tasks[j];
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownTask,
                    format!(
                        "task `{name}` is declared on `{}`, not on `{}`",
                        decl.target.name, target.name
                    ),
                    callee.span,
                )
                .with_secondary(decl.target.span, "declared for this target")
                .with_help(format!(
                    "use `target: {}` in this action, or declare the task on `{}`",
                    decl.target.name, target.name
                )),
            );
            return None;
        }
        if self.p.tasks.iter().any(|t| t.name.name == name) || self.p.maybe_declared(name) {
            // A task whose name an earlier declaration took: E0105 already says so; or
            // one whose declaration did not parse: its syntax error does.
            return None;
        }
        let names = self.task_names(target);
        let help = unknown_help(
            name,
            names.iter().copied(),
            format!("the tasks of `{}` are: {}", target.name, names.join(", ")),
        );
        self.diags.push(
            Diagnostic::new(
                Code::UnknownTask,
                format!(
                    "`{}` ({} target) has no task `{name}`",
                    target.name,
                    target.kind.name()
                ),
                callee.span,
            )
            .with_help(help),
        );
        None
    }

    /// `create_ticket(subject: text, …)`, without the result: only `save` would read it.
    fn signature(&self, sig: &Sig) -> String {
        match (sig.spec, sig.declared) {
            (Some(spec), _) => spec.signature().call().to_string(),
            (None, Some(j)) => {
                let decl = self.p.tasks[j];
                let text = &self.sources.get(decl.span.file).text;
                super::decls::declared_signature(decl, text).label
            }
            (None, None) => sig.name.clone(),
        }
    }

    /// Matches arguments to parameters (positional first, then named), checks and lowers
    /// them in the task's parameter order, with defaults filled in.
    fn bind_args(
        &mut self,
        sig: &Sig<'a>,
        target: &ActionTarget,
        args: &[ast::Arg],
        call_span: Span,
        scope: Scope<'a>,
        reads: &mut Reads,
    ) -> Option<LoweredArgs> {
        let mut slots: Vec<Option<&ast::Arg>> = vec![None; sig.params.len()];
        let mut rest: Vec<&ast::Expr> = Vec::new();
        let mut named: Vec<(&ast::Ident, &ast::Expr)> = Vec::new();
        let mut ok = true;
        let mut next = 0;
        let mut first_named: Option<Span> = None;
        for arg in args {
            let Some(name) = &arg.name else {
                if let Some(named_span) = first_named {
                    self.diags.push(
                        Diagnostic::new(
                            Code::UnknownArgument,
                            "a positional argument cannot follow a named one",
                            arg.value.span,
                        )
                        .with_secondary(named_span, "named argument given before it")
                        .with_help(format!(
                            "put positional arguments first: {}",
                            self.signature(sig)
                        )),
                    );
                    ok = false;
                } else if next < slots.len() {
                    slots[next] = Some(arg);
                    next += 1;
                } else if sig.variadic {
                    rest.push(&arg.value);
                } else {
                    self.diags.push(
                        Diagnostic::new(
                            Code::UnknownArgument,
                            format!(
                                "`{}` takes {} positional argument{}, this is one too many",
                                sig.name,
                                slots.len(),
                                if slots.len() == 1 { "" } else { "s" }
                            ),
                            arg.value.span,
                        )
                        .with_label_message("extra argument")
                        .with_help(format!("call it as {}", self.signature(sig))),
                    );
                    ok = false;
                }
                continue;
            };
            first_named.get_or_insert(name.span);
            if let Some(j) = sig.params.iter().position(|p| p.name == name.name) {
                match slots[j] {
                    Some(previous) => {
                        let first = previous
                            .name
                            .as_ref()
                            .map_or(previous.value.span, |n| n.span);
                        self.diags.push(
                            Diagnostic::new(
                                Code::DuplicateField,
                                format!("argument `{}` is given twice", name.name),
                                name.span,
                            )
                            .with_secondary(first, "first given here")
                            .with_help("give each argument once"),
                        );
                        ok = false;
                    }
                    None => slots[j] = Some(arg),
                }
            } else if sig.named_params {
                if let Some((first, _)) = named.iter().find(|(n, _)| n.name == name.name) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::DuplicateField,
                            format!("`{}` is set twice", name.name),
                            name.span,
                        )
                        .with_secondary(first.span, "first set here")
                        .with_help("set each parameter once"),
                    );
                    ok = false;
                } else {
                    named.push((name, &arg.value));
                }
            } else {
                let names: Vec<&str> = sig.params.iter().map(|p| p.name).collect();
                self.diags.push(
                    Diagnostic::new(
                        Code::UnknownArgument,
                        format!("`{}` has no argument `{}`", sig.name, name.name),
                        name.span,
                    )
                    .with_help(unknown_help(
                        &name.name,
                        names,
                        format!("call it as {}", self.signature(sig)),
                    )),
                );
                ok = false;
            }
        }
        for (param, slot) in sig.params.iter().zip(&slots) {
            if let Some(arg) =
                slot.filter(|a| param.required && matches!(a.value.kind, ExprKind::Null))
            {
                self.diags.push(
                    Diagnostic::new(
                        Code::NullArgument,
                        format!("argument `{}` of `{}` is null", param.name, sig.name),
                        arg.value.span,
                    )
                    .with_label_message("always null")
                    .with_help(
                        "an action whose required argument is null fails and sends nothing: \
                         pass a value, or leave the action out",
                    ),
                );
            }
            if param.required && slot.is_none() {
                self.diags.push(
                    Diagnostic::new(
                        Code::MissingArgument,
                        format!("`{}` needs its `{}` argument", sig.name, param.name),
                        call_span,
                    )
                    .with_label_message(format!("`{}` is missing", param.name))
                    .with_help(format!("call it as {}", self.signature(sig))),
                );
                ok = false;
            }
        }
        if sig.named_params && named.is_empty() && ok {
            self.diags.push(
                Diagnostic::new(
                    Code::MissingArgument,
                    format!("`{}` needs at least one `parameter: value`", sig.name),
                    call_span,
                )
                .with_help(format!("e.g. {}(order_id: event.text)", sig.name)),
            );
            ok = false;
        }
        if sig.spec.map(|s| s.task) == Some(BuiltinTask::Salesforce(tasks::Salesforce::Query)) {
            let slot = |name: &str| {
                let at = sig.params.iter().position(|p| p.name == name)?;
                slots[at].map(|a| &a.value)
            };
            if let Some(soql) = slot("soql") {
                ok &= self.soql_query(soql, slot("values"), call_span);
            }
        }
        let mut lowered = Vec::with_capacity(sig.params.len() + named.len());
        for (param, slot) in sig.params.iter().zip(&slots) {
            match slot {
                Some(arg) => {
                    let (name, ty) = one_off_text(param, &arg.value);
                    match self.arg_value(sig, target, name, ty, &arg.value, scope, reads) {
                        Some(e) => lowered.push((name.to_string(), e)),
                        None => ok = false,
                    }
                }
                None => {
                    if let Some(default) = &param.default {
                        lowered.push((param.name.to_string(), ir::Expr::Lit(default.clone())));
                    }
                }
            }
        }
        for (name, value) in named {
            let Some(ty) = self.param_ref_by_name(&name.name, name.span) else {
                ok = false;
                continue;
            };
            let what = format!("the value of `{}`", name.name);
            let (t, r) = self.with_expr(scope, |ex| ex.expect(value, ty, &what));
            merge(reads, r);
            if let Some(secret) = t.secret {
                self.diags.push(security::secret_shown(
                    secret,
                    &format!("parameter `{}`", name.name),
                ));
            }
            lowered.push((name.name.clone(), t.expr));
        }
        let mut rest_lowered = Vec::with_capacity(rest.len());
        for value in rest {
            let (t, r) = self.with_expr(scope, |ex| ex.check(value));
            merge(reads, r);
            if let Some(secret) = t.secret {
                self.diags.push(security::secret_shown(
                    secret,
                    &format!("an argument of `{}`", sig.name),
                ));
            }
            rest_lowered.push(t.expr);
        }
        if ok && sig.params.iter().any(|p| p.ty == Ty::ReplyRef) {
            ok = self.one_reply_source(sig, &lowered, call_span);
        }
        ok.then_some((lowered, rest_lowered))
    }

    /// `reply(..)` sends a declared reply or a one-off text: exactly one of them.
    fn one_reply_source(
        &mut self,
        sig: &Sig<'a>,
        lowered: &[(String, ir::Expr)],
        call_span: Span,
    ) -> bool {
        let given = lowered
            .iter()
            .filter(|(name, _)| name == "reply" || name == "text")
            .count();
        if given == 1 {
            return true;
        }
        let message = if given == 0 {
            format!("`{}` needs a reply's name or a text", sig.name)
        } else {
            format!(
                "`{}` sends one reply: a reply's name or a text, not both",
                sig.name
            )
        };
        let code = if given == 0 {
            Code::MissingArgument
        } else {
            Code::UnknownArgument
        };
        self.diags
            .push(Diagnostic::new(code, message, call_span).with_help(
                "write reply(welcome) for a declared reply, or reply(\"Your order is on its way\")",
            ));
        false
    }

    /// Checks and lowers one argument against its parameter's catalogue type.
    #[allow(clippy::too_many_arguments)]
    fn arg_value(
        &mut self,
        sig: &Sig<'a>,
        target: &ActionTarget,
        param: &str,
        ty: Ty,
        value: &ast::Expr,
        scope: Scope<'a>,
        reads: &mut Reads,
    ) -> Option<ir::Expr> {
        match ty {
            Ty::Param => return self.param_arg(sig, value),
            Ty::ReplyRef => return self.reply_arg(value),
            Ty::UsecaseRef => return self.usecase_arg(value),
            Ty::BlockRef => return self.block_arg(value),
            _ => {}
        }
        if target.kind.kind == Kind::Sql && param == "statement" {
            self.sql_statement(&sig.name, target, value)?;
        }
        if target.kind.kind == Kind::Call && param == "music" {
            self.music_url(value)?;
        }
        let what = format!("argument `{param}` of `{}`", sig.name);
        let (t, r) = self.with_expr(scope, |ex| ex.expect_spec(value, ty, &what));
        merge(reads, r);
        if let Some(secret) = t.secret {
            let sink = match sig.declared {
                Some(j) if self.tasks[j].url_params.iter().any(|p| p == param) => Sink::Url,
                Some(j) if self.tasks[j].shown_params.iter().any(|p| p == param) => Sink::Shown,
                Some(_) => Sink::Sent,
                None => sig
                    .spec
                    .map_or(Sink::Shown, |s| task_arg_sink(s.task, param)),
            };
            let slot = format!("argument `{param}` of `{}`", sig.name);
            let insecure = target.decl.and_then(|j| self.targets[j].insecure.clone());
            let insecure = insecure.as_ref().map(|(host, url)| (host.as_str(), *url));
            self.diags
                .extend(security::breach(sink, secret, &slot, insecure));
        }
        Some(t.expr)
    }

    /// `hold(music: "https://…")`: a literal URL must be one a telephony platform fetches
    /// safely, over https (a computed one is checked at run time).
    fn music_url(&mut self, value: &ast::Expr) -> Option<()> {
        let ExprKind::Str(literal, _) = &value.kind else {
            return Some(());
        };
        let Some(url) = literal.as_plain() else {
            return Some(());
        };
        let Some(problem) = catalogue::hold_music_problem(&url) else {
            return Some(());
        };
        self.diags.push(
            Diagnostic::new(Code::TypeMismatch, format!("`music` {problem}"), value.span)
                .with_help(
                "e.g. hold(message: \"Please hold.\", music: \"https://media.example/hold.mp3\")",
            ),
        );
        None
    }

    /// `increment(attempts)`: the bare name of a parameter that can hold the task's result.
    fn param_arg(&mut self, sig: &Sig<'a>, value: &ast::Expr) -> Option<ir::Expr> {
        let ExprKind::Name(name) = &value.kind else {
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownParam,
                    format!("`{}` takes the bare name of a parameter here", sig.name),
                    value.span,
                )
                .with_help(format!(
                    "write a parameter's name, e.g. {}(attempts)",
                    sig.name
                )),
            );
            return None;
        };
        let ty = self.param_ref_by_name(name, value.span)?;
        if !ty.accepts(sig.result) {
            self.diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!(
                        "`{}` needs a {} parameter, but `{name}` is {}",
                        sig.name,
                        sig.result.name(),
                        ty.name()
                    ),
                    value.span,
                )
                .with_help(format!(
                    "declare `{name}` as {} in the agent's `params`, or use another parameter",
                    sig.result.name()
                )),
            );
            return None;
        }
        Some(ir::Expr::Lit(Value::Text(name.to_string())))
    }

    /// The type of the agent's parameter `name`, or E0216.
    fn param_ref_by_name(&mut self, name: &str, span: Span) -> Option<Type> {
        if let Some(&ty) = self.env.params.get(name) {
            return Some(ty);
        }
        if self.p.broken_agent {
            // The params did not parse: their syntax error is the report.
            return Some(Type::Any);
        }
        let help = unknown_help(
            name,
            self.env.params.keys().copied(),
            format!("declare it in the agent's `params`, e.g. `{name}: text`"),
        );
        self.diags.push(
            Diagnostic::new(
                Code::UnknownParam,
                format!("unknown parameter `{name}`"),
                span,
            )
            .with_help(help),
        );
        None
    }

    fn reply_arg(&mut self, value: &ast::Expr) -> Option<ir::Expr> {
        let ExprKind::Name(name) = &value.kind else {
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownReply,
                    "`reply` takes the name of a reply",
                    value.span,
                )
                .with_help("write a declared reply's name, e.g. reply(welcome)"),
            );
            return None;
        };
        if self.p.reply(name).is_none() && self.env.params.contains_key(name.as_str()) {
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownReply,
                    format!("`{name}` is a parameter, not a reply"),
                    value.span,
                )
                .with_help(format!(
                    "to send its text, write reply(\"{{{name}}}\"); a bare name sends a declared reply"
                )),
            );
            return None;
        }
        self.reply_by_name(name, value.span)?;
        Some(ir::Expr::Lit(Value::Text(name.to_string())))
    }

    pub fn reply_by_name(&mut self, name: &str, span: Span) -> Option<usize> {
        if let Some(j) = self.p.reply(name) {
            self.used.replies[j] = true;
            return Some(j);
        }
        self.unknown_decl(
            Code::UnknownReply,
            ("reply", "a reply"),
            name,
            span,
            |d| matches!(d, Decl::Reply(_)),
            format!("declare it: `reply {name} {{ text: \"…\" }}`"),
        );
        None
    }

    /// `save: order` — a parameter whose type can hold the task's result.
    fn save(&mut self, action: &str, value: &ast::Expr, result: Type) -> Option<String> {
        let ExprKind::Name(name) = &value.kind else {
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownParam,
                    "`save` must name a parameter",
                    value.span,
                )
                .with_help("write a parameter's name, e.g. `save: order`"),
            );
            return None;
        };
        let ty = self.param_ref_by_name(name, value.span)?;
        if !ty.accepts(result) {
            let mut d = Diagnostic::new(
                Code::SaveTypeMismatch,
                format!(
                    "`{action}` saves a {} into `{name}`, a {} parameter",
                    result.name(),
                    ty.name()
                ),
                value.span,
            )
            .with_label_message(format!("the task returns {}", result.name()))
            .with_help(format!(
                "declare `{name}` as {} (or any), or save into another parameter",
                result.name()
            ));
            if let Some(span) = self.p.param_spans.get(name.as_str()) {
                d = d.with_secondary(*span, format!("declared {} here", ty.name()));
            }
            self.diags.push(d);
            return None;
        }
        Some(name.to_string())
    }

    /// E0405: a statement must be one plain string; values go in as bound arguments.
    fn sql_statement(
        &mut self,
        task: &str,
        target: &ActionTarget,
        value: &ast::Expr,
    ) -> Option<()> {
        if !built_at_run_time(value) {
            return Some(());
        }
        let postgres = target.decl.is_some_and(|j| self.targets[j].postgres);
        let mut values = Vec::new();
        let statement = match &value.kind {
            ExprKind::Str(s, _) => Some(with_placeholders(&s.parts, |e, n| {
                values.push(show(e));
                placeholder(postgres, n)
            })),
            _ => None,
        };
        let help = match statement {
            Some(statement) => format!(
                "pass the values as bound arguments: {task}(\"{}\", {})",
                statement.replace('"', "\\\""),
                values.join(", ")
            ),
            None => format!(
                "write the statement as one string with placeholders and pass the values after \
                 it: {task}(\"SELECT * FROM calls WHERE phone = {}\", caller.phone)",
                placeholder(postgres, 1)
            ),
        };
        self.diags.push(
            Diagnostic::new(
                Code::InterpolatedSql,
                format!(
                    "this SQL statement is built at run time: `{task}` takes a fixed statement"
                ),
                value.span,
            )
            .with_label_message("values spliced into SQL allow SQL injection")
            .with_help(help),
        );
        None
    }
}

/// Whether a statement or query is computed rather than written as one fixed string.
pub(super) fn built_at_run_time(value: &ast::Expr) -> bool {
    match &value.kind {
        ExprKind::Str(s, _) => s.as_plain().is_none(),
        ExprKind::Binary(BinOp::Add, ..)
        | ExprKind::Name(_)
        | ExprKind::Call { .. }
        | ExprKind::If { .. }
        | ExprKind::Field(..)
        | ExprKind::Index(..) => true,
        _ => false,
    }
}

fn merge(into: &mut Reads, from: Reads) {
    into.usecase = into.usecase.or(from.usecase);
    into.block = into.block.or(from.block);
}

fn placeholder(postgres: bool, n: usize) -> String {
    if postgres {
        format!("${n}")
    } else {
        "?".into()
    }
}

/// An interpolated statement rewritten with placeholders, for a help that shows the fix:
/// the `n`-th `{x}` (from 1) becomes `placeholder(x, n)`, and a quoted splice `'{x}'` loses
/// its quotes too.
pub(super) fn with_placeholders(
    parts: &[StrPart],
    mut placeholder: impl FnMut(&ast::Expr, usize) -> String,
) -> String {
    let mut text = String::new();
    let mut drop_quote = false;
    let mut n = 0;
    for part in parts {
        match part {
            StrPart::Lit(l) => {
                let l = if drop_quote {
                    l.strip_prefix('\'').unwrap_or(l)
                } else {
                    l
                };
                text.push_str(l);
                drop_quote = false;
            }
            StrPart::Interp(e) => {
                drop_quote = text.ends_with('\'');
                if drop_quote {
                    text.pop();
                }
                n += 1;
                text.push_str(&placeholder(e, n));
            }
        }
    }
    text
}

/// A short rendering of a simple expression (`caller.phone`), for help lines.
pub(super) fn show(expr: &ast::Expr) -> String {
    match &expr.kind {
        ExprKind::Name(n) => n.to_string(),
        ExprKind::Field(field) => format!("{}.{}", show(&field.0), field.1.name),
        ExprKind::Index(operands) => format!("{}[{}]", show(&operands[0]), show(&operands[1])),
        ExprKind::Number(n) => n.to_string(),
        ExprKind::Str(s, _) => s.as_plain().map_or("…".into(), |t| format!("{t:?}")),
        _ => "…".into(),
    }
}

/// `reply("Your order {id} is on its way")`: a text where a reply's name goes is a one-off
/// reply, lowered as the task's `text` argument.
fn one_off_text<'p>(param: &SigParam<'p>, value: &ast::Expr) -> (&'p str, Ty) {
    match (param.ty, &value.kind) {
        (Ty::ReplyRef, kind) if !matches!(kind, ExprKind::Name(_)) => ("text", Ty::Text),
        _ => (param.name, param.ty),
    }
}
