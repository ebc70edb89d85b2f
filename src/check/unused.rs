//! Warnings for declarations nothing refers to (W0601–W0603, W0606).

use super::checker::Checker;
use super::program::Decl;
use crate::diagnostics::{Code, Diagnostic};
use crate::syntax::ast::Ident;

impl Checker<'_> {
    pub fn unused(&mut self) {
        let p = self.p;
        let checks: [(&[bool], Vec<&Ident>, fn(usize) -> Decl, Code, &str, &str); 4] = [
            (
                &self.used.actions,
                p.actions.iter().map(|a| &a.name).collect(),
                Decl::Action,
                Code::UnusedAction,
                "action `{}` never runs",
                "bind it (`on EVENT do {}`), use it as an `on_failure`, or remove it",
            ),
            (
                &self.used.replies,
                p.replies.iter().map(|r| &r.name).collect(),
                Decl::Reply,
                Code::UnusedReply,
                "reply `{}` is never sent",
                "send it: `on conversation_started reply {}`, or from an action with `task: reply({})`",
            ),
            (
                &self.used.targets,
                p.targets.iter().map(|t| &t.name).collect(),
                Decl::Target,
                Code::UnusedTarget,
                "target `{}` is not used by any action",
                "use it in an action (`target: {}`), or remove it",
            ),
            (
                &self.used.tasks,
                p.tasks.iter().map(|t| &t.name).collect(),
                Decl::Task,
                Code::UnusedTask,
                "task `{}` is never called",
                "call it from an action (`task: {}(…)`), or remove it",
            ),
        ];
        let mut warnings = Vec::new();
        for (used, names, decl, code, message, help) in checks {
            for (j, name) in names.iter().enumerate() {
                // A duplicate's second declaration is already an error.
                let registered = p.names.get(name.name.as_str()).map(|(d, _)| *d) == Some(decl(j));
                if used[j] || !registered {
                    continue;
                }
                warnings.push(
                    Diagnostic::new(code, message.replace("{}", &name.name), name.span)
                        .with_help(help.replace("{}", &name.name)),
                );
            }
        }
        self.diags.extend(warnings);
    }
}
