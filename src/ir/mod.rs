//! The intermediate representation: a checked, resolved program that the interpreter runs.
//! Serialized as JSON by `agentc compile`; versioned (`version`) and deterministic (maps are
//! ordered by name, bindings and tests keep source order). Documented in `docs/ir.md`.

mod expected;
mod ops;
mod read;
mod value;
mod walk;

pub use expected::Expected;
pub use ops::{BinOp, UnOp};
pub use read::{from_json, ReadError, MAX_NESTING};
pub use value::{
    duration_text, mebibytes, readable, Breach, Measure, ParseError, Value, ValueBounds,
};

use crate::catalogue::{BuiltinTask, Channel, Kind};
use crate::diagnostics::Span;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped on every incompatible change to the IR's shape.
pub const IR_VERSION: u32 = 4;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub version: u32,
    /// The program's files, root first, then in import order; `Span::file` indexes this.
    pub files: Vec<String>,
    pub agent: Agent,
    pub targets: BTreeMap<String, Target>,
    pub tasks: BTreeMap<String, TaskDef>,
    pub actions: BTreeMap<String, Action>,
    pub replies: BTreeMap<String, Reply>,
    pub usecases: BTreeMap<String, Usecase>,
    /// In source order across files (import order): the order they run in.
    pub bindings: Vec<Binding>,
    pub tests: Vec<Test>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub name: String,
    pub display_name: Option<String>,
    pub channels: Vec<Channel>,
    pub language: Option<String>,
    pub inactivity_ms: Option<u64>,
    pub params: Vec<Param>,
}

/// The value types a parameter or a declared task's argument may have: the catalogue's
/// one list of them, written by their names (`"text"`, `"number"`, …).
pub use crate::catalogue::ValueType as Type;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    pub ty: Type,
    pub default: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub name: String,
    /// A kind from the catalogue: `http`, `zendesk`, `sql`, ...
    pub kind: Kind,
    /// The remaining fields, evaluated at run time (they may read `secret`/`env`).
    pub fields: BTreeMap<String, Expr>,
    pub timeout_ms: Option<u64>,
    pub retry: Option<Retry>,
}

/// A retry policy. Keys left out of a `retry: { ... }` record get the checker's defaults:
/// `attempts` 3, `backoff` 200ms, `max_backoff` 5s (raised to `backoff` when that is larger).
/// No `retry` at all (on the action and its target) is `None`: the runtime's default applies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Retry {
    /// Every try counts, the first included: 1 means no retry.
    pub attempts: u32,
    pub backoff_ms: u64,
    pub max_backoff_ms: u64,
}

/// A declared `task NAME(params) on TARGET { ... }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskDef {
    pub name: String,
    pub target: String,
    pub params: Vec<TaskParam>,
    /// `GET`, `POST`, ...
    pub method: String,
    pub path: Expr,
    pub query: Option<Expr>,
    pub body: Option<Expr>,
    pub headers: Option<Expr>,
    /// Computed from `response`; absent means the whole `{ status, headers, body }`.
    pub result: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskParam {
    pub name: String,
    pub ty: Type,
    pub optional: bool,
    pub default: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub name: String,
    pub target: String,
    /// The target's kind, copied here so the runtime needs no look-up.
    pub target_kind: Kind,
    pub task: TaskCall,
    pub when: Option<Expr>,
    /// The parameter that receives the task's result.
    pub save: Option<String>,
    pub timeout_ms: Option<u64>,
    pub retry: Option<Retry>,
    /// The actions run, in order, when this one fails for good.
    pub on_failure: Vec<String>,
    pub idempotency_key: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskCall {
    /// A catalogue task of the target's kind, or a declared task.
    #[serde(flatten)]
    pub task: TaskRef,
    /// Arguments by parameter name, in the task's parameter order. Catalogue arguments that
    /// name a parameter or a reply (`increment(attempts)`) are lowered to `Lit(Text(name))`;
    /// defaults from the catalogue are filled in.
    ///
    /// Also: a declared task's defaults are filled in likewise; an optional argument that is
    /// neither given nor defaulted is absent (read it as null). For `set(name: value, ...)`
    /// (a task with `named_params`) each entry is (parameter name, value), in written order.
    pub args: Vec<(String, Expr)>,
    /// Extra positional arguments of variadic tasks (`sql.query(statement, a, b)`).
    pub rest: Vec<Expr>,
}

/// The task an action runs: `{ "builtin": { "http": "get" } }` or `{ "declared": "get_order" }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskRef {
    Builtin(BuiltinTask),
    /// A `task NAME(..) on TARGET` of the program, by name.
    Declared(String),
}

impl TaskRef {
    /// The name the program calls it by (`get`, `get_order`).
    pub fn name(&self) -> &str {
        match self {
            TaskRef::Builtin(task) => task.name(),
            TaskRef::Declared(name) => name,
        }
    }

    pub fn builtin(&self) -> Option<BuiltinTask> {
        match self {
            TaskRef::Builtin(task) => Some(*task),
            TaskRef::Declared(_) => None,
        }
    }

    pub fn declared(&self) -> Option<&str> {
        match self {
            TaskRef::Builtin(_) => None,
            TaskRef::Declared(name) => Some(name),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub name: String,
    pub text: Text,
    pub voice: Option<Text>,
    /// Quick replies offered with the text, in written order.
    #[serde(default)]
    pub choices: Vec<Choice>,
}

impl Reply {
    /// Every expression of the reply: its texts and its choices' labels.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        let texts = std::iter::once(&self.text).chain(&self.voice);
        texts
            .chain(self.choices.iter().map(|c| &c.label))
            .flat_map(Text::exprs)
    }
}

/// A text written once, or once per language tag (`{ en: "Hello", fr: "Bonjour" }`, in
/// written order); which one is sent is chosen by the conversation's language when it runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Text {
    One(Expr),
    ByLanguage(Vec<(String, Expr)>),
}

impl Text {
    pub fn exprs(&self) -> Box<dyn Iterator<Item = &Expr> + '_> {
        match self {
            Text::One(expr) => Box::new(std::iter::once(expr)),
            Text::ByLanguage(texts) => Box::new(texts.iter().map(|(_, e)| e)),
        }
    }
}

/// A quick reply: a button the person can press instead of typing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// What the platform sends back when it is picked; the label's text when absent.
    pub id: Option<String>,
    pub label: Text,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Usecase {
    pub name: String,
    pub description: Option<String>,
    pub blocks: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    pub trigger: Trigger,
    pub when: Option<Expr>,
    pub body: BindingBody,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// An agent-level event; `before call` / `after call` are lowered to `call_ringing` /
    /// `call_ended`.
    Event {
        event: String,
    },
    Usecase {
        usecase: String,
    },
    Block {
        usecase: String,
        block: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindingBody {
    Actions(Vec<String>),
    Reply(String),
}

/// A resolved expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    Lit(Value),
    /// A string with interpolation: the parts' texts are concatenated.
    Interp(Vec<Expr>),
    List(Vec<Expr>),
    Record(Vec<(String, Expr)>),
    /// A root name: `Scope::Param("order_id")`, `Scope::Event`, ...
    Var(Scope),
    Field(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// A built-in function from the catalogue, by name.
    Call(String, Vec<Expr>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// An agent parameter; inside a [`TaskDef`]'s fields, one of that task's own parameters
    /// (a declared task sees only its parameters, and `response` in `result`).
    Param(String),
    Event,
    User,
    Caller,
    Conversation,
    Usecase,
    Block,
    Response,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Test {
    pub name: String,
    pub steps: Vec<TestStep>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum TestStep {
    /// `mock call transfer "TO" -> fail "REASON"`: from now on a transfer to `to` (`*`: to
    /// any number) does not connect, and its action fails with `reason`.
    FailTransfer {
        to: String,
        reason: String,
        span: Span,
    },
    Mock {
        target: String,
        method: String,
        path: String,
        status: Option<u16>,
        body: Option<Value>,
        span: Span,
    },
    Send {
        event: SendEvent,
        payload: Option<Value>,
        span: Span,
    },
    Expect {
        negated: bool,
        expectation: Expectation,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SendEvent {
    Event { event: String },
    Usecase { usecase: String },
    Block { usecase: String, block: String },
    Wait { ms: u64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expectation {
    Ran {
        action: String,
    },
    Label {
        label: String,
    },
    /// A boolean expression over the conversation's params.
    Param {
        check: Expr,
    },
    /// A reply by name or its exact text (`reply`), or one whose fields are as expected
    /// (`expect reply { text, choices }`; `expect reply contains("…")` is `{ text: … }`).
    Reply {
        reply: Option<String>,
        fields: Option<Expected>,
    },
    Request {
        target: String,
        method: String,
        path: String,
        fields: Option<Expected>,
    },
    Email {
        target: String,
        fields: Option<Expected>,
    },
    Sms {
        target: String,
        fields: Option<Expected>,
    },
    Row {
        target: String,
        table: String,
        fields: Option<Expected>,
    },
    Status {
        status: String,
    },
    /// The action ran and failed (after its retries).
    Failed {
        action: String,
    },
    /// The action was reached and skipped (its `when` was false, or a `verify` before it
    /// failed).
    Skipped {
        action: String,
    },
    /// `expect say "…"`, `expect transfer { … }`: the conversation had that effect, with
    /// at least these fields (a lone text in the source is the effect's first field).
    Effect {
        effect: Effect,
        fields: Option<Expected>,
    },
}

/// An effect of the built-in targets that a test can expect (one kind of trace record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Say,
    Transfer,
    Hold,
    Hangup,
    Dtmf,
    Escalation,
    Ended,
    /// A use case or block an action started (`start_usecase`, `goto_block`).
    Start,
}

impl Effect {
    pub const ALL: [Effect; 8] = [
        Effect::Say,
        Effect::Transfer,
        Effect::Hold,
        Effect::Hangup,
        Effect::Dtmf,
        Effect::Escalation,
        Effect::Ended,
        Effect::Start,
    ];

    /// The word after `expect` (`syntax::ast::EFFECTS`).
    pub fn name(self) -> &'static str {
        match self {
            Effect::Say => "say",
            Effect::Transfer => "transfer",
            Effect::Hold => "hold",
            Effect::Hangup => "hangup",
            Effect::Dtmf => "dtmf",
            Effect::Escalation => "escalation",
            Effect::Ended => "ended",
            Effect::Start => "start",
        }
    }

    /// The fields its trace record has (docs/trace.md); a lone text gives the first.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Effect::Say => &["text"],
            Effect::Transfer => &["to", "mode", "whisper"],
            Effect::Hold => &["message", "music"],
            Effect::Hangup | Effect::Ended => &["reason"],
            Effect::Dtmf => &["digits"],
            Effect::Escalation => &["queue", "reason"],
            // `rebook_flight` or `rebook_flight.confirm`, and the action that started it.
            Effect::Start => &["name", "by"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Type;

    /// The `ty` words docs/ir.md lists, which are also the names written in `params`:
    /// changing one is an IR change (bump `IR_VERSION`) and a language change.
    #[test]
    fn every_value_type_has_its_ir_word() {
        let words = [
            (Type::Text, "text"),
            (Type::Number, "number"),
            (Type::Bool, "bool"),
            (Type::Duration, "duration"),
            (Type::List, "list"),
            (Type::Record, "record"),
            (Type::Any, "any"),
        ];
        assert_eq!(words.map(|(ty, _)| ty), Type::ALL);
        for (ty, word) in words {
            let json = serde_json::to_string(&ty).unwrap();
            assert_eq!(json, format!("\"{word}\""));
            assert_eq!(serde_json::from_str::<Type>(&json).unwrap(), ty);
            assert_eq!((ty.name(), Type::parse(word)), (word, Some(ty)));
        }
    }
}
