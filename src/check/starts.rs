//! Conversation tasks that start a use case or reach a block (`start_usecase(U)`,
//! `goto_block(U.B)`): their arguments, checked against the declared use cases, and the
//! loops they could make (E0409).

use super::checker::Checker;
use crate::catalogue::Ty;
use crate::diagnostics::{Code, Diagnostic, Span};
use crate::ir::{self, Value};
use crate::syntax::ast::{self, ExprKind, Trigger};
use std::collections::{HashMap, HashSet};

impl<'a> Checker<'a> {
    /// `start_usecase(rebook_flight)`: the bare name of a declared use case.
    pub fn usecase_arg(&mut self, value: &ast::Expr) -> Option<ir::Expr> {
        let ExprKind::Name(name) = &value.kind else {
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownUsecase,
                    "`start_usecase` takes the name of a use case",
                    value.span,
                )
                .with_help("write a declared use case's name, e.g. start_usecase(rebook_flight)"),
            );
            return None;
        };
        let u = ast::Ident {
            name: name.to_string(),
            span: value.span,
        };
        let j = self.usecase_ref(&u)?;
        Some(text(&self.p.usecases[j].name.name))
    }

    /// `goto_block(rebook_flight.confirm)`: a block of a declared use case.
    pub fn block_arg(&mut self, value: &ast::Expr) -> Option<ir::Expr> {
        let (usecase, block) = match &value.kind {
            ExprKind::Field(field) => match &field.0.kind {
                ExprKind::Name(name) => (
                    ast::Ident {
                        name: name.to_string(),
                        span: field.0.span,
                    },
                    field.1.ident(),
                ),
                _ => return self.not_a_block(value),
            },
            _ => return self.not_a_block(value),
        };
        let j = self.usecase_ref(&usecase)?;
        self.block_ref(j, &block)?;
        Some(text(&format!("{}.{}", usecase.name, block.name)))
    }

    fn not_a_block(&mut self, value: &ast::Expr) -> Option<ir::Expr> {
        self.diags.push(
            Diagnostic::new(
                Code::UnknownBlock,
                "`goto_block` takes a block of a use case, written USECASE.BLOCK",
                value.span,
            )
            .with_help("write the use case and the block, e.g. goto_block(rebook_flight.confirm)"),
        );
        None
    }

    /// E0409: use cases and blocks whose bindings start them again, directly or through
    /// others (and through `on_failure`), within one event. Each loop is reported once.
    pub fn start_cycles(&mut self) {
        let edges = self.start_edges();
        let mut nodes: Vec<&str> = edges.keys().map(String::as_str).collect();
        nodes.sort_unstable();
        // A set: a program of thousands of use cases and blocks made a list here quadratic.
        let mut done: HashSet<&str> = HashSet::new();
        let mut cycles = Vec::new();
        for &start in &nodes {
            if done.contains(start) {
                continue;
            }
            // Depth first: (node, how many of its edges were followed).
            let mut path: Vec<(&str, usize)> = vec![(start, 0)];
            while let Some((node, next)) = path.last_mut() {
                let node = *node;
                let Some((to, _)) = edges.get(node).and_then(|e| e.get(*next)) else {
                    done.insert(node);
                    path.pop();
                    continue;
                };
                *next += 1;
                if let Some(from) = path.iter().position(|(n, _)| n == to) {
                    let cycle: Vec<(String, usize)> = path[from..]
                        .iter()
                        .map(|&(n, taken)| (n.to_string(), edges[n][taken - 1].1))
                        .collect();
                    cycles.push(cycle);
                } else if !done.contains(to.as_str()) {
                    path.push((to, 0));
                }
            }
        }
        for cycle in cycles {
            self.report_start_cycle(&cycle);
        }
    }

    /// For each use case (`u`) and block (`u.b`) whose bindings run an action that starts
    /// one (through `on_failure` too): what they start, with the action that starts it. A
    /// node that starts nothing is left out (it closes no loop), so a program of many
    /// bindings does not hold a table of them all.
    fn start_edges(&self) -> HashMap<String, Vec<(String, usize)>> {
        let mut edges: HashMap<String, Vec<(String, usize)>> = HashMap::new();
        for b in &self.p.bindings {
            let (usecase, block) = match &b.trigger {
                Trigger::Usecase(u) => (u, None),
                Trigger::Block { usecase, block } => (usecase, Some(block)),
                _ => continue,
            };
            let ast::BindingBody::Do(names) = &b.body else {
                continue;
            };
            let mut pending: Vec<usize> = names
                .iter()
                .filter_map(|n| self.p.action(&n.name))
                .collect();
            let mut seen = Vec::new();
            let mut found: Vec<(&String, usize)> = Vec::new();
            while let Some(j) = pending.pop() {
                if seen.contains(&j) {
                    continue;
                }
                seen.push(j);
                let info = &self.actions[j];
                if let Some(to) = &info.starts {
                    if !found.contains(&(to, j)) {
                        found.push((to, j));
                    }
                }
                pending.extend(info.on_failure.iter().map(|&(k, _)| k));
            }
            if found.is_empty() {
                continue;
            }
            let node = match block {
                Some(block) => format!("{}.{}", usecase.name, block.name),
                None => usecase.name.clone(),
            };
            let out = edges.entry(node).or_default();
            for (to, j) in found {
                if !out.iter().any(|(t, a)| t == to && *a == j) {
                    out.push((to.clone(), j));
                }
            }
        }
        edges
    }

    /// `cycle`: each use case or block, with the action that starts the next one.
    fn report_start_cycle(&mut self, cycle: &[(String, usize)]) {
        let shown = |node: &str| match node.split_once('.') {
            Some(_) => format!("block `{node}`"),
            None => format!("use case `{node}`"),
        };
        let mut chain: Vec<&str> = cycle.iter().map(|(n, _)| n.as_str()).collect();
        chain.push(&cycle[0].0);
        let label = |k: usize| {
            let (node, action) = &cycle[k];
            let next = &cycle[(k + 1) % cycle.len()].0;
            let name = &self.p.actions[*action].name.name;
            (
                self.actions[*action].task_span,
                format!(
                    "`{name}` runs in {} and starts {}",
                    shown(node),
                    shown(next)
                ),
            )
        };
        let (span, message): (Span, String) = label(0);
        let mut d = Diagnostic::new(
            Code::StartCycle,
            format!(
                "{} starts itself: {}",
                shown(&cycle[0].0),
                chain.join(" → ")
            ),
            span,
        )
        .with_label_message(message);
        for k in 1..cycle.len() {
            let (span, message) = label(k);
            d = d.with_secondary(span, message);
        }
        self.diags.push(d.with_help(
            "a use case started from its own bindings would start again and again within one \
             event: start it from an event binding (`on dtmf_received when … do …`) instead",
        ));
    }
}

/// What an action's task starts, when it is `start_usecase` or `goto_block`: `u` or `u.b`.
pub fn started(call: &ir::TaskCall) -> Option<String> {
    let spec = call.task.builtin()?.spec();
    let first = spec.args.first()?;
    if !matches!(first.ty, Ty::UsecaseRef | Ty::BlockRef) {
        return None;
    }
    match call.args.first() {
        Some((_, ir::Expr::Lit(Value::Text(name)))) => Some(name.clone()),
        _ => None,
    }
}

fn text(s: &str) -> ir::Expr {
    ir::Expr::Lit(Value::Text(s.into()))
}
