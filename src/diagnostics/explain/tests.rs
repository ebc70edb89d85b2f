//! E05xx: `test` blocks.

use super::{Example, Explanation};
use crate::diagnostics::Code;

pub(super) const ENTRIES: &[Explanation] = &[Explanation {
    code: Code::BadTestStep,
    summary: "A step of a `test` block cannot run: it mocks or expects a target, \
                  action, reply or event the program does not have, or its method or \
                  status is not valid.",
    fix: "Name something the program declares; the help line suggests the closest \
              name.",
    wrong: Example::One(
        r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome

test "greets" {
  send conversation_started
  expect reply welcom
}
"#,
    ),
    fixed: Example::One(
        r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome

test "greets" {
  send conversation_started
  expect reply welcome
}
"#,
    ),
}];
