//! The built-in targets `conversation` and `call`, run in-process. They change the
//! conversation's state and emit trace records that a platform adapter acts on (send the
//! reply, transfer the call, ...).

use super::conversation::{Conversation, EventCtx};
use super::eval::{finite, EvalError};
use super::param_error::ParamError;
use super::plan::{CallTask, ConversationTask};
use super::trace::{ConversationStatus, TraceRecord};
use crate::catalogue::hold_music_problem;
use crate::ir::{Expr, Value};
use std::fmt;

/// Why a task of a built-in target (`conversation`, `call`) failed: the action's error.
#[derive(Debug, PartialEq)]
pub(super) enum BuiltinError {
    /// An argument does not evaluate, or a computed number is not finite.
    Eval(EvalError),
    Param(ParamError),
    /// A task needs a text and was given a value of another type.
    NotText {
        task: &'static str,
        found: &'static str,
    },
    IncrementBy(&'static str),
    CannotIncrement(&'static str),
    CannotPush(&'static str),
    /// The list already holds as many items as the limits allow.
    ListFull(usize),
    /// `verify` found its condition false; its own message, if it has one.
    Unverified(Option<String>),
    VerifyNotBool(&'static str),
    /// A reply the program does not declare (an IR file edited by hand).
    ReplyUnknown(String),
    /// A reply with no text in any language (an IR file edited by hand).
    NoText,
    TransferMode(String),
    /// A test said the transfer to this number does not connect.
    TransferFailed {
        to: String,
        reason: String,
    },
    NotDtmf(String),
    HoldMusic(String),
}

impl fmt::Display for BuiltinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuiltinError::Eval(error) => write!(f, "{error}"),
            BuiltinError::Param(error) => write!(f, "{error}"),
            BuiltinError::NotText { task, found } => {
                write!(f, "{task} needs a text, found {found}")
            }
            BuiltinError::IncrementBy(found) => {
                write!(f, "increment needs a number `by`, found {found}")
            }
            BuiltinError::CannotIncrement(found) => write!(f, "cannot increment a {found}"),
            BuiltinError::CannotPush(found) => write!(f, "cannot push onto a {found}"),
            BuiltinError::ListFull(items) => write!(f, "the list is full ({items} items)"),
            BuiltinError::Unverified(message) => {
                f.write_str(message.as_deref().unwrap_or("verification failed"))
            }
            BuiltinError::VerifyNotBool(found) => {
                write!(f, "verify needs a bool condition, found {found}")
            }
            BuiltinError::ReplyUnknown(name) => write!(f, "reply `{name}` is not declared"),
            BuiltinError::NoText => f.write_str("the reply has no text"),
            BuiltinError::TransferMode(mode) => {
                write!(f, "transfer mode must be warm or cold, found {mode:?}")
            }
            BuiltinError::TransferFailed { to, reason } => {
                write!(f, "the transfer to {to} did not connect: {reason}")
            }
            BuiltinError::NotDtmf(digits) => {
                write!(f, "{digits:?} are not DTMF digits (0-9, *, #, A-D, w)")
            }
            BuiltinError::HoldMusic(problem) => write!(f, "hold `music` {problem}"),
        }
    }
}

impl std::error::Error for BuiltinError {}

impl From<EvalError> for BuiltinError {
    fn from(error: EvalError) -> Self {
        BuiltinError::Eval(error)
    }
}

impl From<ParamError> for BuiltinError {
    fn from(error: ParamError) -> Self {
        BuiltinError::Param(error)
    }
}

impl Conversation {
    pub(super) fn conversation_task(
        &mut self,
        task: &ConversationTask,
        ev: &EventCtx,
    ) -> Result<Value, BuiltinError> {
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
                    .collect::<Result<Vec<_>, BuiltinError>>()?;
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
                    other => return Err(BuiltinError::IncrementBy(other.type_name())),
                };
                let next = match self.param(*param) {
                    Value::Null => by,
                    Value::Number(n) => finite("increment", n + by)?,
                    other => return Err(BuiltinError::CannotIncrement(other.type_name())),
                };
                self.store_param(*param, Value::Number(next))?;
                Ok(Value::Number(next))
            }
            ConversationTask::Push(param, value) => {
                let value = self.value(value, ev)?;
                let mut items = match self.param(*param) {
                    Value::Null => Vec::new(),
                    Value::List(items) => items.clone(),
                    other => return Err(BuiltinError::CannotPush(other.type_name())),
                };
                if items.len() >= self.shared.limits.max_list_items {
                    return Err(BuiltinError::ListFull(items.len()));
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
                Value::Bool(false) | Value::Null => Err(BuiltinError::Unverified(
                    self.optional_text(message, ev, "verify")?,
                )),
                other => Err(BuiltinError::VerifyNotBool(other.type_name())),
            },
        }
    }

    pub(super) fn call_task(
        &mut self,
        task: &CallTask,
        ev: &EventCtx,
    ) -> Result<Value, BuiltinError> {
        let seq = ev.seq;
        match task {
            CallTask::Transfer { to, mode, whisper } => {
                let to = self.text(to, ev, "transfer")?;
                let mode = self
                    .optional_text(mode, ev, "transfer")?
                    .unwrap_or_else(|| "cold".into());
                if mode != "warm" && mode != "cold" {
                    return Err(BuiltinError::TransferMode(mode));
                }
                let whisper = self.optional_text(whisper, ev, "transfer")?;
                if let Some(reason) = self.shared.transfer_failure(&to) {
                    return Err(BuiltinError::TransferFailed { to, reason });
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
                    return Err(BuiltinError::NotDtmf(digits));
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
                    return Err(BuiltinError::HoldMusic(problem));
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

    fn has_label(
        &self,
        expr: &Expr,
        ev: &EventCtx,
        task: &'static str,
    ) -> Result<bool, BuiltinError> {
        self.eval_with(expr, ev, |value| match value {
            Value::Text(label) => Ok(self.state.labels.iter().any(|l| l == label)),
            other => Err(BuiltinError::NotText {
                task,
                found: other.type_name(),
            }),
        })?
    }

    fn param(&self, index: usize) -> &Value {
        self.state
            .params
            .get_index(index)
            .map_or(&Value::Null, |(_, v)| v)
    }

    fn value(&self, expr: &Expr, ev: &EventCtx) -> Result<Value, BuiltinError> {
        Ok(self.eval(expr, ev)?)
    }

    fn text(&self, expr: &Expr, ev: &EventCtx, task: &'static str) -> Result<String, BuiltinError> {
        match self.value(expr, ev)? {
            Value::Text(text) => Ok(text),
            other => Err(BuiltinError::NotText {
                task,
                found: other.type_name(),
            }),
        }
    }

    fn optional_text(
        &self,
        expr: &Option<Expr>,
        ev: &EventCtx,
        task: &'static str,
    ) -> Result<Option<String>, BuiltinError> {
        match expr {
            None => Ok(None),
            Some(expr) => match self.value(expr, ev)? {
                Value::Null => Ok(None),
                Value::Text(text) => Ok(Some(text)),
                other => Err(BuiltinError::NotText {
                    task,
                    found: other.type_name(),
                }),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{self, Type};

    /// A built-in task's failure is told apart by variant; the sentence is the trace's.
    #[tokio::test]
    async fn a_built_in_task_fails_with_a_typed_error() {
        let mut conversation = crate::runtime::engine::test_conversation(vec![ir::Param {
            name: "attempts".into(),
            ty: Type::Number,
            default: None,
        }]);
        let ev = EventCtx {
            seq: 1,
            payload: std::sync::Arc::new(Value::Null),
            usecase: None,
            block: None,
            runs: Vec::new(),
        };
        let text = |s: &str| Expr::Lit(Value::Text(s.into()));
        let by_text = ConversationTask::Increment(0, text("two"));
        let error = conversation.conversation_task(&by_text, &ev).unwrap_err();
        assert_eq!(error, BuiltinError::IncrementBy("text"));
        assert_eq!(
            error.to_string(),
            "increment needs a number `by`, found text"
        );
        let dtmf = CallTask::SendDtmf(text("12x"));
        let error = conversation.call_task(&dtmf, &ev).unwrap_err();
        assert_eq!(error, BuiltinError::NotDtmf("12x".into()));
        assert_eq!(
            error.to_string(),
            r#""12x" are not DTMF digits (0-9, *, #, A-D, w)"#
        );
    }
}
