//! The checker's secret rules applied again to a compiled program, when `agentc run` loads
//! an IR file: a hand-edited IR that puts a secret in a reply, a label, a URL or sends one
//! over plain http is refused with the codes the checker gives (E0406, E0407), and an
//! expression deeper than the checker accepts with E0006. The rules are the checker's own
//! ([`security`]: which slot is a URL, shown or sent; which calls carry a secret); only
//! the walk is over the IR, which has no source spans: each breach says where it is by
//! name instead.

use super::decls::{params_read, URL_FIELDS};
use super::expr::MAX_DEPTH;
use super::security::{self, insecure_host, task_arg_sink, Sink};
use crate::catalogue;
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::ir::{self, Expr, Value};
use std::collections::BTreeMap;

/// A rule a compiled program breaks.
#[derive(Debug)]
pub struct Breach {
    /// `action `greet``, `reply `welcome``, `target `api``.
    pub place: String,
    pub diagnostic: Diagnostic,
}

/// Every breach of the secret rules (or of the expression depth bound) in `program`.
pub fn check_compiled(program: &ir::Program) -> Vec<Breach> {
    let too_deep: Vec<Breach> = program
        .expressions()
        .into_iter()
        .filter(|e| e.depth() > MAX_DEPTH as usize)
        .map(|_| Breach {
            place: "an expression".into(),
            diagnostic: Diagnostic::new(
                Code::TooDeep,
                format!("expression nested more than {MAX_DEPTH} levels deep"),
                Span::default(),
            ),
        })
        .take(1)
        .collect();
    if !too_deep.is_empty() {
        // The walks below recurse: they run only on expressions the checker would accept.
        return too_deep;
    }
    let mut walk = Walk {
        program,
        insecure: insecure_targets(program),
        breaches: Vec::new(),
    };
    walk.targets();
    walk.tasks();
    walk.actions();
    walk.replies();
    walk.breaches
}

/// Whether the expression's value may carry a secret's, by the checker's rules: a
/// `secret(..)` read flows through everything except functions that return no text
/// ([`security::call_carries`]) and comparisons and tests (a fresh bool).
fn carries_secret(expr: &Expr) -> bool {
    match expr {
        Expr::Call(name, _) if name == "secret" => true,
        Expr::Call(name, args) => {
            catalogue::function(name).is_some_and(|f| security::call_carries(f.result))
                && args.iter().any(carries_secret)
        }
        Expr::Binary(op, a, b) => !op.yields_bool() && (carries_secret(a) || carries_secret(b)),
        other => other.children().into_iter().any(carries_secret),
    }
}

/// Each target's plain-http, non-loopback host, if its address is one.
fn insecure_targets(program: &ir::Program) -> BTreeMap<&str, String> {
    let mut insecure = BTreeMap::new();
    for target in program.targets.values() {
        for field in URL_FIELDS {
            if let Some(Expr::Lit(Value::Text(url))) = target.fields.get(*field) {
                if let Some(host) = insecure_host(url) {
                    insecure.insert(target.name.as_str(), host);
                }
            }
        }
    }
    insecure
}

struct Walk<'p> {
    program: &'p ir::Program,
    insecure: BTreeMap<&'p str, String>,
    breaches: Vec<Breach>,
}

impl Walk<'_> {
    fn check(&mut self, place: &str, expr: &Expr, sink: Sink, slot: &str, target: &str) {
        if !carries_secret(expr) {
            return;
        }
        let insecure = self
            .insecure
            .get(target)
            .map(|h| (h.as_str(), Span::default()));
        if let Some(diagnostic) = security::breach(sink, Span::default(), slot, insecure) {
            self.breaches.push(Breach {
                place: place.to_string(),
                diagnostic,
            });
        }
    }

    fn targets(&mut self) {
        for target in self.program.targets.values() {
            let place = format!("target `{}`", target.name);
            for (name, expr) in &target.fields {
                let sink = match name.as_str() {
                    // A database URL carries its password by design; a web address must not.
                    "url" => continue,
                    name if URL_FIELDS.contains(&name) => Sink::Url,
                    _ => Sink::Sent,
                };
                self.check(&place, expr, sink, &format!("`{name}`"), &target.name);
            }
        }
    }

    fn tasks(&mut self) {
        for task in self.program.tasks.values() {
            let place = format!("task `{}`", task.name);
            let fields = [
                ("path", Some(&task.path), Sink::Url),
                ("query", task.query.as_ref(), Sink::Url),
                ("result", task.result.as_ref(), Sink::Shown),
                ("body", task.body.as_ref(), Sink::Sent),
                ("headers", task.headers.as_ref(), Sink::Sent),
            ];
            for (name, expr, sink) in fields {
                if let Some(expr) = expr {
                    let slot = match sink {
                        Sink::Shown => "a task's `result`".to_string(),
                        _ => format!("the task's `{name}`"),
                    };
                    self.check(&place, expr, sink, &slot, &task.target);
                }
            }
        }
    }

    fn actions(&mut self) {
        for action in self.program.actions.values() {
            let place = format!("action `{}`", action.name);
            let call = &action.task;
            let spec = call.task.builtin().map(|task| task.spec());
            // A declared task's arguments go where the task puts them.
            let (mut url_params, mut shown_params) = (Vec::new(), Vec::new());
            if let Some(task) = call
                .task
                .declared()
                .and_then(|name| self.program.tasks.get(name))
            {
                for expr in [Some(&task.path), task.query.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    params_read(expr, &mut url_params);
                }
                if let Some(result) = &task.result {
                    params_read(result, &mut shown_params);
                }
            }
            for (arg, expr) in &call.args {
                let named =
                    spec.is_some_and(|s| s.named_params && !s.args.iter().any(|a| a.name == arg));
                let (sink, slot) = if named {
                    (Sink::Shown, format!("parameter `{arg}`"))
                } else {
                    let sink = match call.task.builtin() {
                        Some(task) => task_arg_sink(task, arg),
                        None if url_params.contains(arg) => Sink::Url,
                        None if shown_params.contains(arg) => Sink::Shown,
                        None => Sink::Sent,
                    };
                    (sink, format!("argument `{arg}` of `{}`", call.task.name()))
                };
                self.check(&place, expr, sink, &slot, &action.target);
            }
            for expr in &call.rest {
                let slot = format!("an argument of `{}`", call.task.name());
                self.check(&place, expr, Sink::Shown, &slot, &action.target);
            }
            if let Some(key) = &action.idempotency_key {
                self.check(
                    &place,
                    key,
                    Sink::Shown,
                    "an idempotency key",
                    &action.target,
                );
            }
        }
    }

    fn replies(&mut self) {
        for reply in self.program.replies.values() {
            let place = format!("reply `{}`", reply.name);
            for expr in reply.exprs() {
                self.check(&place, expr, Sink::Shown, "a reply", "");
            }
        }
    }
}
