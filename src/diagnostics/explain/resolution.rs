//! E02xx: names that resolve to nothing, and fields or arguments that do not fit.

use super::{Example, Explanation, Fixed};
use crate::diagnostics::Code;

pub(super) const ENTRIES: &[Explanation] = &[
    Explanation {
        code: Code::UnknownName,
        summary: "An expression reads a name that is not in scope. In scope are the \
                  agent's `params`, `event`, `user` (chat, email), `caller` (voice), \
                  `conversation`, `usecase` and `block` where they apply, and \
                  `response` inside a task's `result`.",
        fix: "Correct the spelling (the help line suggests the closest name), or \
              declare the parameter in the agent's `params`.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
  params: {
    order_id: text
  }
}

action tag_order {
  target: conversation
  task: add_label("order")
  when: ordr_id != null
}

on message_received do tag_order
"#,
        ),
        fixed: Fixed::Edits(&[("  when: ordr_id != null\n", "  when: order_id != null\n")]),
    },
    Explanation {
        code: Code::UnknownTarget,
        summary: "An action's `target` (or a declared task's `on`) names no declared \
                  target and no built-in one (`conversation`, and `call` for voice \
                  agents).",
        fix: "Correct the name, or declare the target: `target NAME: KIND { ... }`.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_new {
  target: conversaton
  task: add_label("new")
}

on conversation_started do tag_new
"#,
        ),
        fixed: Fixed::Edits(&[("  target: conversaton\n", "  target: conversation\n")]),
    },
    Explanation {
        code: Code::UnknownTargetKind,
        summary: "A target declaration names a kind that is not in the catalogue. The \
                  kinds are `http`, `zendesk`, `salesforce`, `smtp`, `sms` and `sql`.",
        fix: "Write one of the catalogue's kinds.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

target helpdesk: zendsk {
  subdomain: "acme"
  email: "bot@acme.example"
  token: secret("ZENDESK_TOKEN")
}

action open_ticket {
  target: helpdesk
  task: create_ticket(subject: "Chat ended", comment: "See the transcript")
}

on conversation_ended do open_ticket
"#,
        ),
        fixed: Fixed::Edits(&[(
            "target helpdesk: zendsk {\n",
            "target helpdesk: zendesk {\n",
        )]),
    },
    Explanation {
        code: Code::UnknownField,
        summary: "A declaration has a field it does not take. Actions take `target`, \
                  `task`, `when`, `save`, `timeout`, `retry`, `on_failure` and \
                  `idempotency_key`; each target kind has its own fields (`agentc \
                  explain` lists them in the help line).",
        fix: "Correct the field's name, or remove it.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_refund {
  target: conversation
  task: add_label("refund")
  condition: contains(lower(event.text), "refund")
}

on message_received do tag_refund
"#,
        ),
        fixed: Fixed::Edits(&[(
            "  condition: contains(lower(event.text), \"refund\")\n",
            "  when: contains(lower(event.text), \"refund\")\n",
        )]),
    },
    Explanation {
        code: Code::MissingField,
        summary: "A required field is missing: an action needs `target` and `task`, a \
                  target needs the fields its kind requires (e.g. `base_url` for \
                  `http`), the agent needs `channels`.",
        fix: "Add the field.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_new {
  target: conversation
}

on conversation_started do tag_new
"#,
        ),
        fixed: Fixed::Edits(&[(
            "  target: conversation\n",
            "  target: conversation\n  task: add_label(\"new\")\n",
        )]),
    },
    Explanation {
        code: Code::UnknownTask,
        summary: "The action's task is not one its target offers: neither a built-in \
                  task of the target's kind nor a task declared on that target.",
        fix: "Use one of the target's tasks (the help line lists them), or declare one \
              with `task NAME(...) on TARGET { ... }`.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_new {
  target: conversation
  task: add_tag("new")
}

on conversation_started do tag_new
"#,
        ),
        fixed: Fixed::Edits(&[("  task: add_tag(\"new\")\n", "  task: add_label(\"new\")\n")]),
    },
    Explanation {
        code: Code::UnknownArgument,
        summary: "A task or function is given an argument it does not take: a named \
                  argument with an unknown name, or more positional arguments than it \
                  has.",
        fix: "Correct the argument's name, or remove the extra one.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action hand_over {
  target: conversation
  task: escalate(team: "billing")
}

on conversation_started do hand_over
"#,
        ),
        fixed: Fixed::Edits(&[(
            "  task: escalate(team: \"billing\")\n",
            "  task: escalate(queue: \"billing\")\n",
        )]),
    },
    Explanation {
        code: Code::MissingArgument,
        summary: "A task or function is called without an argument it requires.",
        fix: "Pass the argument, positionally or by name.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_new {
  target: conversation
  task: add_label()
}

on conversation_started do tag_new
"#,
        ),
        fixed: Fixed::Edits(&[("  task: add_label()\n", "  task: add_label(\"new\")\n")]),
    },
    Explanation {
        code: Code::UnknownEvent,
        summary: "A binding names an event that does not exist. The events are listed \
                  in the language reference (`conversation_started`, \
                  `message_received`, `call_ringing`, ...).",
        fix: "Correct the event's name (the help line suggests the closest one).",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help?" }

on conversation_start reply welcome
"#,
        ),
        fixed: Fixed::Edits(&[(
            "on conversation_start reply welcome\n",
            "on conversation_started reply welcome\n",
        )]),
    },
    Explanation {
        code: Code::UnknownAction,
        summary: "A binding's `do` list or an action's `on_failure` names an action \
                  that is not declared.",
        fix: "Correct the name, or declare the action.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_newcomer {
  target: conversation
  task: add_label("new")
}

on conversation_started do tag_new
"#,
        ),
        fixed: Fixed::Edits(&[(
            "on conversation_started do tag_new\n",
            "on conversation_started do tag_newcomer\n",
        )]),
    },
    Explanation {
        code: Code::UnknownReply,
        summary: "A binding's `reply` or the `reply(...)` task names a reply that is \
                  not declared.",
        fix: "Correct the name, or declare the reply: `reply NAME { text: \"...\" }`.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcom
"#,
        ),
        fixed: Fixed::Edits(&[(
            "on conversation_started reply welcom\n",
            "on conversation_started reply welcome\n",
        )]),
    },
    Explanation {
        code: Code::UnknownUsecase,
        summary: "An `in usecase` or `at block` binding names a use case that is not \
                  declared.",
        fix: "Correct the name, or declare the use case.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

usecase order_status {
  description: "Customer asks where an order is"
  blocks: [ask_order_id, show_status]
}

action tag_order {
  target: conversation
  task: add_label("order")
}

in usecase order_stats do tag_order
"#,
        ),
        fixed: Fixed::Edits(&[(
            "in usecase order_stats do tag_order\n",
            "in usecase order_status do tag_order\n",
        )]),
    },
    Explanation {
        code: Code::UnknownBlock,
        summary: "An `at block U.B` binding names a block that use case `U` does not \
                  list in its `blocks`.",
        fix: "Correct the block's name, or add it to the use case's `blocks`.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

usecase order_status {
  description: "Customer asks where an order is"
  blocks: [ask_order_id, show_status]
}

action tag_order {
  target: conversation
  task: add_label("order")
}

at block order_status.ask_order do tag_order
"#,
        ),
        fixed: Fixed::Edits(&[(
            "at block order_status.ask_order do tag_order\n",
            "at block order_status.ask_order_id do tag_order\n",
        )]),
    },
    Explanation {
        code: Code::UnknownFunction,
        summary: "An expression calls a function that is not built in. The built-in \
                  functions, with their types and an example each, are listed in \
                  docs/language.md (\"Functions\"); the REPL completes their names.",
        fix: "Use one of the built-in functions (the help line suggests the closest).",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_refund {
  target: conversation
  task: add_label("refund")
  when: contains(lowercase(event.text), "refund")
}

on message_received do tag_refund
"#,
        ),
        fixed: Fixed::Edits(&[(
            "  when: contains(lowercase(event.text), \"refund\")\n",
            "  when: contains(lower(event.text), \"refund\")\n",
        )]),
    },
    Explanation {
        code: Code::UnknownType,
        summary: "A parameter or a declared task's argument has a type that does not \
                  exist. The types are `text number bool duration list record any`.",
        fix: "Use one of those types (`string` is `text`, `int` and `float` are \
              `number`).",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
  params: {
    order_id: string
  }
}

action tag_order {
  target: conversation
  task: add_label("order")
  when: order_id != null
}

on message_received do tag_order
"#,
        ),
        fixed: Fixed::Edits(&[("    order_id: string\n", "    order_id: text\n")]),
    },
    Explanation {
        code: Code::UnknownParam,
        summary: "A task that changes a conversation parameter (`set`, `unset`, \
                  `increment`, `push`) or an action's `save` names a parameter the \
                  agent does not declare in `params`.",
        fix: "Correct the name, or declare the parameter in the agent's `params`.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
  params: {
    attempts: number = 0
  }
}

action count_attempt {
  target: conversation
  task: increment(attempt)
}

on message_received do count_attempt
"#,
        ),
        fixed: Fixed::Edits(&[(
            "  task: increment(attempt)\n",
            "  task: increment(attempts)\n",
        )]),
    },
    Explanation {
        code: Code::UnknownWord,
        summary: "Where a field takes one word of a fixed set (a channel, an HTTP \
                  `method`, a transfer `mode`, the locale or currency of \
                  `format_money`, the time zone of `format_date`), the word written is \
                  not one of them.",
        fix: "Write one of the words the label lists.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat, sms]
}

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Edits(&[("  channels: [chat, sms]\n", "  channels: [chat]\n")]),
    },
];
