//! Short texts that, with the examples, use every rule of the grammar: where it backtracks,
//! and the forms no example writes. The descent parser must read each alone as pest does
//! (`syntax::descent_tests`), and `agentc fmt` must format each soundly (`tests/it/fmt.rs`):
//! a grammar rule added without a text here fails the first of those tests.

pub const FORMS: &[&str] = &[
    // Operators no example uses.
    "action a { when: x <= 1 / 2 % 3 }",
    // `params:` that is not a params block is a field.
    "agent a {\n  params: { a: 1 }\n  other: 2\n}",
    "agent a {\n  params: { a: text == b }\n}",
    "agent a {\n  params: 5\n}",
    // `send wait` and `send block` alone are events of those names.
    "test \"t\" {\n  send wait\n  send block\n  send block {x: 1}\n}",
    // `-` before `>` is not a subtraction; `- -` is.
    "test \"t\" {\n  mock api GET \"/x\" -> 200 [1, 2]\n  mock api POST \"/y\" -> (201) {a: 1 - -2}\n}",
    // Named and positional arguments, member access on numbers, nested interpolation.
    "action a { target: conversation, task: reply(r, x: 1.x, y: \"{ \"{a}\" }\") }",
    "on message_received when not a == b and - c.d[1] * 2 ?? 3 in [1] do a,\n  b",
    "reply r { text: \"\"\"\n    Hello {name}\n      indented \\u{1F600}\n    \"\"\" }",
    "task t(a: text?, b: number = 1 + 2) on api { path: \"/{a}\" }",
    "at block u.b when usecase.name == \"u\" do a\nbefore call do b\nafter call reply r",
    // Several events, a line break after a comma.
    "on message_received, dtmf_received when event.x do a\non a,\n  b, c reply r",
    // How an action ended, and every effect, with and without fields.
    "test \"t\" {\n  expect failed a\n  expect not skipped b\n  expect say \"hi\"\n  expect transfer { to: \"+1\", mode: \"warm\" }\n  expect hangup\n  expect not dtmf, expect ended\n  expect escalation { queue: \"q\" }\n  expect hold\n  expect start \"u.b\"\n}",
    // Tabs, carriage returns and comments are blanks to the parser, text inside strings.
    "action a {\r\n\ttarget: conversation, /* c */ when: \"a\tb\r\" == x // c\r\n}",
];
