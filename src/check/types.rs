//! The checker's types: the value types (docs/language.md, "Types") plus `null` (the literal) and `auth`
//! (what `bearer(..)`, `basic(..)` and `api_key(..)` build).

use crate::catalogue::Ty;
use crate::ir;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Type {
    Text,
    Number,
    Bool,
    Duration,
    List,
    Record,
    /// Known only at run time (API bodies): accepted everywhere, checked when it runs.
    #[default]
    Any,
    Null,
    Auth,
}

impl Type {
    pub fn name(self) -> &'static str {
        match self {
            Type::Text => "text",
            Type::Number => "number",
            Type::Bool => "bool",
            Type::Duration => "duration",
            Type::List => "list",
            Type::Record => "record",
            Type::Any => "any",
            Type::Null => "null",
            Type::Auth => "auth",
        }
    }

    pub fn from_ir(ty: ir::Type) -> Type {
        match ty {
            ir::Type::Text => Type::Text,
            ir::Type::Number => Type::Number,
            ir::Type::Bool => Type::Bool,
            ir::Type::Duration => Type::Duration,
            ir::Type::List => Type::List,
            ir::Type::Record => Type::Record,
            ir::Type::Any => Type::Any,
        }
    }

    /// The value type a catalogue type stands for once evaluated: words and names are texts.
    pub fn from_catalogue(ty: Ty) -> Type {
        match ty {
            Ty::Text
            | Ty::Word(_)
            | Ty::Zone
            | Ty::Param
            | Ty::ReplyRef
            | Ty::UsecaseRef
            | Ty::BlockRef => Type::Text,
            Ty::Number => Type::Number,
            Ty::Bool => Type::Bool,
            Ty::Duration => Type::Duration,
            Ty::List => Type::List,
            Ty::Record | Ty::Retry => Type::Record,
            Ty::Seq | Ty::Any => Type::Any,
            Ty::Auth => Type::Auth,
        }
    }

    /// Whether a value of type `actual` may go where `self` is expected. `null` goes anywhere
    /// (parameters and optional values may be unset); `any` is checked at run time.
    pub fn accepts(self, actual: Type) -> bool {
        self == Type::Any || actual == Type::Any || actual == Type::Null || self == actual
    }

    /// The type of a value that is either `a` or `b` (`a ?? b`, `if`'s branches), or `None`
    /// when they cannot meet.
    pub fn join(a: Type, b: Type) -> Option<Type> {
        match (a, b) {
            _ if a == b => Some(a),
            (Type::Null, other) | (other, Type::Null) => Some(other),
            (Type::Any, _) | (_, Type::Any) => Some(Type::Any),
            _ => None,
        }
    }

    /// Known precisely at check time (neither `any` nor `null`).
    pub fn is_known(self) -> bool {
        !matches!(self, Type::Any | Type::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_any_are_accepted_everywhere() {
        assert!(Type::Text.accepts(Type::Null));
        assert!(Type::Number.accepts(Type::Any));
        assert!(!Type::Number.accepts(Type::Text));
    }

    #[test]
    fn join_prefers_the_known_side_of_null() {
        assert_eq!(Type::join(Type::Null, Type::Text), Some(Type::Text));
        assert_eq!(Type::join(Type::Any, Type::Text), Some(Type::Any));
        assert_eq!(Type::join(Type::Bool, Type::Text), None);
    }
}
