//! The explanation of every diagnostic code, as shown by `agentc explain CODE`, the SARIF
//! rules and `docs/diagnostics.md`: what the code means, a wrong example and the same example
//! fixed. The examples are real programs: `tests/diagnostics.rs` checks that each wrong one
//! raises its code and each fixed one does not.
//!
//! One module per code group keeps each table short.

mod domain;
mod resolution;
mod structure;
mod syntax;
mod tests;
mod types;
mod warnings;

use super::Code;
use std::fmt::Write;

/// What one code means, with a wrong and a fixed example.
#[derive(Debug)]
pub struct Explanation {
    pub code: Code,
    /// One paragraph: what is wrong and why the checker refuses (or warns about) it.
    pub summary: &'static str,
    /// The usual ways to fix it, one paragraph.
    pub fix: &'static str,
    pub wrong: Example,
    pub fixed: Example,
}

/// A program small enough to read: one file, or several when the code is about files.
#[derive(Debug)]
pub enum Example {
    /// A single file, `main.agent`.
    One(&'static str),
    /// Several files; the first is the one checked (the root).
    Files(&'static [ExampleFile]),
}

#[derive(Debug)]
pub struct ExampleFile {
    pub path: &'static str,
    pub text: &'static str,
    pub encoding: Encoding,
}

/// How an example file is stored on disk: only E0008's example is not UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Each character is one byte (ISO 8859-1), as old Windows editors save.
    Latin1,
}

/// The path of the file of an [`Example::One`].
pub const MAIN: &str = "main.agent";

impl Example {
    pub fn files(&self) -> Vec<ExampleFile> {
        match self {
            Example::One(text) => vec![ExampleFile {
                path: MAIN,
                text,
                encoding: Encoding::Utf8,
            }],
            Example::Files(files) => files
                .iter()
                .map(|f| ExampleFile {
                    path: f.path,
                    text: f.text,
                    encoding: f.encoding,
                })
                .collect(),
        }
    }
}

impl ExampleFile {
    /// The file's bytes as stored on disk.
    pub fn bytes(&self) -> Vec<u8> {
        match self.encoding {
            Encoding::Utf8 => self.text.as_bytes().to_vec(),
            // Latin-1 examples hold only characters below U+0100 (checked by a test).
            Encoding::Latin1 => self.text.chars().map(|c| c as u32 as u8).collect(),
        }
    }
}

/// Every explanation, in code order.
pub fn all() -> impl Iterator<Item = &'static Explanation> {
    [
        syntax::ENTRIES,
        structure::ENTRIES,
        resolution::ENTRIES,
        types::ENTRIES,
        domain::ENTRIES,
        tests::ENTRIES,
        warnings::ENTRIES,
    ]
    .into_iter()
    .flatten()
}

pub fn lookup(code: Code) -> Option<&'static Explanation> {
    all().find(|e| e.code == code)
}

/// The explanation as Markdown (SARIF rule help, `docs/diagnostics.md`).
pub fn markdown(entry: &Explanation) -> String {
    let mut out = String::new();
    let code = entry.code;
    let _ = writeln!(out, "**{code}: {}**\n\n{}\n", code.title(), entry.summary);
    for (heading, example) in [("Wrong", &entry.wrong), ("Fixed", &entry.fixed)] {
        let _ = writeln!(out, "{heading}:\n");
        for file in example.files() {
            let note = match file.encoding {
                Encoding::Utf8 => "",
                Encoding::Latin1 => " (saved as Latin-1)",
            };
            let _ = writeln!(
                out,
                "`{}`{note}:\n\n```agent\n{}```\n",
                file.path, file.text
            );
        }
    }
    let _ = writeln!(out, "{}", entry.fix);
    out
}
