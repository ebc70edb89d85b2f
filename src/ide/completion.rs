//! What to offer at the cursor in `.agent` code: declaration keywords, events, target
//! kinds, the fields of the block being typed, the tasks of an action's target, declared
//! names, and the names in scope in an expression. Everything comes from the catalogue and
//! the program's [`Names`]; nothing is hard-coded here but the grammar's shape. The REPL
//! adds its `:commands` on top (`cli/repl/completion.rs`); the language server offers the
//! same words.

use super::names::Names;
use super::scan::{self, Kind, Token};
use crate::catalogue::{self, FieldSpec, Ty};
use crate::syntax::lexer;
use crate::syntax::DECLARATIONS;

/// Replace `source[start..cursor]` with one of `words`.
#[derive(Debug, PartialEq)]
pub struct Offer {
    pub start: usize,
    pub words: Vec<String>,
}

const EXPRESSION_WORDS: &[&str] = &[
    "true", "false", "null", "if", "then", "else", "and", "or", "not",
];

/// The fields of a scope root (`catalogue::scope`) a conversation reads; an event's are
/// every event's payload.
fn scope_fields(root: &str) -> Vec<&'static str> {
    match catalogue::scope::scope_root(root) {
        Some(r) if r.task_result_only => return Vec::new(),
        Some(r) if r.name != "event" => return catalogue::scope::field_names(root),
        Some(_) => {}
        None => return Vec::new(),
    }
    let mut fields: Vec<&str> = catalogue::EVENTS
        .iter()
        .flat_map(|e| e.payload.iter().map(|(n, _)| *n))
        .collect();
    fields.sort_unstable();
    fields.dedup();
    fields
}

/// What may replace the word that ends `before`, the text from the start of the entry (a
/// declaration, or what the REPL was typed) to the cursor.
pub fn complete(names: &Names, before: &str) -> Offer {
    let (start, context) = context(before);
    let words = match context {
        None => Vec::new(),
        Some(context) => code(names, before, &context),
    };
    words_at(start, &before[start..], words)
}

/// Where the word being typed starts, and the tokens before it (comments left out); `None`
/// inside a string or a comment, where nothing is offered.
pub fn context(before: &str) -> (usize, Option<Vec<Token>>) {
    let pos = before.len();
    let start = lexer::word_chars_start(before.as_bytes(), pos);
    let tokens = scan::tokens(before);
    if let Some(t) = tokens.last() {
        if t.range.end == pos && matches!(t.kind, Kind::Str { closed: false } | Kind::Comment) {
            return (start, None);
        }
    }
    let context = tokens
        .into_iter()
        .filter(|t| t.range.end <= start && t.kind != Kind::Comment)
        .collect();
    (start, Some(context))
}

/// The candidates among `words` that extend `prefix`, sorted, each once.
pub fn words_at(start: usize, prefix: &str, words: impl IntoIterator<Item = String>) -> Offer {
    let mut words: Vec<String> = words
        .into_iter()
        .filter(|w| w.starts_with(prefix) && w != prefix)
        .collect();
    words.sort();
    words.dedup();
    Offer { start, words }
}

pub fn declared(names: &Names) -> Vec<String> {
    let mut all: Vec<String> = names.targets.iter().map(|(n, _)| n.clone()).collect();
    all.extend(names.tasks.iter().map(|(n, _)| n.clone()));
    all.extend(names.actions.iter().cloned());
    all.extend(names.replies.iter().cloned());
    all.extend(names.usecases.iter().map(|(n, _)| n.clone()));
    all
}

/// The events the agent's channels allow (all of them without an agent).
pub fn events(names: &Names) -> Vec<String> {
    let channels: Vec<catalogue::Channel> = names
        .channels
        .iter()
        .filter_map(|c| catalogue::Channel::parse(c))
        .collect();
    catalogue::EVENTS
        .iter()
        .filter(|e| channels.is_empty() || channels.iter().any(|&c| e.allows(c)))
        .map(|e| e.name.to_string())
        .collect()
}

pub fn blocks(names: &Names, usecase: &str) -> Vec<String> {
    names
        .usecases
        .iter()
        .filter(|(u, _)| u == usecase)
        .flat_map(|(_, blocks)| blocks.iter().cloned())
        .collect()
}

/// Names in scope in an expression, or the fields after `root.`.
pub fn expression(names: &Names, source: &str, context: &[Token]) -> Vec<String> {
    let last = context.last().map(|t| t.kind);
    if last == Some(Kind::Punct('.')) {
        let root = context
            .len()
            .checked_sub(2)
            .map(|i| context[i].text(source));
        return match root {
            Some(root) if names.target_kind(root).is_some() => tasks_of(names, root),
            // `goto_block(order_status.`: the use case's blocks.
            Some(root) if names.usecases.iter().any(|(u, _)| u == root) => blocks(names, root),
            Some(root) => scope_fields(root).into_iter().map(String::from).collect(),
            None => Vec::new(),
        };
    }
    let mut words: Vec<String> = names.params.clone();
    words.extend(
        catalogue::scope::ROOTS
            .iter()
            .filter(|r| !r.task_result_only)
            .map(|r| r.name.to_string()),
    );
    words.extend(EXPRESSION_WORDS.iter().map(|w| w.to_string()));
    words.extend(catalogue::FUNCTIONS.iter().map(|f| format!("{}(", f.name)));
    words
}

/// The tasks an action on `target` may run: its kind's, and those declared on it.
pub fn tasks_of(names: &Names, target: &str) -> Vec<String> {
    let kind = names.target_kind(target).and_then(catalogue::target_kind);
    let mut tasks: Vec<String> = kind
        .map(|k| k.tasks.iter().map(|t| format!("{}(", t.name())).collect())
        .unwrap_or_default();
    tasks.extend(
        names
            .tasks
            .iter()
            .filter(|(_, on)| on == target)
            .map(|(t, _)| format!("{t}(")),
    );
    tasks
}

/// Completion in `.agent` code: top-level forms, the inside of a declaration block, or an
/// expression.
fn code(names: &Names, source: &str, context: &[Token]) -> Vec<String> {
    let text = |i: usize| context.get(i).map_or("", |t| t.text(source));
    let last = context.len().wrapping_sub(1);
    if context.last().map(|t| t.kind) == Some(Kind::Punct('.')) {
        if let Some(i) = last.checked_sub(2) {
            if text(i) == "block" {
                return blocks(names, text(i + 1));
            }
        }
        return expression(names, source, context);
    }
    let Some(block) = open_block(source, context) else {
        return top_level(names, source, context);
    };
    let fields = block_fields(source, context, block.header);
    match current_key(source, context, block.open) {
        None => {
            let given = keys_given(source, context, block.open);
            fields
                .iter()
                .filter(|f| !given.contains(&f.name))
                .map(|f| format!("{}: ", f.name))
                .collect()
        }
        Some(key) => field_value(names, source, context, block, key, fields),
    }
}

/// The declaration block the cursor is in: the index of its `{` and of its first keyword.
struct Block {
    open: usize,
    header: usize,
}

fn open_block(source: &str, context: &[Token]) -> Option<Block> {
    let mut stack: Vec<usize> = Vec::new();
    for (i, token) in context.iter().enumerate() {
        match token.kind {
            Kind::Punct('{' | '[' | '(') => stack.push(i),
            Kind::Punct('}' | ']' | ')') => {
                stack.pop();
            }
            _ => {}
        }
    }
    let open = *stack.first()?;
    if context[open].kind != Kind::Punct('{') {
        return None;
    }
    let header = (0..open).rev().find(|&i| {
        matches!(
            context[i].text(source),
            "agent" | "target" | "task" | "action" | "reply" | "usecase" | "test"
        ) && (i == 0 || !matches!(context[i - 1].kind, Kind::Punct('.')))
            && context.get(i + 1).map(|t| t.kind) != Some(Kind::Punct(':'))
    })?;
    Some(Block { open, header })
}

/// The fields a block of this kind takes, from the catalogue.
fn block_fields(source: &str, context: &[Token], header: usize) -> &'static [FieldSpec] {
    match context[header].text(source) {
        "agent" => catalogue::AGENT_FIELDS,
        "action" => catalogue::ACTION_FIELDS,
        "reply" => catalogue::REPLY_FIELDS,
        "usecase" => catalogue::USECASE_FIELDS,
        "task" => catalogue::DECLARED_TASK_FIELDS,
        "target" => {
            // `target NAME: KIND {`
            let kind = context.get(header + 3).map(|t| t.text(source));
            kind.and_then(catalogue::target_kind)
                .map_or(&[], |k| k.fields)
        }
        _ => &[],
    }
}

/// The key whose value the cursor is in, if any: the last `key:` at the block's top level
/// that no `,` or new line has closed.
fn current_key<'a>(source: &'a str, context: &[Token], open: usize) -> Option<&'a str> {
    let mut depth = 0usize;
    let mut key = None;
    for i in open + 1..context.len() {
        let token = &context[i];
        match token.kind {
            Kind::Punct('{' | '[' | '(') => depth += 1,
            Kind::Punct('}' | ']' | ')') => depth = depth.saturating_sub(1),
            Kind::Punct(',') if depth == 0 => key = None,
            Kind::Word
                if depth == 0 && context.get(i + 1).map(|t| t.kind) == Some(Kind::Punct(':')) =>
            {
                key = Some(token.text(source));
            }
            _ => {}
        }
    }
    // A new line after a complete value starts a new entry.
    let last = context.last()?;
    let ends_value =
        !matches!(last.kind, Kind::Punct(_)) || matches!(last.kind, Kind::Punct(')' | ']' | '}'));
    let newline_after = source[last.range.end..].contains('\n');
    if ends_value && newline_after && last_open_depth(context, open) == 0 {
        return None;
    }
    if context.len() - 1 == open {
        return None;
    }
    key
}

fn last_open_depth(context: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for token in &context[open + 1..] {
        match token.kind {
            Kind::Punct('{' | '[' | '(') => depth += 1,
            Kind::Punct('}' | ']' | ')') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth
}

/// The keys already written at the block's top level.
fn keys_given<'a>(source: &'a str, context: &[Token], open: usize) -> Vec<&'a str> {
    let mut depth = 0usize;
    let mut keys = Vec::new();
    for i in open + 1..context.len() {
        match context[i].kind {
            Kind::Punct('{' | '[' | '(') => depth += 1,
            Kind::Punct('}' | ']' | ')') => depth = depth.saturating_sub(1),
            Kind::Word
                if depth == 0 && context.get(i + 1).map(|t| t.kind) == Some(Kind::Punct(':')) =>
            {
                keys.push(context[i].text(source));
            }
            _ => {}
        }
    }
    keys
}

/// What may follow `key:` in a block.
fn field_value(
    names: &Names,
    source: &str,
    context: &[Token],
    block: Block,
    key: &str,
    fields: &[FieldSpec],
) -> Vec<String> {
    let header = context[block.header].text(source);
    match (header, key) {
        ("action", "target") => {
            let mut targets: Vec<String> = names.targets.iter().map(|(n, _)| n.clone()).collect();
            let builtins = catalogue::TARGET_KINDS.iter().filter(|k| k.builtin);
            targets.extend(builtins.map(|k| k.name().to_string()));
            targets
        }
        ("action", "task") => {
            let target = value_of(source, context, block.open, "target");
            if last_open_depth(context, block.open) > 0 {
                return task_arguments(names, source, context, target);
            }
            match target {
                Some(target) if names.target_kind(target).is_some() => tasks_of(names, target),
                _ => catalogue::TARGET_KINDS
                    .iter()
                    .flat_map(|k| k.tasks.iter().map(|t| format!("{}(", t.name())))
                    .chain(names.tasks.iter().map(|(t, _)| format!("{t}(")))
                    .collect(),
            }
        }
        ("action", "on_failure") => names.actions.clone(),
        ("action", "save") => names.params.clone(),
        ("agent", "channels") => catalogue::Channel::ALL
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
        _ => match fields.iter().find(|f| f.name == key).map(|f| f.ty) {
            Some(Ty::Word(words)) => words.iter().map(|w| w.to_string()).collect(),
            Some(Ty::Auth) => vec![
                "bearer(".into(),
                "basic(".into(),
                "api_key(".into(),
                "secret(".into(),
            ],
            Some(Ty::Text) if header == "target" => vec!["secret(".into(), "env(".into()],
            _ => expression(names, source, context),
        },
    }
}

/// Inside `task: name(…)`: the arguments not given yet (`name: `), and for a positional
/// argument the names its catalogue type asks for (a reply, a use case, a block, a param)
/// or an expression.
fn task_arguments(
    names: &Names,
    source: &str,
    context: &[Token],
    target: Option<&str>,
) -> Vec<String> {
    // The innermost `(` still open, and what was written since.
    let mut open = Vec::new();
    for (i, t) in context.iter().enumerate() {
        match t.kind {
            Kind::Punct('(' | '[' | '{') => open.push(i),
            Kind::Punct(')' | ']' | '}') => {
                open.pop();
            }
            _ => {}
        }
    }
    let expression_words = || expression(names, source, context);
    let Some(&paren) = open.last() else {
        return expression_words();
    };
    let callee = match paren.checked_sub(1).map(|i| &context[i]) {
        Some(t) if t.kind == Kind::Word && context[paren].kind == Kind::Punct('(') => {
            t.text(source)
        }
        _ => return expression_words(),
    };
    let args = &context[paren + 1..];
    let given: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0].kind == Kind::Word && w[1].kind == Kind::Punct(':'))
        .map(|w| w[0].text(source))
        .collect();
    let positional = args.iter().filter(|t| t.kind == Kind::Punct(',')).count();
    let after_name = args.last().map(|t| t.kind) == Some(Kind::Punct(':'));
    let kind = target
        .and_then(|t| names.target_kind(t))
        .and_then(catalogue::target_kind);
    let mut words = Vec::new();
    match kind.and_then(|k| k.task(callee)) {
        Some(spec) => {
            let ty = match after_name {
                true => args
                    .len()
                    .checked_sub(2)
                    .and_then(|i| spec.args.iter().find(|a| a.name == args[i].text(source)))
                    .map(|a| a.ty),
                false => spec.args.get(positional).map(|a| a.ty),
            };
            match ty {
                Some(Ty::ReplyRef) => words.extend(names.replies.iter().cloned()),
                Some(Ty::UsecaseRef) => words.extend(names.usecases.iter().map(|(u, _)| u.clone())),
                Some(Ty::Param) => words.extend(names.params.iter().cloned()),
                Some(Ty::BlockRef) => words.extend(
                    names
                        .usecases
                        .iter()
                        .flat_map(|(u, blocks)| blocks.iter().map(move |b| format!("{u}.{b}"))),
                ),
                Some(Ty::Word(list)) => words.extend(list.iter().map(|w| w.to_string())),
                _ => words.extend(expression_words()),
            }
            if !after_name {
                // The arguments before the cursor that were not named took the first places.
                let by_position = positional.saturating_sub(given.len());
                let unnamed = spec.args[by_position.min(spec.args.len())..]
                    .iter()
                    .filter(|a| !given.contains(&a.name));
                words.extend(unnamed.map(|a| format!("{}: ", a.name)));
                if spec.named_params {
                    words.extend(names.params.iter().map(|p| format!("{p}: ")));
                }
            }
        }
        None => {
            words.extend(expression_words());
            let declared = names.task_params.iter().find(|(t, _)| t == callee);
            if let (Some((_, params)), false) = (declared, after_name) {
                let unnamed = params.iter().filter(|p| !given.contains(&p.as_str()));
                words.extend(unnamed.map(|p| format!("{p}: ")));
            }
        }
    }
    words
}

/// The single word given for `key` in the block (`target: orders` → `orders`).
fn value_of<'a>(source: &'a str, context: &[Token], open: usize, key: &str) -> Option<&'a str> {
    (open + 1..context.len().saturating_sub(2)).find_map(|i| {
        (context[i].text(source) == key && context[i + 1].kind == Kind::Punct(':'))
            .then(|| context[i + 2].text(source))
    })
}

/// Outside any block: the start of a declaration, or the next word of a binding.
fn top_level(names: &Names, source: &str, context: &[Token]) -> Vec<String> {
    let owned = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let Some(last) = context.last() else {
        let mut words: Vec<String> = DECLARATIONS
            .iter()
            .map(|(first, second)| match second {
                Some(second) => format!("{first} {second}"),
                None => first.to_string(),
            })
            .collect();
        words.extend(expression(names, source, context));
        return words;
    };
    let (first, last) = (context[0].text(source), last.text(source));
    let previous = context
        .len()
        .checked_sub(2)
        .map(|i| context[i].text(source));
    let has = |word: &str| context.iter().any(|t| t.text(source) == word);
    match first {
        "task" => match last {
            "on" => names.targets.iter().map(|(n, _)| n.clone()).collect(),
            ")" => owned(&["on"]),
            _ => Vec::new(),
        },
        "target" if context.len() == 3 && last == ":" => catalogue::TARGET_KINDS
            .iter()
            .filter(|k| !k.builtin)
            .map(|k| k.name().to_string())
            .collect(),
        "on" | "in" | "at" | "before" | "after" => match (previous, last) {
            (None, "on") => events(names),
            (None, "before" | "after") => owned(&["call"]),
            (None, "in") => owned(&["usecase"]),
            (None, "at") => owned(&["block"]),
            (Some("in"), "usecase") | (Some("at"), "block") => {
                names.usecases.iter().map(|(u, _)| u.clone()).collect()
            }
            (_, "do" | ",") if has("do") => names.actions.clone(),
            (_, "reply") => names.replies.clone(),
            _ if has("when") && !has("do") => {
                let mut words = expression(names, source, context);
                words.push("do".into());
                words
            }
            _ if !has("do") && !has("reply") => owned(&["when", "do", "reply"]),
            _ => Vec::new(),
        },
        "agent" | "target" | "action" | "reply" | "usecase" | "import" | "test" => Vec::new(),
        _ => expression(names, source, context),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words offered with the cursor at the end of `buffer`.
    fn offer(buffer: &str) -> Vec<String> {
        let offer = complete(&Names::sample(), buffer);
        assert!(
            offer.start <= buffer.len(),
            "start {} past the cursor",
            offer.start
        );
        offer.words
    }

    #[test]
    fn bindings() {
        assert_eq!(offer("on conversation_s"), vec!["conversation_started"]);
        assert_eq!(offer("before c"), vec!["call"]);
        assert_eq!(offer("in usecase "), vec!["order_status"]);
        assert_eq!(
            offer("at block order_status."),
            vec!["ask_order_id", "show_status"]
        );
        assert_eq!(
            offer("on conversation_started do tag_vip, ch"),
            vec!["check_order"]
        );
        assert_eq!(offer("on conversation_started re"), vec!["reply"]);
        assert_eq!(offer("on conversation_started reply w"), vec!["welcome"]);
    }

    #[test]
    fn fields_of_the_block_being_typed() {
        let fields = offer("action a {\n  target: orders\n  ");
        assert!(fields.contains(&"task: ".to_string()));
        assert!(
            !fields.contains(&"target: ".to_string()),
            "target is given already"
        );
        assert_eq!(offer("target crm: sql { u"), vec!["url: "]);
        assert_eq!(offer("target t: ht"), vec!["http"]);
        assert_eq!(offer("action a { target: o"), vec!["orders"]);
    }

    #[test]
    fn tasks_of_the_action_target() {
        assert_eq!(
            offer("action a { target: orders, task: g"),
            vec!["get(", "get_order("]
        );
        assert_eq!(
            offer("action a { target: mail\n task: "),
            vec!["send_email("]
        );
        assert_eq!(offer("orders.p"), vec!["patch(", "post(", "put("]);
        assert_eq!(
            offer("action a { target: conversation, task: add_"),
            vec!["add_label("]
        );
    }

    #[test]
    fn arguments_of_the_task_being_called() {
        assert_eq!(
            offer("action a { target: conversation, task: reply(w"),
            vec!["welcome"]
        );
        assert_eq!(
            offer("action a { target: conversation, task: increment(a"),
            vec!["attempts"]
        );
        let second = offer("action a { target: conversation, task: reply(welcome, ");
        assert!(second.contains(&"text: ".to_string()), "{second:?}");
        assert!(
            !second.contains(&"reply: ".to_string()),
            "named already by position"
        );
        assert!(second.contains(&"order_id".to_string()), "an expression");
        assert_eq!(
            offer("action a { target: orders, task: get_order(i"),
            vec!["id: ", "if"]
        );
        assert_eq!(
            offer("action a { target: conversation, task: start_usecase(o"),
            vec!["order_status"]
        );
        assert_eq!(
            offer("action a { target: conversation, task: goto_block(order_status.s"),
            vec!["show_status"]
        );
    }

    #[test]
    fn expressions() {
        assert_eq!(offer("order"), vec!["order_id"]);
        assert_eq!(offer("user.e"), vec!["email"]);
        assert_eq!(offer("len(ord"), vec!["order_id"]);
        assert_eq!(offer("1 + lo"), vec!["lower("]);
        assert!(offer("\"unfinished te").is_empty());
        assert_eq!(offer("ac"), vec!["action"]);
    }
}
