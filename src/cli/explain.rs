//! `agentc explain CODE`: what a diagnostic code means, a wrong example with the diagnostic
//! it really produces, and the example fixed. `--list` prints every code.

use super::files;
use crate::check::MemoryLoader;
use crate::diagnostics::explain::{self, Encoding, ExampleFile, Explanation};
use crate::diagnostics::render::{self, HumanOptions};
use crate::diagnostics::{suggest, Code, Diagnostic, Severity, SourceMap, ALL_CODES};
use miette::GraphicalTheme;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A code such as E0201 or W0601 (the case and the leading letter may be left out:
    /// `e201`, `0201`).
    #[arg(required_unless_present = "list")]
    pub code: Option<String>,
    /// List every code with its title.
    #[arg(long, conflicts_with = "code")]
    pub list: bool,
}

pub fn run(args: Args) -> ExitCode {
    let stdout = std::io::stdout();
    let options = HumanOptions {
        color: files::use_color(stdout.is_terminal()),
        width: files::width(),
    };
    let text = match args.code {
        None => list(options),
        Some(code) => match parse(&code).and_then(explain::lookup) {
            Some(entry) => page(entry, options),
            None => return files::fail(&unknown(&code)),
        },
    };
    let _ = stdout.lock().write_all(text.as_bytes());
    ExitCode::SUCCESS
}

/// `E0201`, `e0201`, `E201` and `0201` all name E0201 (a bare number tries E, then W).
pub(super) fn parse(text: &str) -> Option<Code> {
    let text = text.trim().to_ascii_uppercase();
    let (letters, digits) = match text.strip_prefix(['E', 'W']) {
        Some(digits) => (&text[..1], digits),
        None => ("EW", text.as_str()),
    };
    let number: u32 = digits.parse().ok().filter(|_| digits.len() <= 4)?;
    letters
        .chars()
        .find_map(|letter| Code::parse(&format!("{letter}{number:04}")))
}

pub(super) fn unknown(text: &str) -> String {
    let codes = ALL_CODES.iter().map(|c| c.as_str());
    let close = suggest(&text.trim().to_ascii_uppercase(), codes);
    let hint = match close {
        Some(code) => format!(
            "did you mean `{code}` ({})?",
            Code::parse(code).map_or("", Code::title)
        ),
        None => "`agentc explain --list` shows every code".into(),
    };
    format!("unknown diagnostic code `{}`\n  help: {hint}", text.trim())
}

fn list(options: HumanOptions) -> String {
    let theme = theme(options);
    let mut out = String::new();
    for &code in ALL_CODES {
        let id = styled(&theme, code.severity(), code.as_str());
        let _ = writeln!(out, "{id}  {}", code.title());
    }
    out
}

/// The explanation page: title, meaning, the wrong example and what checking it reports,
/// the fixed example, how to fix.
pub(super) fn page(entry: &Explanation, options: HumanOptions) -> String {
    let theme = theme(options);
    let code = entry.code;
    let word = match code.severity() {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut out = String::new();
    let header = styled(&theme, code.severity(), &format!("{word}[{code}]"));
    let _ = writeln!(out, "{header}: {}\n", code.title());
    wrap(&mut out, entry.summary, options.width);

    let _ = writeln!(out, "\n{}\n", theme.styles.error.style("Wrong:"));
    let wrong = entry.wrong.files();
    example(&mut out, &wrong);
    let run = check_example(&wrong);
    let shown: Vec<Diagnostic> = run
        .diagnostics
        .into_iter()
        .filter(|d| d.code == code)
        .collect();
    if !shown.is_empty() {
        let _ = writeln!(out, "agentc check reports:\n");
        out.push_str(&render::human(&shown, &run.sources, options));
    }

    let _ = writeln!(out, "{}\n", theme.styles.advice.style("Fixed:"));
    wrap(&mut out, entry.fix, options.width);
    out.push('\n');
    example(&mut out, &entry.fixed_files());
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// Each file of an example with line numbers, under its name when there are several.
fn example(out: &mut String, files: &[ExampleFile]) {
    for file in files {
        if files.len() > 1 || file.encoding != Encoding::Utf8 {
            let note = match file.encoding {
                Encoding::Utf8 => "",
                Encoding::Latin1 => " (saved as Latin-1)",
            };
            let _ = writeln!(out, "  {}{note}", file.path);
        }
        for (n, line) in file.text.lines().enumerate() {
            let gutter = format!("  {:>3} │", n + 1);
            let _ = writeln!(out, "{}", format!("{gutter} {line}").trim_end());
        }
        out.push('\n');
    }
}

/// Words of `text` in lines of at most `width` columns.
fn wrap(out: &mut String, text: &str, width: usize) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            let _ = writeln!(out, "{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    let _ = writeln!(out, "{line}");
}

fn theme(options: HumanOptions) -> GraphicalTheme {
    if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    }
}

/// `text` in the colour of errors or of warnings.
fn styled(theme: &GraphicalTheme, severity: Severity, text: &str) -> String {
    match severity {
        Severity::Error => theme.styles.error.style(text).to_string(),
        Severity::Warning => theme.styles.warning.style(text).to_string(),
    }
}

/// An example checked as `agentc check` would check a directory holding its files.
pub struct ExampleRun {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn check_example(files: &[ExampleFile]) -> ExampleRun {
    let mut sources = SourceMap::new();
    let mut loader = MemoryLoader::new();
    let mut reads = Vec::new();
    for file in files {
        let read = files::add(&mut sources, file.path, &file.bytes());
        if let files::Read::Text(id) = read {
            loader = loader.with(file.path, &sources.get(id).text);
        }
        reads.push(read);
    }
    let diagnostics = files::check_all(&mut sources, reads, &mut loader);
    ExampleRun {
        sources,
        diagnostics,
    }
}
