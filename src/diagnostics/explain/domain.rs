//! E04xx: rules of the domain: replies, channels, moments, failures, SQL and secrets.

use super::{Example, Explanation, Fixed};
use crate::diagnostics::Code;

pub(super) const ENTRIES: &[Explanation] = &[
    Explanation {
        code: Code::ReplyOnEvent,
        summary: "`on EVENT reply R` is only for the two events that open a turn of \
                  the agent: `conversation_started` and `conversation_inactive`. On \
                  any other event, a reply is sent by an action whose task is \
                  `reply(R)`, which can have a `when`.",
        fix: "Bind the reply to one of those two events, or send it from an action.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

reply refund_policy { text: "Refunds take 5 to 7 days." }

on message_received reply refund_policy
"#,
        ),
        fixed: Fixed::Edits(&[
            ("on message_received reply refund_policy\n", "action explain_refunds {\n  target: conversation\n  task: reply(refund_policy)\n  when: contains(lower(event.text), \"refund\")\n}\n\non message_received do explain_refunds\n"),
        ]),
    },
    Explanation {
        code: Code::ChannelMismatch,
        summary: "An event, target or task belongs to a channel the agent does not \
                  have: `call_ringing`, `before call`, the `call` target and `caller` \
                  need `voice`; `ticket_received` needs `email`.",
        fix: "Add the channel to the agent's `channels`, or remove the binding.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_caller {
  target: conversation
  task: add_label("phone")
}

before call do tag_caller
"#,
        ),
        fixed: Fixed::Edits(&[
            ("  channels: [chat]\n", "  channels: [chat, voice]\n"),
        ]),
    },
    Explanation {
        code: Code::WrongMoment,
        summary: "The task cannot happen at the moment its binding runs: `call.say` \
                  and other call tasks before the call is answered (`before call`, \
                  `call_ringing`) or after it ended (`after call`), `escalate` after \
                  `conversation_ended`.",
        fix: "Bind the action to an event of a moment where the task makes sense, e.g. \
              `on call_started` for `call.say`.",
        wrong: Example::One(
            r#"agent hotline {
  channels: [voice]
}

action greet {
  target: call
  task: say("Welcome to Acme!")
}

before call do greet
"#,
        ),
        fixed: Fixed::Edits(&[
            ("before call do greet\n", "on call_started do greet\n"),
        ]),
    },
    Explanation {
        code: Code::FailureCycle,
        summary: "Actions name each other in `on_failure` in a circle, so one failure \
                  could run them forever.",
        fix: "Break the circle: the last fallback should have no `on_failure`.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

reply sorry { text: "Sorry, something went wrong." }

action hand_over {
  target: conversation
  task: escalate(queue: "billing")
  on_failure: apologise
}

action apologise {
  target: conversation
  task: reply(sorry)
  on_failure: hand_over
}

on conversation_started do hand_over
"#,
        ),
        fixed: Fixed::Edits(&[
            ("  on_failure: hand_over\n", ""),
        ]),
    },
    Explanation {
        code: Code::InterpolatedSql,
        summary: "A SQL statement is built by interpolating values into its text. \
                  Whatever the customer typed would become SQL (SQL injection). \
                  Statements take bound parameters instead: `?` in the text, the \
                  values as further arguments.",
        fix: "Write `?` where the value goes and pass the value as an argument after \
              the statement.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
  params: {
    order_id: text
    orders: list
  }
}

target db: sql { url: "sqlite://acme.db" }

action find_orders {
  target: db
  task: query("SELECT * FROM orders WHERE id = '{order_id}'")
  save: orders
}

on message_received do find_orders
"#,
        ),
        fixed: Fixed::Edits(&[
            ("  task: query(\"SELECT * FROM orders WHERE id = '{order_id}'\")\n", "  task: query(\"SELECT * FROM orders WHERE id = ?\", order_id)\n"),
        ]),
    },
    Explanation {
        code: Code::SecretInClear,
        summary: "A secret would travel unencrypted or where it gets logged: to an \
                  `http://` address of a host that is not loopback, or inside a URL (a \
                  path or query string).",
        fix: "Use `https://`, and send secrets through the target's `auth` or a \
              header.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

target orders: http {
  base_url: "http://orders.acme.example/v2"
  auth: bearer(secret("ORDERS_TOKEN"))
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
        code: Code::SecretExposed,
        summary: "A secret is placed where it would be shown to the customer or \
                  stored: a reply, a label, a parameter, a ticket, an email body, a \
                  row. Secret values never leave the target fields, `auth` and \
                  headers.",
        fix: "Remove the secret; for a value that may be shown, use `env(\"NAME\")`.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! Use code {secret("PROMO_CODE")} for 10% off." }

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Program(Example::One(
            r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! Use code {env("PROMO_CODE")} for 10% off." }

on conversation_started reply welcome
"#,
        )),
    },
    Explanation {
        code: Code::TaskOnWrongKind,
        summary: "A `task` declaration adds a task to a target whose kind takes no \
                  declared tasks. HTTP, Zendesk and Salesforce targets take declared \
                  tasks (a method and a path under the API root); the other kinds \
                  (SMTP, SMS, SQL) have a fixed set of built-in tasks.",
        fix: "Call the target's built-in task from the action, or declare the task on \
              an `http`, `zendesk` or `salesforce` target.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
  params: {
    order_id: text
    orders: list
  }
}

target db: sql { url: "sqlite://acme.db" }

task find_order(id: text) on db {
  statement: "SELECT * FROM orders WHERE id = ?"
}

action find_orders {
  target: db
  task: find_order(order_id)
  save: orders
}

on message_received do find_orders
"#,
        ),
        fixed: Fixed::Edits(&[
            ("task find_order(id: text) on db {\n  statement: \"SELECT * FROM orders WHERE id = ?\"\n}\n\n", ""),
            ("  task: find_order(order_id)\n", "  task: query(\"SELECT * FROM orders WHERE id = ?\", order_id)\n"),
        ]),
    },
    Explanation {
        code: Code::StartCycle,
        summary: "A use case (or block) is started by an action its own bindings run, \
                  directly or through other use cases. Each start runs right after the \
                  event that made it, so nothing new could stop the loop: within one event \
                  it would start again until the run-time limit on starts per event fails \
                  it.",
        fix: "Start the use case from a binding of an event (`on dtmf_received when … do \
              …`), so it starts again only when something new happens.",
        wrong: Example::One(
            r#"agent airline {
  channels: [voice]
}

usecase rebook_flight {
  blocks: [confirm]
}

action start_rebooking {
  target: conversation
  task: start_usecase(rebook_flight)
}

action confirm_rebooking {
  target: call
  task: say("Shall I rebook you on the next flight?")
}

in usecase rebook_flight do confirm_rebooking, start_rebooking
"#,
        ),
        fixed: Fixed::Edits(&[(
            "in usecase rebook_flight do confirm_rebooking, start_rebooking\n",
            "on dtmf_received when event.digits == \"1\" do start_rebooking\n\
             in usecase rebook_flight do confirm_rebooking\n",
        )]),
    },
];
