//! Bindings: their trigger (event, use case, block), channel and moment rules for every
//! action they run (through `on_failure` too), the reply rule, and `on_failure` cycles.

use super::checker::{Checker, Referred};
use super::parallel::{Deferred, WalkKey};
use super::program::Decl;
use super::scope::{Access, EventScope, Scope};
use super::types::Type;
use super::unknown_help;
use crate::catalogue::{self, Moment, REPLY_EVENTS};
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::ir;
use crate::syntax::ast::{self, BindingBody, ExprKind, Trigger};

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
    /// Checks a binding and lowers it: one IR binding per event it names (`on a, b do …`
    /// is `on a do …` then `on b do …`), so the runtime matches each event as before.
    pub fn binding(&mut self, i: usize) -> Vec<ir::Binding> {
        let b = self.p.bindings[i];
        let triggers = self.triggers(&b.trigger);
        let body = self.binding_body(&b.body, &triggers);
        // A diagnostic raised the same way for two events is one mistake: reported once.
        let first = self.diags.len();
        let mut lowered = Vec::with_capacity(triggers.len());
        for trigger in triggers {
            let mark = self.diags.len();
            let when = b
                .when
                .as_ref()
                .map(|w| self.binding_when(w, trigger.as_ref()));
            let fresh: Vec<Diagnostic> = self.diags.drain(mark..).collect();
            for d in fresh {
                if !self.diags[first..].contains(&d) {
                    self.diags.push(d);
                }
            }
            if let Some(trigger) = trigger {
                lowered.push(ir::Binding {
                    trigger: trigger.ir,
                    when,
                    body: body.clone(),
                    span: self.ir_span(b.span),
                });
            }
        }
        lowered
    }

    /// A binding's `when`, checked against one of its triggers (its event's payload).
    fn binding_when(&mut self, when: &ast::Expr, trigger: Option<&TriggerInfo>) -> ir::Expr {
        let scope = match trigger {
            Some(t) => Scope {
                usecase: t.usecase,
                block: t.block,
                ..self.conversation_scope("this binding's `when`", t.event)
            },
            None => self.conversation_scope("this binding's `when`", EventScope::Any),
        };
        let (typed, _) = self.with_expr(scope, |ex| {
            ex.expect(when, Type::Bool, "the `when` condition")
        });
        typed.expr
    }

    /// The actions or reply a binding runs, checked against each of its triggers.
    fn binding_body(
        &mut self,
        body: &BindingBody,
        triggers: &[Option<TriggerInfo>],
    ) -> ir::BindingBody {
        match body {
            BindingBody::Do(names) => {
                let mut actions = Vec::with_capacity(names.len());
                for name in names {
                    if let Some(j) = self.action_by_name(&name.name, name.span) {
                        for t in triggers.iter().flatten() {
                            self.reach(j, t, name.span);
                        }
                        actions.push(name.name.clone());
                    }
                }
                ir::BindingBody::Actions(actions)
            }
            BindingBody::Reply(reply) => {
                for t in triggers.iter().flatten() {
                    self.reply_trigger(t);
                }
                self.reply_by_name(&reply.name, reply.span);
                ir::BindingBody::Reply(reply.name.clone())
            }
        }
    }

    /// The triggers of a binding: one per event it names (`None` where a name is wrong).
    fn triggers(&mut self, trigger: &Trigger) -> Vec<Option<TriggerInfo>> {
        match trigger {
            Trigger::Events(events) => self.event_triggers(events),
            Trigger::BeforeCall(span) => vec![self.event_trigger("call_ringing", *span)],
            Trigger::AfterCall(span) => vec![self.event_trigger("call_ended", *span)],
            Trigger::Usecase(u) => vec![self.usecase_trigger(u)],
            Trigger::Block { usecase, block } => vec![self.block_trigger(usecase, block)],
        }
    }

    /// `on a, b`: each event once.
    fn event_triggers(&mut self, events: &[ast::Ident]) -> Vec<Option<TriggerInfo>> {
        let mut seen: Vec<&str> = Vec::with_capacity(events.len());
        let mut triggers = Vec::with_capacity(events.len());
        for event in events {
            if seen.contains(&event.name.as_str()) {
                self.diags.push(
                    Diagnostic::new(
                        Code::DuplicateName,
                        format!("`{}` is named twice in this binding", event.name),
                        event.span,
                    )
                    .with_help("name each event once: the binding runs once per event"),
                );
                continue;
            }
            seen.push(&event.name);
            triggers.push(self.event_trigger(&event.name, event.span));
        }
        triggers
    }

    fn usecase_trigger(&mut self, u: &ast::Ident) -> Option<TriggerInfo> {
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

    fn block_trigger(&mut self, usecase: &ast::Ident, block: &ast::Ident) -> Option<TriggerInfo> {
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
        self.unknown_decl(
            Code::UnknownUsecase,
            ("use case", "a use case"),
            &u.name,
            u.span,
            |d| matches!(d, Decl::Usecase(_)),
            format!("declare it: `usecase {} {{ blocks: [...] }}`", u.name),
        );
        None
    }

    pub fn block_ref(&mut self, usecase: usize, block: &ast::Ident) -> Option<()> {
        self.referred(Referred::Usecase(usecase));
        let blocks = &self.blocks[usecase];
        if blocks.contains(&block.name.as_str()) {
            return Some(());
        }
        let u = self.p.usecases[usecase];
        let broken = |f: &ast::Field| matches!(f.value.kind, ExprKind::Error);
        let unknown = |f: &ast::Field| {
            catalogue::USECASE_FIELDS
                .iter()
                .all(|s| s.name != f.key.name)
        };
        let blocks_unsure = |f: &ast::Field| (f.key.name == "blocks" && broken(f)) || unknown(f);
        if u.fields.iter().any(blocks_unsure) {
            // Its `blocks` did not parse, or may be the field misspelt (E0204): that error
            // is the report.
            return Some(());
        }
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

    /// Checks an action bound to `t`, and every action its `on_failure` lists reach: tasks
    /// that make no sense at that moment (E0403), `usecase`/`block` read where unset (E0201).
    fn reach(&mut self, start: usize, t: &TriggerInfo, bound_at: Span) {
        let key = (t.moment, t.usecase == Access::Yes, t.block == Access::Yes);
        if self.deferred.is_none() {
            self.walk(start, key, Some((&t.label, bound_at)));
            return;
        }
        // On a later thread of `parallel`, walked here to learn whether it reports: what it
        // reports, and how, depends on earlier bindings' walks, so such a walk is done
        // again at the merge, in order. One that reports nothing changes nothing there.
        if self.walk(start, key, None) {
            let at = self.diags.len();
            if let Some(deferred) = &mut self.deferred {
                deferred.push(Deferred {
                    at,
                    start,
                    key,
                    label: t.label.clone(),
                    bound_at,
                });
            }
        }
    }

    /// A walk of [`Self::reach`] that a thread of [`super::parallel`] left for the merge.
    pub fn reach_deferred(&mut self, d: Deferred) {
        self.walk(d.start, d.key, Some((&d.label, d.bound_at)));
    }

    /// The walk of [`Self::reach`] from `start`, for a trigger at `moment` that sets the
    /// use case and the block or not; reports under the trigger's label and the span of
    /// the binding when `report` has them. Whether an action it walked first reports.
    fn walk(
        &mut self,
        start: usize,
        (moment, usecase, block): WalkKey,
        report: Option<(&str, Span)>,
    ) -> bool {
        if self.walked.is_empty() {
            self.walked = vec![0; self.p.actions.len()];
        }
        let mut reports = false;
        let kind = 1 << (moment as u32 * 4 + u32::from(usecase) * 2 + u32::from(block));
        // (action, the `on_failure` entry it is reached through)
        let mut pending: Vec<(usize, Option<Span>)> = vec![(start, None)];
        while let Some((j, via)) = pending.pop() {
            if self.walked[j] & kind != 0 {
                continue;
            }
            self.walked[j] |= kind;
            let info = &self.actions[j];
            let (not_at, reads) = (info.not_at, info.reads);
            pending.extend(
                info.on_failure
                    .iter()
                    .rev()
                    .map(|&(k, span)| (k, Some(span))),
            );
            let here = not_at.iter().any(|&(not, _)| not == moment)
                || (reads.usecase.is_some() && !usecase)
                || (reads.block.is_some() && !block);
            reports |= here;
            let Some((label, bound_at)) = report.filter(|_| here) else {
                continue;
            };
            let name = &self.p.actions[j].name.name;
            for &(not, reason) in not_at {
                if not != moment {
                    continue;
                }
                let mut d = Diagnostic::new(
                    Code::WrongMoment,
                    format!(
                        "`{}` cannot run on {}: {reason}",
                        self.actions[j].task_label, label
                    ),
                    self.actions[j].task_span,
                )
                .with_secondary(bound_at, format!("`{name}` runs on {label} from here"));
                if let Some(via) = via {
                    d = d.with_secondary(
                        via,
                        format!("`{name}` is reached through this `on_failure`"),
                    );
                }
                self.diags.push(d.with_help(moment_help(not)));
            }
            for (read, root, access) in [
                (reads.usecase, "usecase", usecase),
                (reads.block, "block", block),
            ] {
                if let (Some(span), false) = (read, access) {
                    let scope = Scope::constant("this action");
                    self.diags.push(
                        Diagnostic::new(
                            Code::UnknownName,
                            format!("`{root}` is not set when `{name}` runs on {label}"),
                            span,
                        )
                        .with_secondary(bound_at, "bound here")
                        .with_help(scope.unavailable_root_help(root)),
                    );
                }
            }
        }
        reports
    }

    /// E0404: actions whose `on_failure` lists lead back to them. A depth-first walk over
    /// every `on_failure` entry; each entry closing a loop reports that loop once.
    pub fn failure_cycles(&mut self) {
        const NEW: u8 = 0;
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let mut state = vec![NEW; self.actions.len()];
        let mut cycles = Vec::new();
        for start in 0..self.actions.len() {
            if state[start] != NEW {
                continue;
            }
            // (action, how many of its entries were followed)
            let mut path: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = ON_PATH;
            while let Some((j, next)) = path.last_mut() {
                let j = *j;
                let Some(&(k, _)) = self.actions[j].on_failure.get(*next) else {
                    state[j] = DONE;
                    path.pop();
                    continue;
                };
                *next += 1;
                match state[k] {
                    NEW => {
                        state[k] = ON_PATH;
                        path.push((k, 0));
                    }
                    ON_PATH => {
                        let from = path.iter().position(|&(p, _)| p == k).unwrap_or(0);
                        // Each action with the entry that leads on to the next one.
                        let cycle: Vec<(usize, Span)> = path[from..]
                            .iter()
                            .map(|&(p, taken)| (p, self.actions[p].on_failure[taken - 1].1))
                            .collect();
                        cycles.push(cycle);
                    }
                    _ => {}
                }
            }
        }
        for cycle in cycles {
            self.report_cycle(&cycle);
        }
    }

    fn report_cycle(&mut self, cycle: &[(usize, Span)]) {
        let name = |j: usize| self.p.actions[j].name.name.as_str();
        let mut chain: Vec<&str> = cycle.iter().map(|&(j, _)| name(j)).collect();
        chain.push(name(cycle[0].0));
        let next = |k: usize| cycle[(k + 1) % cycle.len()].0;
        let (first, first_span) = cycle[0];
        let mut d = Diagnostic::new(
            Code::FailureCycle,
            format!("`on_failure` cycle: {}", chain.join(" → ")),
            first_span,
        )
        .with_label_message(format!(
            "`{}` falls back to `{}`",
            name(first),
            name(next(0))
        ));
        for (k, &(j, span)) in cycle.iter().enumerate().skip(1) {
            d = d.with_secondary(
                span,
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
