//! The answer to one event: what a platform must show (`replies`) and carry out
//! (`commands`), how each action ended, and the conversation's state after it
//! (docs/serve.md, "The answer").

use super::journal::Stepped;
use crate::runtime::{ActionStatus, TraceRecord};
use serde_json::{json, Map, Value as Json};

pub fn answer(conversation: &str, stepped: &Stepped) -> Json {
    let mut replies = Vec::new();
    let mut commands = Vec::new();
    let mut actions = Vec::new();
    let mut errors = Vec::new();
    for record in &stepped.records {
        match record {
            TraceRecord::Reply {
                reply,
                text,
                choices,
                ..
            } => {
                let mut one = Map::new();
                one.insert("name".into(), json!(reply));
                one.insert("text".into(), json!(text));
                if !choices.is_empty() {
                    one.insert("choices".into(), json!(choices));
                }
                replies.push(Json::Object(one));
            }
            TraceRecord::Action {
                action,
                status,
                attempts,
                error,
                ..
            } => actions.push(json!({
                "name": action,
                "status": status_name(*status),
                "attempts": attempts,
                "error": error,
            })),
            TraceRecord::Error { message, .. } => errors.push(json!(message)),
            TraceRecord::Escalation { queue, reason, .. } => commands.push(json!({
                "type": "escalate", "queue": queue, "reason": reason,
            })),
            TraceRecord::Transfer {
                to, mode, whisper, ..
            } => commands.push(json!({
                "type": "transfer", "to": to, "mode": mode, "whisper": whisper,
            })),
            TraceRecord::Hangup { reason, .. } => {
                commands.push(json!({ "type": "hangup", "reason": reason }))
            }
            TraceRecord::Dtmf { digits, .. } => {
                commands.push(json!({ "type": "dtmf", "digits": digits }))
            }
            TraceRecord::Hold { message, music, .. } => commands.push(json!({
                "type": "hold", "message": message, "music": music,
            })),
            TraceRecord::Say { text, .. } => commands.push(json!({ "type": "say", "text": text })),
            TraceRecord::Language { language, .. } => {
                commands.push(json!({ "type": "language", "language": language }))
            }
            TraceRecord::Close { reason, .. } => {
                commands.push(json!({ "type": "close", "reason": reason }))
            }
            TraceRecord::Event { .. } | TraceRecord::Label { .. } | TraceRecord::End { .. } => {}
        }
    }
    let state = &stepped.state;
    json!({
        "conversation": conversation,
        "done": true,
        "replies": replies,
        "commands": commands,
        "actions": actions,
        "labels": state.labels,
        "params": state.params_json(),
        "status": state.status.name(),
        "ended": stepped.retired,
        "errors": errors,
    })
}

fn status_name(status: ActionStatus) -> &'static str {
    match status {
        ActionStatus::Ok => "ok",
        ActionStatus::Skipped => "skipped",
        ActionStatus::Failed => "failed",
    }
}
