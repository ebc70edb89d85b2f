//! The abstract syntax tree. Every node carries the byte span it was parsed from, so
//! diagnostics can point at it and the formatter can copy literals verbatim.

use serde::{Deserialize, Serialize};

pub use super::name::Name;
pub use super::thin::ThinVec;
pub use crate::diagnostics::{FileId, Span};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A word an expression names something by (a callee, a field): an [`Ident`] whose text is
/// interned, as expressions are many and their words few.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub name: Name,
    pub span: Span,
}

impl Word {
    pub fn ident(&self) -> Ident {
        Ident {
            name: self.name.to_string(),
            span: self.span,
        }
    }
}

/// One parsed file: its declarations in source order and its comments (kept for `fmt`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct File {
    pub id: FileId,
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
    /// What did not parse (its syntax error is reported), so that later stages do not
    /// also report it missing: a broken `agent` block is not "no `agent` block", and a
    /// broken `action greet` is not an unknown action.
    #[serde(default)]
    pub unparsed: Vec<Unparsed>,
}

impl File {
    /// Whether the file holds an `agent` block, parsed or not (a broken one still makes the
    /// file a program's root, whose syntax error is then reported once, not as "no `agent`
    /// block").
    pub fn has_agent(&self) -> bool {
        self.items.iter().any(|i| matches!(i, Item::Agent(_)))
            || self
                .unparsed
                .iter()
                .any(|broken| broken.keyword.name == "agent" && !broken.member)
    }
}

/// A stretch of a file that did not parse: a whole declaration of which only the first
/// words could be read, or one member (a field, a parameter, a test step) of a declaration
/// that is in the tree without it. A broken field whose key could be read is also in the
/// tree, with an [`ExprKind::Error`] value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unparsed {
    /// The first word of the declaration (`agent`, `action`, `on`, …; empty when it does
    /// not start with a word).
    pub keyword: Ident,
    /// The name it would declare: a declaration's, a parameter's, or `params` for an
    /// agent's broken `params` entry.
    pub name: Option<Ident>,
    /// Only a member of the declaration is left out.
    pub member: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub span: Span,
    /// `//` line comment or `/* */` block comment.
    pub block: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Item {
    Import(Box<Import>),
    Agent(Box<Agent>),
    Target(Box<Target>),
    Task(Box<TaskDecl>),
    Action(Box<Action>),
    Reply(Box<Reply>),
    Usecase(Box<Usecase>),
    Binding(Box<Binding>),
    Test(Box<Test>),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Import(i) => i.span,
            Item::Agent(i) => i.span,
            Item::Target(i) => i.span,
            Item::Task(i) => i.span,
            Item::Action(i) => i.span,
            Item::Reply(i) => i.span,
            Item::Usecase(i) => i.span,
            Item::Binding(i) => i.span,
            Item::Test(i) => i.span,
        }
    }
}

/// `import "relative/path.agent"`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Import {
    /// The path as written (escapes resolved; interpolation is a syntax error here).
    pub path: String,
    pub path_span: Span,
    pub span: Span,
}

/// `key: value` inside a declaration block (its key interned: a program has few distinct
/// keys and a great many fields).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub key: Word,
    pub value: Expr,
    pub span: Span,
}

/// `agent NAME { ... }`; `params: { ... }` has its own syntax, everything else is a field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub name: Ident,
    pub entries: Vec<AgentEntry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AgentEntry {
    Field(Field),
    Params { params: Vec<ParamDecl>, span: Span },
}

/// `order_id: text` or `attempts: number = 0`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamDecl {
    pub name: Ident,
    pub ty: Ident,
    pub default: Option<Expr>,
    pub span: Span,
}

/// `target NAME: KIND { fields }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub name: Ident,
    pub kind: Ident,
    pub fields: Vec<Field>,
    pub span: Span,
}

/// `task NAME(param: type, opt: type?, dflt: type = expr) on TARGET { fields }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskDecl {
    pub name: Ident,
    pub params: Vec<TaskParam>,
    pub target: Ident,
    pub fields: Vec<Field>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskParam {
    pub name: Ident,
    pub ty: Ident,
    /// Written with a trailing `?`.
    pub optional: bool,
    pub default: Option<Expr>,
    pub span: Span,
}

/// `action NAME { fields }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub name: Ident,
    pub fields: Vec<Field>,
    pub span: Span,
}

/// `reply NAME { fields }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub name: Ident,
    pub fields: Vec<Field>,
    pub span: Span,
}

/// `usecase NAME { fields }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Usecase {
    pub name: Ident,
    pub fields: Vec<Field>,
    pub span: Span,
}

/// Every binding form: `on E [, E2…] [when X] do A, B`, `on E [when X] reply R`,
/// `in usecase U [when X] do ...`, `at block U.B [when X] do ...`,
/// `before call [when X] do ...`, `after call [when X] do ...`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    pub trigger: Trigger,
    pub when: Option<Expr>,
    pub body: BindingBody,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Trigger {
    /// `on E` or `on E1, E2, …`: any of these events (at least one).
    Events(Vec<Ident>),
    /// `before call`; the span covers both words.
    BeforeCall(Span),
    /// `after call`; the span covers both words.
    AfterCall(Span),
    Usecase(Ident),
    Block {
        usecase: Ident,
        block: Ident,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BindingBody {
    Do(Vec<Ident>),
    Reply(Ident),
}

/// `test "name" { steps }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Test {
    pub name: String,
    pub name_span: Span,
    pub steps: Vec<TestStep>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TestStep {
    Mock(Mock),
    Send(Send),
    Expect(Expect),
}

/// `mock TARGET METHOD "PATH" [-> STATUS [BODY]]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mock {
    pub target: Ident,
    pub method: Ident,
    pub path: Expr,
    pub status: Option<Expr>,
    pub body: Option<Expr>,
    pub span: Span,
}

/// `send EVENT [PAYLOAD]`, `send usecase U`, `send block U.B`, `send wait 5m`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Send {
    pub what: SendWhat,
    pub payload: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SendWhat {
    Event(Ident),
    Usecase(Ident),
    Block { usecase: Ident, block: Ident },
    Wait(Expr),
}

/// `expect [not] ...`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expect {
    pub negated: bool,
    pub what: Expectation,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expectation {
    /// `expect ran ACTION`, `expect failed ACTION`, `expect skipped ACTION`
    Action(Outcome, Ident),
    /// `expect label "vip"`
    Label(Expr),
    /// `expect param customer.tier == "gold"` — a boolean expression over the params.
    Param(Expr),
    /// `expect reply welcome` or `expect reply "exact text"`
    Reply(Expr),
    /// `expect request orders GET "/customers" [{ query: {..}, body: {..} }]`
    Request {
        target: Ident,
        method: Ident,
        path: Expr,
        fields: Option<Expr>,
    },
    /// `expect email mail { to: "a@b", subject: "..." }`
    Email { target: Ident, fields: Option<Expr> },
    /// `expect sms texts { to: "+1...", body: "..." }`
    Sms { target: Ident, fields: Option<Expr> },
    /// `expect row crm_db "calls" { phone: "+33..." }`
    Row {
        target: Ident,
        table: Expr,
        fields: Option<Expr>,
    },
    /// `expect status "escalated"` — the conversation's status.
    Status(Expr),
    /// `expect say "…"`, `expect transfer { to: "…" }`, `expect hangup`: one of
    /// [`EFFECTS`] happened, with the fields (or the one text) given.
    Effect { effect: Ident, fields: Option<Expr> },
}

/// How an action's run ended, as `expect` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Ran,
    Failed,
    Skipped,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Ran, Outcome::Failed, Outcome::Skipped];

    /// The word after `expect`.
    pub fn keyword(self) -> &'static str {
        match self {
            Outcome::Ran => "ran",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

/// The effects on a conversation `expect EFFECT` can name (the words after `expect`,
/// as in `grammar/agent.pest`'s `effect`).
pub const EFFECTS: &[&str] = &[
    "say",
    "transfer",
    "hold",
    "hangup",
    "dtmf",
    "escalation",
    "ended",
    "start",
];

/// An expression: the most numerous node of a tree, kept at 32 bytes (its kind at 16), so a
/// form with more to hold keeps it behind one pointer (`syntax::tests::an_expression_stays_small`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    /// Covers the parentheses when the expression was written in them.
    pub span: Span,
    /// Written in parentheses (any number of pairs): `fmt` keeps one pair, a comparison may
    /// follow it; meaning ignores it.
    pub parens: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Number(f64),
    /// Milliseconds.
    Duration(u64),
    /// A string, and whether it was written as `"""..."""` (beside the literal rather than
    /// in it: in the kind's spare bytes it costs nothing).
    Str(StrLit, bool),
    List(ThinVec<Expr>),
    Record(ThinVec<RecordEntry>),
    /// A bare identifier: a name in scope, or a word of a fixed set (`GET`, `warm`).
    Name(Name),
    /// `expr.field`
    Field(Box<(Expr, Word)>),
    /// `expr[index]`
    Index(Box<[Expr; 2]>),
    /// `callee(args)`: built-in functions, `secret`, `env`, auth helpers, and task calls.
    Call(Box<Call>),
    Unary(UnOp, Box<Expr>),
    /// The operands, left then right, in one allocation.
    Binary(BinOp, Box<[Expr; 2]>),
    /// `if cond then a else b`: the condition and the two branches, in that order.
    If(Box<[Expr; 3]>),
    /// Stands in for an expression that failed to parse, so checking can go on.
    Error,
}

/// A string literal's parts, escapes resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrLit {
    pub parts: ThinVec<StrPart>,
}

impl StrLit {
    /// The text when the string has no interpolation.
    pub fn as_plain(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                StrPart::Lit(s) => out.push_str(s),
                StrPart::Interp(_) => return None,
            }
        }
        Some(out)
    }
}

/// `callee(args)`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub callee: Word,
    pub args: ThinVec<Arg>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StrPart {
    /// Literal text, escapes already resolved.
    Lit(String),
    /// `{expr}`
    Interp(Expr),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordEntry {
    pub key: RecordKey,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordKey {
    pub name: String,
    /// Written as a string (`"X-Other": 2`).
    pub quoted: bool,
    pub span: Span,
}

/// A call argument: positional (`name == None`) or named (`priority: "high"`). The name is
/// boxed: most arguments have none, and a call holds its arguments for life.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Arg {
    pub name: Option<Box<Ident>>,
    pub value: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    /// `??`
    Coalesce,
    /// `x in list`
    In,
}

/// How tightly operators bind, loosest first: the language's one precedence table
/// (docs/language.md, "Precedence"). The descent parser climbs by it and the formatter
/// decides its parentheses by it; pest's climber (`build::PRATT`) is written in its order
/// and checked against it for every pair of operators (`descent_tests`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Prec {
    /// `if c then a else b`: its `else` branch takes everything after it.
    Lowest,
    Or,
    And,
    Not,
    /// `== != < <= > >= in`, which do not chain.
    Compare,
    Coalesce,
    Sum,
    Product,
    /// `-x`
    Prefix,
    /// `x.field`, `x[i]`, and every primary.
    Postfix,
}

impl Prec {
    /// The next level up.
    pub fn tighter(self) -> Prec {
        match self {
            Prec::Lowest => Prec::Or,
            Prec::Or => Prec::And,
            Prec::And => Prec::Not,
            Prec::Not => Prec::Compare,
            Prec::Compare => Prec::Coalesce,
            Prec::Coalesce => Prec::Sum,
            Prec::Sum => Prec::Product,
            Prec::Product => Prec::Prefix,
            Prec::Prefix | Prec::Postfix => Prec::Postfix,
        }
    }
}

impl UnOp {
    pub fn prec(self) -> Prec {
        match self {
            UnOp::Not => Prec::Not,
            UnOp::Neg => Prec::Prefix,
        }
    }
}

impl BinOp {
    /// Every binary operator, for tests that go through all of them.
    pub const ALL: [BinOp; 15] = [
        BinOp::Or,
        BinOp::And,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::In,
        BinOp::Coalesce,
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Rem,
    ];

    pub fn prec(self) -> Prec {
        match self {
            BinOp::Or => Prec::Or,
            BinOp::And => Prec::And,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In => {
                Prec::Compare
            }
            BinOp::Coalesce => Prec::Coalesce,
            BinOp::Add | BinOp::Sub => Prec::Sum,
            BinOp::Mul | BinOp::Div | BinOp::Rem => Prec::Product,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Coalesce => "??",
            BinOp::In => "in",
        }
    }
}
