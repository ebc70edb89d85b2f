//! The built-in catalogue: events, target kinds with their fields and tasks, scope roots,
//! and functions. The checker, the runtime, the REPL's completion and `agentc explain` all
//! read these tables. Kinds and tasks are identities as well as entries: a task is its
//! variant in `tasks.rs` and its entry in its kind's `tasks` (tied by
//! `tasks::tests::every_task_has_its_entry`), and every exhaustive match on its kind's enum
//! (the plan, the executors) then asks for its implementation.

mod events;
mod functions;
mod kinds;
pub mod locales;
pub mod retry;
pub mod scope;
pub mod signature;
pub mod soql;
mod targets;
pub mod tasks;

pub use events::{EventSpec, Moment, EVENTS};
pub use functions::{FunctionSpec, FUNCTIONS};
pub use kinds::Kind;
pub use retry::{RetryClass, RetryRule};
pub use signature::Signature;
pub use targets::{
    helo_name_problem, hold_music_problem, ArgSpec, Combination, Endpoint, FieldSpec, Protocol,
    TargetKind, TaskSpec, TARGET_KINDS,
};
pub use tasks::BuiltinTask;

use serde::{Deserialize, Serialize};

/// A channel an agent talks on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Chat,
    Voice,
    Email,
}

impl Channel {
    pub const ALL: &'static [Channel] = &[Channel::Chat, Channel::Voice, Channel::Email];
    pub fn name(self) -> &'static str {
        match self {
            Channel::Chat => "chat",
            Channel::Voice => "voice",
            Channel::Email => "email",
        }
    }
    pub fn parse(word: &str) -> Option<Channel> {
        Channel::ALL.iter().copied().find(|c| c.name() == word)
    }
}

/// The types of the catalogue. `Word` is one bare word of a fixed set (`method: GET`);
/// `Param` is the bare name of one of the agent's params (`increment(attempts)`), whose
/// type must hold the task's `result` type (a number for `increment`, a list for `push`);
/// `ReplyRef` the bare name of a declared reply; `UsecaseRef` that of a declared use case,
/// `BlockRef` one of its blocks (`rebook_flight.confirm`); `Seq` a text or a list, and as a function's
/// result the type of its first argument (`slice`); `Zone` the name of an IANA time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Text,
    Number,
    Bool,
    Duration,
    List,
    Record,
    Seq,
    Zone,
    Any,
    Word(&'static [&'static str]),
    Param,
    ReplyRef,
    UsecaseRef,
    BlockRef,
    /// `bearer(..)`, `basic(..)` or `api_key(..)`.
    Auth,
    /// `{ attempts, backoff, max_backoff }`
    Retry,
}

impl Ty {
    pub fn describe(self) -> String {
        match self {
            Ty::Text => "text".into(),
            Ty::Number => "number".into(),
            Ty::Bool => "bool".into(),
            Ty::Duration => "duration".into(),
            Ty::List => "list".into(),
            Ty::Record => "record".into(),
            Ty::Seq => "text or list".into(),
            Ty::Zone => "time zone".into(),
            Ty::Any => "any".into(),
            Ty::Word(words) => format!("one of {}", words.join(" | ")),
            Ty::Param => "the name of a parameter".into(),
            Ty::ReplyRef => "the name of a reply".into(),
            Ty::UsecaseRef => "the name of a use case".into(),
            Ty::BlockRef => "a block of a use case (USECASE.BLOCK)".into(),
            Ty::Auth => "bearer(..), basic(..) or api_key(..)".into(),
            Ty::Retry => "a retry record { attempts, backoff, max_backoff }".into(),
        }
    }
}

/// The value types a `params` entry or a declared task's parameter may declare: the names
/// written there (and in messages), and the IR's `ty` words (`ir::Type` is this type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    Text,
    Number,
    Bool,
    Duration,
    List,
    Record,
    Any,
}

impl ValueType {
    pub const ALL: [ValueType; 7] = [
        ValueType::Text,
        ValueType::Number,
        ValueType::Bool,
        ValueType::Duration,
        ValueType::List,
        ValueType::Record,
        ValueType::Any,
    ];

    /// The name written in `params` and task parameters (and in messages).
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Text => "text",
            ValueType::Number => "number",
            ValueType::Bool => "bool",
            ValueType::Duration => "duration",
            ValueType::List => "list",
            ValueType::Record => "record",
            ValueType::Any => "any",
        }
    }

    /// The type a name written in `params` or a task's parameters stands for.
    pub fn parse(name: &str) -> Option<ValueType> {
        ValueType::ALL.into_iter().find(|ty| ty.name() == name)
    }

    /// The catalogue type of an argument of this type (a declared task's parameter is
    /// checked as a catalogue task's argument is).
    pub fn ty(self) -> Ty {
        match self {
            ValueType::Text => Ty::Text,
            ValueType::Number => Ty::Number,
            ValueType::Bool => Ty::Bool,
            ValueType::Duration => Ty::Duration,
            ValueType::List => Ty::List,
            ValueType::Record => Ty::Record,
            ValueType::Any => Ty::Any,
        }
    }
}

/// The fields every `action` accepts.
pub const ACTION_FIELDS: &[FieldSpec] = &[
    FieldSpec::required("target", Ty::Any, "The target the action acts on."),
    FieldSpec::required(
        "task",
        Ty::Any,
        "The task to run on the target, with its arguments.",
    ),
    FieldSpec::optional(
        "when",
        Ty::Bool,
        "Run only when this is true (evaluated just before).",
    ),
    FieldSpec::optional(
        "save",
        Ty::Param,
        "The parameter that receives the task's result.",
    ),
    FieldSpec::optional("timeout", Ty::Duration, "Overrides the target's timeout."),
    FieldSpec::optional("retry", Ty::Retry, "Overrides the target's retry policy."),
    FieldSpec::optional(
        "on_failure",
        Ty::Any,
        "An action, or a list of actions run in order, if this one fails for good.",
    ),
    FieldSpec::optional(
        "idempotency_key",
        Ty::Text,
        "Overrides the derived idempotency key.",
    ),
];

/// The fields of the `agent` block (besides `params`).
pub const AGENT_FIELDS: &[FieldSpec] = &[
    FieldSpec::optional("name", Ty::Text, "The agent's display name."),
    FieldSpec::required(
        "channels",
        Ty::List,
        "The channels it talks on: chat, voice, email.",
    ),
    FieldSpec::optional("language", Ty::Text, "Default language code, e.g. \"en\"."),
    FieldSpec::optional(
        "inactivity",
        Ty::Duration,
        "Idle time before conversation_inactive fires.",
    ),
    FieldSpec::optional("params", Ty::Record, "The conversation's typed parameters."),
];

pub const REPLY_FIELDS: &[FieldSpec] = &[
    FieldSpec::required(
        "text",
        Ty::Text,
        "What the agent says or writes: a text, or one per language (`{ en: \"Hello\", fr: \"Bonjour\" }`).",
    ),
    FieldSpec::optional(
        "voice",
        Ty::Text,
        "What a voice agent says instead, if different (also per language).",
    ),
    FieldSpec::optional(
        "choices",
        Ty::List,
        "Quick replies offered on chat: texts, or `{ id, label }` records.",
    ),
];

pub const USECASE_FIELDS: &[FieldSpec] = &[
    FieldSpec::optional("description", Ty::Text, "What the use case is about."),
    FieldSpec::optional(
        "blocks",
        Ty::List,
        "The dialogue blocks of the use case, by name.",
    ),
];

/// Whether a request with this HTTP method changes something outside the process, as a
/// catalogue task's `side_effect` says: it carries an idempotency key, and a dry run holds
/// it back. GET, HEAD and OPTIONS only read.
pub fn method_has_side_effect(method: &str) -> bool {
    !["GET", "HEAD", "OPTIONS"]
        .iter()
        .any(|read| method.eq_ignore_ascii_case(read))
}

/// The fields of a declared `task` (on a kind whose `declared_tasks` is set).
pub const DECLARED_TASK_FIELDS: &[FieldSpec] = &[
    FieldSpec::required(
        "method",
        Ty::Word(&["GET", "POST", "PUT", "PATCH", "DELETE"]),
        "The HTTP method.",
    ),
    FieldSpec::required(
        "path",
        Ty::Text,
        "The path, appended to the target's base_url (zendesk, salesforce: to its API root).",
    ),
    FieldSpec::optional("query", Ty::Record, "Query-string parameters."),
    FieldSpec::optional("body", Ty::Any, "A JSON body."),
    FieldSpec::optional("headers", Ty::Record, "Extra headers."),
    FieldSpec::optional(
        "result",
        Ty::Any,
        "What the task returns, computed from `response`.",
    ),
];

/// The events a reply binding (`on EVENT reply R`) accepts.
pub const REPLY_EVENTS: &[&str] = &["conversation_started", "conversation_inactive"];

pub fn event(name: &str) -> Option<&'static EventSpec> {
    EVENTS.iter().find(|e| e.name == name)
}

pub fn target_kind(name: &str) -> Option<&'static TargetKind> {
    Kind::parse(name).map(Kind::spec)
}

pub fn function(name: &str) -> Option<&'static FunctionSpec> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// The regular expression `matches(text, pattern)` tests: the checker compiles literal
/// patterns with it, the runtime every pattern, so both accept exactly the same ones.
pub fn compile_pattern(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
}
