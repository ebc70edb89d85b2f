//! Between the `ide` layer's plain data (paths, byte offsets) and the protocol's (URIs,
//! lines and UTF-16 columns). Nothing else in the server knows how positions are counted.

use crate::diagnostics::{self, Severity};
use crate::ide::{self, highlight::Class, highlight::NameKind};
use lsp_types as lsp;
use std::ops::Range;

/// The path a URI is held under in the world: a file's path, or the URI itself for
/// anything else (an unsaved `untitled:` buffer).
pub fn path_of(uri: &lsp::Url) -> String {
    match uri.scheme() {
        "file" => uri
            .to_file_path()
            .ok()
            .and_then(|p| p.to_str().map(str::to_string))
            .unwrap_or_else(|| uri.to_string()),
        _ => uri.to_string(),
    }
}

pub fn uri_of(path: &str) -> Option<lsp::Url> {
    if path.starts_with('/') {
        lsp::Url::from_file_path(path).ok()
    } else {
        lsp::Url::parse(path).ok()
    }
}

/// Where each line of a text starts: a request that turns many offsets into positions (a
/// document's symbols, its semantic tokens, a broken file's diagnostics) searches them
/// instead of counting lines from the top each time.
pub struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Lines<'t> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { text, starts }
    }

    pub fn position(&self, offset: usize) -> lsp::Position {
        let text = self.text;
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset) - 1;
        lsp::Position {
            line: line as u32,
            character: text[self.starts[line]..offset]
                .chars()
                .map(|c| c.len_utf16() as u32)
                .sum(),
        }
    }

    pub fn range(&self, range: Range<usize>) -> lsp::Range {
        lsp::Range {
            start: self.position(range.start),
            end: self.position(range.end),
        }
    }

    /// The byte offset of a protocol position (clamped to the text: a client may be behind).
    pub fn offset(&self, position: lsp::Position) -> usize {
        let text = self.text;
        let Some(&line_start) = self.starts.get(position.line as usize) else {
            return text.len();
        };
        let line_end = self
            .starts
            .get(position.line as usize + 1)
            .map_or(text.len(), |next| next - 1);
        let mut units = 0u32;
        for (i, c) in text[line_start..line_end].char_indices() {
            if units >= position.character {
                return line_start + i;
            }
            units += c.len_utf16() as u32;
        }
        line_end
    }

    pub fn byte_range(&self, range: lsp::Range) -> Range<usize> {
        let start = self.offset(range.start);
        start..self.offset(range.end).max(start)
    }
}

/// Applies one `didChange` edit; a change without a range replaces the whole text.
pub fn apply_change(text: &mut String, change: lsp::TextDocumentContentChangeEvent) {
    match change.range {
        Some(at) => {
            let at = Lines::new(text).byte_range(at);
            text.replace_range(at, &change.text);
        }
        None => *text = change.text,
    }
}

/// A diagnostic as the protocol has it; `text_of` gives the text of a file its labels
/// point into.
pub fn diagnostic<'t>(
    d: &diagnostics::Diagnostic,
    lines: &Lines,
    path_of_label: impl Fn(diagnostics::FileId) -> Option<(&'t str, &'t str)>,
) -> lsp::Diagnostic {
    let primary = d.span();
    let mut message = d.message.clone();
    if let Some(label) = d
        .labels
        .iter()
        .find(|l| l.primary)
        .and_then(|l| l.message.as_ref())
    {
        message.push_str(&format!(": {label}"));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| !l.primary)
        .filter_map(|l| {
            let (path, text) = path_of_label(l.span.file)?;
            Some(lsp::DiagnosticRelatedInformation {
                location: lsp::Location {
                    uri: uri_of(path)?,
                    range: Lines::new(text).range(l.span.range()),
                },
                message: l.message.clone().unwrap_or_default(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: lines.range(primary.range()),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.as_str().to_string())),
        source: Some("agentc".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp::Diagnostic::default()
    }
}

pub fn edits(text: &str, edits: &[ide::TextEdit]) -> Vec<lsp::TextEdit> {
    let lines = Lines::new(text);
    edits
        .iter()
        .map(|e| lsp::TextEdit {
            range: lines.range(e.range.clone()),
            new_text: e.text.clone(),
        })
        .collect()
}

/// The semantic token types, in the order of the legend sent at initialisation.
pub const TOKEN_TYPES: &[lsp::SemanticTokenType] = &[
    lsp::SemanticTokenType::KEYWORD,
    lsp::SemanticTokenType::STRING,
    lsp::SemanticTokenType::NUMBER,
    lsp::SemanticTokenType::COMMENT,
    lsp::SemanticTokenType::MACRO,
    lsp::SemanticTokenType::NAMESPACE,
    lsp::SemanticTokenType::METHOD,
    lsp::SemanticTokenType::FUNCTION,
    lsp::SemanticTokenType::STRUCT,
    lsp::SemanticTokenType::ENUM,
    lsp::SemanticTokenType::PARAMETER,
];

fn token_type(class: Class) -> u32 {
    match class {
        Class::Keyword => 0,
        Class::String => 1,
        Class::Number => 2,
        Class::Comment => 3,
        Class::Command => 4,
        Class::Name(NameKind::Target) => 5,
        Class::Name(NameKind::Task) => 6,
        Class::Name(NameKind::Action) => 7,
        Class::Name(NameKind::Reply) => 8,
        Class::Name(NameKind::Usecase) => 9,
        Class::Name(NameKind::Param) => 10,
    }
}

/// The highlighted stretches as relative semantic tokens, one per line of a stretch that
/// spans several (a triple-quoted string, a block comment).
pub fn semantic_tokens(text: &str, stretches: &[(Range<usize>, Class)]) -> Vec<lsp::SemanticToken> {
    let lines = Lines::new(text);
    let mut tokens = Vec::new();
    let (mut last_line, mut last_start) = (0u32, 0u32);
    for (stretch, class) in stretches {
        let mut start = stretch.start;
        while start < stretch.end {
            let end = text[start..stretch.end]
                .find('\n')
                .map_or(stretch.end, |i| start + i);
            let at = lines.position(start);
            let length: u32 = text[start..end].chars().map(|c| c.len_utf16() as u32).sum();
            if length > 0 {
                let delta_line = at.line - last_line;
                let delta_start = if delta_line == 0 {
                    at.character - last_start
                } else {
                    at.character
                };
                tokens.push(lsp::SemanticToken {
                    delta_line,
                    delta_start,
                    length,
                    token_type: token_type(*class),
                    token_modifiers_bitset: 0,
                });
                (last_line, last_start) = (at.line, at.character);
            }
            start = end + 1;
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_and_round_trip() {
        let text = "a\néé𝄞x\n";
        let lines = Lines::new(text);
        let x = text.find('x').unwrap();
        let at = lines.position(x);
        assert_eq!((at.line, at.character), (1, 4));
        assert_eq!(lines.offset(at), x);
        // Every offset of every line, the last (empty) one too, round-trips.
        for offset in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
            assert_eq!(lines.offset(lines.position(offset)), offset);
        }
        assert_eq!(lines.position(text.len()), lsp::Position::new(2, 0));
        // Past the end of a line or of the text: clamped.
        assert_eq!(lines.offset(lsp::Position::new(0, 99)), 1);
        assert_eq!(lines.offset(lsp::Position::new(9, 0)), text.len());
    }

    #[test]
    fn a_change_replaces_its_range() {
        let mut text = "agent a {\n}\n".to_string();
        let change = lsp::TextDocumentContentChangeEvent {
            range: Some(lsp::Range::new(
                lsp::Position::new(0, 6),
                lsp::Position::new(0, 7),
            )),
            range_length: None,
            text: "desk".into(),
        };
        apply_change(&mut text, change);
        assert_eq!(text, "agent desk {\n}\n");
    }
}
