//! Interned names. A program reads the same few words again and again (`attempts`,
//! `event`, a parameter per action), so a name in the tree is a pointer to the one copy of
//! its text, which makes a [`Name`] expression no larger than any other leaf and saves an
//! allocation per name read.

use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use rustc_hash::{FxBuildHasher, FxHashSet};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A name's text, interned for the life of the process: one pointer, copied freely, equal
/// exactly when the texts are.
///
/// Interned texts are never freed. A check interns each distinct name of a program once and
/// exits; a long-lived process (the language server) keeps every name it has ever read,
/// which grows with the distinct names typed, not with the edits.
#[derive(Clone, Copy)]
pub struct Name(&'static &'static str);

/// Shards of the table, so the threads parsing chunks of one file seldom wait for each
/// other.
const SHARDS: usize = 16;

static TABLE: [Mutex<FxHashSet<Name>>; SHARDS] =
    [const { Mutex::new(FxHashSet::with_hasher(FxBuildHasher)) }; SHARDS];

impl Name {
    pub fn new(text: &str) -> Name {
        let hash = FxBuildHasher.hash_one(text);
        // The high bits: the set's own buckets are chosen by the low ones.
        let shard = &TABLE[(hash >> 32) as usize % SHARDS];
        let mut set = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(name) = set.get(text) {
            return *name;
        }
        let text: &'static str = Box::leak(text.into());
        let name = Name(Box::leak(Box::new(text)));
        set.insert(name);
        name
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.0
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Name {}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        *self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == *other.0
    }
}

/// By the text, as the table looks names up by it ([`std::borrow::Borrow`]).
impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Name, D::Error> {
        Ok(Name::new(&String::deserialize(deserializer)?))
    }
}

#[cfg(test)]
mod tests {
    use super::Name;

    #[test]
    fn a_name_is_interned_once() {
        let a = Name::new("attempts");
        let b = Name::new(&String::from("attempts"));
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_ne!(a, Name::new("score"));
        assert_eq!(a, "attempts");
        assert_eq!(format!("{a:?} {a}"), "\"attempts\" attempts");
    }
}
