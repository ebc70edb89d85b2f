//! The scope roots an expression may read (docs/language.md, "Names in scope") and the
//! fields each holds: the checker types `root.field` by this table, the REPL completes from
//! it, and the runtime builds the records it describes (`runtime::conversation` tests that
//! the records it builds have exactly these keys).

use super::Ty;

pub struct RootSpec {
    pub name: &'static str,
    /// Its fields; `None` for `event`, whose fields are the event's payload (`EVENTS`).
    pub fields: Option<&'static [(&'static str, Ty)]>,
    /// Only inside a declared task's `result`, never in a conversation's expressions.
    pub task_result_only: bool,
}

const fn root(name: &'static str, fields: &'static [(&'static str, Ty)]) -> RootSpec {
    RootSpec {
        name,
        fields: Some(fields),
        task_result_only: false,
    }
}

/// A use case's or a block's record: `{ name }`.
pub const NAME_FIELD: &[(&str, Ty)] = &[("name", Ty::Text)];

/// Every root, in the order messages list them.
pub const ROOTS: &[RootSpec] = &[
    RootSpec {
        name: "event",
        fields: None,
        task_result_only: false,
    },
    root(
        "user",
        &[
            ("id", Ty::Text),
            ("name", Ty::Text),
            ("email", Ty::Text),
            ("phone", Ty::Text),
            ("locale", Ty::Text),
        ],
    ),
    root("caller", &[("phone", Ty::Text), ("name", Ty::Text)]),
    root(
        "conversation",
        &[
            ("id", Ty::Text),
            ("channel", Ty::Text),
            ("language", Ty::Text),
            ("labels", Ty::List),
            ("status", Ty::Text),
        ],
    ),
    root("usecase", NAME_FIELD),
    root("block", NAME_FIELD),
    RootSpec {
        task_result_only: true,
        ..root(
            "response",
            &[
                ("status", Ty::Number),
                ("headers", Ty::Record),
                ("body", Ty::Any),
            ],
        )
    },
];

/// The root of this name.
pub fn scope_root(name: &str) -> Option<&'static RootSpec> {
    ROOTS.iter().find(|r| r.name == name)
}

/// The names of a root's fields, in the table's order (empty for `event` and non-roots).
pub fn field_names(name: &str) -> Vec<&'static str> {
    scope_root(name)
        .and_then(|r| r.fields)
        .map_or_else(Vec::new, |fields| fields.iter().map(|(n, _)| *n).collect())
}
