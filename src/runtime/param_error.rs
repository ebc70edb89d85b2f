//! Why a value is not stored in a parameter. One type for the runtime's stores and the
//! server's intake, so each reads the kind of refusal rather than its words.

use crate::ir::{mebibytes, Breach};
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum ParamError {
    /// `payload.params` names a parameter the program does not declare.
    Unknown {
        name: String,
        suggestion: Option<String>,
    },
    /// The value is of another type than the parameter's.
    DoesNotFit {
        param: String,
        value: &'static str,
        ty: &'static str,
    },
    /// The value, or the conversation's state with it, would break a limit.
    OverLimit { param: String, limit: StateLimit },
}

/// Which limit a value kept in the conversation's state would break.
#[derive(Clone, Debug, PartialEq)]
pub enum StateLimit {
    /// The value itself is too deep or too large.
    Value(Breach),
    /// The state with it would take more than this many bytes.
    Total(usize),
}

impl fmt::Display for StateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateLimit::Value(breach) => write!(f, "{breach}"),
            StateLimit::Total(max_bytes) => write!(
                f,
                "the conversation's state would take more than {} of memory (the limit on its \
                 params, `user` and `caller` together); unset params it no longer needs",
                mebibytes(*max_bytes)
            ),
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Unknown { name, suggestion } => {
                write!(f, "the payload sets `{name}`, which is not a parameter")?;
                match suggestion {
                    Some(s) => write!(f, " (did you mean `{s}`?)"),
                    None => Ok(()),
                }
            }
            ParamError::DoesNotFit { param, value, ty } => {
                write!(f, "cannot store a {value} in `{param}`, a {ty} parameter")
            }
            ParamError::OverLimit { param, limit } => {
                write!(f, "cannot store it in `{param}`: {limit}")
            }
        }
    }
}

impl std::error::Error for ParamError {}
