//! `agentc run PROGRAM... --events FILE|-`: runs a program against a stream of JSON Lines
//! events, printing the trace as it goes (a timeline, or JSON Lines with `--trace json`).

use super::events::EventLines;
use super::files::{self, FsLoader, Read};
use super::shutdown::{OutputGone, Signals, Stopped};
use crate::catalogue::Protocol;
use crate::check;
use crate::diagnostics::render::{self, HumanOptions};
use crate::diagnostics::{Code, Diagnostic, SourceMap, Span};
use crate::ir::{self, Value};
use crate::printable::escape;
use crate::runtime::executors;
use crate::runtime::mock::{protocol, run_sql, MockRule, MockSecrets, MockedWorld, SqlTargets};
use crate::runtime::{
    eval_constant, show_duration, timeline, Environment, ProcessEnv, Redactor, Runtime,
    TraceRecord, TraceSink,
};
use crate::syntax::{self, ast};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncRead;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program: its root .agent file (the files it imports are read too), a directory
    /// holding it, or an IR .json file from `agentc compile`.
    #[arg(required = true, value_name = "PROGRAM")]
    pub program: Vec<PathBuf>,
    /// Events as JSON Lines, one per line, or `-` for standard input (read as it arrives).
    #[arg(long, short, value_name = "FILE|-")]
    pub events: String,
    /// How the trace is printed.
    #[arg(long, value_enum, default_value_t = TraceFormat::Human)]
    pub trace: TraceFormat,
    /// Hold back every side effect (requests that change something, emails, SMS, SQL
    /// writes) and print what it would send; with `--mocks`, reads are answered by the mocks.
    #[arg(long)]
    pub dry_run: bool,
    /// A file of `mock` statements: external targets talk to local mock services instead
    /// (every secret then reads as a placeholder), and `mock DB SQL "statement"` lines run
    /// on that sql target before the first event.
    #[arg(long, value_name = "FILE")]
    pub mocks: Option<PathBuf>,
    /// When to colour the timeline.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(flatten)]
    pub imports: files::ImportRoots,
    /// On SIGINT or SIGTERM (or when standard output closes), how long the actions running
    /// may take to finish before they are dropped (`10s`, `500ms`).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = super::duration_arg)]
    pub grace: Duration,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// A readable timeline.
    Human,
    /// JSON Lines (schema in docs/trace.md).
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub fn run(args: Args) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            note!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let code = runtime.block_on(run_async(args));
    // Reading standard input blocks a thread that nothing can cancel: do not wait for it.
    runtime.shutdown_background();
    code
}

async fn run_async(args: Args) -> ExitCode {
    let Some(program) = load_program(&args.program, &args.imports) else {
        return ExitCode::FAILURE;
    };
    let colour = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let mut signals = match Signals::listen() {
        Ok(signals) => signals,
        Err(e) => {
            note!("error: cannot listen for signals: {e}");
            return ExitCode::from(2);
        }
    };
    let redactor = Redactor::default();
    let sink = Arc::new(PrintSink {
        json: args.trace == TraceFormat::Json,
        colour,
        errors: AtomicBool::new(false),
        out: Mutex::new(()),
        gone: OutputGone::default(),
    });
    // Kept alive for the whole run: dropping it stops the mock services.
    let mut _mocked = None;
    let mut seeds = Vec::new();
    let builder = match &args.mocks {
        Some(path) => {
            let mut rules = match load_mocks(path, &program, &redactor) {
                Ok(rules) => rules,
                Err(status) => return status,
            };
            seeds = take_sql_seeds(&mut rules, &program);
            let mocked = match MockedWorld::start(rules, redactor.clone()).await {
                Ok(mocked) => mocked,
                Err(e) => {
                    note!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let builder = mocked.runtime(program.clone(), SqlTargets::AsDeclared);
            _mocked = Some(mocked);
            builder
        }
        None => {
            let builder = Runtime::builder(program.clone())
                .redactor(redactor.clone())
                .executor_factory(executors::factory(&redactor));
            match args.dry_run {
                true => builder.env(DryRunSecrets),
                false => builder,
            }
        }
    };
    let builder = builder.trace(sink.clone()).dry_run(args.dry_run);
    let runtime = match builder.build() {
        Ok(runtime) => runtime,
        Err(e) => {
            note!("error: the program cannot run: {}", escape(&e.to_string()));
            return ExitCode::FAILURE;
        }
    };
    // A dry run changes nothing, not even a local database.
    for (target, statement) in seeds.into_iter().filter(|_| !args.dry_run) {
        if let Err(e) = run_sql(&runtime, &target, &statement).await {
            note!(
                "error: the mocks' SQL on `{target}` failed: {}",
                escape(&e.to_string())
            );
            return ExitCode::FAILURE;
        }
    }
    let input: Box<dyn AsyncRead + Unpin + Send> = if args.events == "-" {
        Box::new(tokio::io::stdin())
    } else {
        match tokio::fs::File::open(&args.events).await {
            Ok(file) => Box::new(file),
            Err(e) => {
                note!("error: cannot read `{}`: {}", args.events, e);
                return ExitCode::from(2);
            }
        }
    };
    let mut stopped = tokio::select! {
        () = feed(&runtime, input, &sink) => None,
        signal = signals.next() => Some(signal),
        () = sink.gone.wait() => Some(Stopped::OutputClosed),
    };
    if stopped.is_none() && sink.gone.is_set() {
        stopped = Some(Stopped::OutputClosed);
    }
    let begin_stop = |why: Stopped| {
        note!(
            "agentc run: {}: stopping (no new event or action starts; the running ones get {})",
            why.describe(),
            show_duration(args.grace)
        );
        runtime.stop(args.grace);
    };
    if let Some(why) = stopped {
        begin_stop(why);
    }
    // Conversations finish what they were given; a signal or a closed output meanwhile
    // stops them, and a second signal drops what still runs.
    let finishing = runtime.finish();
    tokio::pin!(finishing);
    loop {
        tokio::select! {
            _ = &mut finishing => break,
            signal = signals.next() => match stopped {
                None => {
                    stopped = Some(signal);
                    begin_stop(signal);
                }
                Some(_) => runtime.abandon(),
            },
            () = sink.gone.wait(), if stopped.is_none() => {
                stopped = Some(Stopped::OutputClosed);
                begin_stop(Stopped::OutputClosed);
            }
        }
    }
    match stopped {
        Some(stopped) => stopped.exit_code(),
        None if sink.errors.load(Ordering::SeqCst) || runtime.faults() > 0 => ExitCode::FAILURE,
        None => ExitCode::SUCCESS,
    }
}

/// Streams events into the runtime, each line as soon as it is read.
async fn feed(runtime: &Runtime, input: Box<dyn AsyncRead + Unpin + Send>, sink: &PrintSink) {
    let mut lines = EventLines::new(input);
    loop {
        let (number, event) = match lines.next().await {
            Ok(Some(line)) => line,
            Ok(None) => return,
            Err(e) => {
                let message = format!("cannot read the events: {e}");
                sink.record(TraceRecord::Error {
                    conversation: None,
                    line: Some(lines.number() + 1),
                    message,
                });
                return;
            }
        };
        match event {
            Ok(event) => {
                runtime.room().await;
                runtime.send(event)
            }
            Err(error) => sink.record(TraceRecord::Error {
                conversation: None,
                line: Some(number),
                message: runtime.redactor().redact(&error.to_string()).into_owned(),
            }),
        }
    }
}

/// Prints records as they come; lines of concurrent conversations never mix.
struct PrintSink {
    json: bool,
    colour: bool,
    /// Set when input had to be skipped: the run then exits with status 1.
    errors: AtomicBool,
    out: Mutex<()>,
    /// Set when standard output cannot be written: the run stops.
    gone: OutputGone,
}

impl PrintSink {
    /// Writes one line to standard output, unless it failed before.
    fn print(&self, line: &str) {
        if self.gone.is_set() {
            return;
        }
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            self.gone.set();
        }
    }
}

impl TraceSink for PrintSink {
    fn record(&self, record: TraceRecord) {
        let input_error = matches!(record, TraceRecord::Error { line: Some(_), .. });
        if input_error {
            self.errors.store(true, Ordering::SeqCst);
        }
        let _guard = self.out.lock();
        if self.json {
            self.print(&record.to_json_line());
        } else if matches!(record, TraceRecord::Error { .. }) {
            let colour = self.colour && std::io::stderr().is_terminal();
            let _ = writeln!(
                std::io::stderr().lock(),
                "{}",
                timeline::render(&record, colour)
            );
        } else {
            self.print(&timeline::render(&record, self.colour));
        }
    }
}

/// A dry run without mocks reads the real environment (its reads would need real
/// credentials), but sends nothing, so a missing secret need not stop it: it reads as the
/// mocked world's placeholder, which the redactor registers like any secret.
struct DryRunSecrets;

impl Environment for DryRunSecrets {
    fn var(&self, name: &str) -> Option<String> {
        Some(
            ProcessEnv
                .var(name)
                .unwrap_or_else(|| MockSecrets::placeholder(name)),
        )
    }
}

/// The program from an IR file or from `.agent` sources (checked; diagnostics printed).
pub(super) fn load_program(paths: &[PathBuf], imports: &files::ImportRoots) -> Option<ir::Program> {
    if let [path] = paths {
        if path.extension().is_some_and(|e| e == "json") {
            return load_ir(path);
        }
    }
    let found = match files::discover(paths) {
        Ok(found) => found,
        Err(error) => {
            note!("error: {error}");
            return None;
        }
    };
    let mut sources = SourceMap::new();
    let mut roots = Vec::new();
    let mut diagnostics = Vec::new();
    for path in &found {
        match files::read(&mut sources, path) {
            Err(error) => {
                note!("error: {error}");
                return None;
            }
            Ok(Read::NotText(_, diagnostic)) => diagnostics.push(diagnostic),
            Ok(Read::Text(id)) => {
                let parsed = syntax::parse(id, &sources.get(id).text);
                if parsed
                    .file
                    .items
                    .iter()
                    .any(|i| matches!(i, ast::Item::Agent(_)))
                {
                    roots.push(id);
                }
            }
        }
    }
    let program = match roots.as_slice() {
        _ if !diagnostics.is_empty() => None,
        [root] => {
            let mut loader = match FsLoader::new(paths, imports) {
                Ok(loader) => loader,
                Err(error) => {
                    note!("error: {error}");
                    return None;
                }
            };
            let checked = check::check_program_to_run(&mut sources, *root, &mut loader);
            diagnostics = checked.diagnostics;
            checked.program
        }
        [] => {
            note!(
                "error: no `agent` block in {}: give the program's root file",
                shown(&found)
            );
            return None;
        }
        _ => {
            note!(
                "error: several `agent` blocks in {}: run one program at a time",
                shown(&found)
            );
            return None;
        }
    };
    print_diagnostics(&sources, &diagnostics);
    program.filter(|_| !diagnostics.iter().any(Diagnostic::is_error))
}

fn shown(paths: &[PathBuf]) -> String {
    match paths {
        [one] => format!("`{}`", files::display(one)),
        _ => format!("these {} files", paths.len()),
    }
}

fn print_diagnostics(sources: &SourceMap, diagnostics: &[Diagnostic]) {
    if diagnostics.is_empty() {
        return;
    }
    let stderr = std::io::stderr();
    let options = HumanOptions {
        color: files::use_color(stderr.is_terminal()),
        width: files::width(),
    };
    let text = render::human(diagnostics, sources, options);
    let _ = stderr.lock().write_all(text.as_bytes());
}

/// A compiled program, read with [`ir::from_json`] and checked again
/// ([`check::check_compiled`]): an IR file is refused for what its source would be.
fn load_ir(path: &Path) -> Option<ir::Program> {
    let shown = escape(&path.display().to_string()).into_owned();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            note!("error: cannot read `{shown}`: {e}");
            return None;
        }
    };
    let program = match ir::from_json(&text) {
        Ok(program) => program,
        Err(e) => {
            note!("error: `{shown}` {}", escape(&e.to_string()));
            return None;
        }
    };
    let breaches = check::check_compiled(&program);
    if breaches.is_empty() {
        return Some(program);
    }
    let mut text = String::new();
    for breach in &breaches {
        let d = &breach.diagnostic;
        text += &format!(
            "error[{}]: {} ({})\n",
            d.code,
            escape(&d.message),
            breach.place
        );
        if let Some(help) = &d.help {
            text += &format!("  help: {help}\n");
        }
    }
    text += &format!(
        "error: `{shown}` breaks rules the checker applies to its source: fix the source and \
         compile it again\n"
    );
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    None
}

/// The rules on sql targets (`mock DB SQL "statement"`, the only form the checker lets
/// through): statements to run before the events.
fn take_sql_seeds(rules: &mut Vec<MockRule>, program: &ir::Program) -> Vec<(String, String)> {
    let is_seed =
        |rule: &MockRule| program.targets.get(&rule.target).map(protocol) == Some(Protocol::Sql);
    let seeds = rules
        .iter()
        .filter(|r| is_seed(r))
        .map(|r| (r.target.clone(), r.path.clone()))
        .collect();
    rules.retain(|r| !is_seed(r));
    seeds
}

/// The `mock` statements of a mocks file, checked as in a test block and their values
/// evaluated; `Err` is the exit status (2: the file cannot be read, 1: it has errors).
fn load_mocks(
    path: &Path,
    program: &ir::Program,
    redactor: &Redactor,
) -> Result<Vec<MockRule>, ExitCode> {
    let mut sources = SourceMap::new();
    let id = match files::read(&mut sources, path) {
        Ok(Read::Text(id)) => id,
        Ok(Read::NotText(_, diagnostic)) => {
            print_diagnostics(&sources, &[diagnostic]);
            return Err(ExitCode::FAILURE);
        }
        Err(error) => return Err(files::fail(&error.to_string())),
    };
    let (steps, mut diagnostics) = syntax::parse_test_steps(id, &sources.get(id).text);
    let mut rules = Vec::new();
    let mut value = |expr: &ast::Expr| constant(program, expr, redactor);
    for step in &steps {
        let ast::TestStep::Mock(mock) = step else {
            diagnostics.push(
                Diagnostic::new(
                    Code::BadTestStep,
                    "only `mock` statements belong in a mocks file",
                    step_span(step),
                )
                .with_help("move `send` and `expect` steps into a `test` block"),
            );
            continue;
        };
        match check::check_mock(program, mock, &mut value) {
            Ok(step) => rules.extend(MockRule::from_step(&step)),
            Err(mut found) => diagnostics.append(&mut found),
        }
    }
    print_diagnostics(&sources, &diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(ExitCode::FAILURE);
    }
    Ok(rules)
}

fn step_span(step: &ast::TestStep) -> Span {
    match step {
        ast::TestStep::Mock(m) => m.span,
        ast::TestStep::Send(s) => s.span,
        ast::TestStep::Expect(e) => e.span,
    }
}

/// A mock's value: checked like any expression, then evaluated with no conversation, in
/// the run's environment; a secret it reads is registered with the run's `redactor`, so
/// a mock answer that carries it is redacted in the trace like any other.
fn constant(
    program: &ir::Program,
    expr: &ast::Expr,
    redactor: &Redactor,
) -> Result<Value, Vec<Diagnostic>> {
    let checked = check::check_expr(program, &check::ExprContext::default(), expr)?;
    eval_constant(&checked.expr, &MockSecrets, redactor).map_err(|e| {
        vec![Diagnostic::new(
            crate::diagnostics::Code::NotConstant,
            e.0,
            expr.span,
        )]
    })
}
