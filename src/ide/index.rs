//! Every name written in one file, with what it names: the declarations it makes and the
//! references it holds. Go to definition, find references, rename, hover and the symbol
//! lists all read this. It is built from the parsed tree alone (a file that does not check
//! still has its index), and the names are resolved when asked, against the files of the
//! program the file belongs to.

use crate::catalogue::{self, Ty};
use crate::check::resolve_import;
use crate::syntax::ast::{self, ExprKind, Item};
use std::ops::Range;

/// What a name refers to. Declarations share one namespace ([`Key::Decl`]); the agent's
/// params have their own, and a declared task's parameters are its own.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// A target, task, action, reply or use case.
    Decl(String),
    /// One of the agent's params.
    Param(String),
    /// A parameter of the declared task named first.
    TaskParam(String, String),
    /// A block of a use case: `usecase.block`.
    Block(String, String),
    /// The task an action runs on its target: a declared task, or one of the kind's.
    TaskCall {
        target: String,
        task: String,
    },
    Event(String),
    Function(String),
    /// A target kind (`http`), or a built-in target (`conversation`).
    Kind(String),
    /// A scope root (`user`), or one of its fields (`user.email`).
    Root(String),
    Field(String, String),
    /// The file an `import` names, resolved against the importing file.
    Import(String),
}

impl Key {
    /// What a reference is matched by: a task call is its declared task's name.
    pub fn identity(&self) -> Key {
        match self {
            Key::TaskCall { task, .. } => Key::Decl(task.clone()),
            key => key.clone(),
        }
    }

    /// Whether it names something the program declares (it can be renamed).
    pub fn is_declared(&self) -> bool {
        matches!(
            self,
            Key::Decl(_)
                | Key::Param(_)
                | Key::TaskParam(..)
                | Key::Block(..)
                | Key::TaskCall { .. }
        )
    }
}

/// What a declaration is, for symbol lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    Agent,
    Target,
    Task,
    Action,
    Reply,
    Usecase,
    Block,
    Param,
    Binding,
    Test,
    Import,
}

impl SymbolKind {
    pub fn keyword(self) -> &'static str {
        match self {
            SymbolKind::Agent => "agent",
            SymbolKind::Target => "target",
            SymbolKind::Task => "task",
            SymbolKind::Action => "action",
            SymbolKind::Reply => "reply",
            SymbolKind::Usecase => "usecase",
            SymbolKind::Block => "block",
            SymbolKind::Param => "param",
            SymbolKind::Binding => "binding",
            SymbolKind::Test => "test",
            SymbolKind::Import => "import",
        }
    }
}

/// One name written in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Occurrence {
    pub key: Key,
    /// The name's own bytes.
    pub range: Range<usize>,
    /// It declares the name (rather than refers to it).
    pub def: bool,
}

/// A declaration, for the document's outline: its whole extent and its name's.
#[derive(Clone, Debug, PartialEq)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    pub range: Range<usize>,
    pub selection: Range<usize>,
    pub children: Vec<Symbol>,
}

#[derive(Debug, Default)]
pub struct FileIndex {
    /// In order of position.
    pub occurrences: Vec<Occurrence>,
    pub symbols: Vec<Symbol>,
    /// The files its imports name, resolved.
    pub imports: Vec<String>,
    /// It holds an `agent` block (parsed or not): it is a program's root.
    pub has_agent: bool,
}

impl FileIndex {
    pub fn of(path: &str, text: &str, file: &ast::File) -> FileIndex {
        let mut walk = Walk {
            text,
            index: FileIndex::default(),
        };
        for item in &file.items {
            walk.item(path, item);
        }
        walk.index.has_agent = file.has_agent();
        walk.index
            .occurrences
            .sort_by_key(|o| (o.range.start, o.range.end));
        walk.index
    }

    /// The name at `offset`: the one it is in, or the one it just ends.
    pub fn at(&self, offset: usize) -> Option<&Occurrence> {
        let after = self
            .occurrences
            .partition_point(|o| o.range.start <= offset);
        self.occurrences[..after]
            .iter()
            .rev()
            .take(4)
            .find(|o| o.range.start <= offset && offset <= o.range.end)
    }
}

/// Whose parameters a bare word in an expression reads.
#[derive(Clone, Copy)]
enum Params<'a> {
    Agent,
    Task(&'a str),
}

struct Walk<'t> {
    text: &'t str,
    index: FileIndex,
}

fn range(span: ast::Span) -> Range<usize> {
    span.range()
}

impl Walk<'_> {
    fn add(&mut self, key: Key, span: ast::Span, def: bool) {
        self.index.occurrences.push(Occurrence {
            key,
            range: range(span),
            def,
        });
    }

    fn decl(&mut self, kind: SymbolKind, name: &ast::Ident, span: ast::Span) -> &mut Symbol {
        self.add(Key::Decl(name.name.clone()), name.span, true);
        self.symbol(kind, &name.name, name.span, span)
    }

    fn symbol(
        &mut self,
        kind: SymbolKind,
        name: &str,
        selection: ast::Span,
        span: ast::Span,
    ) -> &mut Symbol {
        self.index.symbols.push(Symbol {
            name: name.to_string(),
            kind,
            range: range(span),
            selection: range(selection),
            children: Vec::new(),
        });
        self.index.symbols.last_mut().expect("just pushed")
    }

    fn item(&mut self, path: &str, item: &Item) {
        match item {
            Item::Import(i) => {
                let resolved = resolve_import(path, &i.path);
                self.add(Key::Import(resolved.clone()), i.path_span, false);
                self.symbol(SymbolKind::Import, &i.path, i.path_span, i.span);
                self.index.imports.push(resolved);
            }
            Item::Agent(a) => {
                let mut params = Vec::new();
                for entry in &a.entries {
                    match entry {
                        ast::AgentEntry::Field(f) => self.expr(&f.value, Params::Agent),
                        ast::AgentEntry::Params { params: decls, .. } => {
                            for p in decls {
                                self.add(Key::Param(p.name.name.clone()), p.name.span, true);
                                if let Some(default) = &p.default {
                                    self.expr(default, Params::Agent);
                                }
                                params.push(leaf(SymbolKind::Param, &p.name, p.span));
                            }
                        }
                    }
                }
                self.symbol(SymbolKind::Agent, &a.name.name, a.name.span, a.span)
                    .children = params;
            }
            Item::Target(t) => {
                self.decl(SymbolKind::Target, &t.name, t.span);
                self.add(Key::Kind(t.kind.name.clone()), t.kind.span, false);
                self.fields(&t.fields, Params::Agent);
            }
            Item::Task(t) => {
                self.decl(SymbolKind::Task, &t.name, t.span);
                let task = t.name.name.as_str();
                let mut children = Vec::new();
                for p in &t.params {
                    let key = Key::TaskParam(task.to_string(), p.name.name.clone());
                    self.add(key, p.name.span, true);
                    if let Some(default) = &p.default {
                        self.expr(default, Params::Task(task));
                    }
                    children.push(leaf(SymbolKind::Param, &p.name, p.span));
                }
                self.add(Key::Decl(t.target.name.clone()), t.target.span, false);
                self.fields(&t.fields, Params::Task(task));
                if let Some(symbol) = self.index.symbols.last_mut() {
                    symbol.children = children;
                }
            }
            Item::Action(a) => {
                self.decl(SymbolKind::Action, &a.name, a.span);
                self.action(a);
            }
            Item::Reply(r) => {
                self.decl(SymbolKind::Reply, &r.name, r.span);
                self.fields(&r.fields, Params::Agent);
            }
            Item::Usecase(u) => {
                self.decl(SymbolKind::Usecase, &u.name, u.span);
                let mut blocks = Vec::new();
                for f in &u.fields {
                    match (&f.value.kind, f.key.name.as_str()) {
                        (ExprKind::List(items), "blocks") => {
                            for item in items {
                                if let Some(name) = self.name_ident(item) {
                                    let key = Key::Block(u.name.name.clone(), name.name.clone());
                                    self.add(key, name.span, true);
                                    blocks.push(leaf(SymbolKind::Block, &name, item.span));
                                }
                            }
                        }
                        _ => self.expr(&f.value, Params::Agent),
                    }
                }
                if let Some(symbol) = self.index.symbols.last_mut() {
                    symbol.children = blocks;
                }
            }
            Item::Binding(b) => self.binding(b),
            Item::Test(t) => {
                for step in &t.steps {
                    self.step(step);
                }
                self.symbol(SymbolKind::Test, &t.name, t.name_span, t.span);
            }
        }
    }

    fn binding(&mut self, b: &ast::Binding) {
        let name = match &b.trigger {
            ast::Trigger::Events(events) => {
                for e in events {
                    self.add(Key::Event(e.name.clone()), e.span, false);
                }
                let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
                format!("on {}", names.join(", "))
            }
            ast::Trigger::BeforeCall(_) => "before call".into(),
            ast::Trigger::AfterCall(_) => "after call".into(),
            ast::Trigger::Usecase(u) => {
                self.add(Key::Decl(u.name.clone()), u.span, false);
                format!("in usecase {}", u.name)
            }
            ast::Trigger::Block { usecase, block } => {
                self.block_ref(usecase, block);
                format!("at block {}.{}", usecase.name, block.name)
            }
        };
        if let Some(when) = &b.when {
            self.expr(when, Params::Agent);
        }
        match &b.body {
            ast::BindingBody::Do(actions) => {
                for a in actions {
                    self.add(Key::Decl(a.name.clone()), a.span, false);
                }
            }
            ast::BindingBody::Reply(r) => self.add(Key::Decl(r.name.clone()), r.span, false),
        }
        let trigger = trigger_span(&b.trigger);
        self.symbol(SymbolKind::Binding, &name, trigger, b.span);
    }

    fn block_ref(&mut self, usecase: &ast::Ident, block: &ast::Ident) {
        self.add(Key::Decl(usecase.name.clone()), usecase.span, false);
        let key = Key::Block(usecase.name.clone(), block.name.clone());
        self.add(key, block.span, false);
    }

    fn fields(&mut self, fields: &[ast::Field], params: Params<'_>) {
        for f in fields {
            self.expr(&f.value, params);
        }
    }

    fn action(&mut self, a: &ast::Action) {
        let target = a
            .fields
            .iter()
            .find(|f| f.key.name == "target")
            .and_then(|f| match &f.value.kind {
                ExprKind::Name(n) => Some(*n),
                _ => None,
            });
        for f in &a.fields {
            match f.key.name.as_str() {
                "target" => match self.name_ident(&f.value) {
                    Some(name) if catalogue::target_kind(&name.name).is_some_and(|k| k.builtin) => {
                        self.add(Key::Kind(name.name), name.span, false)
                    }
                    Some(name) => self.add(Key::Decl(name.name), name.span, false),
                    None => self.expr(&f.value, Params::Agent),
                },
                "task" => self.task_call(target.as_deref(), &f.value),
                "on_failure" => {
                    let items = match &f.value.kind {
                        ExprKind::List(items) => items.iter().collect(),
                        _ => vec![&f.value],
                    };
                    for item in items {
                        match self.name_ident(item) {
                            Some(name) => self.add(Key::Decl(name.name), name.span, false),
                            None => self.expr(item, Params::Agent),
                        }
                    }
                }
                _ => self.expr(&f.value, Params::Agent),
            }
        }
    }

    /// `task: name(args)`: the callee is the target's task; an argument the catalogue types
    /// as a reply, use case, block or param names one.
    fn task_call(&mut self, target: Option<&str>, value: &ast::Expr) {
        let ExprKind::Call(call) = &value.kind else {
            return self.expr(value, Params::Agent);
        };
        let (callee, args) = (&call.callee, &call.args);
        let key = Key::TaskCall {
            target: target.unwrap_or_default().to_string(),
            task: callee.name.to_string(),
        };
        self.add(key, callee.span, false);
        let spec = target
            .and_then(catalogue::target_kind)
            .filter(|k| k.builtin)
            .and_then(|k| k.task(&callee.name));
        let mut positional = 0;
        for arg in args {
            let ty = match (&arg.name, spec) {
                (Some(name), Some(spec)) if spec.named_params => {
                    self.add(Key::Param(name.name.clone()), name.span, false);
                    None
                }
                (Some(name), Some(spec)) => {
                    spec.args.iter().find(|a| a.name == name.name).map(|a| a.ty)
                }
                (Some(name), None) if target.is_some() => {
                    let key = Key::TaskParam(callee.name.to_string(), name.name.clone());
                    self.add(key, name.span, false);
                    None
                }
                (None, Some(spec)) => {
                    positional += 1;
                    spec.args.get(positional - 1).map(|a| a.ty)
                }
                _ => None,
            };
            self.typed_arg(ty, &arg.value);
        }
    }

    fn typed_arg(&mut self, ty: Option<Ty>, value: &ast::Expr) {
        let key = |name: String| match ty {
            Some(Ty::ReplyRef | Ty::UsecaseRef) => Some(Key::Decl(name)),
            Some(Ty::Param) => Some(Key::Param(name)),
            _ => None,
        };
        if let Some(name) = self.name_ident(value) {
            if let Some(key) = key(name.name.clone()) {
                return self.add(key, name.span, false);
            }
        }
        if let (Some(Ty::BlockRef), ExprKind::Field(field)) = (ty, &value.kind) {
            if let Some(usecase) = self.name_ident(&field.0) {
                return self.block_ref(&usecase, &field.1.ident());
            }
        }
        self.expr(value, Params::Agent);
    }

    fn step(&mut self, step: &ast::TestStep) {
        match step {
            ast::TestStep::Mock(m) => {
                self.add(Key::Decl(m.target.name.clone()), m.target.span, false);
            }
            ast::TestStep::Send(s) => match &s.what {
                ast::SendWhat::Event(e) => self.add(Key::Event(e.name.clone()), e.span, false),
                ast::SendWhat::Usecase(u) => self.add(Key::Decl(u.name.clone()), u.span, false),
                ast::SendWhat::Block { usecase, block } => self.block_ref(usecase, block),
                ast::SendWhat::Wait(_) => {}
            },
            ast::TestStep::Expect(e) => match &e.what {
                ast::Expectation::Action(_, a) => {
                    self.add(Key::Decl(a.name.clone()), a.span, false)
                }
                ast::Expectation::Param(expr) => self.expr(expr, Params::Agent),
                ast::Expectation::Reply(expr) => {
                    if let Some(name) = self.name_ident(expr) {
                        self.add(Key::Decl(name.name), name.span, false);
                    }
                }
                ast::Expectation::Request { target, .. }
                | ast::Expectation::Email { target, .. }
                | ast::Expectation::Sms { target, .. }
                | ast::Expectation::Row { target, .. } => {
                    self.add(Key::Decl(target.name.clone()), target.span, false)
                }
                ast::Expectation::Label(_)
                | ast::Expectation::Status(_)
                | ast::Expectation::Effect { .. } => {}
            },
        }
    }

    /// The name an expression is, if it is a bare one, with the span of its word (inside
    /// any parentheses).
    fn name_ident(&self, expr: &ast::Expr) -> Option<ast::Ident> {
        let ExprKind::Name(name) = &expr.kind else {
            return None;
        };
        let mut span = expr.span;
        if expr.parens {
            let inside = self.text.get(span.range())?;
            let at = inside.find(name.as_str())?;
            span.start += at as u32;
            span.end = span.start + name.len() as u32;
        }
        Some(ast::Ident {
            name: name.to_string(),
            span,
        })
    }

    fn expr(&mut self, expr: &ast::Expr, params: Params<'_>) {
        match &expr.kind {
            ExprKind::Name(_) => {
                let Some(name) = self.name_ident(expr) else {
                    return;
                };
                let key = if catalogue::scope::scope_root(&name.name).is_some() {
                    Key::Root(name.name.clone())
                } else {
                    match params {
                        Params::Agent => Key::Param(name.name.clone()),
                        Params::Task(task) => Key::TaskParam(task.to_string(), name.name.clone()),
                    }
                };
                self.add(key, name.span, false);
            }
            ExprKind::Field(access) => match self.name_ident(&access.0) {
                Some(root) if catalogue::scope::scope_root(&root.name).is_some() => {
                    let field = &access.1;
                    let key = Key::Field(root.name.clone(), field.name.to_string());
                    self.add(Key::Root(root.name.clone()), root.span, false);
                    self.add(key, field.span, false);
                }
                _ => self.expr(&access.0, params),
            },
            ExprKind::Index(operands) | ExprKind::Binary(_, operands) => {
                for operand in operands.iter() {
                    self.expr(operand, params);
                }
            }
            ExprKind::Call(call) => {
                let callee = &call.callee;
                self.add(Key::Function(callee.name.to_string()), callee.span, false);
                for arg in &call.args {
                    self.expr(&arg.value, params);
                }
            }
            ExprKind::Unary(_, e) => self.expr(e, params),
            ExprKind::If(parts) => {
                for part in parts.iter() {
                    self.expr(part, params);
                }
            }
            ExprKind::List(items) => {
                for item in items {
                    self.expr(item, params);
                }
            }
            ExprKind::Record(entries) => {
                for entry in entries {
                    self.expr(&entry.value, params);
                }
            }
            ExprKind::Str(s, _) => {
                for part in &s.parts {
                    if let ast::StrPart::Interp(e) = part {
                        self.expr(e, params);
                    }
                }
            }
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Number(_)
            | ExprKind::Duration(_)
            | ExprKind::Error => {}
        }
    }
}

fn leaf(kind: SymbolKind, name: &ast::Ident, span: ast::Span) -> Symbol {
    Symbol {
        name: name.name.clone(),
        kind,
        range: range(span),
        selection: range(name.span),
        children: Vec::new(),
    }
}

fn trigger_span(trigger: &ast::Trigger) -> ast::Span {
    match trigger {
        ast::Trigger::Events(events) => match (events.first(), events.last()) {
            (Some(first), Some(last)) => first.span.to(last.span),
            _ => ast::Span::default(),
        },
        ast::Trigger::BeforeCall(span) | ast::Trigger::AfterCall(span) => *span,
        ast::Trigger::Usecase(u) => u.span,
        ast::Trigger::Block { usecase, block } => usecase.span.to(block.span),
    }
}
