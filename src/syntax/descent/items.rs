//! Declarations, bindings and test steps (the grammar's `file`, `item` and `step` rules).

use super::Parser;
use crate::syntax::ast::*;

impl Parser<'_> {
    /// `nl* (item (nl+ item)*)? nl*` up to the end of the text.
    pub(super) fn file_items(&mut self) -> Option<Vec<Item>> {
        let mut items = Vec::new();
        self.blank_lines();
        while !self.at_end() {
            items.push(self.item()?);
            if !self.blank_lines() && !self.at_end() {
                return None;
            }
        }
        Some(items)
    }

    fn item(&mut self) -> Option<Item> {
        let start = self.start();
        let (keyword, _) = self.word()?;
        Some(match keyword {
            "import" => {
                let (lit, path_span) = self.quoted_string()?;
                let Some(path) = lit.as_plain() else {
                    return self.give_up();
                };
                Item::Import(Box::new(Import {
                    path,
                    path_span,
                    span: self.span(start),
                }))
            }
            "agent" => {
                let name = self.name()?;
                self.expect(b'{')?;
                let entries = self.delimited(b'}', Self::agent_entry)?;
                Item::Agent(Box::new(Agent {
                    name,
                    entries,
                    span: self.span(start),
                }))
            }
            "target" => {
                let name = self.name()?;
                self.expect(b':')?;
                let kind = self.name()?;
                let fields = self.fields()?;
                Item::Target(Box::new(Target {
                    name,
                    kind,
                    fields,
                    span: self.span(start),
                }))
            }
            "task" => {
                let name = self.name()?;
                self.expect(b'(')?;
                let params = self.delimited(b')', Self::task_param)?;
                if !self.keyword("on") {
                    return None;
                }
                let target = self.name()?;
                let fields = self.fields()?;
                Item::Task(Box::new(TaskDecl {
                    name,
                    params,
                    target,
                    fields,
                    span: self.span(start),
                }))
            }
            "action" | "reply" | "usecase" => {
                let name = self.name()?;
                let fields = self.fields()?;
                let span = self.span(start);
                match keyword {
                    "action" => Item::Action(Box::new(Action { name, fields, span })),
                    "reply" => Item::Reply(Box::new(Reply { name, fields, span })),
                    _ => Item::Usecase(Box::new(Usecase { name, fields, span })),
                }
            }
            "test" => {
                let (lit, name_span) = self.quoted_string()?;
                let Some(name) = lit.as_plain() else {
                    return self.give_up();
                };
                self.expect(b'{')?;
                let steps = self.delimited(b'}', Self::step)?;
                Item::Test(Box::new(Test {
                    name,
                    name_span,
                    steps,
                    span: self.span(start),
                }))
            }
            _ => Item::Binding(Box::new(self.binding(start, keyword)?)),
        })
    }

    /// `params: { … }`, or a field (also when a `params` block does not parse as one).
    fn agent_entry(&mut self) -> Option<AgentEntry> {
        let mark = self.mark();
        let params_ahead = matches!(self.word(), Some(("params", _))) && self.eat(b':');
        self.reset(mark);
        if params_ahead {
            self.either(Self::params, |p| Some(AgentEntry::Field(p.field()?)))
        } else {
            Some(AgentEntry::Field(self.field()?))
        }
    }

    fn params(&mut self) -> Option<AgentEntry> {
        let start = self.start();
        self.word()?;
        self.expect(b':')?;
        self.expect(b'{')?;
        let params = self.delimited(b'}', |p| {
            let start = p.start();
            let name = p.name()?;
            p.expect(b':')?;
            let ty = p.name()?;
            let default = p.default_value()?;
            Some(ParamDecl {
                name,
                ty,
                default,
                span: p.span(start),
            })
        })?;
        Some(AgentEntry::Params {
            params,
            span: self.span(start),
        })
    }

    /// `("=" expr)?`
    fn default_value(&mut self) -> Option<Option<Expr>> {
        if self.eat(b'=') {
            Some(Some(self.expr()?))
        } else {
            Some(None)
        }
    }

    fn task_param(&mut self) -> Option<TaskParam> {
        let start = self.start();
        let name = self.name()?;
        self.expect(b':')?;
        let ty = self.name()?;
        let optional = self.eat(b'?');
        let default = self.default_value()?;
        Some(TaskParam {
            name,
            ty,
            optional,
            default,
            span: self.span(start),
        })
    }

    fn fields(&mut self) -> Option<Vec<Field>> {
        self.expect(b'{')?;
        self.delimited(b'}', Self::field)
    }

    fn field(&mut self) -> Option<Field> {
        let start = self.start();
        let (key, key_span) = self.word()?;
        self.expect(b':')?;
        let value = self.expr()?;
        Some(Field {
            key: Word {
                name: Name::new(key),
                span: key_span,
            },
            value,
            span: self.span(start),
        })
    }

    /// A binding whose first word (`on`, `before`, …) has been read.
    fn binding(&mut self, start: usize, first: &str) -> Option<Binding> {
        let trigger = match first {
            "on" => Trigger::Events(self.name_list()?),
            "before" | "after" => {
                if !self.keyword("call") {
                    return None;
                }
                let span = self.span(start);
                if first == "before" {
                    Trigger::BeforeCall(span)
                } else {
                    Trigger::AfterCall(span)
                }
            }
            "in" => {
                if !self.keyword("usecase") {
                    return None;
                }
                Trigger::Usecase(self.name()?)
            }
            "at" => {
                if !self.keyword("block") {
                    return None;
                }
                let (usecase, block) = self.block_path()?;
                Trigger::Block { usecase, block }
            }
            _ => return None,
        };
        self.blank_lines();
        let when = if self.keyword("when") {
            let when = self.expr()?;
            self.blank_lines();
            Some(when)
        } else {
            None
        };
        let body = if self.keyword("do") {
            BindingBody::Do(self.name_list()?)
        } else if self.keyword("reply") {
            BindingBody::Reply(self.name()?)
        } else {
            return None;
        };
        Some(Binding {
            trigger,
            when,
            body,
            span: self.span(start),
        })
    }

    /// `USECASE.BLOCK`
    fn block_path(&mut self) -> Option<(Ident, Ident)> {
        let usecase = self.name()?;
        self.expect(b'.')?;
        Some((usecase, self.name()?))
    }

    /// `word ("," nl* word)*`: the events after `on`, the actions after `do`.
    fn name_list(&mut self) -> Option<Vec<Ident>> {
        let mut actions = vec![self.name()?];
        loop {
            let mark = self.mark();
            if !self.eat(b',') {
                return Some(crate::syntax::exact(actions));
            }
            self.blank_lines();
            match self.name() {
                Some(action) => actions.push(action),
                None if self.gave_up => return None,
                None => {
                    self.reset(mark);
                    return Some(crate::syntax::exact(actions));
                }
            }
        }
    }

    fn step(&mut self) -> Option<TestStep> {
        let start = self.start();
        let (keyword, _) = self.word()?;
        match keyword {
            "mock" => self.mock(start).map(TestStep::Mock),
            "send" => self.send(start).map(TestStep::Send),
            "expect" => self.expect_step(start).map(TestStep::Expect),
            _ => None,
        }
    }

    fn mock(&mut self, start: usize) -> Option<Mock> {
        let target = self.name()?;
        let method = self.name()?;
        let path = self.string_expr()?;
        self.blanks();
        let (status, body) = if self.looking_at(b"->") {
            self.advance(2);
            (Some(self.status()?), self.optional_expr()?)
        } else {
            (None, None)
        };
        Some(Mock {
            target,
            method,
            path,
            status,
            body,
            span: self.span(start),
        })
    }

    /// `send_usecase | send_block | send_wait | send_event`, in that order: `send wait`
    /// alone sends an event named `wait`.
    fn send(&mut self, start: usize) -> Option<Send> {
        let usecase = |p: &mut Self| {
            p.keyword("usecase").then_some(())?;
            Some((SendWhat::Usecase(p.name()?), None))
        };
        let block = |p: &mut Self| {
            p.keyword("block").then_some(())?;
            let (usecase, block) = p.block_path()?;
            Some((SendWhat::Block { usecase, block }, None))
        };
        let wait = |p: &mut Self| {
            p.keyword("wait").then_some(())?;
            Some((SendWhat::Wait(p.expr()?), None))
        };
        let event = |p: &mut Self| {
            let event = p.name()?;
            Some((SendWhat::Event(event), p.optional_expr()?))
        };
        let (what, payload) =
            self.either(usecase, |p| p.either(block, |p| p.either(wait, event)))?;
        Some(Send {
            what,
            payload,
            span: self.span(start),
        })
    }

    fn expect_step(&mut self, start: usize) -> Option<Expect> {
        let negated = self.keyword("not");
        let (keyword, keyword_span) = self.word()?;
        let outcome = Outcome::ALL.into_iter().find(|o| o.keyword() == keyword);
        let what = match keyword {
            _ if outcome.is_some() => Expectation::Action(outcome?, self.name()?),
            _ if EFFECTS.contains(&keyword) => Expectation::Effect {
                effect: Ident {
                    name: keyword.to_string(),
                    span: keyword_span,
                },
                fields: self.optional_expr()?,
            },
            "label" => Expectation::Label(self.expr()?),
            "param" => Expectation::Param(self.expr()?),
            "reply" => Expectation::Reply(self.expr()?),
            "status" => Expectation::Status(self.expr()?),
            "request" => Expectation::Request {
                target: self.name()?,
                method: self.name()?,
                path: self.string_expr()?,
                fields: self.optional_expr()?,
            },
            "email" => Expectation::Email {
                target: self.name()?,
                fields: self.optional_expr()?,
            },
            "sms" => Expectation::Sms {
                target: self.name()?,
                fields: self.optional_expr()?,
            },
            "row" => Expectation::Row {
                target: self.name()?,
                table: self.string_expr()?,
                fields: self.optional_expr()?,
            },
            _ => return None,
        };
        Some(Expect {
            negated,
            what,
            span: self.span(start),
        })
    }
}
