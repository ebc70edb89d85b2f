//! Declarations, bindings and test steps: blocks hold one entry per line; bindings and steps
//! are one line each (only a list or record at their end, or a condition too long for the
//! line, may break).

use super::printer::Printer;
use crate::syntax::ast::{
    Agent, AgentEntry, Binding, BindingBody, Expect, Expectation, Expr, ExprKind, Field, File,
    Ident, Item, Mock, ParamDecl, Send, SendWhat, Span, TaskDecl, TaskParam, Test, TestStep,
    Trigger,
};

impl Printer<'_> {
    /// Block declarations get a blank line around them; imports and bindings keep the
    /// user's grouping.
    pub(super) fn file(&mut self, file: &File) {
        let mut previous_is_block = false;
        for (i, item) in file.items.iter().enumerate() {
            let span = item.span();
            let is_block = !matches!(item, Item::Import(_) | Item::Binding(_));
            self.open_line(span.start, is_block || previous_is_block);
            self.item(item);
            let limit = file
                .items
                .get(i + 1)
                .map_or(u32::MAX, |next| next.span().start);
            self.close_line(span.end, limit);
            previous_is_block = is_block;
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Import(import) => {
                self.write("import ");
                let _ = self.verbatim(import.path_span);
            }
            Item::Agent(agent) => self.agent(agent),
            Item::Target(target) => {
                self.keyword_name("target", &target.name);
                self.write(": ");
                self.write(&target.kind.name);
                self.fields(&target.fields, target.span);
            }
            Item::Task(task) => self.task(task),
            Item::Action(action) => {
                self.keyword_name("action", &action.name);
                self.fields(&action.fields, action.span);
            }
            Item::Reply(reply) => {
                self.keyword_name("reply", &reply.name);
                self.fields(&reply.fields, reply.span);
            }
            Item::Usecase(usecase) => {
                self.keyword_name("usecase", &usecase.name);
                self.fields(&usecase.fields, usecase.span);
            }
            Item::Binding(binding) => self.binding(binding),
            Item::Test(test) => self.test(test),
        }
    }

    fn keyword_name(&mut self, keyword: &str, name: &Ident) {
        self.write(keyword);
        self.write(" ");
        self.write(&name.name);
    }

    /// ` { entry \n entry \n }`, or ` {}` when there is nothing inside.
    fn block<T>(
        &mut self,
        entries: &[T],
        span: Span,
        span_of: impl Fn(&T) -> Span,
        mut print: impl FnMut(&mut Self, &T),
    ) {
        self.write(" ");
        if entries.is_empty() && !self.comments_before(span.end) {
            self.write("{}");
            return;
        }
        self.open_block("{");
        for (i, entry) in entries.iter().enumerate() {
            let entry_span = span_of(entry);
            let limit = entries
                .get(i + 1)
                .map_or(span.end, |next| span_of(next).start);
            self.open_line(entry_span.start, false);
            print(self, entry);
            self.close_line(entry_span.end, limit);
        }
        self.close_block(span.end, "}");
    }

    fn fields(&mut self, fields: &[Field], span: Span) {
        self.block(fields, span, |f| f.span, Self::field);
    }

    fn field(&mut self, field: &Field) {
        self.write(&field.key.name);
        self.write(": ");
        self.expr(&field.value, 0);
    }

    fn agent(&mut self, agent: &Agent) {
        self.keyword_name("agent", &agent.name);
        let span_of = |entry: &AgentEntry| match entry {
            AgentEntry::Field(field) => field.span,
            AgentEntry::Params { span, .. } => *span,
        };
        self.block(
            &agent.entries,
            agent.span,
            span_of,
            |p, entry| match entry {
                AgentEntry::Field(field) => p.field(field),
                AgentEntry::Params { params, span } => {
                    p.write("params:");
                    p.block(params, *span, |param| param.span, Self::param);
                }
            },
        );
    }

    fn param(&mut self, param: &ParamDecl) {
        self.write(&param.name.name);
        self.write(": ");
        self.write(&param.ty.name);
        if let Some(default) = &param.default {
            self.write(" = ");
            self.expr(default, 0);
        }
    }

    /// The parameters stay on the header line when it fits, else one per line.
    fn task(&mut self, task: &TaskDecl) {
        self.keyword_name("task", &task.name);
        let header_end = task.target.span.start;
        let params_span = Span {
            start: task.name.span.end,
            end: header_end,
            ..task.name.span
        };
        let mark = self.mark();
        if self.comments.any_within(params_span) || !self.inline_task_params(task) {
            self.rollback(mark);
            self.open_block("(");
            for (i, param) in task.params.iter().enumerate() {
                let limit = task
                    .params
                    .get(i + 1)
                    .map_or(header_end, |next| next.span.start);
                self.open_line(param.span.start, false);
                self.task_param(param);
                self.write(",");
                self.close_line(param.span.end, limit);
            }
            self.close_block(header_end, ")");
        }
        self.write(" on ");
        self.write(&task.target.name);
        self.fields(&task.fields, task.span);
    }

    /// `(a: text, b: number = 1)`; false when the header line would not fit.
    fn inline_task_params(&mut self, task: &TaskDecl) -> bool {
        let start = self.out.len();
        self.write("(");
        for (i, param) in task.params.iter().enumerate() {
            if i > 0 {
                self.write(", ");
            }
            self.task_param(param);
        }
        self.write(")");
        let rest = " on ".len() + task.target.name.chars().count() + " {".len();
        self.fits(rest) && !self.out[start..].contains('\n')
    }

    fn task_param(&mut self, param: &TaskParam) {
        self.write(&param.name.name);
        self.write(": ");
        self.write(&param.ty.name);
        if param.optional {
            self.write("?");
        }
        if let Some(default) = &param.default {
            self.write(" = ");
            self.expr(default, 0);
        }
    }

    fn binding(&mut self, binding: &Binding) {
        match &binding.trigger {
            Trigger::Events(events) => {
                let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
                self.write("on ");
                self.write(&names.join(", "));
            }
            Trigger::BeforeCall(_) => self.write("before call"),
            Trigger::AfterCall(_) => self.write("after call"),
            Trigger::Usecase(usecase) => self.keyword_name("in usecase", usecase),
            Trigger::Block { usecase, block } => self.block_ref("at block", usecase, block),
        }
        let body = match &binding.body {
            BindingBody::Do(actions) => {
                let names: Vec<&str> = actions.iter().map(|a| a.name.as_str()).collect();
                format!(" do {}", names.join(", "))
            }
            BindingBody::Reply(reply) => format!(" reply {}", reply.name),
        };
        if let Some(when) = &binding.when {
            self.write(" when ");
            let width = body.chars().count();
            let one_line = self.fits_flat(when, width);
            let (start, breaks) = (self.out.len(), self.line_breaks());
            self.expr(when, if one_line { width } else { 0 });
            // The body goes on a line of its own after a condition that fills its line or
            // breaks onto continuation lines (not after a list that closes a line).
            let filled = !self.out[start..].contains('\n');
            if !one_line && (filled || self.line_breaks() != breaks) {
                self.continued(|p| {
                    p.line_break();
                    p.write(body.trim_start());
                });
                return;
            }
        }
        self.write(&body);
    }

    fn block_ref(&mut self, keyword: &str, usecase: &Ident, block: &Ident) {
        self.keyword_name(keyword, usecase);
        self.write(".");
        self.write(&block.name);
    }

    fn test(&mut self, test: &Test) {
        self.write("test ");
        let _ = self.verbatim(test.name_span);
        let span_of = |step: &TestStep| match step {
            TestStep::Mock(mock) => mock.span,
            TestStep::Send(send) => send.span,
            TestStep::Expect(expect) => expect.span,
        };
        self.block(&test.steps, test.span, span_of, |p, step| match step {
            TestStep::Mock(mock) => p.mock(mock),
            TestStep::Send(send) => p.send(send),
            TestStep::Expect(expect) => p.expect(expect),
        });
    }

    fn mock(&mut self, mock: &Mock) {
        self.keyword_name("mock", &mock.target);
        self.write(" ");
        self.write(&mock.method.name);
        self.write(" ");
        self.expr(&mock.path, 0);
        if let Some(status) = &mock.status {
            self.write(" -> ");
            self.status(status);
            if let Some(body) = &mock.body {
                self.write(" ");
                self.expr(body, 0);
            }
        }
    }

    /// The grammar takes one term as a status (so that a list body after it is not read as
    /// an index): a number or a word, anything else in parentheses.
    fn status(&mut self, status: &Expr) {
        let term = status.parens || matches!(status.kind, ExprKind::Number(_) | ExprKind::Name(_));
        if !term {
            self.write("(");
        }
        self.expr(status, usize::from(!term));
        if !term {
            self.write(")");
        }
    }

    fn send(&mut self, send: &Send) {
        self.write("send ");
        match &send.what {
            SendWhat::Event(event) => self.write(&event.name),
            SendWhat::Usecase(usecase) => self.keyword_name("usecase", usecase),
            SendWhat::Block { usecase, block } => self.block_ref("block", usecase, block),
            SendWhat::Wait(duration) => {
                self.write("wait ");
                self.expr(duration, 0);
            }
        }
        if let Some(payload) = &send.payload {
            self.write(" ");
            self.expr(payload, 0);
        }
    }

    fn expect(&mut self, expect: &Expect) {
        self.write(if expect.negated {
            "expect not "
        } else {
            "expect "
        });
        match &expect.what {
            Expectation::Action(outcome, action) => self.keyword_name(outcome.keyword(), action),
            Expectation::Effect { effect, fields } => {
                self.write(&effect.name);
                self.optional_fields(fields.as_ref());
            }
            Expectation::Label(label) => self.keyword_expr("label", label),
            Expectation::Param(check) => self.keyword_expr("param", check),
            Expectation::Reply(reply) => self.keyword_expr("reply", reply),
            Expectation::Status(status) => self.keyword_expr("status", status),
            Expectation::Request {
                target,
                method,
                path,
                fields,
            } => {
                self.keyword_name("request", target);
                self.write(" ");
                self.write(&method.name);
                self.write(" ");
                self.expr(path, 0);
                self.optional_fields(fields.as_ref());
            }
            Expectation::Email { target, fields } => {
                self.keyword_name("email", target);
                self.optional_fields(fields.as_ref());
            }
            Expectation::Sms { target, fields } => {
                self.keyword_name("sms", target);
                self.optional_fields(fields.as_ref());
            }
            Expectation::Row {
                target,
                table,
                fields,
            } => {
                self.keyword_name("row", target);
                self.write(" ");
                self.expr(table, 0);
                self.optional_fields(fields.as_ref());
            }
        }
    }

    fn keyword_expr(&mut self, keyword: &str, e: &Expr) {
        self.write(keyword);
        self.write(" ");
        self.expr(e, 0);
    }

    fn optional_fields(&mut self, fields: Option<&Expr>) {
        if let Some(fields) = fields {
            self.write(" ");
            self.expr(fields, 0);
        }
    }
}
