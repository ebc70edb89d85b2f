//! Renders trace records as a readable timeline, one record at a time as they arrive:
//!
//! ```text
//! c-42 #1 call_ringing {"from":"+33612345678","to":"+15550100"}
//! c-42    ✓ identify_caller  crm.find_contact  1 try 12ms  GET https://…/query → customer = {…}
//! c-42    – tag_vip  skipped
//! c-42    + label vip
//! c-42    » reply welcome: "Hi Ana! How can I help?"  [Order status | Returns | Talk to a person (human)]
//! c-42 ■ end  active  labels [vip]  params {…}
//! ```
//!
//! The caller decides on colour (only on a terminal); texts are already redacted, and are
//! escaped here ([`crate::printable`]).

use super::clock::show_duration as show;
use super::trace::{ActionStatus, ChoiceRecord, TraceRecord};
use crate::printable::escape as e;
use serde_json::Value as Json;

/// Longest value shown inline before it is shortened with `…`.
const MAX_INLINE: usize = 120;

struct Paint(bool);

impl Paint {
    fn code(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.code("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.code("2", t)
    }
    fn green(&self, t: &str) -> String {
        self.code("32", t)
    }
    fn red(&self, t: &str) -> String {
        self.code("31", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.code("33", t)
    }
    fn cyan(&self, t: &str) -> String {
        self.code("36", t)
    }
}

/// One record as one line (no trailing newline). Every text from outside (ids, names,
/// labels, reasons, errors, values) is escaped: it cannot drive the terminal or forge a line.
pub fn render(record: &TraceRecord, colour: bool) -> String {
    let p = Paint(colour);
    let who = |c: &str| p.bold(&e(c));
    // An optional text after a fixed prefix: ` to {queue}`, ` ({reason})`.
    let opt = |text: &Option<String>, before: &str, after: &str| {
        text.as_deref()
            .map(|t| format!("{before}{}{after}", e(t)))
            .unwrap_or_default()
    };
    match record {
        TraceRecord::Event {
            conversation,
            seq,
            event,
            usecase,
            block,
            started_by,
            payload,
        } => {
            let what = match (usecase, block) {
                (Some(u), Some(b)) => format!("block {}.{}", e(u), e(b)),
                (Some(u), None) => format!("usecase {}", e(u)),
                _ => e(event).into_owned(),
            };
            let payload = match payload {
                _ if usecase.is_some() => String::new(),
                Json::Null => String::new(),
                Json::Object(map) if map.is_empty() => String::new(),
                other if event == "wait" => {
                    let ms = other["for_ms"].as_u64().unwrap_or_default();
                    format!(" {}", show(std::time::Duration::from_millis(ms)))
                }
                other => format!(" {}", p.dim(&inline(other))),
            };
            format!(
                "{} {} {}{payload}{}",
                who(conversation),
                p.dim(&format!("#{seq}")),
                p.bold(&what),
                started_by
                    .as_ref()
                    .map(|by| p.dim(&format!(" (started by {})", e(by))))
                    .unwrap_or_default()
            )
        }
        TraceRecord::Action {
            conversation,
            action,
            target,
            task,
            status,
            attempts,
            duration_ms,
            error,
            request,
            saved,
            value,
            on_failure_of,
            dry_run,
            ..
        } => {
            let mut line = format!("{}    ", who(conversation));
            line += &match (status, dry_run) {
                (ActionStatus::Ok, true) => p.yellow("◦ would run"),
                (ActionStatus::Ok, false) => p.green("✓"),
                (ActionStatus::Skipped, _) => p.dim("–"),
                (ActionStatus::Failed, _) => p.red("✗"),
            };
            line += &format!(" {}", p.bold(&e(action)));
            if let Some(cause) = on_failure_of {
                line += &p.dim(&format!(" (on failure of {})", e(cause)));
            }
            if *status == ActionStatus::Skipped && error.is_none() {
                return line + &p.dim("  skipped");
            }
            line += &p.dim(&format!("  {}.{}", e(target), e(task)));
            // Tries and time tell something only about services.
            let builtin = crate::catalogue::target_kind(target).is_some_and(|k| k.builtin);
            if !dry_run && !builtin && *attempts > 0 {
                let tries = if *attempts == 1 { "try" } else { "tries" };
                let took = show(std::time::Duration::from_millis(*duration_ms));
                line += &format!("  {attempts} {tries} {took}");
            }
            if let Some(request) = request {
                line += &format!("  {}", p.cyan(&e(request)));
            }
            if let (Some(param), Some(value)) = (saved, value) {
                line += &format!(" → {} = {}", e(param), inline(value));
            }
            if let Some(error) = error {
                let error = without_request(error, request.as_deref());
                line += &format!("  {}", p.red(&e(&first_line(error))));
            }
            line
        }
        TraceRecord::Reply {
            conversation,
            reply,
            text,
            choices,
            ..
        } => format!(
            "{}    » reply{}: {}{}",
            who(conversation),
            opt(reply, " ", ""),
            p.cyan(&quoted(text)),
            offered(choices, &e)
        ),
        TraceRecord::Label {
            conversation,
            label,
            added,
            ..
        } => format!(
            "{}    {} label {}",
            who(conversation),
            if *added { "+" } else { "-" },
            e(label)
        ),
        TraceRecord::Escalation {
            conversation,
            queue,
            reason,
            ..
        } => format!(
            "{}    {}{}{}",
            who(conversation),
            p.yellow("⇢ escalate"),
            opt(queue, " to ", ""),
            opt(reason, " (", ")")
        ),
        TraceRecord::Transfer {
            conversation,
            to,
            mode,
            whisper,
            ..
        } => format!(
            "{}    {} to {} ({}){}",
            who(conversation),
            p.yellow("☎ transfer"),
            e(to),
            e(mode),
            whisper
                .as_ref()
                .map(|w| format!(", whisper {}", quoted(w)))
                .unwrap_or_default()
        ),
        TraceRecord::Hangup {
            conversation,
            reason,
            ..
        } => format!(
            "{}    {}{}",
            who(conversation),
            p.yellow("☎ hang up"),
            opt(reason, " (", ")")
        ),
        TraceRecord::Dtmf {
            conversation,
            digits,
            ..
        } => format!("{}    ☎ send DTMF {}", who(conversation), e(digits)),
        TraceRecord::Hold {
            conversation,
            message,
            music,
            ..
        } => format!(
            "{}    ☎ hold{}{}",
            who(conversation),
            message
                .as_ref()
                .map(|m| format!(" {}", quoted(m)))
                .unwrap_or_default(),
            opt(music, " ♪ ", "")
        ),
        TraceRecord::Say {
            conversation, text, ..
        } => {
            format!("{}    ☎ say {}", who(conversation), p.cyan(&quoted(text)))
        }
        TraceRecord::Language {
            conversation,
            language,
            ..
        } => format!("{}    language → {}", who(conversation), e(language)),
        TraceRecord::Close {
            conversation,
            reason,
            ..
        } => format!(
            "{}    {}{}",
            who(conversation),
            p.yellow("close conversation"),
            opt(reason, " (", ")")
        ),
        TraceRecord::Error {
            conversation,
            line,
            message,
        } => {
            let place = match (line, conversation) {
                (Some(line), _) => format!("line {line}: "),
                (None, Some(c)) => format!("{}: ", e(c)),
                (None, None) => String::new(),
            };
            format!("{} {place}{}", p.red("error:"), e(message))
        }
        TraceRecord::End {
            conversation,
            params,
            labels,
            status,
        } => format!(
            "{} {} {}  labels [{}]  params {}",
            who(conversation),
            p.bold("■ end"),
            status.name(),
            e(&labels.join(", ")),
            inline(params)
        ),
    }
}

/// An error without the `METHOD URL` it starts with when the line shows that request
/// already (`GET https://… answered 503` → `answered 503`).
fn without_request<'a>(error: &'a str, request: Option<&str>) -> &'a str {
    let Some(request) = request else {
        return error;
    };
    let mut words = request.splitn(3, ' ');
    let (Some(method), Some(url)) = (words.next(), words.next()) else {
        return error;
    };
    error
        .strip_prefix(method)
        .and_then(|rest| rest.strip_prefix(' '))
        .and_then(|rest| rest.strip_prefix(url))
        .map_or(error, |rest| rest.trim_start_matches([':', ' ']))
}

/// Longest error shown on a timeline line before it is cut.
const MAX_ERROR: usize = 200;

/// An error on one line: cut at its first line break, or at [`MAX_ERROR`] characters, with
/// what was left out counted (`… (+812 bytes)`); an HTML page a service answered with is
/// one of those.
fn first_line(error: &str) -> String {
    let line = error.lines().next().unwrap_or("").trim_end();
    let line = match line.char_indices().nth(MAX_ERROR) {
        Some((end, _)) => &line[..end],
        None => line,
    };
    let left = error.len() - line.len();
    if left == 0 || error[line.len()..].trim().is_empty() {
        return error.trim_end().to_string();
    }
    format!("{line}… (+{left} bytes)")
}

/// A text as the timeline quotes it (`"Hi Maya!"`), escaped.
fn quoted(text: &str) -> String {
    e(&format!("{text:?}")).into_owned()
}

/// A JSON value on one line, shortened past [`MAX_INLINE`]; serde escapes the C0 controls
/// and [`crate::printable::escape`] the rest.
fn inline(value: &Json) -> String {
    let text = value.to_string();
    let text = e(&text);
    if text.chars().count() <= MAX_INLINE {
        return text.into_owned();
    }
    let mut short: String = text.chars().take(MAX_INLINE - 1).collect();
    short.push('…');
    short
}

/// The quick replies offered with a reply: `  [Order status | Talk to a person (human)]`,
/// the id shown where it is not the label.
fn offered(choices: &[ChoiceRecord], e: &dyn Fn(&str) -> std::borrow::Cow<'_, str>) -> String {
    if choices.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = choices
        .iter()
        .map(|c| match c.id == c.label {
            true => e(&c.label).into_owned(),
            false => format!("{} ({})", e(&c.label), e(&c.id)),
        })
        .collect();
    format!("  [{}]", shown.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::trace::ConversationStatus;

    #[test]
    fn lines_read_as_a_timeline() {
        let action = TraceRecord::Action {
            conversation: "c-42".into(),
            seq: 1,
            action: "check_order".into(),
            target: "orders".into(),
            task: "get_order".into(),
            status: ActionStatus::Failed,
            attempts: 3,
            duration_ms: 1200,
            error: Some("HTTP 500".into()),
            error_kind: None,
            request: Some("GET https://orders.example/orders/1".into()),
            saved: None,
            value: None,
            on_failure_of: None,
            dry_run: false,
        };
        assert_eq!(
            render(&action, false),
            "c-42    ✗ check_order  orders.get_order  3 tries 1s200ms  GET https://orders.example/orders/1  HTTP 500"
        );
        assert!(render(&action, true).contains("\x1b[31m✗\x1b[0m"));
        let end = TraceRecord::End {
            conversation: "c-42".into(),
            params: serde_json::json!({"order": "x".repeat(300)}),
            labels: vec!["vip".into()],
            status: ConversationStatus::Escalated,
        };
        let line = render(&end, false);
        assert!(line.starts_with("c-42 ■ end escalated  labels [vip]  params {\"order\":\"xxx"));
        assert!(line.ends_with('…'));
    }
}
