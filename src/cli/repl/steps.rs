//! `:send`, `:mock`, `:state` and `:reset`: test-block steps typed at the prompt, checked
//! against the session's program and played on its conversation.

use super::conversation::initial_state;
use super::render::{palette, Printer};
use super::session::Session;
use crate::catalogue;
use crate::check;
use crate::diagnostics::{suggest, Code, Diagnostic};
use crate::ir::{self, Value};
use crate::printable::escape;
use crate::runtime::mock::{protocol, MockRule};
use crate::syntax::{self, ast};

impl Session {
    pub fn send(&mut self, out: &mut Printer, what: &str) {
        if what.is_empty() {
            return out.error("`:send` needs an event: `:send EVENT [PAYLOAD]`, `:send usecase U`, `:send block U.B` or `:send wait 5m`");
        }
        let Some(ast::TestStep::Send(step)) = self.step(out, "send", what) else {
            return;
        };
        let Some(event) = self.send_event(out, &step.what) else {
            return;
        };
        let payload = match &step.payload {
            Some(expr) => match self.constant(out, expr) {
                Some(value @ Value::Record(_)) => Some(value),
                Some(other) => {
                    return out.error(format!(
                        "a payload is a record (`{{ text: \"hi\" }}`), not {}",
                        other.type_name()
                    ))
                }
                None => return,
            },
            None => None,
        };
        let compiled = self.program.compiled();
        match self.live.fire(&compiled, &event, payload, out.color) {
            Ok(fired) => {
                fired.lines.iter().for_each(|l| out.line(l));
                for request in fired.unmocked {
                    out.note(format!(
                        "no mock answered {} {} on `{}`: add one with `:mock {} {} \"{}\" -> 200 {{ … }}`",
                        request.method, request.path, request.target, request.target, request.method, request.path
                    ));
                }
            }
            Err(error) => out.error(error.to_string()),
        }
    }

    pub fn mock(&mut self, out: &mut Printer, rule: &str) {
        if rule.is_empty() {
            return out
                .error("`:mock` needs a rule: `:mock TARGET METHOD \"PATH\" -> STATUS BODY`");
        }
        let Some(ast::TestStep::Mock(mock)) = self.step(out, "mock", rule) else {
            return;
        };
        let compiled = self.program.compiled();
        let Some(program) = &compiled.checked.program else {
            return out.error("the program has errors, so nothing can run; `:check` shows them");
        };
        let (scope, _) = self.program.scope();
        let mut value = |expr: &ast::Expr| {
            let checked = check::check_expr(&scope, &Default::default(), expr)?;
            self.value(&checked.expr).map_err(|error| {
                vec![Diagnostic::new(
                    Code::NotConstant,
                    error.to_string(),
                    expr.span,
                )]
            })
        };
        let step = match check::check_mock(program, &mock, &mut value) {
            Ok(step) => step,
            Err(diagnostics) => return out.diagnostics(self.program.sources(), &diagnostics),
        };
        let Some(rule) = MockRule::from_step(&step) else {
            return;
        };
        let target = &rule.target;
        if protocol(&program.targets[target]) == catalogue::Protocol::Sql {
            return match self.live.seed_sql(&compiled, target, &rule.path) {
                Ok(()) => out.note(format!("ran the SQL on `{target}`")),
                Err(error) => out.error(error.to_string()),
            };
        }
        let summary = format!(
            "{} {} {} -> {}",
            rule.target, rule.method, rule.path, rule.status
        );
        match self.live.mock(rule) {
            Ok(()) => out.note(format!("mocked {summary}")),
            Err(error) => out.error(error.to_string()),
        }
    }

    pub fn state(&mut self, out: &mut Printer) {
        let state = match &self.live.state {
            Some(state) => state.clone(),
            None => initial_state(&self.program.scope().0),
        };
        let channel = state.channel.map_or("not started", |c| c.name());
        out.line(format!(
            "conversation {}  channel {channel}  status {}  events {}",
            escape(&state.id),
            state.status.name(),
            state.seq
        ));
        let params = out.paint(palette::KEYWORD, "params");
        out.line(params);
        for (name, value) in &state.params {
            let shown = self
                .live
                .redactor()
                .redact(&super::render::show_value(value))
                .into_owned();
            out.line(format!("  {} = {}", escape(name), escape(&shown)));
        }
        let labels = match state.labels.is_empty() {
            true => "none".to_string(),
            false => escape(&state.labels.join(", ")).into_owned(),
        };
        out.line(format!(
            "{} {labels}",
            out.paint(palette::KEYWORD, "labels")
        ));
        for (scope, value) in [("user", &state.user), ("caller", &state.caller)] {
            if matches!(value, Value::Record(r) if !r.is_empty()) {
                let shown = super::render::show_value(value);
                out.line(format!(
                    "{} {}",
                    out.paint(palette::KEYWORD, scope),
                    escape(&self.live.redactor().redact(&shown))
                ));
            }
        }
    }

    pub fn reset(&mut self, out: &mut Printer) {
        self.live.reset();
        out.note("new conversation; declarations and mocks stay");
    }

    /// Parses `keyword rest` as one test step, printing its syntax errors.
    fn step(&mut self, out: &mut Printer, keyword: &str, rest: &str) -> Option<ast::TestStep> {
        let text = format!("{keyword} {rest}");
        let file = self.program.add_input(&text);
        let (mut steps, diagnostics) = syntax::parse_test_steps(file, &text);
        if diagnostics.iter().any(|d| d.is_error()) || steps.len() != 1 {
            out.diagnostics(self.program.sources(), &diagnostics);
            if diagnostics.is_empty() {
                out.error(format!("`:{keyword}` takes one step"));
            }
            return None;
        }
        steps.pop()
    }

    /// The event a `send` step names, checked against the catalogue and the program.
    fn send_event(&mut self, out: &mut Printer, what: &ast::SendWhat) -> Option<ir::SendEvent> {
        let compiled = self.program.compiled();
        let Some(program) = &compiled.checked.program else {
            out.error("the program has errors, so it cannot run; `:check` shows them");
            return None;
        };
        let did_you_mean = |name: &str, candidates: Vec<&str>| {
            suggest(name, candidates)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default()
        };
        match what {
            ast::SendWhat::Event(name) => {
                let name = &name.name;
                if catalogue::event(name).is_none() {
                    let hint =
                        did_you_mean(name, catalogue::EVENTS.iter().map(|e| e.name).collect());
                    out.error(format!(
                        "unknown event `{name}`{hint} (`:list events` lists them)"
                    ));
                    return None;
                }
                Some(ir::SendEvent::Event {
                    event: name.clone(),
                })
            }
            ast::SendWhat::Usecase(u) => match program.usecases.get(&u.name) {
                Some(_) => Some(ir::SendEvent::Usecase {
                    usecase: u.name.clone(),
                }),
                None => {
                    let hint = did_you_mean(
                        &u.name,
                        program.usecases.keys().map(String::as_str).collect(),
                    );
                    out.error(format!("no use case is declared as `{}`{hint}", u.name));
                    None
                }
            },
            ast::SendWhat::Block { usecase, block } => {
                let Some(declared) = program.usecases.get(&usecase.name) else {
                    let hint = did_you_mean(
                        &usecase.name,
                        program.usecases.keys().map(String::as_str).collect(),
                    );
                    out.error(format!(
                        "no use case is declared as `{}`{hint}",
                        usecase.name
                    ));
                    return None;
                };
                if !declared.blocks.contains(&block.name) {
                    let hint = did_you_mean(
                        &block.name,
                        declared.blocks.iter().map(String::as_str).collect(),
                    );
                    out.error(format!(
                        "use case `{}` has no block `{}`{hint}",
                        usecase.name, block.name
                    ));
                    return None;
                }
                Some(ir::SendEvent::Block {
                    usecase: usecase.name.clone(),
                    block: block.name.clone(),
                })
            }
            ast::SendWhat::Wait(expr) => match self.constant(out, expr)? {
                Value::Duration(ms) => Some(ir::SendEvent::Wait { ms }),
                other => {
                    out.error(format!(
                        "`wait` takes a duration such as 5m, not {}",
                        other.type_name()
                    ));
                    None
                }
            },
        }
    }

    /// Checks and evaluates an expression of a step (a payload, a path, a body).
    fn constant(&mut self, out: &mut Printer, expr: &ast::Expr) -> Option<Value> {
        let (program, _) = self.program.scope();
        let typed = crate::check::check_expr(&program, &Default::default(), expr);
        match typed {
            Ok(checked) => match self.value(&checked.expr) {
                Ok(value) => Some(value),
                Err(error) => {
                    out.error(error.to_string());
                    None
                }
            },
            Err(diagnostics) => {
                out.diagnostics(self.program.sources(), &diagnostics);
                None
            }
        }
    }
}
