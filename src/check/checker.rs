//! The checker's state over one program, and the order of its passes. The passes live in
//! sibling modules (`decls`, `actions`, `bindings`, `test_blocks`, `unused`) as `impl`
//! blocks on [`Checker`]; each checks one kind of declaration and lowers it to the IR.

use super::expr::{ExprChecker, Probe};
use super::program::{Decl, Program};
use super::scope::{EventScope, Scope};
use super::types::Type;
use super::{parallel, unknown_help, ExprType, Keep};
use crate::catalogue::{Channel, Moment};
use crate::diagnostics::{Code, Diagnostic, FileId, SourceMap, Span};
use crate::ir;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What every expression of a conversation may read, fixed once the agent is checked.
pub struct Env<'a> {
    pub params: HashMap<&'a str, Type>,
    pub channels: Vec<Channel>,
    /// The `channels` field, for secondary labels.
    pub channels_span: Option<Span>,
    /// Each declared name, for "`orders` is a target, not a value".
    pub names: &'a HashMap<&'a str, (Decl, Span)>,
}

impl Env<'_> {
    /// Voice is on, or the channels are unknown (missing or broken `channels`, already an
    /// error): channel rules are then not applied, to avoid a cascade.
    pub fn voice(&self) -> bool {
        self.channels.contains(&Channel::Voice) || self.channels_span.is_none()
    }
    /// Whether the agent talks on one of `channels` (empty: every channel).
    pub fn allows(&self, channels: &[Channel]) -> bool {
        channels.is_empty()
            || self.channels_span.is_none()
            || channels.iter().any(|c| self.channels.contains(c))
    }
}

/// `usecase` / `block` read by an expression of an action (checked against each binding).
#[derive(Clone, Copy, Default)]
pub struct Reads {
    pub usecase: Option<Span>,
    pub block: Option<Span>,
}

/// A target as the later passes need it.
#[derive(Clone, Default)]
pub struct TargetInfo {
    /// Its kind, when known.
    pub kind: Option<&'static crate::catalogue::TargetKind>,
    /// A plain-http, non-loopback base address: (host, the URL's span).
    pub insecure: Option<(String, Span)>,
    /// A `sql` target on PostgreSQL (`$1` placeholders rather than `?`).
    pub postgres: bool,
}

/// How a declared task uses its parameters, for secrets passed as its arguments.
#[derive(Clone, Default)]
pub struct TaskInfo<'a> {
    pub target: Option<usize>,
    pub params: Vec<SigParam<'a>>,
    pub result: Type,
    /// Parameters that go into the path or query string.
    pub url_params: Vec<String>,
    /// Parameters that go into `result` (saved, hence shown).
    pub shown_params: Vec<String>,
    /// Its HTTP method, once known: how it may be retried.
    pub method: Option<String>,
}

/// One parameter of a task, declared or built in.
#[derive(Clone)]
pub struct SigParam<'a> {
    pub name: &'a str,
    pub ty: crate::catalogue::Ty,
    pub required: bool,
    pub default: Option<ir::Value>,
}

/// An action as the binding pass needs it.
#[derive(Clone, Default)]
pub struct ActionInfo {
    /// Moments its task cannot run at, with the reason.
    pub not_at: &'static [(Moment, &'static str)],
    /// `call.say`, for messages.
    pub task_label: String,
    pub task_span: Span,
    pub reads: Reads,
    /// The actions its `on_failure` runs, in order, each with the span it is named at.
    pub on_failure: Vec<(usize, Span)>,
    /// The use case (`u`) or block (`u.b`) its task starts.
    pub starts: Option<String>,
}

/// Which declarations something refers to, for the unused warnings.
#[derive(Default)]
pub struct Used {
    pub targets: Vec<bool>,
    pub tasks: Vec<bool>,
    pub actions: Vec<bool>,
    pub replies: Vec<bool>,
}

impl Used {
    fn none(p: &Program) -> Self {
        Used {
            targets: vec![false; p.targets.len()],
            tasks: vec![false; p.tasks.len()],
            actions: vec![false; p.actions.len()],
            replies: vec![false; p.replies.len()],
        }
    }

    /// Adds what `other` refers to.
    pub fn add(&mut self, other: &Used) {
        for (mine, theirs) in [
            (&mut self.targets, &other.targets),
            (&mut self.tasks, &other.tasks),
            (&mut self.actions, &other.actions),
            (&mut self.replies, &other.replies),
        ] {
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m |= t;
            }
        }
    }
}

/// The infos of declarations are shared (`Arc`) with the threads of [`super::parallel`],
/// which read them; they are written only while no such thread runs.
pub struct Checker<'a> {
    pub p: &'a Program<'a>,
    pub env: &'a Env<'a>,
    pub diags: Vec<Diagnostic>,
    pub targets: Arc<Vec<TargetInfo>>,
    pub tasks: Arc<Vec<TaskInfo<'a>>>,
    /// Filled by the action pass (defaults until then).
    pub actions: Arc<Vec<ActionInfo>>,
    /// The blocks of each use case.
    pub blocks: Arc<Vec<Vec<&'a str>>>,
    pub used: Used,
    /// For each action, the kinds of trigger (moment, use case set, block set: one bit
    /// each) the binding pass walked its `on_failure` chain for: each chain is walked once
    /// per kind, keeping the pass linear. A thread of [`super::parallel`] makes its own
    /// once it walks: only the binding pass walks, and each large allocation of a thread
    /// raises the peak memory (a thread's pages are its own).
    pub walked: Vec<u32>,
    /// On a thread of [`super::parallel`] past the first: the `on_failure` walks of the
    /// binding pass that report, left for the merge, where earlier bindings' are known.
    pub deferred: Option<Vec<super::parallel::Deferred>>,
    /// The program's files, for declarations as written.
    pub sources: &'a SourceMap,
    /// Source-map file → index in the IR's `files`.
    file_index: Arc<HashMap<FileId, u32>>,
    /// Set by [`type_at`]: every expression checked offers its type to it.
    probe: Option<Probe>,
    /// Set by [`type_at`]; `None` when every declaration is checked in order.
    unchecked: Option<Unchecked>,
}

/// The type the checker gives the smallest expression around `at` (an empty span) in a
/// gathered program ([`ExprType`]). Only the declaration holding `at` is checked, and what
/// it refers to as that is met ([`Checker::referred`]): one declaration's check, not the
/// program's.
pub fn type_at<'a>(
    p: &'a Program<'a>,
    files: &[FileId],
    sources: &'a SourceMap,
    at: Span,
) -> Option<ExprType> {
    fn holding<T>(decls: &[&T], span: fn(&T) -> Span, at: Span) -> Option<usize> {
        decls.iter().position(|d| span(d).holds(at))
    }
    let targets = holding(&p.targets, |t| t.span, at);
    let tasks = holding(&p.tasks, |t| t.span, at);
    let usecases = holding(&p.usecases, |u| u.span, at);
    let actions = holding(&p.actions, |a| a.span, at);
    let replies = holding(&p.replies, |r| r.span, at);
    let bindings = holding(&p.bindings, |b| b.span, at);
    let tests = holding(&p.tests, |t| t.span, at);
    let mut diags = Vec::new();
    let (env, _) = super::decls::agent(p, &mut diags);
    let mut c = Checker::new(p, &env, diags, files, sources);
    c.actions = Arc::new(vec![ActionInfo::default(); p.actions.len()]);
    c.probe = Some(Probe { at, found: None });
    c.unchecked = Some(Unchecked {
        targets: vec![true; p.targets.len()],
        tasks: vec![true; p.tasks.len()],
        usecases: vec![true; p.usecases.len()],
    });
    if let Some(i) = targets {
        c.referred(Referred::Target(i));
    } else if let Some(i) = tasks {
        c.referred(Referred::Task(i));
    } else if let Some(i) = usecases {
        c.referred(Referred::Usecase(i));
    } else if let Some(i) = actions {
        c.action(i, &mut ActionInfo::default());
    } else if let Some(i) = replies {
        c.reply(i);
    } else if let Some(i) = bindings {
        c.binding(i);
    } else if let Some(i) = tests {
        // A test's steps read every target's kind at once (its mocks).
        for j in 0..p.targets.len() {
            c.referred(Referred::Target(j));
        }
        c.test(i);
    }
    c.probe?.found
}

/// A declaration others refer to, checked on demand under [`type_at`].
#[derive(Clone, Copy)]
pub enum Referred {
    Target(usize),
    Task(usize),
    Usecase(usize),
}

/// Under [`type_at`], the declarations others refer to that are not checked yet.
struct Unchecked {
    targets: Vec<bool>,
    tasks: Vec<bool>,
    usecases: Vec<bool>,
}

/// Checks a gathered program and lowers it; the IR is `None` when there were errors, or
/// when only the diagnostics are kept (each declaration is lowered all the same, since
/// lowering is where it is checked, and dropped at once).
pub fn check_and_lower<'a>(
    p: &'a Program<'a>,
    files: &[FileId],
    sources: &'a SourceMap,
    diags: &mut Vec<Diagnostic>,
    keep: Keep,
) -> Option<ir::Program> {
    let kept = keep == Keep::Program;
    let (env, agent) = super::decls::agent(p, diags);
    // Not held through the check when it is not kept: one entry per parameter.
    let agent = agent.filter(|_| kept);
    let mut c = Checker::new(p, &env, std::mem::take(diags), files, sources);
    let targets = collect_named(&p.targets, |t| &t.name.name, |i| c.target(i), kept);
    let tasks = collect_named(&p.tasks, |t| &t.name.name, |i| c.task_decl(i), kept);
    let replies = parallel::each(&mut c, &mut vec![(); p.replies.len()], |c, i, _| {
        c.reply(i).filter(|_| kept)
    });
    let replies = named(&p.replies, |r| &r.name.name, replies);
    let usecases = collect_named(&p.usecases, |u| &u.name.name, |i| c.usecase(i), kept);
    let mut infos = vec![ActionInfo::default(); p.actions.len()];
    let actions = parallel::each(&mut c, &mut infos, |c, i, info| {
        c.action(i, info).filter(|_| kept)
    });
    let actions = named(&p.actions, |a| &a.name.name, actions);
    c.actions = Arc::new(infos);
    c.failure_cycles();
    c.start_cycles();
    // Each is lowered (and checked), then dropped or kept.
    let bindings: Vec<_> = parallel::each(&mut c, &mut vec![(); p.bindings.len()], |c, i, _| {
        Some(c.binding(i)).filter(|_| kept)
    })
    .flat_map(|(_, lowered)| lowered)
    .collect();
    let tests: Vec<_> = parallel::each(&mut c, &mut vec![(); p.tests.len()], |c, i, _| {
        c.test(i).filter(|_| kept)
    })
    .map(|(_, lowered)| lowered)
    .collect();
    if !p.incomplete {
        c.unused();
    }
    c.diags.retain(|d| !follows_a_syntax_error(p, d));
    *diags = c.diags;
    if diags.iter().any(Diagnostic::is_error) || !kept {
        return None;
    }
    Some(ir::Program {
        version: ir::IR_VERSION,
        files: files
            .iter()
            .map(|id| sources.get(*id).path.clone())
            .collect(),
        agent: agent?,
        targets,
        tasks,
        actions,
        replies,
        usecases,
        bindings,
        tests,
    })
}

/// A field or argument reported missing, unknown or doubled in a declaration that parsed
/// without one of its members: the member's syntax error is the report.
fn follows_a_syntax_error(p: &Program, d: &Diagnostic) -> bool {
    let about_fields = matches!(
        d.code,
        Code::UnknownField | Code::MissingField | Code::MissingArgument | Code::DuplicateField
    );
    let at = d.span();
    about_fields
        && p.incomplete_declarations
            .iter()
            .any(|s| s.file == at.file && s.start <= at.start && at.end <= s.end)
}

/// Lowers each declaration of one kind into a map by name (the first of duplicates wins;
/// duplicates are errors anyway); when not `kept`, each is dropped once lowered.
fn collect_named<'a, D, T>(
    decls: &[&'a D],
    name: impl Fn(&'a D) -> &'a String,
    mut lower: impl FnMut(usize) -> Option<T>,
    kept: bool,
) -> BTreeMap<String, T> {
    let lowered = (0..decls.len()).filter_map(|i| Some((i, lower(i).filter(|_| kept)?)));
    named(decls, name, lowered)
}

/// The lowered declarations `(index, IR)` of one kind into a map by name, as
/// [`collect_named`] does.
fn named<'a, D, T>(
    decls: &[&'a D],
    name: impl Fn(&'a D) -> &'a String,
    lowered: impl Iterator<Item = (usize, T)>,
) -> BTreeMap<String, T> {
    let mut out = BTreeMap::new();
    for (i, lowered) in lowered {
        out.entry(name(decls[i]).clone()).or_insert(lowered);
    }
    out
}

impl<'a> Checker<'a> {
    fn new(
        p: &'a Program<'a>,
        env: &'a Env<'a>,
        diags: Vec<Diagnostic>,
        files: &[FileId],
        sources: &'a SourceMap,
    ) -> Self {
        Checker {
            p,
            env,
            diags,
            targets: Arc::new(vec![TargetInfo::default(); p.targets.len()]),
            tasks: Arc::new(vec![TaskInfo::default(); p.tasks.len()]),
            actions: Arc::default(),
            blocks: Arc::new(vec![Vec::new(); p.usecases.len()]),
            used: Used::none(p),
            walked: vec![0; p.actions.len()],
            deferred: None,
            sources,
            file_index: Arc::new(
                files
                    .iter()
                    .enumerate()
                    .map(|(i, id)| (*id, i as u32))
                    .collect(),
            ),
            probe: None,
            unchecked: None,
        }
    }

    /// A checker for another thread of [`super::parallel`]: the same program and infos,
    /// nothing reported or used yet, its `on_failure` walks deferred.
    pub fn worker(&self) -> Self {
        Checker {
            p: self.p,
            env: self.env,
            diags: Vec::new(),
            targets: self.targets.clone(),
            tasks: self.tasks.clone(),
            actions: self.actions.clone(),
            blocks: self.blocks.clone(),
            used: Used::none(self.p),
            walked: Vec::new(),
            deferred: Some(Vec::new()),
            sources: self.sources,
            file_index: self.file_index.clone(),
            probe: None,
            unchecked: None,
        }
    }

    /// Called where a declaration's info (`targets`, `tasks`, `blocks`) is about to be read:
    /// under [`type_at`], which skips the passes that fill them, it is checked now.
    pub fn referred(&mut self, decl: Referred) {
        let Some(unchecked) = &mut self.unchecked else {
            return;
        };
        let pending = match decl {
            Referred::Target(i) => &mut unchecked.targets[i],
            Referred::Task(i) => &mut unchecked.tasks[i],
            Referred::Usecase(i) => &mut unchecked.usecases[i],
        };
        if std::mem::take(pending) {
            // Only their infos are wanted here, not their IR.
            match decl {
                Referred::Target(i) => {
                    self.target(i);
                }
                Referred::Task(i) => {
                    self.task_decl(i);
                }
                Referred::Usecase(i) => {
                    self.usecase(i);
                }
            }
        }
    }

    /// A span as the IR records it: `file` indexes the IR's `files`.
    pub fn ir_span(&self, span: Span) -> Span {
        Span {
            file: FileId(self.file_index.get(&span.file).copied().unwrap_or(0)),
            ..span
        }
    }

    /// Runs `f` with an expression checker over `scope`; returns what `usecase`/`block` it read.
    pub fn with_expr<'s, R>(
        &mut self,
        scope: Scope<'s>,
        f: impl FnOnce(&mut ExprChecker<'s, '_>) -> R,
    ) -> (R, Reads) {
        let mut ex = ExprChecker::new(scope, &mut self.diags);
        ex.probe = self.probe.as_mut();
        let result = f(&mut ex);
        let reads = Reads {
            usecase: ex.read_usecase,
            block: ex.read_block,
        };
        (result, reads)
    }

    /// Reports `name`, which is not a declaration of the kind wanted (`kind`: "action",
    /// `wanted`: "an action"): "is a target, not an action" when it is declared as
    /// something else, else "did you mean" among the declarations `is` accepts, else
    /// `declare` (how to declare it).
    pub fn unknown_decl(
        &mut self,
        code: Code,
        (kind, wanted): (&str, &str),
        name: &str,
        span: Span,
        is: fn(Decl) -> bool,
        declare: String,
    ) {
        if self.p.maybe_declared(name) {
            // Declared by a declaration that did not parse: its syntax error is the report.
            return;
        }
        let declared = self.p.names.get(name).map(|(decl, _)| *decl);
        let param = self.p.param_spans.contains_key(name).then_some(Decl::Param);
        let help = match declared.or(param) {
            Some(decl) => format!("`{name}` is {}, not {wanted}", decl.describe()),
            None => unknown_help(name, self.p.names_of(is), declare),
        };
        self.diags
            .push(Diagnostic::new(code, format!("unknown {kind} `{name}`"), span).with_help(help));
    }

    /// The scope of expressions that run inside a conversation, for some event.
    pub fn conversation_scope(&self, place: &'static str, event: EventScope) -> Scope<'a> {
        let env = self.env;
        Scope {
            declared: Some(env.names),
            params_unknown: self.p.broken_agent,
            ..Scope::conversation(place, &env.params, env.voice(), event)
        }
    }
}
