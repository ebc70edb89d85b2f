//! pest failures → diagnostics in the user's words ("expected `}` to close the `action`
//! block opened here"), never pest rule names.

use std::collections::BTreeSet;
use std::sync::Mutex;

use pest::error::{Error, ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser as _;

use super::build::is_keyword;
use super::grammar::{AgentParser, Rule};
use super::scan;
use crate::diagnostics::{Code, Diagnostic, FileId, Span};

/// pest's detailed error tracking is a process-wide switch; parses that need it take turns.
static DETAIL: Mutex<()> = Mutex::new(());

/// Parses `text` as `rule`, recording what pest expected if it fails (slower than a plain
/// parse, so the fast path does not use it).
pub fn parse_detailed(rule: Rule, text: &str) -> Result<Pair<'_, Rule>, Box<Error<Rule>>> {
    let _turn = DETAIL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    pest::set_error_detail(true);
    let result = AgentParser::parse(rule, text);
    pest::set_error_detail(false);
    match result {
        Ok(mut pairs) => pairs.next().ok_or_else(|| {
            Box::new(Error::new_from_pos(
                ErrorVariant::CustomError {
                    message: String::new(),
                },
                pest::Position::from_start(text),
            ))
        }),
        Err(error) => Err(Box::new(error)),
    }
}

/// What pest was looking for where it stopped, in the user's vocabulary.
#[derive(Default)]
struct Expected {
    /// Punctuation and keywords, written as they appear in source (`}` `:` `do`).
    tokens: BTreeSet<String>,
    expression: bool,
    name: bool,
    declaration: bool,
    string: bool,
    field: bool,
    new_line: bool,
}

impl Expected {
    fn from_error(error: &Error<Rule>) -> Expected {
        let mut expected = Expected::default();
        if let Some(attempts) = error.parse_attempts() {
            // pest does not export its token type; its display is the literal text.
            for token in attempts.expected_tokens() {
                expected.add_literal(&token.to_string());
            }
            for stack in attempts.call_stacks() {
                if let Some(rule) = stack.deepest.get_rule() {
                    expected.add_rule(*rule, stack.parent);
                }
            }
        }
        if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
            for rule in positives {
                expected.add_rule(*rule, None);
            }
        }
        expected
    }

    fn add_literal(&mut self, token: &str) {
        match token {
            "\n" => self.new_line = true,
            "\"" | "\"\"\"" => self.string = true,
            "-" | "not" | "(" | "[" | "if" => self.expression = true,
            "agent" | "target" | "task" | "action" | "usecase" | "import" | "test" | "before"
            | "after" | "at" => self.declaration = true,
            "/*" | "//" | " " | "\t" | "\r" | "\u{c}" | "BUILTIN_RULE" => {}
            // Operators are always possible after a value: listing them only adds noise.
            "or" | "and" | "in" | "==" | "!=" | "<=" | ">=" | "<" | ">" | "??" | "+" | "*"
            | "/" | "%" | "." => {}
            _ => {
                self.tokens.insert(token.to_string());
            }
        }
    }

    fn add_rule(&mut self, rule: Rule, parent: Option<Rule>) {
        match rule {
            Rule::expr
            | Rule::number
            | Rule::string
            | Rule::triple
            | Rule::list
            | Rule::record
            | Rule::paren
            | Rule::if_expr
            | Rule::name_or_call
            | Rule::neg
            | Rule::not
            | Rule::status => {
                if rule == Rule::string && !matches!(parent, Some(Rule::expr) | None) {
                    self.string = true;
                } else {
                    self.expression = true;
                }
            }
            Rule::field | Rule::param_decl | Rule::task_param => self.field = true,
            Rule::word
                if matches!(
                    parent,
                    Some(Rule::field | Rule::param_decl | Rule::task_param)
                ) =>
            {
                self.field = true
            }
            Rule::word => self.name = true,
            Rule::k_import
            | Rule::k_agent
            | Rule::k_target
            | Rule::k_task
            | Rule::k_action
            | Rule::k_usecase
            | Rule::k_test
            | Rule::k_before
            | Rule::k_after
            | Rule::k_at
            | Rule::import
            | Rule::agent
            | Rule::target
            | Rule::task
            | Rule::action
            | Rule::usecase
            | Rule::test
            | Rule::binding
            | Rule::on_event
            | Rule::before_call
            | Rule::after_call
            | Rule::in_usecase
            | Rule::at_block => self.declaration = true,
            Rule::k_on if parent.is_none() || parent == Some(Rule::on_event) => {
                self.declaration = true
            }
            Rule::k_reply
            | Rule::k_on
            | Rule::k_in
            | Rule::k_do
            | Rule::k_when
            | Rule::k_call
            | Rule::k_block
            | Rule::k_then
            | Rule::k_else
            | Rule::k_wait => {
                let word = format!("{rule:?}");
                self.tokens
                    .insert(word.trim_start_matches("k_").to_string());
            }
            Rule::mock
            | Rule::send
            | Rule::expect
            | Rule::k_mock
            | Rule::k_send
            | Rule::k_expect => self
                .tokens
                .extend(["mock", "send", "expect"].map(String::from)),
            Rule::optional => {
                self.tokens.insert("?".into());
            }
            _ => {}
        }
    }

    /// "a field like `name: value`, or `}`"
    fn phrase(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.declaration {
            parts.push("a declaration (`agent`, `target`, `task`, `action`, `reply`, `usecase`, a binding such as `on EVENT do ACTION`, `import` or `test`)".into());
        }
        if self.field {
            parts.push("a field like `name: value`".into());
        } else if self.name {
            parts.push("a name".into());
        }
        if self.expression {
            parts.push("an expression".into());
        } else if self.string {
            parts.push("a string".into());
        }
        let step_words = ["mock", "send", "expect"];
        if step_words.iter().all(|w| self.tokens.contains(*w)) {
            parts.push("a test step (`mock`, `send` or `expect`)".into());
        }
        for token in &self.tokens {
            if !(self.declaration && token == "reply" || step_words.contains(&token.as_str())) {
                parts.push(format!("`{token}`"));
            }
        }
        if self.new_line && parts.is_empty() {
            parts.push("a new line".into());
        }
        match parts.len() {
            0 => "something else".into(),
            1 => parts.remove(0),
            _ => {
                let last = parts.pop().unwrap_or_default();
                format!("{}, or {last}", parts.join(", "))
            }
        }
    }
}

/// The token found at `pos`, for "found ...".
fn found(text: &str, pos: usize) -> (String, usize) {
    let rest = &text[pos..];
    match rest.chars().next() {
        None => ("the end of the file".into(), 0),
        Some('\n') | Some('\r') => ("the end of the line".into(), 0),
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (format!("`{}`", &rest[..len]), len)
        }
        Some('"') => ("a string".into(), 1),
        Some(c) => (format!("`{c}`"), c.len_utf8()),
    }
}

/// Explains a pest failure on `text`, which starts at byte `base` of `file`.
pub fn describe(error: &Error<Rule>, file: FileId, text: &str, base: usize) -> Diagnostic {
    let attempts = error.parse_attempts();
    let pos = match (&attempts, error.location.clone()) {
        (Some(a), _) if a.max_position > 0 => a.max_position,
        (_, InputLocation::Pos(p)) => p,
        (_, InputLocation::Span((s, _))) => s,
    };
    let pos = floor_boundary(text, pos.min(text.len()));
    if let ErrorVariant::CustomError { message } = &error.variant {
        if message.contains("limit") {
            return Diagnostic::new(
                Code::TooDeep,
                "nesting too deep",
                Span::new(file, base + pos, base + pos),
            )
            .with_help("split this declaration into smaller pieces");
        }
    }
    let expected = Expected::from_error(error);
    let (found, found_len) = found(text, pos);
    let span = Span::new(file, base + pos, base + pos + found_len);
    let word = &text[pos..pos + found_len];

    if found_len > 0
        && is_keyword(word)
        && (expected.name || expected.field)
        && !expected.tokens.contains(word)
    {
        return Diagnostic::new(
            Code::KeywordAsName,
            format!("`{word}` is a keyword and cannot be used as a name"),
            span,
        )
        .with_label_message("reserved word")
        .with_help(format!("pick another name, e.g. `{word}_`"));
    }

    let closer = ["}", ")", "]"]
        .into_iter()
        .find(|c| expected.tokens.contains(*c));
    if let Some(closer) = closer {
        if let Some((open_at, what)) = innermost_open(text, pos, closer) {
            let only_closer = !expected.field && !expected.expression && !expected.name;
            let message = if only_closer {
                format!("expected `{closer}` to close the {what} opened here, found {found}")
            } else {
                format!("expected {}, found {found}", expected.phrase())
            };
            let help = if expected.field {
                format!(
                    "each line of the {what} is a field `name: value`; close it with `{closer}`"
                )
            } else {
                format!("separate items with a comma or a new line, and close the {what} with `{closer}`")
            };
            return Diagnostic::new(Code::Syntax, message, span)
                .with_label_message(format!("expected `{closer}` here"))
                .with_secondary(
                    Span::new(file, base + open_at, base + open_at + 1),
                    format!("the {what} opened here"),
                )
                .with_help(help);
        }
    }

    let (message, help) = if expected.declaration && !expected.expression {
        (
            format!("expected a declaration, found {found}"),
            "a file holds declarations, each starting on its own line: `agent`, `target`, `task`, `action`, `reply`, `usecase`, `on EVENT do ACTION`, `import` or `test`".to_string(),
        )
    } else if expected.expression && !expected.field && expected.tokens.is_empty() {
        (
            format!("expected an expression, found {found}"),
            "write a value: a name, `\"text\"`, `42`, `5s`, a list `[a, b]` or a record `{ key: value }`".to_string(),
        )
    } else if expected.field && !expected.expression {
        (
            format!("expected {}, found {found}", expected.phrase()),
            "fields are written `name: value`, one per line or separated by commas".to_string(),
        )
    } else if expected.new_line && expected.tokens.is_empty() && !expected.field {
        (
            format!("unexpected {found} after the end of this declaration or step"),
            "start each declaration, field or test step on its own line".to_string(),
        )
    } else {
        (
            format!("expected {}, found {found}", expected.phrase()),
            "check the spelling and punctuation around here".to_string(),
        )
    };
    Diagnostic::new(Code::Syntax, message, span)
        .with_label_message(format!("unexpected {found}"))
        .with_help(help)
}

/// Where the innermost bracket still open at `pos` was opened, if `closer` would close it.
fn innermost_open(text: &str, pos: usize, closer: &str) -> Option<(usize, String)> {
    let (at, opener) = scan::innermost_open(&text[..pos])?;
    let expected_opener = match closer {
        "}" => b'{',
        ")" => b'(',
        _ => b'[',
    };
    (opener == expected_opener).then(|| (at, scan::describe_opener(text, at, opener)))
}

fn floor_boundary(text: &str, mut pos: usize) -> usize {
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}
