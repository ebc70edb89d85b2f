//! The identity of each target kind. `TARGET_KINDS` holds one entry per [`Kind`], in this
//! order (`tests::every_kind_has_its_entry`), so `Kind::spec` is an index, and a match on a
//! kind names every kind or says why not.

use super::targets::{TargetKind, TARGET_KINDS};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A target kind: the two built-in ones, then those a `target` declares. Written in the IR
/// as its name (`"http"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Conversation,
    Call,
    Http,
    Zendesk,
    Salesforce,
    Smtp,
    Sms,
    Sql,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Conversation,
        Kind::Call,
        Kind::Http,
        Kind::Zendesk,
        Kind::Salesforce,
        Kind::Smtp,
        Kind::Sms,
        Kind::Sql,
    ];

    /// The word a program writes (`target orders: http`) and the IR holds.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Conversation => "conversation",
            Kind::Call => "call",
            Kind::Http => "http",
            Kind::Zendesk => "zendesk",
            Kind::Salesforce => "salesforce",
            Kind::Smtp => "smtp",
            Kind::Sms => "sms",
            Kind::Sql => "sql",
        }
    }

    pub fn parse(word: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == word)
    }

    /// Its catalogue entry: fields, tasks, channels.
    pub fn spec(self) -> &'static TargetKind {
        &TARGET_KINDS[self as usize]
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::{Kind, TARGET_KINDS};

    #[test]
    fn every_kind_has_its_entry() {
        assert_eq!(TARGET_KINDS.len(), Kind::ALL.len());
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, i);
            assert_eq!(kind.spec().kind, kind);
        }
    }

    /// The IR writes a kind as the word a program writes.
    #[test]
    fn a_kind_is_written_as_its_name() {
        for kind in Kind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(serde_json::from_str::<Kind>(&json).unwrap(), kind);
            assert_eq!(Kind::parse(kind.name()), Some(kind));
        }
    }
}
