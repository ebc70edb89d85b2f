//! The names a session declares, by kind: what completion and highlighting offer. Built from
//! the parsed declarations, so it is there even while the program has errors.

use super::program::Decl;
use crate::syntax::ast;

#[derive(Debug, Default)]
pub struct Names {
    /// Declared targets with their kind.
    pub targets: Vec<(String, String)>,
    /// Declared tasks with the target they are on.
    pub tasks: Vec<(String, String)>,
    pub actions: Vec<String>,
    pub replies: Vec<String>,
    /// Use cases with their blocks.
    pub usecases: Vec<(String, Vec<String>)>,
    /// The agent's params.
    pub params: Vec<String>,
    /// The agent's channels, as written.
    pub channels: Vec<String>,
}

impl Names {
    pub fn of(decls: Vec<Decl<'_>>) -> Names {
        let mut names = Names::default();
        for decl in decls {
            match decl.item {
                ast::Item::Target(t) => names
                    .targets
                    .push((t.name.name.clone(), t.kind.name.clone())),
                ast::Item::Task(t) => names
                    .tasks
                    .push((t.name.name.clone(), t.target.name.clone())),
                ast::Item::Action(a) => names.actions.push(a.name.name.clone()),
                ast::Item::Reply(r) => names.replies.push(r.name.name.clone()),
                ast::Item::Usecase(u) => names
                    .usecases
                    .push((u.name.name.clone(), words(field(&u.fields, "blocks")))),
                ast::Item::Agent(a) => names.agent(a),
                ast::Item::Import(_) | ast::Item::Binding(_) | ast::Item::Test(_) => {}
            }
        }
        names
    }

    fn agent(&mut self, agent: &ast::Agent) {
        for entry in &agent.entries {
            match entry {
                ast::AgentEntry::Params { params, .. } => {
                    self.params = params.iter().map(|p| p.name.name.clone()).collect();
                }
                ast::AgentEntry::Field(f) if f.key.name == "channels" => {
                    self.channels = words(Some(&f.value));
                }
                ast::AgentEntry::Field(_) => {}
            }
        }
    }

    /// The kind of the target called `name`: declared, or one of the two built-ins.
    pub fn target_kind<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        match crate::catalogue::target_kind(name).filter(|k| k.builtin) {
            Some(builtin) => Some(builtin.name()),
            None => self
                .targets
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, k)| k.as_str()),
        }
    }

    /// Every declared name, for highlighting.
    pub fn contains(&self, name: &str) -> bool {
        self.targets.iter().any(|(n, _)| n == name)
            || self.tasks.iter().any(|(n, _)| n == name)
            || self.actions.iter().any(|n| n == name)
            || self.replies.iter().any(|n| n == name)
            || self.usecases.iter().any(|(n, _)| n == name)
            || self.params.iter().any(|n| n == name)
    }
}

pub fn field<'a>(fields: &'a [ast::Field], key: &str) -> Option<&'a ast::Expr> {
    fields.iter().find(|f| f.key.name == key).map(|f| &f.value)
}

/// The bare words of a list like `[chat, voice]`.
fn words(list: Option<&ast::Expr>) -> Vec<String> {
    match list.map(|e| &e.kind) {
        Some(ast::ExprKind::List(items)) => items
            .iter()
            .filter_map(|e| match &e.kind {
                ast::ExprKind::Name(n) => Some(n.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
