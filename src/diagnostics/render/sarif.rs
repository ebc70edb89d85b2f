//! SARIF 2.1.0, the format of GitHub code scanning and other static-analysis viewers.
//! Every code is a rule (with its explanation from `agentc explain`); each diagnostic is a
//! result pointing at its primary span, with its secondary labels as related locations.

use super::{file_path, known, Region};
use crate::diagnostics::{explain, Code, Diagnostic, Severity, SourceMap, Span, ALL_CODES};
use serde_json::{json, Value};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut driver = json!({
        "name": "agentc",
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": ALL_CODES.iter().map(|&code| rule(code)).collect::<Vec<_>>(),
    });
    // Only a real address: Cargo.toml's `repository`, when it has one.
    if let Some(uri) = option_env!("CARGO_PKG_REPOSITORY").filter(|u| !u.is_empty()) {
        driver["informationUri"] = json!(uri);
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            // Our columns count characters, not UTF-16 units (SARIF's default).
            "columnKind": "unicodeCodePoints",
            "results": diagnostics.iter().map(|d| result(d, sources)).collect::<Vec<_>>(),
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).expect("plain data always serializes");
    text.push('\n');
    text
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn rule(code: Code) -> Value {
    let mut rule = json!({
        "id": code.as_str(),
        "name": rule_name(code.title()),
        "shortDescription": { "text": code.title() },
        "defaultConfiguration": { "level": level(code.severity()) },
    });
    if let Some(entry) = explain::lookup(code) {
        rule["fullDescription"] = json!({ "text": entry.summary });
        rule["help"] = json!({
            "text": format!("{}\n\nRun `agentc explain {code}` for a wrong and a fixed example.", entry.summary),
            "markdown": explain::markdown(entry),
        });
    }
    rule
}

/// SARIF wants rule names as one identifier: "unknown name" → "UnknownName".
fn rule_name(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

fn result(d: &Diagnostic, sources: &SourceMap) -> Value {
    let rule_index = ALL_CODES.iter().position(|&c| c == d.code);
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<Value> = d
        .labels
        .iter()
        .filter(|l| !l.primary && known(sources, l.span))
        .enumerate()
        .map(|(id, l)| {
            let mut location = location(sources, l.span);
            location["id"] = json!(id);
            if let Some(text) = &l.message {
                location["message"] = json!({ "text": text });
            }
            location
        })
        .collect();
    let mut result = json!({
        "ruleId": d.code.as_str(),
        "ruleIndex": rule_index,
        "level": level(d.severity),
        "message": { "text": message },
        "locations": [location(sources, d.span())],
    });
    if !related.is_empty() {
        result["relatedLocations"] = json!(related);
    }
    result
}

fn location(sources: &SourceMap, span: Span) -> Value {
    let region = Region::of(sources, span);
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(file_path(sources, span)) },
            "region": {
                "startLine": region.line,
                "startColumn": region.column,
                "endLine": region.end_line,
                "endColumn": region.end_column,
                "byteOffset": span.start,
                "byteLength": span.len(),
            },
        },
    })
}

/// A path as a URI reference: relative paths stay relative (code scanning resolves them
/// against the repository), absolute ones become `file://` URIs.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            uri("examples/chat support.agent"),
            "examples/chat%20support.agent"
        );
        assert_eq!(uri("/tmp/a:b.agent"), "file:///tmp/a%3Ab.agent");
        assert_eq!(uri("dir\\é.agent"), "dir/%C3%A9.agent");
    }

    #[test]
    fn rule_names_are_identifiers() {
        assert_eq!(rule_name("http:// URL to a host"), "HttpURLToAHost");
        assert_eq!(rule_name("unknown name"), "UnknownName");
    }
}
