//! pest failures → diagnostics in the user's words ("expected `}` to close the `action`
//! block opened here"), never pest rule names.

use std::collections::BTreeSet;
use std::sync::Mutex;

use pest::error::{Error, ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser as _;

use super::grammar::{AgentParser, Rule};
use super::keywords::{self, is_keyword};
use super::lexer;
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
    step: bool,
    new_line: bool,
}

impl Expected {
    /// `in_word`: the error is right after a letter or digit, so pest's wish to extend
    /// that word is not worth mentioning.
    fn from_error(error: &Error<Rule>, in_word: bool) -> Expected {
        let mut expected = Expected::default();
        if let Some(attempts) = error.parse_attempts() {
            // pest does not export its token type; its display is the literal text.
            for token in attempts.expected_tokens() {
                let token = single_char_range(token.to_string());
                let extends_word = token == "_" || token.contains("..");
                if !(in_word && extends_word) {
                    expected.add_literal(&token);
                }
            }
        }
        if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
            for rule in positives {
                expected.add_rule(*rule);
            }
        }
        if expected.expression {
            // What may start an expression is said by "an expression".
            for token in ["{", "[", "(", "-", "\"", "not"] {
                expected.tokens.remove(token);
            }
            expected.name = false;
            expected.string = false;
        }
        if expected.step {
            for token in ["mock", "send", "expect"] {
                expected.tokens.remove(token);
            }
        }
        if !expected.tokens.is_empty() || expected.expression || expected.field {
            // `[`, `.` and `(` could continue the value just written: rarely what was meant.
            for token in ["[", ".", "(", "-"] {
                expected.tokens.remove(token);
            }
        }
        expected
    }

    fn add_literal(&mut self, token: &str) {
        match token {
            "\n" => self.new_line = true,
            "\"" | "\"\"\"" => self.string = true,
            "if" => self.expression = true,
            "_" => self.name = true,
            "a..z" | "A..Z" | "0..9" => self.name = true,
            // The grammar's one-character look-aheads before an operator (`'<'..'?'`,
            // `!` of `!=`, `a` of `and`, `n` of `not`): never what a person should write.
            _ if token.contains("..") => {}
            "!" => {}
            _ if token.len() == 1 && token.as_bytes()[0].is_ascii_alphabetic() => {}
            "agent" | "target" | "task" | "action" | "import" | "test" | "before" | "after"
            | "at" => self.declaration = true,
            "/*" | "//" | " " | "\t" | "\r" | "\u{c}" | "BUILTIN_RULE" => {}
            // Operators are always possible after a value: listing them only adds noise.
            "or" | "and" | "in" | "==" | "!=" | "<=" | ">=" | "<" | ">" | "??" | "+" | "*"
            | "/" | "%" => {}
            _ => {
                self.tokens.insert(token.to_string());
            }
        }
    }

    fn add_rule(&mut self, rule: Rule) {
        match rule {
            Rule::expr
            | Rule::number
            | Rule::triple
            | Rule::list
            | Rule::record
            | Rule::paren
            | Rule::if_expr
            | Rule::name_or_call
            | Rule::neg
            | Rule::status => self.expression = true,
            Rule::string => self.string = true,
            Rule::field | Rule::param_decl | Rule::task_param | Rule::entry | Rule::params => {
                self.field = true
            }
            Rule::word => self.name = true,
            Rule::import
            | Rule::agent
            | Rule::target
            | Rule::task
            | Rule::action
            | Rule::reply
            | Rule::usecase
            | Rule::test
            | Rule::binding
            | Rule::on_event
            | Rule::before_call
            | Rule::after_call
            | Rule::in_usecase
            | Rule::at_block
            | Rule::k_import
            | Rule::k_agent
            | Rule::k_target
            | Rule::k_task
            | Rule::k_action
            | Rule::k_test
            | Rule::k_before
            | Rule::k_after
            | Rule::k_at => self.declaration = true,
            Rule::mock
            | Rule::send
            | Rule::expect
            | Rule::k_mock
            | Rule::k_send
            | Rule::k_expect => self.step = true,
            Rule::optional => {
                self.tokens.insert("?".into());
            }
            Rule::not => {
                self.tokens.insert("not".into());
            }
            _ => {
                // Keywords (`k_do`, `k_when`, ...) are named after their text.
                if let Some(word) = format!("{rule:?}").strip_prefix("k_") {
                    self.tokens.insert(word.to_string());
                }
            }
        }
    }

    /// "a name, `do`, or `when`"; empty when pest wanted nothing a person would write.
    fn phrase(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.declaration {
            parts.push("a declaration".into());
        }
        if self.step {
            parts.push("a test step (`mock`, `send` or `expect`)".into());
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
        let covered = |t: &str| self.declaration && ["on", "in", "usecase", "reply"].contains(&t);
        parts.extend(
            self.tokens
                .iter()
                .filter(|t| !covered(t))
                .map(|t| format!("`{t}`")),
        );
        if self.new_line && parts.is_empty() {
            parts.push("a new line".into());
        }
        match parts.len() {
            0 => String::new(),
            1 => parts.remove(0),
            _ => {
                let last = parts.pop().unwrap_or_default();
                format!("{}, or {last}", parts.join(", "))
            }
        }
    }
}

/// The grammar writes some single characters as ranges (`{..{`) for speed.
fn single_char_range(token: String) -> String {
    let chars: Vec<char> = token.chars().collect();
    match chars[..] {
        [a, '.', '.', b] if a == b => a.to_string(),
        _ => token,
    }
}

/// The token found at `pos`, for "found ...", and its length.
fn found(text: &str, pos: usize) -> (String, usize) {
    let rest = &text[pos..];
    let word = lexer::word_chars(text.as_bytes(), pos);
    match rest.chars().next() {
        None => ("the end of the file".into(), 0),
        Some('\n') | Some('\r') => ("the end of the line".into(), 0),
        Some(_) if word > 0 => (format!("`{}`", &rest[..word]), word),
        Some('"') => ("a string".into(), 1),
        Some(c) => (format!("`{c}`"), c.len_utf8()),
    }
}

/// Where the parser stopped: the words around it that say what the user was writing.
struct Context<'t> {
    /// First word of the declaration (`action`, `on`, `test`, ...).
    item: &'t str,
    /// First word of the current line (`mock`, `target`, ...).
    line_head: &'t str,
    /// The current line, up to the error, written `key:` (a field or parameter).
    after_colon: Option<&'t str>,
    /// The word just before the error.
    previous_word: &'t str,
    /// The error is on the declaration's first line.
    first_line: bool,
}

fn leading_word(text: &str) -> &str {
    let text = text.trim_start();
    &text[..lexer::word_chars(text.as_bytes(), 0)]
}

impl<'t> Context<'t> {
    fn new(text: &'t str, pos: usize) -> Self {
        let before = &text[..pos];
        let line_start = before.rfind('\n').map_or(0, |n| n + 1);
        let line = &before[line_start..];
        let line_head = leading_word(line);
        let after_colon = line
            .trim_start()
            .strip_prefix(line_head)
            .filter(|rest| rest.trim_start().starts_with(':') && !line_head.is_empty())
            .map(|_| line_head);
        Context {
            item: leading_word(text.trim_start_matches(|c: char| c.is_whitespace())),
            line_head,
            after_colon,
            previous_word: scan::last_word(before.trim_end()),
            first_line: !before.trim_start().contains('\n'),
        }
    }

    /// How the construct being written is spelled.
    fn help(&self) -> &'static str {
        match self.line_head {
            "mock" => return "a mock reads `mock TARGET METHOD \"PATH\" -> STATUS BODY`, e.g. `mock orders GET \"/orders/1\" -> 200 { status: \"shipped\" }`",
            "send" => return "a send reads `send EVENT [PAYLOAD]`, `send usecase U`, `send block U.B` or `send wait 5m`",
            "expect" => return "an expectation reads `expect [not]` then `ran ACTION`, `label TEXT`, `param CONDITION`, `reply REPLY`, `request TARGET METHOD \"PATH\"`, `email TARGET`, `sms TARGET`, `row TARGET \"TABLE\"` or `status TEXT`",
            _ => {}
        }
        if self.after_colon.is_some() {
            return "fields are written `name: value`, one per line or separated by commas";
        }
        if !self.first_line {
            return match self.item {
                "agent" => {
                    "each line of an agent is a field `name: value`, or `params: { name: type }`"
                }
                "test" => "each line of a test is a step: `mock ...`, `send ...` or `expect ...`",
                _ => "each line of a block is a field `name: value`",
            };
        }
        match self.item {
            "import" => "an import reads `import \"relative/path.agent\"`",
            "agent" => "an agent reads `agent NAME { fields }`",
            "target" => "a target reads `target NAME: KIND { fields }`, e.g. `target orders: http { base_url: \"https://...\" }`",
            "task" => "a task reads `task NAME(param: type, opt: type?, dflt: type = value) on TARGET { fields }`",
            "action" => "an action reads `action NAME { target: ..., task: ... }`",
            "reply" => "a reply reads `reply NAME { text: \"...\" }`",
            "usecase" => "a use case reads `usecase NAME { fields }`",
            "test" => "a test reads `test \"name\" { steps }`",
            "on" | "before" | "after" | "in" | "at" => "a binding reads `on EVENT [when CONDITION] do ACTION, ...` or `on EVENT reply REPLY`, with one event or several (`on EVENT, EVENT, ...`) (also `before call`, `after call`, `in usecase U`, `at block U.B`)",
            _ => "a file holds declarations, each starting on its own line: `agent`, `target`, `task`, `action`, `reply`, `usecase`, a binding `on EVENT do ACTION`, `import` or `test`",
        }
    }
}

/// Explains a pest failure on `text`, which starts at byte `base` of `file`.
/// Where the text stopped making sense. pest's own location may be where the failing rule
/// started; the furthest attempt is further on.
pub fn stopped_at(error: &Error<Rule>) -> usize {
    match (error.parse_attempts(), &error.location) {
        (Some(attempts), _) if attempts.max_position > 0 => attempts.max_position,
        (_, InputLocation::Pos(p)) => *p,
        (_, InputLocation::Span((s, _))) => *s,
    }
}

pub fn describe(error: &Error<Rule>, file: FileId, text: &str, base: usize) -> Diagnostic {
    let pos = floor_boundary(text, stopped_at(error).min(text.len()));
    // pest stops after the first character of an operator it could not finish (`=` of
    // `==`, `!` of `!=`): what was found starts at that character.
    let before = &text.as_bytes()[..pos];
    let pos = match before {
        [.., b'=' | b'<' | b'>' | b'!', b'='] => pos,
        [.., b'=' | b'!'] => pos - 1,
        _ => pos,
    };
    // pest may stop before blanks it would have skipped: what was found is after them.
    let rest = &text[pos..];
    let pos = pos + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
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
    let in_word = lexer::word_chars_start(text.as_bytes(), pos) < pos;
    let expected = Expected::from_error(error, in_word);
    let context = Context::new(text, pos);
    let (found, found_len) = found(text, pos);
    let span = Span::new(file, base + pos, base + pos + found_len);
    let word = &text[pos..pos + found_len];
    let syntax = |message: String| {
        Diagnostic::new(Code::Syntax, message, span)
            .with_label_message(format!("unexpected {found}"))
    };

    if let Some(mistake) = mistake(text, pos, &expected) {
        let span = Span::new(file, base + pos, base + pos + mistake.written.len());
        return Diagnostic::new(Code::Syntax, mistake.message, span)
            .with_label_message(mistake.label)
            .with_help(mistake.help);
    }

    if found_len > 0
        && is_keyword(word)
        && (expected.name || expected.field)
        && !expected.tokens.contains(word)
        // A keyword may be a field key (`task:`), so one followed by `:` is not misused.
        && !text[pos + found_len..].trim_start().starts_with(':')
    {
        return Diagnostic::new(
            Code::KeywordAsName,
            format!("`{word}` is a keyword and cannot be used as a name"),
            span,
        )
        .with_label_message("reserved word")
        .with_help(format!("pick another name, e.g. `{word}_`"));
    }

    let wants_key = expected.tokens.contains(":") && !expected.expression;
    if let Some((start, first, rest)) = space_in_name(text, pos, wants_key) {
        let joined = format!("{first}{rest}");
        let help = if first.ends_with('_') || rest.starts_with('_') {
            format!("write `{joined}`")
        } else {
            format!("write `{joined}` or `{first}_{rest}`")
        };
        let end = pos + rest.len();
        return Diagnostic::new(
            Code::Syntax,
            format!("`{first} {rest}` has a space in it"),
            Span::new(file, base + start, base + end),
        )
        .with_label_message("a name is one word")
        .with_help(help);
    }

    if wants_key {
        let after = context.previous_word;
        let record = innermost_open(text, pos, "}").map(|(_, what)| what);
        let help = if context.line_head == "on_failure" {
            // `on_failure: a, b`: the comma ended the field, and `b` reads as the next one.
            "several fallbacks are written as a list: `on_failure: [apologise, open_ticket]`"
        } else if record.as_deref() == Some("`params` record") {
            "each parameter is written `name: type` or `name: type = default`"
        } else if record.is_some_and(|what| what.ends_with("record")) {
            "record entries are written `key: value`, separated by commas or new lines"
        } else {
            context.help()
        };
        return Diagnostic::new(
            Code::Syntax,
            format!("expected `:` after `{after}`, found {found}"),
            span,
        )
        .with_label_message("expected `:` here")
        .with_help(help);
    }

    let closer = ["}", ")", "]"]
        .into_iter()
        .find(|c| expected.tokens.contains(*c));
    if let Some(closer) = closer {
        if let Some((open_at, what)) = innermost_open(text, pos, closer) {
            // In a block, a name is the start of a field.
            let field = expected.field
                || (closer == "}"
                    && expected.name
                    && !expected.step
                    && !expected.tokens.contains(","));
            let message = if expected.step {
                format!("expected a test step (`mock`, `send` or `expect`), or `{closer}` to close the {what}, found {found}")
            } else if expected.tokens.contains(",") && !field {
                let item = if what.ends_with("block") {
                    "field"
                } else {
                    "item"
                };
                format!("expected `,` or `{closer}` after this {item} of the {what}, found {found}")
            } else if field {
                format!("expected a field like `name: value`, or `{closer}` to close the {what}, found {found}")
            } else {
                expected_found(&expected, &found)
            };
            let help = if expected.step {
                "each line of a test is a step: `mock ...`, `send ...` or `expect ...`".to_string()
            } else if field {
                format!("each line of the {what} is `name: value`; close it with `{closer}`")
            } else {
                format!("separate items with a comma or a new line, and close the {what} with `{closer}`")
            };
            return syntax(message)
                .with_secondary(
                    Span::new(file, base + open_at, base + open_at + 1),
                    format!("the {what} opened here"),
                )
                .with_help(help);
        }
    }

    if expected.expression {
        let help = match context.after_colon {
            Some(key) if !context.line_head.is_empty() && context.help().starts_with("fields") => {
                format!("write the value of `{key}` after the `:` — a name, `\"text\"`, `42`, `5s`, a list `[a, b]` or a record `{{ key: value }}`")
            }
            _ => "write a value: a name, `\"text\"`, `42`, `5s`, a list `[a, b]` or a record `{ key: value }`".to_string(),
        };
        return syntax(format!("expected an expression, found {found}")).with_help(help);
    }
    if expected.declaration
        && expected
            .tokens
            .iter()
            .all(|t| keywords::starts_declaration(t))
    {
        let diagnostic = syntax(format!("expected a declaration, found {found}"));
        return match crate::diagnostics::suggest(word, keywords::declaration_starts()) {
            Some(keyword) if found_len > 1 => {
                diagnostic.with_help(format!("did you mean `{keyword}`?"))
            }
            _ => diagnostic.with_help(context.help()),
        };
    }
    if expected.new_line
        && expected.tokens.is_empty()
        && !expected.field
        && !expected.name
        && !expected.string
    {
        return syntax(format!("expected a new line, found {found}"))
            .with_help("start each declaration, field and test step on its own line, or separate fields with commas");
    }
    syntax(expected_found(&expected, &found)).with_help(context.help())
}
/// "expected X, found Y", or "unexpected Y" when what pest wanted is nothing to say.
fn expected_found(expected: &Expected, found: &str) -> String {
    match expected.phrase() {
        phrase if phrase.is_empty() => format!("unexpected {found}"),
        phrase => format!("expected {phrase}, found {found}"),
    }
}

/// `patient _id: text`, `action gre et {`: a space typed inside a name, as where it starts
/// and its two pieces, with pest stopped at the second. Only a lone word before the space
/// counts (`x: 1 y: 2` is a missing separator), and only with after it what follows the
/// name: a key's `:` where one is wanted (`wants_key`; `x text` is a missing `:`), or
/// after a declaration's first word what follows the name it declares (`{`, a task's
/// `(`, a target's `:`).
pub fn space_in_name(text: &str, pos: usize, wants_key: bool) -> Option<(usize, &str, &str)> {
    let bytes = text.as_bytes();
    let gap = pos.checked_sub(1).filter(|&gap| bytes[gap] == b' ')?;
    let start = lexer::word_chars_start(bytes, gap);
    let first = &text[start..gap];
    let rest = &text[pos..pos + lexer::word_chars(bytes, pos)];
    let after = text[pos + rest.len()..].trim_start_matches(' ');
    let opens = text[..start].trim_end_matches(' ');
    let line = &opens[opens.rfind('\n').map_or(0, |n| n + 1)..];
    let key = wants_key
        && after.starts_with(':')
        && (opens.is_empty() || opens.ends_with(['\n', '(', ',', '{']));
    let follows_name = match line {
        "target" => ":",
        "task" => "(",
        _ => "{",
    };
    let declared = keywords::NAMED.contains(&line) && after.starts_with(follows_name);
    (lexer::is_word(first) && !rest.is_empty() && (key || declared)).then_some((start, first, rest))
}

/// A mistake people make, said in their words.
struct Mistake<'t> {
    /// What was written.
    written: &'t str,
    message: String,
    label: String,
    help: String,
}

/// The mistake at `pos`, if it is a common one: other languages' operators and quotes,
/// and `=` where `==` or `:` was meant.
fn mistake<'t>(text: &'t str, pos: usize, expected: &Expected) -> Option<Mistake<'t>> {
    let rest = &text[pos..];
    let operator = |written: &'t str, word: &str, example: &str| {
        Some(Mistake {
            written,
            message: format!("`{written}` is written `{word}` here"),
            label: format!("write `{word}`"),
            help: format!("conditions combine with `and`, `or` and `not`, e.g. `{example}`"),
        })
    };
    if rest.starts_with("&&") {
        return operator("&&", "and", "tier == \"gold\" and total > 100");
    }
    if rest.starts_with("||") {
        return operator("||", "or", "tier == \"gold\" or total > 100");
    }
    if rest.starts_with('!') && !rest.starts_with("!=") {
        return operator("!", "not", "not (tier == \"gold\")");
    }
    if rest.starts_with('^') {
        return Some(Mistake {
            written: "^",
            message: "there is no `^` operator".into(),
            label: "not an operator".into(),
            help: "raise to a power with the function `pow`, e.g. `pow(2, 10)`".into(),
        });
    }
    if let Some(quoted) = rest.strip_prefix('\'') {
        let closed = quoted
            .find(['\'', '\n'])
            .filter(|&end| quoted.as_bytes()[end] == b'\'');
        return Some(Mistake {
            written: closed.map_or("'", |end| &rest[..end + 2]),
            message: "strings are written in double quotes".into(),
            label: "single quotes".into(),
            help: match closed {
                Some(end) => format!("write `\"{}\"`", &quoted[..end]),
                None => "write the text between `\"` and `\"`".into(),
            },
        });
    }
    // Where a value should start (`expect reply = hi`), `=` is no comparison: the usual
    // "expected an expression" says it.
    let after_a_value = !expected.expression || expected.tokens.contains(":");
    if rest.starts_with('=') && !rest.starts_with("==") && !rest.starts_with("=>") && after_a_value
    {
        // `key = value` in a block: the key's `:` was wanted.
        if expected.tokens.contains(":") && !expected.expression {
            return Some(Mistake {
                written: "=",
                message: "a field is written `name: value`, with `:`".into(),
                label: "write `:`".into(),
                help: "write `:` instead of `=`".into(),
            });
        }
        return Some(Mistake {
            written: "=",
            message: "`=` does not compare values".into(),
            label: "write `==` to compare".into(),
            help: "to compare two values write `==`, e.g. `tier == \"gold\"`".into(),
        });
    }
    None
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
