//! Signatures of what a program calls, as a reader writes the call: a built-in task's
//! (`increment(name: PARAM, by: number = 1) -> number`), a declared task's, a function's.
//! The one rendering: the checker's messages, hover, signature help and docs/language.md's
//! tables all show these.

use super::locales::{CURRENCY_CODES, LOCALE_NAMES};
use super::{FunctionSpec, TaskSpec, Ty};
use std::ops::Range;

/// A call's signature, with where each parameter is in its label.
#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    pub label: String,
    pub params: Vec<Range<usize>>,
    /// Where the call ends, before ` -> result`.
    call_end: usize,
}

impl Signature {
    /// `name(params, …)`, then ` -> result` when there is one.
    pub fn new(
        name: &str,
        params: impl IntoIterator<Item = String>,
        result: Option<Ty>,
    ) -> Signature {
        let mut label = format!("{name}(");
        let mut ranges = Vec::new();
        for param in params {
            if !ranges.is_empty() {
                label.push_str(", ");
            }
            let start = label.len();
            label.push_str(&param);
            ranges.push(start..label.len());
        }
        label.push(')');
        let call_end = label.len();
        if let Some(result) = result {
            label.push_str(" -> ");
            label.push_str(&result.written());
        }
        Signature {
            label,
            params: ranges,
            call_end,
        }
    }

    /// The call without its result: `add_label(label: text)`.
    pub fn call(&self) -> &str {
        &self.label[..self.call_end]
    }
}

/// One named parameter: `name: ty`, `name: ty = default`, or `name: ty?` when it may be left
/// out with no default known.
pub fn param(name: &str, ty: &str, required: bool, default: Option<&str>) -> String {
    match (required, default) {
        (true, _) => format!("{name}: {ty}"),
        (false, Some(d)) => format!("{name}: {ty} = {d}"),
        (false, None) => format!("{name}: {ty}?"),
    }
}

impl Ty {
    /// The type as a signature writes it: `low | normal | high`, `PARAM`, `locale`.
    pub fn written(self) -> String {
        match self {
            // Too long to read in a signature; docs/language.md lists them.
            Ty::Word(words) if words == LOCALE_NAMES => "locale".into(),
            Ty::Word(words) if words == CURRENCY_CODES => "currency".into(),
            Ty::Word(words) if words.len() > 8 => "word".into(),
            Ty::Word(words) => words.join(" | "),
            Ty::Param => "PARAM".into(),
            Ty::ReplyRef => "REPLY".into(),
            Ty::UsecaseRef => "USECASE".into(),
            Ty::BlockRef => "USECASE.BLOCK".into(),
            Ty::Auth => "auth".into(),
            Ty::Retry => "retry".into(),
            Ty::Seq => "text | list".into(),
            Ty::Zone => "zone".into(),
            other => other.describe(),
        }
    }
}

impl TaskSpec {
    pub fn signature(&self) -> Signature {
        let args = self
            .args
            .iter()
            .map(|a| param(a.name, &a.ty.written(), a.required, a.default));
        let variadic = self.variadic.then(|| "args…".to_string());
        let named = self.named_params.then(|| "PARAM: value, …".to_string());
        Signature::new(
            self.name(),
            args.chain(variadic).chain(named),
            Some(self.result),
        )
    }
}

impl FunctionSpec {
    /// Its parameters are positional: each is its type, `?` from the first optional one.
    pub fn signature(&self) -> Signature {
        let params = self.params.iter().enumerate().map(|(i, ty)| {
            let optional = if i >= self.min_args { "?" } else { "" };
            format!("{}{optional}", ty.written())
        });
        Signature::new(self.name, params, Some(self.result))
    }
}

#[cfg(test)]
mod tests {
    use crate::catalogue::{self, Kind, Ty};

    #[test]
    fn a_signature_marks_each_parameter_and_ends_with_its_result() {
        let sig = Kind::Conversation
            .spec()
            .task("increment")
            .unwrap()
            .signature();
        assert_eq!(
            sig.label,
            "increment(name: PARAM, by: number = 1) -> number"
        );
        assert_eq!(sig.call(), "increment(name: PARAM, by: number = 1)");
        let params: Vec<&str> = sig.params.iter().map(|r| &sig.label[r.clone()]).collect();
        assert_eq!(params, ["name: PARAM", "by: number = 1"]);
        let sig = catalogue::function("format_number").unwrap().signature();
        assert_eq!(sig.label, "format_number(number, number, locale?) -> text");
        assert_eq!(Ty::Word(&["asc", "desc"]).written(), "asc | desc");
    }

    #[test]
    fn variadic_and_named_parameters_end_the_list() {
        let call = |kind: Kind, name| kind.spec().task(name).unwrap().signature();
        assert_eq!(
            call(Kind::Sql, "execute").label,
            "execute(statement: text, args…) -> record"
        );
        assert_eq!(
            call(Kind::Conversation, "set").label,
            "set(PARAM: value, …) -> any"
        );
    }
}
