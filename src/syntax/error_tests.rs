//! Syntax error messages: what the user sees for common mistakes (insta snapshots).

use super::*;

const F: FileId = FileId(0);

/// One line per diagnostic and label: code, message, the text under each span, help.
fn render(text: &str) -> String {
    let parsed = parse(F, text);
    let mut out = String::new();
    for d in &parsed.diagnostics {
        out.push_str(&format!("{} {}\n", d.code, d.message));
        for label in &d.labels {
            let range = label.span.range();
            assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
            let line = text[..range.start].matches('\n').count() + 1;
            out.push_str(&format!(
                "  {} {}:{:?} {}\n",
                if label.primary { "-->" } else { "   " },
                line,
                &text[range],
                label.message.as_deref().unwrap_or("")
            ));
        }
        if let Some(help) = &d.help {
            out.push_str(&format!("  help: {help}\n"));
        }
    }
    out.push_str(&format!("items kept: {}\n", parsed.file.items.len()));
    for item in &parsed.file.items {
        if let Some(kept) = kept(item) {
            out.push_str(&format!("  {kept}\n"));
        }
    }
    for broken in &parsed.file.unparsed {
        out.push_str(&format!(
            "unparsed {}{}: {:?}{}\n",
            if broken.member { "member of " } else { "" },
            broken.keyword.name,
            &text[broken.span.range()],
            broken
                .name
                .as_ref()
                .map_or(String::new(), |n| format!(", declares `{}`", n.name)),
        ));
    }
    out
}

/// A declaration with fields, as `action a: target task!` (`!`: a field whose value did
/// not parse).
fn kept(item: &ast::Item) -> Option<String> {
    let (keyword, name, fields): (&str, &ast::Ident, Vec<&ast::Field>) = match item {
        ast::Item::Action(a) => ("action", &a.name, a.fields.iter().collect()),
        ast::Item::Reply(r) => ("reply", &r.name, r.fields.iter().collect()),
        ast::Item::Usecase(u) => ("usecase", &u.name, u.fields.iter().collect()),
        ast::Item::Target(t) => ("target", &t.name, t.fields.iter().collect()),
        ast::Item::Task(t) => ("task", &t.name, t.fields.iter().collect()),
        ast::Item::Agent(a) => (
            "agent",
            &a.name,
            a.entries
                .iter()
                .filter_map(|e| match e {
                    ast::AgentEntry::Field(f) => Some(f),
                    ast::AgentEntry::Params { .. } => None,
                })
                .collect(),
        ),
        _ => return None,
    };
    let fields: Vec<String> = fields
        .iter()
        .map(|f| {
            let broken = matches!(f.value.kind, ast::ExprKind::Error);
            format!("{}{}", f.key.name, if broken { "!" } else { "" })
        })
        .collect();
    Some(format!("{keyword} {}: {}", name.name, fields.join(" ")))
}

/// Each case: a name and a broken program.
const CASES: &[(&str, &str)] = &[
    (
        "missing_close_brace",
        "action a {\n  target: x\n  task: y\n\naction b { target: z, task: w }\n",
    ),
    ("missing_close_at_eof", "action a {\n  target: x\n"),
    (
        "unterminated_string",
        "reply r { text: \"hello }\nreply s { text: \"ok\" }\n",
    ),
    ("unterminated_triple", "reply r { text: \"\"\"hello\n"),
    (
        "unterminated_comment",
        "action a { target: x }\n/* never closed\naction b {}\n",
    ),
    ("bad_escape", "reply r { text: \"a\\qb\" }\n"),
    ("bad_duration", "agent a { inactivity: 5x }\n"),
    ("keyword_as_name", "action action { target: x }\n"),
    ("keyword_as_event", "on do do a\n"),
    ("missing_colon", "action a {\n  target x\n}\n"),
    ("missing_value", "action a {\n  target:\n  task: y\n}\n"),
    ("garbage_top_level", "hello world\naction a { target: x }\n"),
    (
        "two_errors",
        "action a { target: }\naction b { task: ( }\naction c { when: 1 + }\n",
    ),
    ("missing_do", "on conversation_started welcome\n"),
    (
        "bad_test_step",
        "test \"t\" {\n  mock orders\n  expect foo bar\n}\n",
    ),
    ("unclosed_paren", "action a {\n  task: f(1, 2\n}\n"),
    ("extra_close", "action a { target: x }}\n"),
    ("chained_comparison", "action a { when: 1 < 2 < 3 }\n"),
    ("missing_comma_list", "action a { when: [1 2] }\n"),
    ("bad_params", "agent a {\n  params: {\n    x text\n  }\n}\n"),
    ("field_line_garbage", "action a {\n  target: x y\n}\n"),
    ("missing_brace_after_name", "action a\n  target: x\n}\n"),
    ("bad_task_params", "task t(a text) on api {}\n"),
    ("bad_send", "test \"t\" {\n  send\n}\n"),
    ("bad_expect", "test \"t\" {\n  expect foo bar\n}\n"),
    ("unknown_step", "test \"t\" {\n  check x\n}\n"),
    ("import_without_string", "import common\n"),
    (
        "target_without_kind",
        "target orders {\n  base_url: \"x\"\n}\n",
    ),
    ("unclosed_interpolation", "reply r { text: \"Hi {name\" }\n"),
    (
        "comment_then_item",
        "action a { target: x }\n/* never closed\n",
    ),
    ("value_without_key", "action a { 42 }\n"),
    ("record_missing_colon", "action a { task: f({ a 1 }) }\n"),
    ("misspelt_keyword", "acton a { target: x }\n"),
    ("keyword_in_expression", "action a { when: x == then }\n"),
    ("interpolated_import", "import \"{x}.agent\"\n"),
    (
        "quote_before_a_step_with_a_block",
        "test \"t\" {\n\"  mock api GET \"/x\" -> 200 {\n    a: 1,\n  }\n  send hi {}\n}\n",
    ),
    (
        "brace_before_a_target_name",
        "target a: sql { url: \"x\" }\n\ntarget {mail: smtp {\n  host: \"h\"\n}\n",
    ),
    (
        "params_without_brace",
        "agent a {\n  params: \n    x: text\n    n: number = 2\n  }\n}\n",
    ),
    (
        "space_in_an_argument_name",
        "action a {\n  target: t\n  task: f(\n    x: 1,\n    l ength: 2,\n  )\n}\n",
    ),
    (
        "space_in_a_task_parameter_name",
        "task t(patient _id: text, n: number) on api {}\n",
    ),
    (
        "brace_in_a_parameter_name",
        "agent a {\n  params: {\n    pati}ent: record\n    n: number = 0\n  }\n}\n",
    ),
    (
        "brace_after_a_parameter",
        "agent a {\n  params: {\n    x: list = []}\n    n: number = 0\n  }\n}\n",
    ),
];

#[test]
fn too_deep() {
    let text = format!(
        "action a {{ when: {}1{} }}\n",
        "(".repeat(200),
        ")".repeat(200)
    );
    insta::assert_snapshot!(render(&text));
}

#[test]
fn syntax_errors() {
    for (name, text) in CASES {
        insta::assert_snapshot!(*name, render(text), text);
    }
}
