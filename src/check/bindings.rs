//! Bindings: their trigger (event, use case, block), channel and moment rules for every
//! action they run (through `on_failure` too), the reply rule, and `on_failure` cycles.

use super::checker::Checker;
use super::program::Decl;
use super::scope::{Access, EventScope, Scope};
use super::types::Type;
use super::unknown_help;
use crate::catalogue::{self, Moment, REPLY_EVENTS};
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::ir;
use crate::syntax::ast::{self, BindingBody, Trigger};

/// A resolved trigger.
pub struct TriggerInfo {
    pub ir: ir::Trigger,
    pub moment: Moment,
    pub event: EventScope,
    pub usecase: Access,
    pub block: Access,
    /// `call_ringing`, `usecase order_status`: how messages name it.
    pub label: String,
    pub span: Span,
    /// The event name, when the trigger is an agent-level event.
    pub event_name: Option<&'static str>,
}

impl<'a> Checker<'a> {
    pub fn binding(&mut self, i: usize) -> Option<ir::Binding> {
        let b = self.p.bindings[i];
        let trigger = self.trigger(&b.trigger);
        let when = b.when.as_ref().map(|w| {
            let scope = match &trigger {
                Some(t) => Scope {
                    usecase: t.usecase,
                    block: t.block,
                    ..self.conversation_scope("this binding's `when`", t.event)
                },
                None => self.conversation_scope("this binding's `when`", EventScope::Any),
            };
            let (typed, _) =
                self.with_expr(scope, |ex| ex.expect(w, Type::Bool, "the `when` condition"));
            typed.expr
        });
        let body = match &b.body {
            BindingBody::Do(names) => {
                let mut actions = Vec::with_capacity(names.len());
                for name in names {
                    if let Some(j) = self.action_by_name(&name.name, name.span) {
                        if let Some(t) = &trigger {
                            self.reach(j, t, name.span);
                        }
                        actions.push(name.name.clone());
                    }
                }
                ir::BindingBody::Actions(actions)
            }
            BindingBody::Reply(reply) => {
                if let Some(t) = &trigger {
                    self.reply_trigger(t);
                }
                self.reply_by_name(&reply.name, reply.span);
                ir::BindingBody::Reply(reply.name.clone())
            }
        };
        Some(ir::Binding {
            trigger: trigger?.ir,
            when,
            body,
            span: self.ir_span(b.span),
        })
    }

    fn trigger(&mut self, trigger: &Trigger) -> Option<TriggerInfo> {
        match trigger {
            Trigger::Event(name) => self.event_trigger(&name.name, name.span),
            Trigger::BeforeCall(span) => self.event_trigger("call_ringing", *span),
            Trigger::AfterCall(span) => self.event_trigger("call_ended", *span),
            Trigger::Usecase(u) => {
                let j = self.usecase_ref(u)?;
                Some(TriggerInfo {
                    ir: ir::Trigger::Usecase {
                        usecase: self.p.usecases[j].name.name.clone(),
                    },
                    moment: Moment::During,
                    event: EventScope::Any,
                    usecase: Access::Yes,
                    block: Access::No,
                    label: format!("use case `{}`", u.name),
                    span: u.span,
                    event_name: None,
                })
            }
            Trigger::Block { usecase, block } => {
                let j = self.usecase_ref(usecase)?;
                self.block_ref(j, block)?;
                Some(TriggerInfo {
                    ir: ir::Trigger::Block {
                        usecase: usecase.name.clone(),
                        block: block.name.clone(),
                    },
                    moment: Moment::During,
                    event: EventScope::Any,
                    usecase: Access::Yes,
                    block: Access::Yes,
                    label: format!("block `{}.{}`", usecase.name, block.name),
                    span: usecase.span.to(block.span),
                    event_name: None,
                })
            }
        }
    }

    /// An agent-level event, available on the agent's channels.
    pub fn event_ref(&mut self, name: &str, span: Span) -> Option<&'static catalogue::EventSpec> {
        let Some(spec) = catalogue::event(name) else {
            let help = unknown_help(
                name,
                catalogue::EVENTS.iter().map(|e| e.name),
                "see `agentc explain E0209` for the list of events".into(),
            );
            self.diags.push(
                Diagnostic::new(Code::UnknownEvent, format!("unknown event `{name}`"), span)
                    .with_help(help),
            );
            return None;
        };
        if !self.env.allows(spec.channels) {
            let needs: Vec<&str> = spec.channels.iter().map(|c| c.name()).collect();
            let has: Vec<&str> = self.env.channels.iter().map(|c| c.name()).collect();
            let mut d = Diagnostic::new(
                Code::ChannelMismatch,
                format!(
                    "`{name}` only happens on {} conversations, and this agent talks on {}",
                    needs.join(" or "),
                    if has.is_empty() {
                        "no channel".into()
                    } else {
                        has.join(", ")
                    }
                ),
                span,
            )
            .with_help(format!(
                "add `{}` to the agent's `channels`, or remove this",
                needs[0]
            ));
            if let Some(channels) = self.env.channels_span {
                d = d.with_secondary(channels, "the agent's channels");
            }
            self.diags.push(d);
        }
        Some(spec)
    }

    fn event_trigger(&mut self, name: &str, span: Span) -> Option<TriggerInfo> {
        let spec = self.event_ref(name, span)?;
        Some(TriggerInfo {
            ir: ir::Trigger::Event {
                event: spec.name.to_string(),
            },
            moment: spec.moment,
            event: EventScope::Known(spec),
            usecase: Access::No,
            block: Access::No,
            label: format!("`{}`", spec.name),
            span,
            event_name: Some(spec.name),
        })
    }

    pub fn usecase_ref(&mut self, u: &ast::Ident) -> Option<usize> {
        if let Some(j) = self.p.usecase(&u.name) {
            return Some(j);
        }
        let help = match self.p.names.get(u.name.as_str()) {
            Some((decl, _)) => format!("`{}` is {}, not a use case", u.name, decl.describe()),
            None => unknown_help(
                &u.name,
                self.p.names_of(|d| matches!(d, Decl::Usecase(_))),
                format!("declare it: `usecase {} {{ blocks: [...] }}`", u.name),
            ),
        };
        self.diags.push(
            Diagnostic::new(
                Code::UnknownUsecase,
                format!("unknown use case `{}`", u.name),
                u.span,
            )
            .with_help(help),
        );
        None
    }

    pub fn block_ref(&mut self, usecase: usize, block: &ast::Ident) -> Option<()> {
        let blocks = &self.blocks[usecase];
        if blocks.contains(&block.name.as_str()) {
            return Some(());
        }
        let u = self.p.usecases[usecase];
        let help = unknown_help(
            &block.name,
            blocks.iter().copied(),
            if blocks.is_empty() {
                format!(
                    "use case `{}` lists no blocks: add `blocks: [{}]` to it",
                    u.name.name, block.name
                )
            } else {
                format!("its blocks are: {}", blocks.join(", "))
            },
        );
        self.diags.push(
            Diagnostic::new(
                Code::UnknownBlock,
                format!("use case `{}` has no block `{}`", u.name.name, block.name),
                block.span,
            )
            .with_secondary(u.name.span, "use case declared here")
            .with_help(help),
        );
        None
    }

    /// E0401: `on EVENT reply R` only for the events that may trigger a reply.
    fn reply_trigger(&mut self, t: &TriggerInfo) {
        if t.event_name.is_some_and(|e| REPLY_EVENTS.contains(&e)) {
            return;
        }
        self.diags.push(
            Diagnostic::new(
                Code::ReplyOnEvent,
                format!("{} cannot trigger a reply", t.label),
                t.span,
            )
            .with_help(format!(
                "only {} can (`on conversation_started reply welcome`); elsewhere run an action \
                 with `target: conversation, task: reply(NAME)`",
                REPLY_EVENTS.join(" and ")
            )),
        );
    }

    /// Checks an action bound to `t`, and every action its `on_failure` chain reaches: tasks
    /// that make no sense at that moment (E0403), `usecase`/`block` read where unset (E0201).
    fn reach(&mut self, start: usize, t: &TriggerInfo, bound_at: Span) {
        let mut current = Some(start);
        let mut via: Option<Span> = None;
        while let Some(j) = current {
            let key = (
                j,
                t.moment,
                t.usecase == Access::Yes,
                t.block == Access::Yes,
            );
            if !self.walked.insert(key) {
                break;
            }
            let info = &self.actions[j];
            let (not_at, reads, next) = (info.not_at, info.reads, info.on_failure);
            let name = &self.p.actions[j].name.name;
            for &(moment, reason) in not_at {
                if moment != t.moment {
                    continue;
                }
                let mut d = Diagnostic::new(
                    Code::WrongMoment,
                    format!(
                        "`{}` cannot run on {}: {reason}",
                        self.actions[j].task_label, t.label
                    ),
                    self.actions[j].task_span,
                )
                .with_secondary(bound_at, format!("`{name}` runs on {} from here", t.label));
                if let Some(via) = via {
                    d = d.with_secondary(
                        via,
                        format!("`{name}` is reached through this `on_failure`"),
                    );
                }
                self.diags.push(d.with_help(moment_help(moment)));
            }
            for (read, root, access) in [
                (reads.usecase, "usecase", t.usecase),
                (reads.block, "block", t.block),
            ] {
                if let (Some(span), Access::No) = (read, access) {
                    let scope = Scope::constant("this action");
                    self.diags.push(
                        Diagnostic::new(
                            Code::UnknownName,
                            format!("`{root}` is not set when `{name}` runs on {}", t.label),
                            span,
                        )
                        .with_secondary(bound_at, "bound here")
                        .with_help(scope.unavailable_root_help(root)),
                    );
                }
            }
            via = next.map(|(_, span)| span);
            current = next.map(|(k, _)| k);
        }
    }

    /// E0404: actions whose `on_failure` chain comes back to them.
    pub fn failure_cycles(&mut self) {
        const NEW: u8 = 0;
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let mut state = vec![NEW; self.actions.len()];
        for start in 0..self.actions.len() {
            let mut path = Vec::new();
            let mut current = Some(start);
            while let Some(j) = current {
                match state[j] {
                    DONE => break,
                    ON_PATH => {
                        let from = path.iter().position(|&k| k == j).unwrap_or(0);
                        self.report_cycle(&path[from..]);
                        break;
                    }
                    _ => {}
                }
                state[j] = ON_PATH;
                path.push(j);
                current = self.actions[j].on_failure.map(|(k, _)| k);
            }
            for j in path {
                state[j] = DONE;
            }
        }
    }

    fn report_cycle(&mut self, cycle: &[usize]) {
        let name = |j: usize| self.p.actions[j].name.name.as_str();
        let mut chain: Vec<&str> = cycle.iter().map(|&j| name(j)).collect();
        chain.push(name(cycle[0]));
        let span_of = |j: usize| {
            self.actions[j]
                .on_failure
                .map_or(self.p.actions[j].name.span, |(_, s)| s)
        };
        let next = |k: usize| cycle[(k + 1) % cycle.len()];
        let mut d = Diagnostic::new(
            Code::FailureCycle,
            format!("`on_failure` cycle: {}", chain.join(" → ")),
            span_of(cycle[0]),
        )
        .with_label_message(format!(
            "`{}` falls back to `{}`",
            name(cycle[0]),
            name(next(0))
        ));
        for (k, &j) in cycle.iter().enumerate().skip(1) {
            d = d.with_secondary(
                span_of(j),
                format!("`{}` falls back to `{}`", name(j), name(next(k))),
            );
        }
        self.diags.push(d.with_help(
            "a failing action must not lead back to itself: end the chain with an action that \
             has no `on_failure`",
        ));
    }
}

fn moment_help(moment: Moment) -> &'static str {
    match moment {
        Moment::BeforeCall => "bind it to `call_started` (the call is answered) or a later event",
        Moment::AfterCall | Moment::After => {
            "run it before the end (e.g. on `message_received`), or use a task that works after \
             it: tickets, emails, SMS, SQL, HTTP"
        }
        _ => "bind it to another event, or use another task",
    }
}
