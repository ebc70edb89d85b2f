//! E03xx: values of the wrong type, and values that must be known before the program runs.

use super::{Example, Explanation, Fixed};
use crate::diagnostics::Code;

pub(super) const ENTRIES: &[Explanation] = &[
    Explanation {
        code: Code::TypeMismatch,
        summary: "A value has a type other than the one expected here: a text compared \
                  with a number, a number where a duration goes, a condition that is \
                  not a bool. `any` values (API bodies) are checked when the program \
                  runs instead.",
        fix: "Write a value of the expected type; `number(x)` and `text(x)` convert \
              between texts and numbers.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
  params: {
    attempts: number = 0
  }
}

reply human { text: "Let me find a colleague for you." }

action offer_human {
  target: conversation
  task: reply(human)
  when: attempts > "2"
}

on message_received do offer_human
"#,
        ),
        fixed: Fixed::Edits(&[("  when: attempts > \"2\"\n", "  when: attempts > 2\n")]),
    },
    Explanation {
        code: Code::SaveTypeMismatch,
        summary: "An action's `save` puts the task's result into a parameter whose \
                  declared type does not hold that result, e.g. an HTTP response (a \
                  record) into a `text` parameter.",
        fix: "Save into a parameter of the result's type, or declare a task whose \
              `result` picks the part you need.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
  params: {
    order_id: text
    order: record
  }
}

target orders: http {
  base_url: "https://orders.acme.example/v2"
}

action fetch_order {
  target: orders
  task: get("/orders/{order_id}")
  save: order_id
}

on message_received do fetch_order
"#,
        ),
        fixed: Fixed::Edits(&[("  save: order_id\n", "  save: order\n")]),
    },
    Explanation {
        code: Code::NotConstant,
        summary: "This field configures the program before it runs (the agent's \
                  channels and inactivity, a target's fields, a parameter's default), \
                  so its value must be written out: it cannot read parameters or \
                  events, which exist only while a conversation runs.",
        fix: "Write the value itself (`3m`, `\"https://...\"`); for values that change \
              between deployments use `env(\"NAME\")` or `secret(\"NAME\")`.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
  inactivity: idle_limit
  params: {
    idle_limit: duration = 3m
  }
}

reply still_there { text: "Are you still there?" }

on conversation_inactive reply still_there
"#,
        ),
        fixed: Fixed::Edits(&[(
            "  inactivity: idle_limit\n  params: {\n    idle_limit: duration = 3m\n  }\n",
            "  inactivity: 3m\n",
        )]),
    },
    Explanation {
        code: Code::InvalidRegex,
        summary: "The pattern given to `matches(text, pattern)` is written out in the \
                  program but is not a valid regular expression, so every event that \
                  reached it would fail the action. `agentc check` compiles literal \
                  patterns; a pattern computed at run time is compiled when it runs.",
        fix: "Close the group or class, or escape the character meant literally \
              (`\\\\(` in a string for `(`).",
        wrong: Example::One(
            r#"agent desk {
  channels: [email]
}

target helpdesk: zendesk {
  subdomain: "acme"
  email: "bot@acme.example"
  token: secret("ZENDESK_API_TOKEN")
}

action flag_spam {
  target: helpdesk
  task: add_tags(event.ticket_id, ["spam"])
}

on ticket_received when matches(lower(event.subject), "(free|win") do flag_spam
"#,
        ),
        fixed: Fixed::Edits(&[(r#""(free|win")"#, r#""(free|win)")"#)]),
    },
];
