//! Which names an expression may read (docs/language.md, "Names in scope"), depending on where it is written.

use super::program::Decl;
use super::types::Type;
use crate::catalogue::{self, EventSpec};
use crate::diagnostics::Span;
use std::collections::HashMap;

/// Names that are never parameters: the scope roots (docs/language.md, "Names in scope").
pub fn root_names() -> impl Iterator<Item = &'static str> {
    catalogue::scope::ROOTS.iter().map(|r| r.name)
}

/// The answer to [`Scope::root_field`].
pub enum RootField {
    Found(Type),
    /// Not a field of that root: the fields it has.
    Missing(Vec<&'static str>),
    /// Not checked at compile time (an unknown event's payload, a parameter's record).
    Unchecked,
}

/// Whether `usecase` / `block` may be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    No,
    Yes,
    /// In an action: allowed here, and checked against each binding that runs the action.
    Deferred,
}

/// What `event` holds.
#[derive(Clone, Copy, Debug)]
pub enum EventScope {
    /// Not readable here (targets, tasks, tests).
    None,
    /// Some event, unknown at check time (actions, replies): fields are checked at run time.
    Any,
    /// This event: its payload fields are checked.
    Known(&'static EventSpec),
}

/// Everything an expression may read where it is written.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// Where the expression is, for messages: "a target's fields", "an action".
    pub place: &'static str,
    /// The agent's parameters, read bare.
    pub params: Option<&'a HashMap<&'a str, Type>>,
    /// The `agent` block did not parse, so `params` may lack names it declares: an unknown
    /// bare name is then not reported (the syntax error is the one mistake).
    pub params_unknown: bool,
    /// A declared task's own parameters, read bare inside its fields.
    pub task_params: Option<&'a HashMap<&'a str, Type>>,
    pub event: EventScope,
    /// `user`, `caller` and `conversation`.
    pub conversation: bool,
    /// The agent talks on the voice channel (`caller` is only set there).
    pub voice: bool,
    pub usecase: Access,
    pub block: Access,
    /// Inside a declared task's `result`.
    pub response: bool,
    /// Every declared name and what it is, to explain why it cannot be read.
    pub declared: Option<&'a HashMap<&'a str, (Decl, Span)>>,
}

impl<'a> Scope<'a> {
    /// Nothing but literals and functions (`secret`, `env`): target fields, param defaults.
    pub fn constant(place: &'static str) -> Self {
        Scope {
            place,
            params: None,
            params_unknown: false,
            task_params: None,
            event: EventScope::None,
            conversation: false,
            voice: false,
            usecase: Access::No,
            block: Access::No,
            response: false,
            declared: None,
        }
    }

    /// Inside a conversation: params, `user`, `caller`, `conversation`, and `event`.
    pub fn conversation(
        place: &'static str,
        params: &'a HashMap<&'a str, Type>,
        voice: bool,
        event: EventScope,
    ) -> Self {
        Scope {
            params: Some(params),
            event,
            conversation: true,
            voice,
            ..Scope::constant(place)
        }
    }

    /// Looks up `root.field` for the roots whose fields are known here.
    pub fn root_field(&self, root: &str, field: &str) -> RootField {
        if root == "event" {
            let EventScope::Known(spec) = self.event else {
                return RootField::Unchecked;
            };
            return match spec.payload.iter().find(|(name, _)| *name == field) {
                Some(&(_, ty)) => RootField::Found(Type::from_catalogue(ty)),
                None => RootField::Missing(spec.payload.iter().map(|(n, _)| *n).collect()),
            };
        }
        let Some(table) = catalogue::scope::scope_root(root).and_then(|r| r.fields) else {
            return RootField::Unchecked;
        };
        match table.iter().find(|(name, _)| *name == field) {
            Some(&(_, ty)) => RootField::Found(Type::from_catalogue(ty)),
            None => RootField::Missing(table.iter().map(|(n, _)| *n).collect()),
        }
    }

    /// Whether the root `name` may be read here; `None` when `name` is not a root.
    pub fn root_available(&self, name: &str) -> Option<bool> {
        Some(match name {
            "event" => !matches!(self.event, EventScope::None),
            "user" | "conversation" | "caller" => self.conversation,
            "usecase" => self.usecase != Access::No,
            "block" => self.block != Access::No,
            "response" => self.response,
            _ => return None,
        })
    }

    /// The type of a bare parameter name, the task's own parameters first.
    pub fn param(&self, name: &str) -> Option<Type> {
        self.task_params
            .and_then(|p| p.get(name))
            .or_else(|| self.params.and_then(|p| p.get(name)))
            .copied()
    }

    /// Every name readable here, for "did you mean".
    pub fn visible_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = root_names()
            .filter(|n| self.root_available(n) == Some(true))
            .collect();
        for map in [self.task_params, self.params].into_iter().flatten() {
            names.extend(map.keys().copied());
        }
        names
    }

    /// Why a root cannot be read here.
    pub fn unavailable_root_help(&self, root: &str) -> String {
        match root {
            "usecase" => "`usecase` can only be read in `in usecase` and `at block` bindings and the actions they run".into(),
            "block" => "`block` can only be read in `at block` bindings and the actions they run".into(),
            "response" => "`response` can only be read inside a declared task's `result`".into(),
            _ => format!("`{root}` is only set during a conversation; {} cannot read it", self.place),
        }
    }
}
