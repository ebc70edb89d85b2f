//! The `:commands`: their table (read by `:help`, completion and "did you mean") and the
//! dispatch from a typed `:name args` to the session.

use super::render::{palette, Printer};
use super::session::Session;
use crate::diagnostics::suggest;

pub struct CommandSpec {
    pub name: &'static str,
    pub args: &'static str,
    pub help: &'static str,
}

const fn cmd(name: &'static str, args: &'static str, help: &'static str) -> CommandSpec {
    CommandSpec { name, args, help }
}

pub const COMMANDS: &[CommandSpec] = &[
    cmd(
        "help",
        "[COMMAND]",
        "Show the commands, or what one command does.",
    ),
    cmd(
        "load",
        "FILE",
        "Load a file, and what it imports, into the session.",
    ),
    cmd(
        "reload",
        "",
        "Read the loaded files again; typed declarations stay.",
    ),
    cmd(
        "check",
        "",
        "Check the whole program: every error and warning.",
    ),
    cmd(
        "list",
        "[actions|targets|tasks|replies|usecases|bindings|events]",
        "List the declarations of a kind, or all of them.",
    ),
    cmd("show", "NAME", "Show a declaration."),
    cmd(
        "type",
        "EXPR",
        "Show the type of an expression without evaluating it.",
    ),
    cmd(
        "explain",
        "CODE",
        "Explain a diagnostic code, e.g. :explain E0201.",
    ),
    cmd(
        "send",
        "EVENT [PAYLOAD] | usecase U | block U.B | wait DURATION",
        "Fire an event at the session's conversation and show what ran.",
    ),
    cmd(
        "state",
        "",
        "Show the conversation: params, labels, status, user, caller.",
    ),
    cmd(
        "reset",
        "",
        "Start a new conversation; declarations and mocks stay.",
    ),
    cmd(
        "mock",
        "TARGET METHOD \"PATH\" -> STATUS BODY",
        "Answer a target's requests, as in a test block.",
    ),
    cmd(
        "dry-run",
        "on|off",
        "When on, side-effecting tasks are described, not run.",
    ),
    cmd("quit", "", "Leave the REPL (Ctrl-D does too)."),
];

/// The kinds `:list` knows.
pub const LIST_KINDS: &[&str] = &[
    "actions", "targets", "tasks", "replies", "usecases", "bindings", "events",
];

/// Whether the loop goes on after a command.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// Splits `:name rest` (the leading colon included in `line`).
pub fn split(line: &str) -> (&str, &str) {
    let line = line.trim_start().trim_start_matches(':');
    let end = line.find(|c: char| c.is_whitespace()).unwrap_or(line.len());
    (&line[..end], line[end..].trim())
}

pub fn run(session: &mut Session, out: &mut Printer, line: &str) -> Flow {
    let (name, rest) = split(line);
    match name {
        "help" | "h" | "?" => help(out, rest),
        "load" => session.load(out, rest),
        "reload" => session.reload(out),
        "check" => session.check(out),
        "list" | "ls" => session.list(out, rest),
        "show" => session.show(out, rest),
        "type" | "t" => session.type_of(out, rest),
        "explain" => session.explain(out, rest),
        "send" => session.send(out, rest),
        "state" => session.state(out),
        "reset" => session.reset(out),
        "mock" => session.mock(out, rest),
        "dry-run" => session.dry_run(out, rest),
        "quit" | "q" | "exit" => return Flow::Quit,
        _ => unknown(out, name),
    }
    Flow::Continue
}

fn unknown(out: &mut Printer, name: &str) {
    let names = COMMANDS.iter().map(|c| c.name);
    match suggest(name, names) {
        Some(close) => out.error(format!(
            "unknown command `:{name}`; did you mean `:{close}`?"
        )),
        None => out.error(format!("unknown command `:{name}`; `:help` lists them")),
    }
}

fn help(out: &mut Printer, about: &str) {
    let about = about.trim_start_matches(':');
    if !about.is_empty() {
        match COMMANDS.iter().find(|c| c.name == about) {
            Some(c) => {
                let usage = out.paint(palette::COMMAND, &format!(":{} {}", c.name, c.args));
                out.line(usage.trim_end());
                out.line(format!("  {}", c.help));
            }
            None => unknown(out, about),
        }
        return;
    }
    out.line("Type a declaration to add it (a declaration with the same name is replaced),");
    out.line("an expression to evaluate it, or a command:");
    let width = COMMANDS
        .iter()
        .map(|c| c.name.len() + c.args.len() + 2)
        .filter(|&w| w < 40)
        .max()
        .unwrap_or(0);
    for c in COMMANDS {
        let usage = format!(":{} {}", c.name, c.args);
        let usage = usage.trim_end();
        let pad = " ".repeat(width.saturating_sub(usage.len()) + 2);
        let painted = out.paint(palette::COMMAND, usage);
        if usage.len() > width {
            out.line(format!("  {painted}"));
            out.line(format!("  {}{}", " ".repeat(width + 2), c.help));
        } else {
            out.line(format!("  {painted}{pad}{}", c.help));
        }
    }
    out.line("Input goes on over several lines while a brace, bracket or string is open.");
    out.line("Ctrl-C abandons the current input; Ctrl-D leaves.");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_name_and_arguments() {
        assert_eq!(split(":send  wait 5m "), ("send", "wait 5m"));
        assert_eq!(split(":quit"), ("quit", ""));
    }

    #[test]
    fn every_command_has_a_distinct_name() {
        let mut names: Vec<_> = COMMANDS.iter().map(|c| c.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), COMMANDS.len());
    }
}
