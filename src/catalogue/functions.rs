//! Built-in functions of the expression language.

use super::Ty;

#[derive(Debug)]
pub struct FunctionSpec {
    pub name: &'static str,
    /// Parameter types; `min_args..=params.len()` arguments are accepted.
    pub params: &'static [Ty],
    pub min_args: usize,
    pub result: Ty,
    pub doc: &'static str,
}

const fn f(
    name: &'static str,
    params: &'static [Ty],
    result: Ty,
    doc: &'static str,
) -> FunctionSpec {
    FunctionSpec {
        name,
        params,
        min_args: params.len(),
        result,
        doc,
    }
}

pub const FUNCTIONS: &[FunctionSpec] = &[
    f(
        "len",
        &[Ty::Any],
        Ty::Number,
        "Length of a text (characters), list or record.",
    ),
    f("lower", &[Ty::Text], Ty::Text, "Lower-case text."),
    f("upper", &[Ty::Text], Ty::Text, "Upper-case text."),
    f(
        "trim",
        &[Ty::Text],
        Ty::Text,
        "Text without leading and trailing white space.",
    ),
    f(
        "contains",
        &[Ty::Any, Ty::Any],
        Ty::Bool,
        "Whether a text contains a text, or a list an item.",
    ),
    f(
        "starts_with",
        &[Ty::Text, Ty::Text],
        Ty::Bool,
        "Whether a text starts with another.",
    ),
    f(
        "ends_with",
        &[Ty::Text, Ty::Text],
        Ty::Bool,
        "Whether a text ends with another.",
    ),
    f(
        "matches",
        &[Ty::Text, Ty::Text],
        Ty::Bool,
        "Whether a text matches a regular expression.",
    ),
    FunctionSpec {
        min_args: 1,
        ..f(
            "round",
            &[Ty::Number, Ty::Number],
            Ty::Number,
            "Round, optionally to N decimals.",
        )
    },
    f("floor", &[Ty::Number], Ty::Number, "Round down."),
    f("ceil", &[Ty::Number], Ty::Number, "Round up."),
    f(
        "min",
        &[Ty::Number, Ty::Number],
        Ty::Number,
        "The smaller number.",
    ),
    f(
        "max",
        &[Ty::Number, Ty::Number],
        Ty::Number,
        "The larger number.",
    ),
    f("abs", &[Ty::Number], Ty::Number, "Absolute value."),
    f(
        "number",
        &[Ty::Any],
        Ty::Number,
        "Convert text to a number.",
    ),
    f("text", &[Ty::Any], Ty::Text, "Convert a value to text."),
    f("now", &[], Ty::Text, "The current time (RFC 3339, UTC)."),
    f("today", &[], Ty::Text, "Today's date (YYYY-MM-DD, UTC)."),
    f(
        "days_between",
        &[Ty::Text, Ty::Text],
        Ty::Number,
        "Whole days from the first date to the second.",
    ),
    f(
        "format_date",
        &[Ty::Text, Ty::Text],
        Ty::Text,
        "Format a date with a strftime-like pattern.",
    ),
    f(
        "secret",
        &[Ty::Text],
        Ty::Text,
        "A secret from the environment; never shown.",
    ),
    f(
        "env",
        &[Ty::Text],
        Ty::Text,
        "A non-secret environment variable.",
    ),
    f("bearer", &[Ty::Text], Ty::Auth, "Bearer-token auth."),
    f(
        "basic",
        &[Ty::Text, Ty::Text],
        Ty::Auth,
        "Basic auth with user and password.",
    ),
    f(
        "api_key",
        &[Ty::Text, Ty::Text],
        Ty::Auth,
        "An API key sent in the named header.",
    ),
];
