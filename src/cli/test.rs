//! `agentc test [PATHS…] [--filter TEXT] [--junit FILE] [--trace]`: runs the `test` blocks
//! of every program found (docs/testing.md). One line per test in source order, then the
//! failures in detail, then `N passed, M failed`. Exit status: 0 all passed, 1 a test failed,
//! a program does not check or no test ran, 2 a path could not be read or the report not written.

use super::files::{self, FsLoader, Read};
use crate::check;
use crate::diagnostics::render::{self, HumanOptions};
use crate::diagnostics::{Diagnostic, Label, SourceMap, Span};
use crate::printable::escape;
use crate::runtime::timeline;
use crate::testing::junit::{self, JunitCase};
use crate::testing::{self, Case, Failure, Outcome};
use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files, or directories searched recursively for `*.agent` (default: the current
    /// directory).
    pub paths: Vec<PathBuf>,
    /// Run only the tests whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Also write the results as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Print what the runtime did in each test.
    #[arg(long)]
    pub trace: bool,
    #[command(flatten)]
    pub imports: files::ImportRoots,
}

/// A program that does not check: its tests cannot run, and it counts as one failure.
struct Broken {
    file: String,
    diagnostics: Vec<Diagnostic>,
}

pub fn run(args: Args) -> ExitCode {
    let paths = match files::discover(&args.paths) {
        Ok(paths) => paths,
        Err(error) => return files::fail(&error.to_string()),
    };
    let mut sources = SourceMap::new();
    let mut texts = Vec::new();
    let mut broken = Vec::new();
    for path in &paths {
        match files::read(&mut sources, path) {
            Ok(Read::Text(id)) => texts.push(id),
            Ok(Read::NotText(id, diagnostic)) => broken.push(Broken {
                file: sources.get(id).path.clone(),
                diagnostics: vec![diagnostic],
            }),
            Err(error) => return files::fail(&error.to_string()),
        }
    }
    let mut loader = match FsLoader::new(&args.paths, &args.imports) {
        Ok(loader) => loader,
        Err(error) => return files::fail(&error.to_string()),
    };
    let workspace = check::check_workspace(&mut sources, &texts, &mut loader);
    // Errors outside any program (no file has an `agent` block, a file that does not parse):
    // one failure per file. Warnings (a file no program imports) do not fail tests.
    for diagnostic in workspace.diagnostics.iter().filter(|d| d.is_error()) {
        let file = sources.get(diagnostic.span().file).path.clone();
        match broken.iter_mut().find(|b: &&mut Broken| b.file == file) {
            Some(known) => known.diagnostics.push(diagnostic.clone()),
            None => broken.push(Broken {
                file,
                diagnostics: vec![diagnostic.clone()],
            }),
        }
    }
    let mut cases = Vec::new();
    // A test file's program holds the tests of the program it imports too: each test runs once.
    let mut seen = HashSet::new();
    for (root, checked) in workspace.programs {
        match checked.program {
            Some(program) => cases.extend(
                Case::all(program)
                    .into_iter()
                    .filter(|case| seen.insert((case.file().to_string(), case.test.span.start))),
            ),
            None => broken.push(Broken {
                file: sources.get(root).path.clone(),
                diagnostics: checked.diagnostics,
            }),
        }
    }
    if let Some(filter) = &args.filter {
        cases.retain(|case| case.name().contains(filter.as_str()));
    }

    let stdout = std::io::stdout();
    let options = HumanOptions {
        color: files::use_color(stdout.is_terminal()),
        width: files::width(),
    };
    let printer = Printer {
        sources: &sources,
        options,
        trace: args.trace,
    };
    for program in &broken {
        printer.broken(program);
    }
    let outcomes = match run_cases(&cases, |case, outcome| printer.line(case, outcome)) {
        Ok(outcomes) => outcomes,
        Err(error) => return files::fail(&format!("cannot start the test runtime: {error}")),
    };
    for (case, outcome) in cases.iter().zip(&outcomes) {
        if let Some(failure) = &outcome.failure {
            printer.failure(case, failure);
        }
    }
    let none_ran = cases.is_empty() && broken.is_empty();
    if none_ran {
        // A CI step that runs no test must not pass.
        printer.print(&no_tests_line(&args));
    }
    let failed = broken.len() + outcomes.iter().filter(|o| !o.passed()).count();
    let passed = outcomes.len() + broken.len() - failed;
    // The last line, exactly: CI scripts read it.
    printer.print(&format!("\n{passed} passed, {failed} failed\n"));

    if let Some(path) = &args.junit {
        let report = junit_cases(&printer, &broken, &cases, &outcomes);
        let written = match junit::report(&report) {
            Ok(xml) => std::fs::write(path, xml).map_err(|e| files::describe(&e)),
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = written {
            return files::fail(&format!("cannot write `{}`: {error}", path.display()));
        }
    }
    if failed > 0 || none_ran {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn no_tests_line(args: &Args) -> String {
    let reason = match &args.filter {
        Some(filter) => format!("no test name contains `{}`", escape(filter)),
        None => "no file found holds a `test` block".into(),
    };
    format!(
        "error: no tests ran: {reason}; a test file that imports its program \
         (`import \"main.agent\"`) is found with it\n"
    )
}

/// Runs every case on a multi-threaded runtime; `each` sees the outcomes in the cases'
/// order as soon as all earlier ones are known.
fn run_cases(
    cases: &[Case],
    mut each: impl FnMut(&Case, &Outcome),
) -> std::io::Result<Vec<Outcome>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut slots: Vec<Option<Outcome>> = vec![None; cases.len()];
    let mut next = 0;
    runtime.block_on(testing::run_all(cases, |index, outcome| {
        slots[index] = Some(outcome);
        while let Some(Some(outcome)) = slots.get(next) {
            each(&cases[next], outcome);
            next += 1;
        }
    }));
    Ok(slots.into_iter().flatten().collect())
}

struct Printer<'a> {
    sources: &'a SourceMap,
    options: HumanOptions,
    trace: bool,
}

impl Printer<'_> {
    fn print(&self, text: &str) {
        // A closed pipe (`agentc test | head`) is not worth a panic.
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.options.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn line(&self, case: &Case, outcome: &Outcome) {
        let verdict = if outcome.passed() {
            self.paint("ok  ", "32")
        } else {
            self.paint("FAIL", "1;31")
        };
        let mut text = format!(
            "{verdict} {} › {}\n",
            escape(case.file()),
            escape(case.name())
        );
        if self.trace {
            for record in &outcome.trace {
                let rendered = timeline::render(record, self.options.color);
                for line in rendered.lines() {
                    text.push_str(&format!("       {line}\n"));
                }
            }
        }
        self.print(&text);
    }

    fn broken(&self, program: &Broken) {
        let mut text = render::human(&program.diagnostics, self.sources, self.options);
        let verdict = self.paint("FAIL", "1;31");
        text.push_str(&format!(
            "{verdict} {} › the program does not check\n",
            escape(&program.file)
        ));
        self.print(&text);
    }

    fn failure(&self, case: &Case, failure: &Failure) {
        let title = format!(
            "\n── {} › {} ──\n",
            escape(case.file()),
            escape(case.name())
        );
        let label = Label {
            span: self.source_span(case, failure.span),
            message: Some("this step failed".into()),
            primary: true,
        };
        let mut notes = Vec::new();
        if let Some(expected) = &failure.expected {
            notes.push(("expected", expected.as_str()));
        }
        if let Some(actual) = &failure.actual {
            notes.push(("actual", actual.as_str()));
        }
        let body = render::failure(
            &failure.message,
            &label,
            &notes,
            failure.help.as_deref(),
            self.sources,
            self.options,
        );
        self.print(&format!("{}{body}", self.paint(&title, "1")));
    }

    /// A span of the program's files, as a span of the source map.
    fn source_span(&self, case: &Case, span: Span) -> Span {
        let path = case.program.files.get(span.file.0 as usize);
        let file = path.and_then(|p| self.sources.find(p)).unwrap_or_default();
        Span { file, ..span }
    }

    /// `file:line:column`, the failure and its notes, as plain text.
    fn details(&self, case: &Case, failure: &Failure) -> String {
        let span = self.source_span(case, failure.span);
        let (line, column) = self.sources.line_col(span.file, span.start as usize);
        let mut text = format!("{}:{line}:{column}: {}", case.file(), failure.message);
        for (name, note) in [("expected", &failure.expected), ("actual", &failure.actual)] {
            if let Some(note) = note {
                text.push_str(&format!("\n{name}: {note}"));
            }
        }
        if let Some(help) = &failure.help {
            text.push_str(&format!("\nhelp: {help}"));
        }
        text
    }
}

fn junit_cases(
    printer: &Printer,
    broken: &[Broken],
    cases: &[Case],
    outcomes: &[Outcome],
) -> Vec<JunitCase> {
    let plain = HumanOptions {
        color: false,
        ..printer.options
    };
    let mut report: Vec<JunitCase> = broken
        .iter()
        .map(|program| JunitCase {
            file: program.file.clone(),
            name: "the program checks".into(),
            duration: Default::default(),
            failure: Some((
                "the program does not check".into(),
                render::human(&program.diagnostics, printer.sources, plain),
            )),
            output: None,
        })
        .collect();
    for (case, outcome) in cases.iter().zip(outcomes) {
        let failure = outcome
            .failure
            .as_ref()
            .map(|f| (f.message.clone(), printer.details(case, f)));
        let output = failure.is_some().then(|| {
            let lines: Vec<String> = outcome
                .trace
                .iter()
                .map(|r| timeline::render(r, false))
                .collect();
            lines.join("\n")
        });
        report.push(JunitCase {
            file: case.file().to_string(),
            name: case.name().to_string(),
            duration: outcome.duration,
            failure,
            output,
        });
    }
    report
}
