//! `agentc repl [FILES…]`: explore a program, evaluate expressions, fire events at a live
//! conversation and watch what runs — without a network or credentials.
//!
//! On a terminal it is a line editor (rustyline) with completion, hints, highlighting,
//! multi-line input and a history file; otherwise it reads standard input line by line with
//! the same behaviour and no colour, so sessions can be scripted.

mod commands;
mod completion;
mod conversation;
mod evaluate;
mod highlighting;
mod history;
mod program;
mod render;
mod session;
mod steps;
mod validator;

use crate::ide::Names;
use commands::Flow;
use render::{palette, Printer};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{CompletionType, Config, Context, Editor, Helper};
use session::Session;
use std::borrow::Cow;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files to load; their diagnostics are shown and the session opens anyway.
    pub files: Vec<String>,
    #[command(flatten)]
    pub imports: super::files::ImportRoots,
}

const PROMPT: &str = "agentc> ";

pub fn run(args: Args) -> ExitCode {
    let interactive = std::io::stdin().is_terminal();
    let color = interactive && super::files::use_color(std::io::stdout().is_terminal());
    let mut out = Printer::new(Box::new(std::io::stdout()), color);
    // Files are read from the current directory, the files' own and the `--import-root`s.
    let readable: Vec<PathBuf> = std::iter::once(PathBuf::from("."))
        .chain(args.files.iter().map(PathBuf::from))
        .collect();
    let loader = match super::files::FsLoader::new(&readable, &args.imports) {
        Ok(loader) => loader,
        Err(e) => {
            note!("agentc repl: {e}");
            return ExitCode::from(2);
        }
    };
    let mut session = match Session::new(Box::new(loader)) {
        Ok(session) => session,
        Err(e) => {
            note!("agentc repl: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    session.open(&mut out, &args.files);
    if interactive {
        match terminal(&mut session, &mut out) {
            Ok(()) => return ExitCode::SUCCESS,
            // No usable terminal after all: read it as a script.
            Err(e) => out.note(format!("line editor unavailable ({e}); reading lines")),
        }
    }
    script(&mut session, &mut out, std::io::stdin().lock());
    if out.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Standard input is not a terminal: one entry per line, or per several lines while the
/// entry is incomplete.
fn script(session: &mut Session, out: &mut Printer, mut input: impl BufRead) {
    let mut entry = String::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let end = matches!(input.read_until(b'\n', &mut line), Ok(0) | Err(_));
        entry.push_str(&String::from_utf8_lossy(&line));
        if !end && validator::needs_more(&entry) {
            continue;
        }
        let text = std::mem::take(&mut entry);
        if session.enter(out, text.trim_end_matches(['\n', '\r'])) == Flow::Quit || end {
            return;
        }
    }
}

/// The line editor.
fn terminal(session: &mut Session, out: &mut Printer) -> rustyline::Result<()> {
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_dups(true)?
        .history_ignore_space(true)
        .completion_type(CompletionType::List)
        .build();
    let mut editor: Editor<ReplHelper, DefaultHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(ReplHelper {
        names: session.program.names(),
        files: FilenameCompleter::new(),
        hints: HistoryHinter::new(),
        color: out.color,
    }));
    let history = history::path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let version = env!("CARGO_PKG_VERSION");
    out.note(format!(
        "agentc repl {version} — :help for commands, Tab to complete, Ctrl-D to leave"
    ));
    loop {
        if let Some(helper) = editor.helper_mut() {
            helper.names = session.program.names();
        }
        match editor.readline(PROMPT) {
            Ok(entry) => {
                if !entry.trim().is_empty() {
                    let _ = editor.add_history_entry(entry.as_str());
                    save_history(&mut editor, history.as_deref());
                }
                if session.enter(out, &entry) == Flow::Quit {
                    return Ok(());
                }
            }
            // Ctrl-C abandons what was being typed.
            Err(ReadlineError::Interrupted) => {}
            Err(ReadlineError::Eof) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// Appends the new entries to the history file; a failure to write it is not worth ending
/// the session for.
fn save_history(editor: &mut Editor<ReplHelper, DefaultHistory>, path: Option<&std::path::Path>) {
    let Some(path) = path else { return };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = editor.append_history(path);
}

#[derive(Helper)]
struct ReplHelper {
    names: Rc<Names>,
    files: FilenameCompleter,
    hints: HistoryHinter,
    color: bool,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        match completion::complete(&self.names, line, pos) {
            completion::Offer::Words { start, words } => Ok((
                start,
                words
                    .into_iter()
                    .map(|w| Pair {
                        display: w.clone(),
                        replacement: w,
                    })
                    .collect(),
            )),
            completion::Offer::Path => self.files.complete(line, pos, ctx),
        }
    }
}

impl Hinter for ReplHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        self.hints.hint(line, pos, ctx)
    }
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        match self.color {
            true => Cow::Owned(highlighting::highlight(&self.names, line)),
            false => Cow::Borrowed(line),
        }
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(render::paint(self.color, palette::NOTE, hint))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _forced: bool) -> bool {
        // Any character may change a token's class (a quote opens a string): always redraw.
        self.color
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(match validator::needs_more(ctx.input()) {
            true => ValidationResult::Incomplete,
            false => ValidationResult::Valid(None),
        })
    }
}
