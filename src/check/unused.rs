//! Warnings for declarations nothing refers to (W0601–W0603, W0606).

use super::checker::Checker;
use super::program::Decl;
use crate::diagnostics::{Code, Diagnostic};
use crate::syntax::ast::Ident;

/// One kind of declaration that may go unused; `{}` in the texts is the name.
struct Rule<'r> {
    used: &'r [bool],
    names: Vec<&'r Ident>,
    decl: fn(usize) -> Decl,
    code: Code,
    message: &'static str,
    help: &'static str,
}

impl Checker<'_> {
    pub fn unused(&mut self) {
        let p = self.p;
        let rules = [
            Rule {
                used: &self.used.actions,
                names: p.actions.iter().map(|a| &a.name).collect(),
                decl: Decl::Action,
                code: Code::UnusedAction,
                message: "action `{}` never runs",
                help: "bind it (`on EVENT do {}`), use it as an `on_failure`, or remove it",
            },
            Rule {
                used: &self.used.replies,
                names: p.replies.iter().map(|r| &r.name).collect(),
                decl: Decl::Reply,
                code: Code::UnusedReply,
                message: "reply `{}` is never sent",
                help: "send it: `on conversation_started reply {}`, or from an action with \
                       `task: reply({})`",
            },
            Rule {
                used: &self.used.targets,
                names: p.targets.iter().map(|t| &t.name).collect(),
                decl: Decl::Target,
                code: Code::UnusedTarget,
                message: "target `{}` is not used by any action",
                help: "use it in an action (`target: {}`), or remove it",
            },
            Rule {
                used: &self.used.tasks,
                names: p.tasks.iter().map(|t| &t.name).collect(),
                decl: Decl::Task,
                code: Code::UnusedTask,
                message: "task `{}` is never called",
                help: "call it from an action (`task: {}(…)`), or remove it",
            },
        ];
        let mut warnings = Vec::new();
        for rule in rules {
            for (j, name) in rule.names.iter().enumerate() {
                // A duplicate's second declaration is already an error.
                let registered =
                    p.names.get(name.name.as_str()).map(|(d, _)| *d) == Some((rule.decl)(j));
                if rule.used[j] || !registered {
                    continue;
                }
                warnings.push(
                    Diagnostic::new(rule.code, rule.message.replace("{}", &name.name), name.span)
                        .with_help(rule.help.replace("{}", &name.name)),
                );
            }
        }
        self.diags.extend(warnings);
    }
}
