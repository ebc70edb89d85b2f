//! Visiting the expressions of a program: every place one is stored, and every expression
//! inside one. Iterative, so a hand-edited IR nested arbitrarily deep cannot overflow the
//! stack here.

use super::{Expectation, Expr, Program, TestStep};

impl Expr {
    /// Calls `visit` on this expression and on every expression inside it.
    pub fn walk(&self, visit: &mut dyn FnMut(&Expr)) {
        let mut stack = vec![self];
        while let Some(expr) = stack.pop() {
            visit(expr);
            stack.extend(expr.children());
        }
    }

    /// The expressions directly inside this one.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Lit(_) | Expr::Var(_) => Vec::new(),
            Expr::Interp(items) | Expr::List(items) | Expr::Call(_, items) => {
                items.iter().collect()
            }
            Expr::Record(entries) => entries.iter().map(|(_, e)| e).collect(),
            Expr::Field(inner, _) | Expr::Unary(_, inner) => vec![inner],
            Expr::Index(a, b) | Expr::Binary(_, a, b) => vec![a, b],
            Expr::If(a, b, c) => vec![a, b, c],
        }
    }

    /// How many expressions deep it nests (a literal is 1).
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 1)];
        while let Some((expr, depth)) = stack.pop() {
            deepest = deepest.max(depth);
            stack.extend(expr.children().into_iter().map(|c| (c, depth + 1)));
        }
        deepest
    }
}

impl Program {
    /// Every expression the program stores: target fields, declared tasks, actions,
    /// replies, bindings' conditions and tests' `expect param` checks.
    pub fn expressions(&self) -> Vec<&Expr> {
        let mut roots: Vec<&Expr> = Vec::new();
        for target in self.targets.values() {
            roots.extend(target.fields.values());
        }
        for task in self.tasks.values() {
            roots.push(&task.path);
            roots.extend(
                [&task.query, &task.body, &task.headers, &task.result]
                    .into_iter()
                    .flatten(),
            );
        }
        for action in self.actions.values() {
            roots.extend(action.task.args.iter().map(|(_, e)| e));
            roots.extend(&action.task.rest);
            roots.extend(
                [&action.when, &action.idempotency_key]
                    .into_iter()
                    .flatten(),
            );
        }
        for reply in self.replies.values() {
            roots.extend(reply.exprs());
        }
        roots.extend(self.bindings.iter().filter_map(|b| b.when.as_ref()));
        for test in &self.tests {
            for step in &test.steps {
                if let TestStep::Expect {
                    expectation: Expectation::Param { check },
                    ..
                } = step
                {
                    roots.push(check);
                }
            }
        }
        roots
    }
}
