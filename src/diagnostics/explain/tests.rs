//! E05xx: `test` blocks.

use super::{Example, Explanation, Fixed};
use crate::diagnostics::Code;

pub(super) const ENTRIES: &[Explanation] = &[Explanation {
    code: Code::BadTestStep,
    summary: "A step of a `test` block cannot run: it mocks or inspects a built-in \
                  target (`conversation` and `call` have no service behind them), \
                  names a target of the wrong kind for the step (`expect email` needs \
                  an `smtp` target), or gives a status outside 100 to 599.",
    fix: "Check the effects of built-in targets with `expect label`, `expect \
              reply`, `expect param` or `expect status`; mock only the program's \
              service targets.",
    wrong: Example::One(
        r#"agent shop {
  channels: [chat]
}

action tag_new {
  target: conversation
  task: add_label("new")
}

on conversation_started do tag_new

test "tags new conversations" {
  mock conversation POST "/labels" -> 200
  send conversation_started
  expect ran tag_new
}
"#,
    ),
    fixed: Fixed::Edits(&[
        ("  mock conversation POST \"/labels\" -> 200\n", ""),
        (
            "  expect ran tag_new\n",
            "  expect ran tag_new\n  expect label \"new\"\n",
        ),
    ]),
}];
