//! W06xx: warnings: declarations nothing uses, insecure addresses, files no program reads.

use std::borrow::Cow;

use super::{Encoding, Example, ExampleFile, Explanation, Fixed};
use crate::diagnostics::Code;

pub(super) const ENTRIES: &[Explanation] = &[
    Explanation {
        code: Code::UnusedAction,
        summary: "An action is declared but no binding runs it and no action names it \
                  in `on_failure`, so it never runs.",
        fix: "Bind it (`on EVENT do ACTION`), or delete it.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_new {
  target: conversation
  task: add_label("new")
}

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Edits(&[
            ("on conversation_started reply welcome\n", "on conversation_started reply welcome\non conversation_started do tag_new\n"),
        ]),
    },
    Explanation {
        code: Code::UnusedReply,
        summary: "A reply is declared but no binding sends it and no `reply(...)` task \
                  names it.",
        fix: "Send it (`on conversation_started reply R`, or an action with `task: \
              reply(R)`), or delete it.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help?" }
reply goodbye { text: "Thanks for chatting with us!" }

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Edits(&[
            ("reply goodbye { text: \"Thanks for chatting with us!\" }\n", ""),
        ]),
    },
    Explanation {
        code: Code::UnusedTarget,
        summary: "A target is declared but no action or declared task uses it.",
        fix: "Use it in an action, or delete it.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

target orders: http {
  base_url: "https://orders.acme.example/v2"
}

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Edits(&[
            ("}\n\ntarget orders: http {\n  base_url: \"https://orders.acme.example/v2\"\n", ""),
        ]),
    },
    Explanation {
        code: Code::InsecureUrl,
        summary: "A target's address uses plain `http://` to a host that is not \
                  loopback: requests and answers travel unencrypted. Loopback \
                  addresses (`localhost`, `127.0.0.1`) are fine for tests.",
        fix: "Use `https://`.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

target orders: http {
  base_url: "http://orders.acme.example/v2"
}

action ping_orders {
  target: orders
  task: get("/health")
}

on conversation_started do ping_orders
"#,
        ),
        fixed: Fixed::Edits(&[
            ("  base_url: \"http://orders.acme.example/v2\"\n", "  base_url: \"https://orders.acme.example/v2\"\n"),
        ]),
    },
    Explanation {
        code: Code::OrphanFile,
        summary: "`agentc check DIR` found an `.agent` file that no program imports \
                  (directly or through another file) and that has no `agent` block of \
                  its own, so nothing ever checks or runs it with a program.",
        fix: "Import it from the program that needs it, or delete it.",
        wrong: Example::Files(&[
            ExampleFile {
                path: "main.agent",
                text: Cow::Borrowed(r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome
"#),
                encoding: Encoding::Utf8,
            },
            ExampleFile {
                path: "old_replies.agent",
                text: Cow::Borrowed(r#"reply still_there { text: "Are you still there?" }
"#),
                encoding: Encoding::Utf8,
            },
        ]),
        fixed: Fixed::Program(Example::Files(&[
            ExampleFile {
                path: "main.agent",
                text: Cow::Borrowed(r#"import "old_replies.agent"

agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome
on conversation_inactive reply still_there
"#),
                encoding: Encoding::Utf8,
            },
            ExampleFile {
                path: "old_replies.agent",
                text: Cow::Borrowed(r#"reply still_there { text: "Are you still there?" }
"#),
                encoding: Encoding::Utf8,
            },
        ])),
    },
    Explanation {
        code: Code::UnusedTask,
        summary: "A `task` declaration is never called by an action.",
        fix: "Call it from an action (`task: NAME(...)` on its target), or delete it.",
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

task get_order(id: text) on orders {
  method: GET
  path: "/orders/{id}"
  result: { status: response.body.status }
}

task cancel_order(id: text) on orders {
  method: POST
  path: "/orders/{id}/cancel"
}

action check_order {
  target: orders
  task: get_order(order_id)
  save: order
}

on message_received do check_order
"#,
        ),
        fixed: Fixed::Edits(&[
            ("task cancel_order(id: text) on orders {\n  method: POST\n  path: \"/orders/{id}/cancel\"\n}\n\n", ""),
        ]),
    },
    Explanation {
        code: Code::NullArgument,
        summary: "A task's required argument is written as `null`, or a declared \
                  task puts an optional parameter without a default into its `path`. At \
                  run time a required argument (or a value put into a path) that is null \
                  fails the action and nothing is sent: `GET /bookings/null` never goes out.",
        fix: "Pass the value the task needs, or make the parameter of a declared task \
              optional (`name: type?`) if it may be left out.",
        wrong: Example::One(
            r#"agent airline {
  channels: [chat]
  params: {
    pnr: text
    booking: any
  }
}

target bookings: http {
  base_url: "https://api.airline.example/v1"
}

task get_booking(pnr: text) on bookings {
  method: GET
  path: "/bookings/{pnr}"
}

action load_booking {
  target: bookings
  task: get_booking(null)
  save: booking
}

on message_received do load_booking
"#,
        ),
        fixed: Fixed::Edits(&[("task: get_booking(null)", "task: get_booking(pnr)")]),
    },
    Explanation {
        code: Code::RetryOnUnsafeTask,
        summary: "An action configures `retry` on a task that a second try could do twice: \
                  an SMS, an email, a Salesforce record, an `http` POST or PATCH, a SQL \
                  insert (the \"Retry classes\" table of docs/language.md lists every task's \
                  class). When such a request times out or its connection breaks after it \
                  was written, the service may have acted on it: agentc does not send it \
                  again, the action fails with `outcome unknown` and its `on_failure` runs. \
                  The retry happens only when the request provably did not leave (a refused \
                  connection, a name that does not resolve, a 429), so most of what it asks \
                  for never happens.",
        fix: "Remove `retry` from the action, or use a task that is safe to repeat (a read, a \
              PUT, an upsert) or keyed (Zendesk's `create_ticket`); for a declared task, a \
              method that is idempotent.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
  params: { phone: text }
}

target texts: sms {
  account_sid: "AC0123456789abcdef0123456789abcdef"
  auth_token: secret("TWILIO_AUTH_TOKEN")
  from: "+15550100"
}

action text_link {
  target: texts
  task: send_sms(to: phone, body: "Your order is on its way")
  retry: { attempts: 3 }
}

on message_received do text_link
"#,
        ),
        fixed: Fixed::Edits(&[("  retry: { attempts: 3 }\n", "")]),
    },
];
