//! The built-in targets `conversation` and `call`, run in-process. They change the
//! conversation's state and emit trace records that a platform adapter acts on (send the
//! reply, transfer the call, ...).

use super::conversation::{Conversation, EventCtx};
use super::eval::finite;
use super::plan::{CallTask, ConversationTask};
use super::trace::{ConversationStatus, TraceRecord};
use crate::catalogue::hold_music_problem;
use crate::ir::{Expr, Value};

impl Conversation {
    pub(super) fn conversation_task(
        &mut self,
        task: &ConversationTask,
        ev: &EventCtx,
    ) -> Result<Value, String> {
        let seq = ev.seq;
        match task {
            ConversationTask::Set(assignments) if assignments.len() == 1 => {
                let (param, expr) = &assignments[0];
                let value = self.value(expr, ev)?;
                self.store_param(*param, value)?;
                Ok(Value::Null)
            }
            ConversationTask::Set(assignments) => {
                // Evaluate every value first, so `set(a: b, b: a)` swaps.
                let values = assignments
                    .iter()
                    .map(|(param, expr)| Ok((*param, self.value(expr, ev)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                for (param, value) in values {
                    self.store_param(param, value)?;
                }
                Ok(Value::Null)
            }
            ConversationTask::Unset(param) => {
                self.store_param(*param, Value::Null)?;
                Ok(Value::Null)
            }
            ConversationTask::Increment(param, by) => {
                let by = match self.value(by, ev)? {
                    Value::Number(n) => n,
                    other => {
                        return Err(format!(
                            "increment needs a number `by`, found {}",
                            other.type_name()
                        ))
                    }
                };
                let next = match self.param(*param) {
                    Value::Null => by,
                    Value::Number(n) => finite("increment", n + by).map_err(|e| e.0)?,
                    other => return Err(format!("cannot increment a {}", other.type_name())),
                };
                self.store_param(*param, Value::Number(next))?;
                Ok(Value::Number(next))
            }
            ConversationTask::Push(param, value) => {
                let value = self.value(value, ev)?;
                let mut items = match self.param(*param) {
                    Value::Null => Vec::new(),
                    Value::List(items) => items.clone(),
                    other => return Err(format!("cannot push onto a {}", other.type_name())),
                };
                if items.len() >= self.shared.limits.max_list_items {
                    return Err(format!("the list is full ({} items)", items.len()));
                }
                items.push(value);
                self.store_param(*param, Value::List(items))?;
                Ok(self.param(*param).clone())
            }
            ConversationTask::AddLabel(expr) => {
                // Most events re-add a label the conversation has: compare before copying.
                if !self.has_label(expr, ev, "add_label")? {
                    let label = self.text(expr, ev, "add_label")?;
                    self.emit_label(seq, &label, true);
                    self.state.labels.push(label);
                }
                Ok(Value::Null)
            }
            ConversationTask::RemoveLabel(label) => {
                let label = self.text(label, ev, "remove_label")?;
                if let Some(at) = self.state.labels.iter().position(|l| *l == label) {
                    self.state.labels.remove(at);
                    self.emit_label(seq, &label, false);
                }
                Ok(Value::Null)
            }
            ConversationTask::Reply(reply) => self.send_reply(reply, ev),
            ConversationTask::ReplyText(text) => self.send_text(text, ev),
            ConversationTask::Escalate { queue, reason } => {
                let queue = self.optional_text(queue, ev, "escalate")?;
                let reason = self.optional_text(reason, ev, "escalate")?;
                self.state.status = ConversationStatus::Escalated;
                self.effect(|conversation| TraceRecord::Escalation {
                    conversation: conversation.to_string(),
                    seq,
                    queue,
                    reason,
                });
                Ok(Value::Null)
            }
            ConversationTask::End { reason } => {
                let reason = self.optional_text(reason, ev, "end")?;
                self.state.status = ConversationStatus::Ended;
                self.effect(|conversation| TraceRecord::Close {
                    conversation: conversation.to_string(),
                    seq,
                    reason,
                });
                Ok(Value::Null)
            }
            ConversationTask::SetLanguage(code) => {
                let language = self.text(code, ev, "set_language")?;
                self.effect(|conversation| TraceRecord::Language {
                    conversation: conversation.to_string(),
                    seq,
                    language: language.clone(),
                });
                self.state.language = Some(language);
                Ok(Value::Null)
            }
            ConversationTask::Verify { condition, message } => match self.value(condition, ev)? {
                Value::Bool(true) => Ok(Value::Bool(true)),
                Value::Bool(false) | Value::Null => Err(self
                    .optional_text(message, ev, "verify")?
                    .unwrap_or_else(|| "verification failed".to_string())),
                other => Err(format!(
                    "verify needs a bool condition, found {}",
                    other.type_name()
                )),
            },
        }
    }

    pub(super) fn call_task(&mut self, task: &CallTask, ev: &EventCtx) -> Result<Value, String> {
        let seq = ev.seq;
        match task {
            CallTask::Transfer { to, mode, whisper } => {
                let to = self.text(to, ev, "transfer")?;
                let mode = self
                    .optional_text(mode, ev, "transfer")?
                    .unwrap_or_else(|| "cold".into());
                if mode != "warm" && mode != "cold" {
                    return Err(format!(
                        "transfer mode must be warm or cold, found {mode:?}"
                    ));
                }
                let whisper = self.optional_text(whisper, ev, "transfer")?;
                if let Some(reason) = self.shared.transfer_failure(&to) {
                    return Err(format!("the transfer to {to} did not connect: {reason}"));
                }
                // A cold transfer hands the caller over: the agent is out of the call.
                if mode == "cold" {
                    self.state.status = ConversationStatus::Transferred;
                }
                self.effect(|conversation| TraceRecord::Transfer {
                    conversation: conversation.to_string(),
                    seq,
                    to,
                    mode,
                    whisper,
                });
            }
            CallTask::Hangup { reason } => {
                let reason = self.optional_text(reason, ev, "hangup")?;
                self.state.status = ConversationStatus::Ended;
                self.effect(|conversation| TraceRecord::Hangup {
                    conversation: conversation.to_string(),
                    seq,
                    reason,
                });
            }
            CallTask::SendDtmf(digits) => {
                let digits = self.text(digits, ev, "send_dtmf")?;
                if !digits
                    .chars()
                    .all(|c| c.is_ascii_digit() || "*#ABCDwW".contains(c))
                {
                    return Err(format!(
                        "{digits:?} are not DTMF digits (0-9, *, #, A-D, w)"
                    ));
                }
                self.effect(|conversation| TraceRecord::Dtmf {
                    conversation: conversation.to_string(),
                    seq,
                    digits,
                });
            }
            CallTask::Hold { message, music } => {
                let message = self.optional_text(message, ev, "hold")?;
                let music = self.optional_text(music, ev, "hold")?;
                if let Some(problem) = music.as_deref().and_then(hold_music_problem) {
                    return Err(format!("hold `music` {problem}"));
                }
                self.effect(|conversation| TraceRecord::Hold {
                    conversation: conversation.to_string(),
                    seq,
                    message,
                    music,
                });
            }
            CallTask::Say(text) => {
                let text = self.text(text, ev, "say")?;
                self.effect(|conversation| TraceRecord::Say {
                    conversation: conversation.to_string(),
                    seq,
                    text,
                });
            }
        }
        Ok(Value::Null)
    }

    fn has_label(&self, expr: &Expr, ev: &EventCtx, task: &str) -> Result<bool, String> {
        self.eval_with(expr, ev, |value| match value {
            Value::Text(label) => Ok(self.state.labels.iter().any(|l| l == label)),
            other => Err(format!("{task} needs a text, found {}", other.type_name())),
        })
        .map_err(|e| e.0)?
    }

    fn param(&self, index: usize) -> &Value {
        self.state
            .params
            .get_index(index)
            .map_or(&Value::Null, |(_, v)| v)
    }

    fn value(&self, expr: &Expr, ev: &EventCtx) -> Result<Value, String> {
        self.eval(expr, ev).map_err(|e| e.0)
    }

    fn text(&self, expr: &Expr, ev: &EventCtx, task: &str) -> Result<String, String> {
        match self.value(expr, ev)? {
            Value::Text(text) => Ok(text),
            other => Err(format!("{task} needs a text, found {}", other.type_name())),
        }
    }

    fn optional_text(
        &self,
        expr: &Option<Expr>,
        ev: &EventCtx,
        task: &str,
    ) -> Result<Option<String>, String> {
        match expr {
            None => Ok(None),
            Some(expr) => match self.value(expr, ev)? {
                Value::Null => Ok(None),
                Value::Text(text) => Ok(Some(text)),
                other => Err(format!("{task} needs a text, found {}", other.type_name())),
            },
        }
    }

    fn emit_label(&mut self, seq: u64, label: &str, added: bool) {
        self.effect(|conversation| TraceRecord::Label {
            conversation: conversation.to_string(),
            seq,
            label: label.to_string(),
            added,
        });
    }
}
