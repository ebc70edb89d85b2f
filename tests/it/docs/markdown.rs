//! The fenced code blocks of README.md and docs/*.md, with the marker comment that may
//! precede each one (`<!-- fragment: steps -->`, `<!-- expect E0403 -->`,
//! `<!-- output: agentc check … -->`, `<!-- illustrative -->`).

use std::path::{Path, PathBuf};

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One fenced block.
pub struct Block {
    /// The Markdown file, relative to the repository.
    pub file: String,
    /// The 1-based line of the opening fence.
    pub line: usize,
    /// The info string after the fence (`agent`, `text`, ``).
    pub info: String,
    /// The text of the `<!-- … -->` comment on the line just before the fence, if any.
    pub marker: Option<String>,
    /// The block's lines, without the fence's indentation, each ending in `\n`.
    pub text: String,
    /// Byte range of `text` in the file (for regeneration), as written (indented).
    pub range: std::ops::Range<usize>,
    /// The indentation of the fence (the block's lines carry it in the file).
    pub indent: String,
}

impl Block {
    pub fn place(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// README.md and every docs/*.md, in a stable order.
pub fn doc_files() -> Vec<PathBuf> {
    let mut files = vec![Path::new(ROOT).join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// Every fenced block of every documentation file.
pub fn all_blocks() -> Vec<Block> {
    doc_files()
        .iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).expect("a doc file is readable");
            let name = path
                .strip_prefix(ROOT)
                .unwrap_or(path)
                .display()
                .to_string();
            blocks(&name, &text)
        })
        .collect()
}

/// The fenced blocks of one Markdown text.
pub fn blocks(file: &str, doc: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut previous: Option<&str> = None;
    let mut open: Option<(usize, String, String, Option<String>, usize)> = None;
    let mut body = String::new();
    let mut offset = 0;
    for (index, line) in doc.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        // As in CommonMark, a fence's info string has no backtick (```` ```a``` ```` is code).
        let is_fence = trimmed
            .strip_prefix("```")
            .is_some_and(|info| !info.trim_start_matches('`').contains('`'));
        match open.take() {
            None if is_fence => {
                let info = trimmed
                    .trim_end()
                    .trim_start_matches('`')
                    .trim()
                    .to_string();
                let marker = previous.and_then(marker_of);
                open = Some((index + 1, info, indent.to_string(), marker, offset));
                body.clear();
            }
            None => {}
            Some((line_no, info, fence_indent, marker, body_start)) if is_fence => {
                found.push(Block {
                    file: file.to_string(),
                    line: line_no,
                    info,
                    marker,
                    text: std::mem::take(&mut body),
                    range: body_start..start,
                    indent: fence_indent,
                });
            }
            Some(state) => {
                body.push_str(line.strip_prefix(state.2.as_str()).unwrap_or(line));
                open = Some(state);
            }
        }
        previous = Some(line);
    }
    assert!(open.is_none(), "{file}: a code block is never closed");
    found
}

/// `<!-- TEXT -->` on a line of its own gives `TEXT`.
fn marker_of(line: &str) -> Option<String> {
    let inner = line.trim().strip_prefix("<!--")?.strip_suffix("-->")?;
    Some(inner.trim().to_string())
}
