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

/// The byte offset of a protocol position (clamped to the text: a client may be behind).
pub fn offset(text: &str, position: lsp::Position) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let mut units = 0u32;
    for (i, c) in text[line_start..line_end].char_indices() {
        if units >= position.character {
            return line_start + i;
        }
        units += c.len_utf16() as u32;
    }
    line_end
}

pub fn position(text: &str, offset: usize) -> lsp::Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    lsp::Position {
        line: before.bytes().filter(|&b| b == b'\n').count() as u32,
        character: before[line_start..]
            .chars()
            .map(|c| c.len_utf16() as u32)
            .sum(),
    }
}

pub fn range(text: &str, range: Range<usize>) -> lsp::Range {
    lsp::Range {
        start: position(text, range.start),
        end: position(text, range.end),
    }
}

pub fn byte_range(text: &str, range: lsp::Range) -> Range<usize> {
    let start = offset(text, range.start);
    start..offset(text, range.end).max(start)
}

/// Applies one `didChange` edit; a change without a range replaces the whole text.
pub fn apply_change(text: &mut String, change: lsp::TextDocumentContentChangeEvent) {
    match change.range {
        Some(at) => {
            let at = byte_range(text, at);
            text.replace_range(at, &change.text);
        }
        None => *text = change.text,
    }
}

/// A diagnostic as the protocol has it; `text_of` gives the text of a file its labels
/// point into.
pub fn diagnostic<'t>(
    d: &diagnostics::Diagnostic,
    text: &str,
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
                    range: range(text, l.span.range()),
                },
                message: l.message.clone().unwrap_or_default(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: range(text, primary.range()),
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
    edits
        .iter()
        .map(|e| lsp::TextEdit {
            range: range(text, e.range.clone()),
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
    let mut tokens = Vec::new();
    let (mut last_line, mut last_start) = (0u32, 0u32);
    for (stretch, class) in stretches {
        let mut start = stretch.start;
        while start < stretch.end {
            let end = text[start..stretch.end]
                .find('\n')
                .map_or(stretch.end, |i| start + i);
            let at = position(text, start);
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
        let x = text.find('x').unwrap();
        let at = position(text, x);
        assert_eq!((at.line, at.character), (1, 4));
        assert_eq!(offset(text, at), x);
        // Past the end of a line or of the text: clamped.
        assert_eq!(offset(text, lsp::Position::new(0, 99)), 1);
        assert_eq!(offset(text, lsp::Position::new(9, 0)), text.len());
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
