//! In-process stand-ins for a program's external targets (HTTP APIs, helpdesks, CRMs, mail,
//! SMS, SQL): each answers its tasks in turn from a script the fuzz input wrote — hostile
//! JSON answers, failures that may be retried, absurd `Retry-After`s, and answers that
//! never come.

use crate::json;
use agentc::ir::Value;
use agentc::runtime::effects::{Executor, TaskError, TaskRequest};
use futures::future::BoxFuture;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Answers in a service's script; it starts again from the first when it runs out.
const MAX_ANSWERS: usize = 8;

enum Answer {
    /// The service's answer, as JSON text: what the real executors parse into a value.
    Body(String),
    Fails {
        message: String,
        retryable: bool,
        retry_after: Option<Duration>,
    },
    /// Answers only after a while (the paused clock makes it cost nothing).
    Late(Duration, String),
    /// Never answers: only the action's timeout ends the try.
    Never,
}

/// One external target's stand-in.
pub struct Service {
    answers: Vec<Answer>,
    next: AtomicUsize,
}

impl Service {
    pub fn new(u: &mut Unstructured, words: &[String]) -> Result<Service> {
        let mut answers = Vec::new();
        for _ in 0..u.int_in_range(0..=MAX_ANSWERS)? {
            answers.push(match u.int_in_range(0..=9)? {
                0 | 1 => Answer::Fails {
                    message: u.arbitrary()?,
                    retryable: u.arbitrary()?,
                    retry_after: match u.int_in_range(0..=3)? {
                        0 => Some(Duration::from_millis(u.arbitrary()?)),
                        1 => Some(Duration::MAX),
                        _ => None,
                    },
                },
                2 => Answer::Late(Duration::from_millis(u.arbitrary()?), body(u, words)?),
                3 => Answer::Never,
                _ => Answer::Body(body(u, words)?),
            });
        }
        Ok(Service {
            answers,
            next: AtomicUsize::new(0),
        })
    }

    /// Answers in the script.
    pub fn len(&self) -> usize {
        self.answers.len()
    }
}

/// An answer as HTTP targets give it (`{ status, headers, body }`), or any JSON at all.
fn body(u: &mut Unstructured, words: &[String]) -> Result<String> {
    let mut out = String::new();
    if u.arbitrary()? {
        out.push_str("{\"status\":");
        out.push_str(&u.int_in_range(100u16..=599)?.to_string());
        out.push_str(",\"headers\":{\"content-type\":\"application/json\"},\"body\":");
        json::value(u, words, &mut out)?;
        out.push('}');
    } else {
        json::value(u, words, &mut out)?;
    }
    Ok(out)
}

/// What a real executor makes of an answer's text.
fn parse(text: &str) -> std::result::Result<Value, TaskError> {
    serde_json::from_str(text)
        .map(|json| Value::from_json(&json))
        .map_err(|e| TaskError::fatal(format!("the answer is not JSON: {e}")))
}

impl Executor for Service {
    fn execute<'a>(
        &'a self,
        _: &'a TaskRequest,
    ) -> BoxFuture<'a, std::result::Result<Value, TaskError>> {
        Box::pin(async move {
            if self.answers.is_empty() {
                return Ok(Value::Null);
            }
            let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.answers.len();
            match &self.answers[turn] {
                Answer::Body(text) => parse(text),
                Answer::Fails {
                    message,
                    retryable,
                    retry_after,
                } => Err(TaskError {
                    retryable: *retryable,
                    retry_after: *retry_after,
                    ..TaskError::fatal(message.clone())
                }),
                Answer::Late(delay, text) => {
                    tokio::time::sleep(*delay).await;
                    parse(text)
                }
                Answer::Never => futures::future::pending().await,
            }
        })
    }

    fn describe(&self, request: &TaskRequest) -> String {
        format!("{}.{} (fuzzed service)", request.target, request.task)
    }
}
