//! The explanation of every diagnostic code, as shown by `agentc explain CODE`, the SARIF
//! rules and `docs/diagnostics.md`: what the code means, a wrong example and the same example
//! fixed, written as the edits the fix makes. The examples are real programs:
//! `tests/it/diagnostics.rs` checks that each wrong one raises its code and each fixed one
//! does not.
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
use std::borrow::Cow;
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
    pub fixed: Fixed,
}

/// How the fixed example differs from the wrong one.
#[derive(Debug)]
pub enum Fixed {
    /// `(old, new)` replacements made in turn on the wrong example: the fix is what
    /// changes. Each `old` occurs exactly once in the example's files (a test checks).
    Edits(&'static [(&'static str, &'static str)]),
    /// A program of its own, when the fix adds files or rewrites most of one.
    Program(Example),
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
    pub text: Cow<'static, str>,
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
                text: Cow::Borrowed(text),
                encoding: Encoding::Utf8,
            }],
            Example::Files(files) => files
                .iter()
                .map(|f| ExampleFile {
                    path: f.path,
                    text: f.text.clone(),
                    encoding: f.encoding,
                })
                .collect(),
        }
    }
}

impl Explanation {
    /// The files of the fixed example.
    pub fn fixed_files(&self) -> Vec<ExampleFile> {
        let edits = match &self.fixed {
            Fixed::Program(example) => return example.files(),
            Fixed::Edits(edits) => edits,
        };
        let mut files = self.wrong.files();
        for (old, new) in edits.iter() {
            if let Some(file) = files.iter_mut().find(|f| f.text.contains(old)) {
                file.text = Cow::Owned(file.text.replacen(old, new, 1));
            }
        }
        files
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
    for (heading, files) in [
        ("Wrong", entry.wrong.files()),
        ("Fixed", entry.fixed_files()),
    ] {
        let _ = writeln!(out, "{heading}:\n");
        for file in files {
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
