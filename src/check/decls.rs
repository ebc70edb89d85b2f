//! The agent, targets, declared tasks, replies and use cases.

use super::checker::{Checker, Env, Referred, SigParam, TaskInfo};
use super::consts;
use super::fields::Fields;
use super::program::{Decl, Program};
use super::scope::Scope;
use super::security::{self, insecure_host};
use super::types::Type;
use super::unknown_help;
use crate::catalogue::{self, Channel, Combination, TargetKind, Ty};
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::ir::{self, Value};
use crate::syntax::ast::{self, AgentEntry, ExprKind};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// When a `retry` record leaves a key out. `attempts` counts every try, the first included.
pub const DEFAULT_ATTEMPTS: u32 = 3;
pub const DEFAULT_BACKOFF_MS: u64 = 200;
pub const DEFAULT_MAX_BACKOFF_MS: u64 = 5_000;

/// Fields whose value is the address of a service.
pub(super) const URL_FIELDS: &[&str] = &["base_url", "instance_url", "url"];

/// Checks the agent block and its params; returns what every later pass reads.
pub fn agent<'a>(p: &'a Program<'a>, diags: &mut Vec<Diagnostic>) -> (Env<'a>, Option<ir::Agent>) {
    let mut params = HashMap::with_capacity(p.params.len());
    let mut ir_params = Vec::with_capacity(p.params.len());
    for param in &p.params {
        let ty = value_type(&param.ty, diags);
        let default = param.default.as_ref().and_then(|d| {
            constant(
                d,
                ty.map_or(Type::Any, Type::from_ir),
                "a parameter's default",
                diags,
            )
        });
        params
            .entry(param.name.name.as_str())
            .or_insert(ty.map_or(Type::Any, Type::from_ir));
        ir_params.push(ir::Param {
            name: param.name.name.clone(),
            ty: ty.unwrap_or(ir::Type::Any),
            default,
        });
    }
    let mut env = Env {
        params,
        channels: Vec::new(),
        channels_span: None,
        names: &p.names,
    };
    let Some(agent) = p.agents.first() else {
        return (env, None);
    };
    let mut fields = Vec::new();
    let mut params_block: Option<Span> = None;
    for entry in &agent.entries {
        match entry {
            AgentEntry::Field(f) => fields.push(f.clone()),
            AgentEntry::Params { span, .. } => match params_block {
                Some(first) => diags.push(
                    Diagnostic::new(Code::DuplicateField, "`params` is given twice", *span)
                        .with_secondary(first, "first given here")
                        .with_help("declare every parameter in one `params` block"),
                ),
                None => params_block = Some(*span),
            },
        }
    }
    let owner = format!("agent `{}`", agent.name.name);
    let fields = Fields::index(
        &fields,
        catalogue::AGENT_FIELDS,
        &owner,
        agent.name.span,
        diags,
    );
    if let Some(value) = fields.value("channels") {
        env.channels = channels(value, diags);
        if !env.channels.is_empty() {
            env.channels_span = Some(value.span);
        }
    }
    let text = |name: &str, diags: &mut Vec<Diagnostic>| match fields
        .value(name)
        .and_then(|v| constant(v, Type::Text, &format!("the agent's `{name}`"), diags))
    {
        Some(Value::Text(t)) => Some(t),
        _ => None,
    };
    let display_name = text("name", diags);
    let language = text("language", diags);
    let inactivity_ms = match fields
        .value("inactivity")
        .and_then(|v| constant(v, Type::Duration, "`inactivity`", diags))
    {
        Some(Value::Duration(ms)) => Some(ms),
        _ => None,
    };
    let ir_agent = ir::Agent {
        name: agent.name.name.clone(),
        display_name,
        channels: env.channels.clone(),
        language,
        inactivity_ms,
        params: ir_params,
    };
    (env, Some(ir_agent))
}

/// `[chat, voice]`: a constant list of channel words.
fn channels(value: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Vec<Channel> {
    let ExprKind::List(items) = &value.kind else {
        diags.push(
            Diagnostic::new(
                Code::NotConstant,
                "`channels` must be a list of channel names",
                value.span,
            )
            .with_help("write e.g. `channels: [chat, voice]` (chat | voice | email)"),
        );
        return Vec::new();
    };
    let mut out: Vec<Channel> = Vec::new();
    for item in items {
        let word = match &item.kind {
            ExprKind::Name(n) => Some(n.to_string()),
            _ => consts::text(item),
        };
        let Some(word) = word else {
            diags.push(
                Diagnostic::new(
                    Code::NotConstant,
                    "a channel must be written as a word",
                    item.span,
                )
                .with_help("write one of: chat, voice, email"),
            );
            continue;
        };
        match Channel::parse(&word) {
            Some(c) if out.contains(&c) => diags.push(
                Diagnostic::new(
                    Code::DuplicateField,
                    format!("channel `{word}` is listed twice"),
                    item.span,
                )
                .with_help("list each channel once"),
            ),
            Some(c) => out.push(c),
            None => diags.push(
                Diagnostic::new(
                    Code::UnknownWord,
                    format!("`{word}` is not a channel"),
                    item.span,
                )
                .with_label_message("expected one of chat | voice | email")
                .with_help(unknown_help(
                    &word,
                    Channel::ALL.iter().map(|c| c.name()),
                    "write one of: chat, voice, email".into(),
                )),
            ),
        }
    }
    if out.is_empty() && items.is_empty() {
        diags.push(
            Diagnostic::new(
                Code::MissingField,
                "the agent talks on no channel",
                value.span,
            )
            .with_help("list at least one channel: chat, voice or email"),
        );
    }
    out
}

/// A type name of `params` or a task's parameter.
fn value_type(ty: &ast::Ident, diags: &mut Vec<Diagnostic>) -> Option<ir::Type> {
    if ty.name.is_empty() {
        // A parameter that did not parse (`syntax::recover`): its syntax error is the report.
        return Some(ir::Type::Any);
    }
    let parsed = ir::Type::parse(&ty.name);
    if parsed.is_none() {
        diags.push(
            Diagnostic::new(
                Code::UnknownType,
                format!("unknown type `{}`", ty.name),
                ty.span,
            )
            .with_help(unknown_help(
                &ty.name,
                ir::Type::ALL.map(ir::Type::name),
                format!(
                    "the types are: {}",
                    ir::Type::ALL.map(ir::Type::name).join(", ")
                ),
            )),
        );
    }
    parsed
}

/// The type of a constant value.
pub fn type_of(value: &Value) -> Type {
    match value {
        Value::Null => Type::Null,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::Text(_) => Type::Text,
        Value::Duration(_) => Type::Duration,
        Value::List(_) => Type::List,
        Value::Record(_) => Type::Record,
    }
}

/// A value that must be known before the program runs (E0303), of type `want` (E0301).
pub fn constant(
    expr: &ast::Expr,
    want: Type,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Value> {
    if matches!(expr.kind, ExprKind::Error) {
        return None;
    }
    match consts::value(expr) {
        Ok(value) => {
            let found = type_of(&value);
            if want.accepts(found) {
                Some(value)
            } else {
                diags.push(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "{what} should be {}, but this is {}",
                            want.name(),
                            found.name()
                        ),
                        expr.span,
                    )
                    .with_label_message(format!("this is {}", found.name()))
                    .with_help(format!("write a {} here", want.name())),
                );
                None
            }
        }
        Err(span) => {
            diags.push(
                Diagnostic::new(
                    Code::NotConstant,
                    format!("{what} must be known before the program runs"),
                    span,
                )
                .with_label_message("computed at run time")
                .with_help("write a literal value here (no names, calls or interpolation)"),
            );
            None
        }
    }
}

/// `{ attempts: 3, backoff: 200ms, max_backoff: 5s }`, each key optional.
pub fn retry(expr: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Option<ir::Retry> {
    let ExprKind::Record(entries) = &expr.kind else {
        constant(expr, Type::Record, "`retry`", diags);
        return None;
    };
    let mut out = ir::Retry {
        attempts: DEFAULT_ATTEMPTS,
        backoff_ms: DEFAULT_BACKOFF_MS,
        max_backoff_ms: DEFAULT_MAX_BACKOFF_MS,
    };
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut ok = true;
    let mut max_given = false;
    for entry in entries {
        let key = entry.key.name.as_str();
        if let Some(first) = seen.insert(key, entry.key.span) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateField,
                    format!("`{key}` is given twice"),
                    entry.key.span,
                )
                .with_secondary(first, "first given here")
                .with_help("remove one of them"),
            );
            ok = false;
            continue;
        }
        match key {
            "attempts" => match constant(&entry.value, Type::Number, "`attempts`", diags) {
                Some(Value::Number(n)) if n >= 1.0 && n.fract() == 0.0 && n <= 100.0 => {
                    out.attempts = n as u32
                }
                Some(_) => {
                    diags.push(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            "`attempts` must be a whole number from 1 to 100",
                            entry.value.span,
                        )
                        .with_help("it counts every try, the first included: 1 means no retry"),
                    );
                    ok = false;
                }
                None => ok = false,
            },
            "backoff" | "max_backoff" => {
                match constant(&entry.value, Type::Duration, &format!("`{key}`"), diags) {
                    Some(Value::Duration(ms)) if key == "backoff" => out.backoff_ms = ms,
                    Some(Value::Duration(ms)) => {
                        out.max_backoff_ms = ms;
                        max_given = true;
                    }
                    _ => ok = false,
                }
            }
            _ => {
                diags.push(
                    Diagnostic::new(
                        Code::UnknownField,
                        format!("`retry` has no field `{key}`"),
                        entry.key.span,
                    )
                    .with_help(unknown_help(
                        key,
                        ["attempts", "backoff", "max_backoff"],
                        "its fields are: attempts, backoff, max_backoff".into(),
                    )),
                );
                ok = false;
            }
        }
    }
    // A backoff above the default cap raises the cap, unless the cap is written.
    if !max_given {
        out.max_backoff_ms = out.max_backoff_ms.max(out.backoff_ms);
    }
    ok.then_some(out)
}

/// `timeout: 3s`
pub fn timeout(expr: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Option<u64> {
    match constant(expr, Type::Duration, "`timeout`", diags)? {
        Value::Duration(ms) => Some(ms),
        _ => None,
    }
}

/// The value of a catalogue default (`by: 1`, `mode: cold`).
pub fn default_value(ty: Ty, text: &str) -> Value {
    match ty {
        Ty::Number => text.parse().map(Value::Number).unwrap_or(Value::Null),
        Ty::Bool => Value::Bool(text == "true"),
        _ => Value::Text(text.to_string()),
    }
}

/// A declared task's signature, as the catalogue writes a built-in task's, with its
/// defaults as written (`text`: the file it is declared in). The checker's messages and
/// the IDE show it.
pub fn declared_signature(t: &ast::TaskDecl, text: &str) -> catalogue::Signature {
    let params = t.params.iter().map(|p| {
        let default = p.default.as_ref().and_then(|d| text.get(d.span.range()));
        let required = !p.optional && p.default.is_none();
        catalogue::signature::param(&p.name.name, &p.ty.name, required, default)
    });
    catalogue::Signature::new(&t.name.name, params, None)
}

impl<'a> Checker<'a> {
    pub fn target(&mut self, i: usize) -> Option<ir::Target> {
        let t = self.p.targets[i];
        let kind = match catalogue::target_kind(&t.kind.name) {
            Some(kind) if !kind.builtin => kind,
            found => {
                let kinds = catalogue::TARGET_KINDS
                    .iter()
                    .filter(|k| !k.builtin)
                    .map(|k| k.name());
                let help = match found {
                    Some(_) => format!(
                        "`{}` is built in and never declared; declare one of: {}",
                        t.kind.name,
                        kinds.collect::<Vec<_>>().join(", ")
                    ),
                    None => unknown_help(
                        &t.kind.name,
                        kinds.clone(),
                        format!("the kinds are: {}", kinds.collect::<Vec<_>>().join(", ")),
                    ),
                };
                self.diags.push(
                    Diagnostic::new(
                        Code::UnknownTargetKind,
                        format!("unknown target kind `{}`", t.kind.name),
                        t.kind.span,
                    )
                    .with_help(help),
                );
                return None;
            }
        };
        Arc::make_mut(&mut self.targets)[i].kind = Some(kind);
        let owner = format!("target `{}` ({})", t.name.name, kind.name());
        let fields = Fields::index(&t.fields, kind.fields, &owner, t.name.span, &mut self.diags);
        for group in kind.one_of {
            if group.iter().all(|name| fields.get(name).is_none()) {
                let names: Vec<String> = group.iter().map(|n| format!("`{n}`")).collect();
                self.diags.push(
                    Diagnostic::new(
                        Code::MissingField,
                        format!("{owner} needs {}", names.join(" or ")),
                        t.name.span,
                    )
                    .with_label_message("none of them is given")
                    .with_help(format!("add {}", names.join(" or "))),
                );
            }
        }
        self.field_combinations(kind, &fields, &owner);
        let mut out = ir::Target {
            name: t.name.name.clone(),
            kind: kind.kind,
            fields: BTreeMap::new(),
            timeout_ms: None,
            retry: None,
        };
        let mut secrets = Vec::new();
        for (spec, field) in fields.iter() {
            match spec.name {
                "timeout" => out.timeout_ms = timeout(&field.value, &mut self.diags),
                "retry" => out.retry = retry(&field.value, &mut self.diags),
                name => {
                    let what = format!("`{name}`");
                    let scope = Scope::constant("a target's fields");
                    let (typed, _) =
                        self.with_expr(scope, |ex| ex.expect_spec(&field.value, spec.ty, &what));
                    if let (true, ir::Expr::Lit(Value::Text(url))) = (name == "url", &typed.expr) {
                        Arc::make_mut(&mut self.targets)[i].postgres = url.starts_with("postgres");
                    }
                    if let (Some(check), ir::Expr::Lit(Value::Text(text))) =
                        (spec.check, &typed.expr)
                    {
                        if let Some(problem) = check(text) {
                            self.diags.push(
                                Diagnostic::new(
                                    Code::TypeMismatch,
                                    format!("{owner}: `{name}` {problem}"),
                                    field.value.span,
                                )
                                .with_help(spec.doc),
                            );
                        }
                    }
                    if URL_FIELDS.contains(&name) {
                        self.check_url(i, name, &field.value, &typed.expr, typed.secret);
                    } else if let Some(secret) = typed.secret {
                        secrets.push(secret);
                    }
                    out.fields.insert(name.to_string(), typed.expr);
                }
            }
        }
        if let Some((host, url)) = self.targets[i].insecure.clone() {
            for secret in secrets {
                self.diags
                    .push(security::secret_over_http(secret, &host, url));
            }
        }
        Some(out)
    }

    /// E0205 for a field given without one it needs, E0106 for two that exclude each other.
    fn field_combinations(&mut self, kind: &TargetKind, fields: &Fields, owner: &str) {
        let given = |name: &str| fields.get(name).is_some();
        for problem in kind.combination_problems(given) {
            let diagnostic = match problem {
                Combination::Needs { field, missing } => Diagnostic::new(
                    Code::MissingField,
                    format!("{owner}: {problem}"),
                    fields.get(field).map_or(Span::default(), |f| f.key.span),
                )
                .with_help(format!("add `{missing}`, or remove `{field}`")),
                Combination::Excludes { field, other } => {
                    let first = fields.get(field).map_or(Span::default(), |f| f.key.span);
                    let second = fields.get(other).map_or(first, |f| f.key.span);
                    Diagnostic::new(Code::DuplicateField, format!("{owner}: {problem}"), second)
                        .with_secondary(first, "given here")
                        .with_help(format!("keep `{field}` or `{other}`"))
                }
            };
            self.diags.push(diagnostic);
        }
    }

    /// W0604 for a plain-http remote address; E0406 for a secret inside an http URL.
    fn check_url(
        &mut self,
        i: usize,
        name: &str,
        value: &ast::Expr,
        lowered: &ir::Expr,
        secret: Option<crate::diagnostics::Span>,
    ) {
        if let Some(secret) = secret {
            // A database URL carries its password by design; a web address must not.
            if name != "url" {
                self.diags
                    .push(security::secret_in_url(secret, &format!("`{name}`")));
            }
        }
        let ir::Expr::Lit(Value::Text(url)) = lowered else {
            return;
        };
        let Some(host) = insecure_host(url) else {
            return;
        };
        self.diags.push(
            Diagnostic::new(
                Code::InsecureUrl,
                format!("`{}` talks to `{host}` over plain http://", self.p.targets[i].name.name),
                value.span,
            )
            .with_label_message("not encrypted")
            .with_help(format!(
                "use https://{host}/… (plain http:// is only fine to loopback, e.g. a local test server)"
            )),
        );
        Arc::make_mut(&mut self.targets)[i].insecure = Some((host, value.span));
    }

    pub fn task_decl(&mut self, i: usize) -> Option<ir::TaskDef> {
        let t = self.p.tasks[i];
        let target = self.resolve_declared_target(t);
        let mut params = HashMap::new();
        let mut sig = Vec::new();
        let mut ir_params = Vec::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for param in &t.params {
            if let Some(first) = seen.insert(&param.name.name, param.name.span) {
                self.diags.push(
                    Diagnostic::new(
                        Code::DuplicateField,
                        format!("parameter `{}` is declared twice", param.name.name),
                        param.name.span,
                    )
                    .with_secondary(first, "first declared here")
                    .with_help("rename or remove one of them"),
                );
                continue;
            }
            let ty = value_type(&param.ty, &mut self.diags).unwrap_or(ir::Type::Any);
            let default = param.default.as_ref().and_then(|d| {
                constant(
                    d,
                    Type::from_ir(ty),
                    "a parameter's default",
                    &mut self.diags,
                )
            });
            params.insert(param.name.name.as_str(), Type::from_ir(ty));
            sig.push(SigParam {
                name: &param.name.name,
                ty: ty.ty(),
                required: !param.optional && param.default.is_none(),
                default: default.clone(),
            });
            ir_params.push(ir::TaskParam {
                name: param.name.name.clone(),
                ty,
                optional: param.optional || param.default.is_some(),
                default,
            });
        }
        let owner = format!("task `{}`", t.name.name);
        let fields = Fields::index(
            &t.fields,
            catalogue::DECLARED_TASK_FIELDS,
            &owner,
            t.name.span,
            &mut self.diags,
        );
        // The task's fields see its own parameters only: it may run from any binding.
        let scope = Scope {
            task_params: Some(&params),
            ..Scope::constant("a task's fields")
        };
        let insecure = target.and_then(|t| self.targets[t].insecure.clone());
        let mut info = TaskInfo {
            target,
            params: sig,
            result: Type::Record,
            ..Default::default()
        };
        let mut lowered: HashMap<&str, ir::Expr> = HashMap::new();
        let mut method_reported = false;
        for (spec, field) in fields.iter() {
            let scope = Scope {
                response: spec.name == "result",
                ..scope
            };
            let what = format!("`{}`", spec.name);
            let errors_before = self.diags.len();
            let (typed, _) =
                self.with_expr(scope, |ex| ex.expect_spec(&field.value, spec.ty, &what));
            if spec.name == "method" && self.diags.len() > errors_before {
                method_reported = true;
            }
            if let Some(secret) = typed.secret {
                match spec.name {
                    "path" | "query" => self.diags.push(security::secret_in_url(
                        secret,
                        &format!("the task's `{}`", spec.name),
                    )),
                    "result" => self
                        .diags
                        .push(security::secret_shown(secret, "a task's `result`")),
                    _ => {
                        if let Some((host, url)) = &insecure {
                            self.diags
                                .push(security::secret_over_http(secret, host, *url));
                        }
                    }
                }
            }
            if spec.name == "path" {
                self.optional_in_path(t, &typed.expr, field.value.span);
            }
            match spec.name {
                "path" | "query" => params_read(&typed.expr, &mut info.url_params),
                "result" => {
                    params_read(&typed.expr, &mut info.shown_params);
                    info.result = typed.ty;
                }
                _ => {}
            }
            lowered.insert(spec.name, typed.expr);
        }
        Arc::make_mut(&mut self.tasks)[i] = info;
        let method = match lowered.remove("method") {
            Some(ir::Expr::Lit(Value::Text(m))) => m,
            Some(_) if method_reported => return None,
            Some(_) => {
                let span = fields.value("method").map_or(t.name.span, |v| v.span);
                self.diags.push(
                    Diagnostic::new(
                        Code::NotConstant,
                        "`method` must be written as a word",
                        span,
                    )
                    .with_help("write one of: GET, POST, PUT, PATCH, DELETE"),
                );
                return None;
            }
            None => return None,
        };
        Arc::make_mut(&mut self.tasks)[i].method = Some(method.clone());
        Some(ir::TaskDef {
            name: t.name.name.clone(),
            target: t.target.name.clone(),
            params: ir_params,
            method,
            path: lowered.remove("path")?,
            query: lowered.remove("query"),
            body: lowered.remove("body"),
            headers: lowered.remove("headers"),
            result: lowered.remove("result"),
        })
    }

    /// An optional parameter without a default put into a task's path is null whenever it
    /// is not given, and a null path value fails the task (W0607).
    fn optional_in_path(&mut self, t: &ast::TaskDecl, path: &ir::Expr, span: Span) {
        let ir::Expr::Interp(parts) = path else {
            return;
        };
        for part in parts {
            let ir::Expr::Var(ir::Scope::Param(name)) = part else {
                continue;
            };
            // A parameter of no type did not parse (`syntax::recover`): it is optional only
            // so that nothing follows from its syntax error.
            let optional = t.params.iter().any(|p| {
                p.name.name == *name && p.optional && p.default.is_none() && !p.ty.name.is_empty()
            });
            if optional {
                self.diags.push(
                    Diagnostic::new(
                        Code::NullArgument,
                        format!(
                            "optional parameter `{name}` is put into the path of `{}`",
                            t.name.name
                        ),
                        span,
                    )
                    .with_label_message(format!("`{name}` is null when not given"))
                    .with_help(format!(
                        "a null path value fails the task and sends nothing: make `{name}` \
                         required, give it a default (`{name}: text = \"…\"`), or put it in \
                         `query`, where a null value is left out"
                    )),
                );
            }
        }
    }

    /// The target a `task` declaration adds to: declared, and of a kind that takes tasks.
    fn resolve_declared_target(&mut self, t: &ast::TaskDecl) -> Option<usize> {
        let Some(target) = self.p.target(&t.target.name) else {
            self.unknown_decl(
                Code::UnknownTarget,
                ("target", "a target"),
                &t.target.name,
                t.target.span,
                |d| matches!(d, Decl::Target(_)),
                "declare the target first, e.g. `target api: http { base_url: \"https://…\" }`"
                    .into(),
            );
            return None;
        };
        self.used.targets[target] = true;
        self.referred(Referred::Target(target));
        let kind = catalogue::target_kind(&self.p.targets[target].kind.name)?;
        if !kind.declared_tasks {
            let takes: Vec<&str> = catalogue::TARGET_KINDS
                .iter()
                .filter(|k| k.declared_tasks)
                .map(|k| k.name())
                .collect();
            self.diags.push(
                Diagnostic::new(
                    Code::TaskOnWrongKind,
                    format!("`{}` is a {} target, which takes no declared tasks", t.target.name, kind.name()),
                    t.target.span,
                )
                .with_secondary(self.p.targets[target].kind.span, format!("its kind is {}", kind.name()))
                .with_help(format!(
                    "use one of its built-in tasks ({}), or declare the task on a target of kind {}",
                    kind.tasks.iter().map(|t| t.name()).collect::<Vec<_>>().join(", "),
                    takes.join(", ")
                )),
            );
            return None;
        }
        if kind.task(&t.name.name).is_some() {
            self.diags.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!(
                        "`{}` is already a built-in task of {} targets",
                        t.name.name,
                        kind.name()
                    ),
                    t.name.span,
                )
                .with_help("choose another name for the declared task"),
            );
        }
        Some(target)
    }

    pub fn usecase(&mut self, i: usize) -> Option<ir::Usecase> {
        let u = self.p.usecases[i];
        let owner = format!("use case `{}`", u.name.name);
        let fields = Fields::index(
            &u.fields,
            catalogue::USECASE_FIELDS,
            &owner,
            u.name.span,
            &mut self.diags,
        );
        let description = match fields
            .value("description")
            .and_then(|v| constant(v, Type::Text, "a use case's `description`", &mut self.diags))
        {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        };
        let mut blocks: Vec<&'a str> = Vec::new();
        if let Some(value) = fields.value("blocks") {
            match &value.kind {
                ExprKind::List(items) => {
                    for item in items {
                        let ExprKind::Name(name) = &item.kind else {
                            self.diags.push(
                                Diagnostic::new(Code::NotConstant, "a block is named by a bare word", item.span)
                                    .with_help("write the block's name, e.g. `blocks: [ask_order_id, show_status]`"),
                            );
                            continue;
                        };
                        if blocks.contains(&name.as_str()) {
                            self.diags.push(
                                Diagnostic::new(
                                    Code::DuplicateField,
                                    format!("block `{name}` is listed twice"),
                                    item.span,
                                )
                                .with_help("list each block once"),
                            );
                            continue;
                        }
                        blocks.push(name);
                    }
                }
                _ => self.diags.push(
                    Diagnostic::new(
                        Code::NotConstant,
                        "`blocks` must be a list of block names",
                        value.span,
                    )
                    .with_help("write e.g. `blocks: [ask_order_id, show_status]`"),
                ),
            }
        }
        let out = ir::Usecase {
            name: u.name.name.clone(),
            description,
            blocks: blocks.iter().map(|b| b.to_string()).collect(),
        };
        Arc::make_mut(&mut self.blocks)[i] = blocks;
        Some(out)
    }
}

/// The parameter names an expression reads.
pub(super) fn params_read(expr: &ir::Expr, out: &mut Vec<String>) {
    match expr {
        ir::Expr::Var(ir::Scope::Param(name)) => {
            if !out.contains(name) {
                out.push(name.clone());
            }
        }
        ir::Expr::Lit(_) | ir::Expr::Var(_) => {}
        ir::Expr::Interp(items) | ir::Expr::List(items) | ir::Expr::Call(_, items) => {
            items.iter().for_each(|e| params_read(e, out))
        }
        ir::Expr::Record(entries) => entries.iter().for_each(|(_, e)| params_read(e, out)),
        ir::Expr::Field(e, _) | ir::Expr::Unary(_, e) => params_read(e, out),
        ir::Expr::Index(a, b) | ir::Expr::Binary(_, a, b) => {
            params_read(a, out);
            params_read(b, out);
        }
        ir::Expr::If(a, b, c) => {
            params_read(a, out);
            params_read(b, out);
            params_read(c, out);
        }
    }
}
