//! The names a program declares, by kind: what completion and highlighting offer. Built from
//! the parsed declarations, so it is there even while the program has errors.

use super::highlight::NameKind;
use crate::syntax::ast;

#[derive(Debug, Default)]
pub struct Names {
    /// Declared targets with their kind.
    pub targets: Vec<(String, String)>,
    /// Declared tasks with the target they are on.
    pub tasks: Vec<(String, String)>,
    /// Declared tasks with their parameters' names.
    pub task_params: Vec<(String, Vec<String>)>,
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
    pub fn of<'a>(items: impl IntoIterator<Item = &'a ast::Item>) -> Names {
        let mut names = Names::default();
        for item in items {
            match item {
                ast::Item::Target(t) => names
                    .targets
                    .push((t.name.name.clone(), t.kind.name.clone())),
                ast::Item::Task(t) => {
                    names
                        .tasks
                        .push((t.name.name.clone(), t.target.name.clone()));
                    let params = t.params.iter().map(|p| p.name.name.clone()).collect();
                    names.task_params.push((t.name.name.clone(), params));
                }
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

    /// A program with a little of everything, for completion tests.
    #[cfg(test)]
    pub fn sample() -> Names {
        Names {
            targets: vec![
                ("orders".into(), "http".into()),
                ("mail".into(), "smtp".into()),
            ],
            tasks: vec![("get_order".into(), "orders".into())],
            task_params: vec![("get_order".into(), vec!["id".into()])],
            actions: vec!["check_order".into(), "tag_vip".into()],
            replies: vec!["welcome".into()],
            usecases: vec![(
                "order_status".into(),
                vec!["ask_order_id".into(), "show_status".into()],
            )],
            params: vec!["order_id".into(), "attempts".into()],
            channels: vec!["chat".into()],
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

    /// What `name` is declared as, if anything (the first kind found).
    pub fn kind_of(&self, name: &str) -> Option<NameKind> {
        let is = |found: bool, kind| found.then_some(kind);
        is(
            self.targets.iter().any(|(n, _)| n == name),
            NameKind::Target,
        )
        .or(is(
            self.tasks.iter().any(|(n, _)| n == name),
            NameKind::Task,
        ))
        .or(is(self.actions.iter().any(|n| n == name), NameKind::Action))
        .or(is(self.replies.iter().any(|n| n == name), NameKind::Reply))
        .or(is(
            self.usecases.iter().any(|(n, _)| n == name),
            NameKind::Usecase,
        ))
        .or(is(self.params.iter().any(|n| n == name), NameKind::Param))
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
                ast::ExprKind::Name(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
