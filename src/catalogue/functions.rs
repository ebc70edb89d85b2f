//! Built-in functions of the expression language.

use super::locales::{CURRENCY_CODES, LOCALE_NAMES};
use super::Ty;

#[derive(Debug)]
pub struct FunctionSpec {
    pub name: &'static str,
    /// Parameter types; `min_args..=params.len()` arguments are accepted.
    pub params: &'static [Ty],
    pub min_args: usize,
    pub result: Ty,
    pub doc: &'static str,
    /// A call and the text it evaluates to, shown in docs/language.md and evaluated by
    /// `tests/it/docs.rs`; `None` only for functions that read the clock or the environment.
    pub example: Option<(&'static str, &'static str)>,
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
        example: None,
    }
}

impl FunctionSpec {
    const fn example(self, call: &'static str, shows: &'static str) -> Self {
        FunctionSpec {
            example: Some((call, shows)),
            ..self
        }
    }
    const fn optional_from(self, min_args: usize) -> Self {
        FunctionSpec { min_args, ..self }
    }
}

const LOCALE: Ty = Ty::Word(LOCALE_NAMES);
const CURRENCY: Ty = Ty::Word(CURRENCY_CODES);

pub const FUNCTIONS: &[FunctionSpec] = &[
    f(
        "len",
        &[Ty::Any],
        Ty::Number,
        "Length of a text (characters), list or record.",
    )
    .example(r#"len("café")"#, "4"),
    f("lower", &[Ty::Text], Ty::Text, "Lower-case text.").example(r#"lower("Hi")"#, "hi"),
    f("upper", &[Ty::Text], Ty::Text, "Upper-case text.").example(r#"upper("Hi")"#, "HI"),
    f(
        "trim",
        &[Ty::Text],
        Ty::Text,
        "Text without leading and trailing white space.",
    )
    .example(r#"trim("  hi ")"#, "hi"),
    f(
        "contains",
        &[Ty::Any, Ty::Any],
        Ty::Bool,
        "Whether a text contains a text, a list an item, or a record a key.",
    )
    .example(r#"contains(["a", "b"], "b")"#, "true"),
    f(
        "starts_with",
        &[Ty::Text, Ty::Text],
        Ty::Bool,
        "Whether a text starts with another.",
    )
    .example(r#"starts_with("A-1001", "A-")"#, "true"),
    f(
        "ends_with",
        &[Ty::Text, Ty::Text],
        Ty::Bool,
        "Whether a text ends with another.",
    )
    .example(r#"ends_with("a@b.com", ".com")"#, "true"),
    f(
        "matches",
        &[Ty::Text, Ty::Text],
        Ty::Bool,
        "Whether a text matches a regular expression.",
    )
    .example(r#"matches("A-1001", "^[A-Z]-[0-9]+$")"#, "true"),
    f(
        "replace",
        &[Ty::Text, Ty::Text, Ty::Text],
        Ty::Text,
        "The text with every occurrence of the second text replaced by the third.",
    )
    .example(r#"replace("555-0142", "-", "")"#, "5550142"),
    f(
        "split",
        &[Ty::Text, Ty::Text],
        Ty::List,
        "The parts of a text between separators (its characters if the separator is empty).",
    )
    .example(r#"split("a,b,c", ",")"#, r#"["a","b","c"]"#),
    f(
        "slice",
        &[Ty::Seq, Ty::Number, Ty::Number],
        Ty::Seq,
        "The characters or items from a start index up to an end index (excluded); negative indexes count from the end.",
    )
    .optional_from(2)
    .example(r#"slice("A-1001", 2)"#, "1001"),
    f(
        "join",
        &[Ty::List, Ty::Text],
        Ty::Text,
        "The items of a list as one text, with a separator between them.",
    )
    .example(r#"join(["a", "b", 3], ", ")"#, "a, b, 3"),
    f(
        "first",
        &[Ty::List],
        Ty::Any,
        "The first item of a list, or null if it is empty.",
    )
    .example("first([3, 4])", "3"),
    f(
        "last",
        &[Ty::List],
        Ty::Any,
        "The last item of a list, or null if it is empty.",
    )
    .example("last([3, 4])", "4"),
    f(
        "sum",
        &[Ty::List],
        Ty::Number,
        "The sum of a list of numbers (0 for an empty list).",
    )
    .example("sum([19.9, 19.9, 19.9])", "59.7"),
    f(
        "round",
        &[Ty::Number, Ty::Number],
        Ty::Number,
        "Round, optionally to N decimals.",
    )
    .optional_from(1)
    .example("round(2.345, 2)", "2.35"),
    f("floor", &[Ty::Number], Ty::Number, "Round down.").example("floor(2.7)", "2"),
    f("ceil", &[Ty::Number], Ty::Number, "Round up.").example("ceil(2.1)", "3"),
    f(
        "min",
        &[Ty::Number, Ty::Number],
        Ty::Number,
        "The smaller number.",
    )
    .example("min(3, 4)", "3"),
    f(
        "max",
        &[Ty::Number, Ty::Number],
        Ty::Number,
        "The larger number.",
    )
    .example("max(3, 4)", "4"),
    f("abs", &[Ty::Number], Ty::Number, "Absolute value.").example("abs(-2)", "2"),
    f(
        "pow",
        &[Ty::Number, Ty::Number],
        Ty::Number,
        "The first number raised to the power of the second.",
    )
    .example("pow(1.05, 2)", "1.1025"),
    f(
        "number",
        &[Ty::Any],
        Ty::Number,
        "Convert text to a number.",
    )
    .example(r#"number(" 42 ")"#, "42"),
    f("text", &[Ty::Any], Ty::Text, "Convert a value to text.").example("text(0.1 + 0.2)", "0.3"),
    f(
        "format_number",
        &[Ty::Number, Ty::Number, LOCALE],
        Ty::Text,
        "A number with exactly N decimals (halves round away from zero), grouped as the locale writes it if one is given.",
    )
    .optional_from(2)
    .example(r#"format_number(9264, 2, "de-DE")"#, "9.264,00"),
    f(
        "format_money",
        &[Ty::Number, CURRENCY, LOCALE],
        Ty::Text,
        "An amount in a currency (ISO 4217 code), written as the locale writes money.",
    )
    .example(r#"format_money(9264, "GBP", "en-GB")"#, "£9,264.00"),
    f("now", &[], Ty::Text, "The current time (RFC 3339, UTC)."),
    f("today", &[], Ty::Text, "Today's date (YYYY-MM-DD, UTC)."),
    f(
        "days_between",
        &[Ty::Text, Ty::Text],
        Ty::Number,
        "Whole days from the first date to the second.",
    )
    .example(r#"days_between("2026-11-20", "2026-12-01")"#, "11"),
    f(
        "format_date",
        &[Ty::Text, Ty::Text, Ty::Zone],
        Ty::Text,
        "Format a date or timestamp with a strftime-like pattern, in an IANA time zone (UTC if none).",
    )
    .optional_from(2)
    .example(
        r#"format_date("2026-12-01T18:30:00Z", "%d/%m %H:%M %Z", "Europe/Paris")"#,
        "01/12 19:30 CET",
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
    f("bearer", &[Ty::Text], Ty::Auth, "Bearer-token auth.")
        .example(r#"bearer("t0k3n")"#, r#"{"scheme":"bearer","token":"t0k3n"}"#),
    f(
        "basic",
        &[Ty::Text, Ty::Text],
        Ty::Auth,
        "Basic auth with user and password.",
    )
    .example(
        r#"basic("me", "pw")"#,
        r#"{"scheme":"basic","username":"me","password":"pw"}"#,
    ),
    f(
        "api_key",
        &[Ty::Text, Ty::Text],
        Ty::Auth,
        "An API key sent in the named header.",
    )
    .example(
        r#"api_key("X-Api-Key", "k")"#,
        r#"{"scheme":"api_key","header":"X-Api-Key","value":"k"}"#,
    ),
];
