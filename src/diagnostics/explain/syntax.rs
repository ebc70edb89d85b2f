//! E00xx: reading the file and its syntax.

use std::borrow::Cow;

use super::{Encoding, Example, ExampleFile, Explanation, Fixed};
use crate::diagnostics::Code;

pub(super) const ENTRIES: &[Explanation] = &[
    Explanation {
        code: Code::Syntax,
        summary: "The text does not follow the grammar of `.agent` files at this point: a \
                  token is missing or one is there that cannot be. The message says what was \
                  expected.",
        fix: "Write what the message expects. Fields are `name: value`, one per line or \
              separated by commas; bindings are `on EVENT do ACTION`.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_new {
  target conversation
  task: add_label("new")
}

on conversation_started do tag_new
"#,
        ),
        fixed: Fixed::Edits(&[("  target conversation\n", "  target: conversation\n")]),
    },
    Explanation {
        code: Code::Unclosed,
        summary: "A `{`, `[` or `(` is never closed, or is closed by the wrong bracket. The \
                  label points at the bracket that opened the block.",
        fix: "Close the block where it ends. Editors that highlight matching brackets make \
              the missing one easy to find.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

on conversation_started do tag_new

action tag_new {
  target: conversation
  task: add_label("new")
"#,
        ),
        fixed: Fixed::Edits(&[(
            "  task: add_label(\"new\")\n",
            "  task: add_label(\"new\")\n}\n",
        )]),
    },
    Explanation {
        code: Code::UnterminatedString,
        summary: "A string opened with `\"` does not end on the same line. A string that \
                  spans lines is written between triple quotes `\"\"\"`.",
        fix: "Add the closing `\"`, or use `\"\"\"...\"\"\"` for text over several lines.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help? }

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Edits(&[(
            "reply welcome { text: \"Hi! How can I help? }\n",
            "reply welcome { text: \"Hi! How can I help?\" }\n",
        )]),
    },
    Explanation {
        code: Code::UnterminatedComment,
        summary: "A block comment opened with `/*` is never closed with `*/`, so the rest of \
                  the file would be a comment.",
        fix: "Close the comment with `*/`, or use `//` comments, which end at the line's end.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

/* TODO: greet voice callers too

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Edits(&[(
            "/* TODO: greet voice callers too\n",
            "/* TODO: greet voice callers too */\n",
        )]),
    },
    Explanation {
        code: Code::BadEscape,
        summary: "A backslash in a string starts an escape, and this one is not known. The \
                  escapes are `\\\"` `\\\\` `\\n` `\\t` `\\r` `\\{` `\\}` and `\\u{HEX}`.",
        fix: "Drop the backslash, or write `\\\\` for a backslash itself.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Shipping is free above \$50." }

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Edits(&[(
            "reply welcome { text: \"Shipping is free above \\$50.\" }\n",
            "reply welcome { text: \"Shipping is free above $50.\" }\n",
        )]),
    },
    Explanation {
        code: Code::TooDeep,
        summary: "Brackets, strings or expressions are nested deeper than the limit (128 \
                  levels). The limit keeps checking and running bounded; no program written \
                  by hand comes near it, so the file is usually generated or damaged.",
        fix: "Split the expression into smaller ones, or fix the program that generated it.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_new {
  target: conversation
  task: add_label("new")
  when: ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((true))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))
}

on conversation_started do tag_new
"#,
        ),
        fixed: Fixed::Program(Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_new {
  target: conversation
  task: add_label("new")
  when: true
}

on conversation_started do tag_new
"#,
        )),
    },
    Explanation {
        code: Code::BadLiteral,
        summary: "A number or a duration is malformed. Durations are a whole number followed \
                  by one unit: `ms`, `s`, `m`, `h` or `d`.",
        fix: "Write the duration with one of those units, e.g. `3m` for three minutes.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
  inactivity: 3min
}

reply still_there { text: "Are you still there?" }

on conversation_inactive reply still_there
"#,
        ),
        fixed: Fixed::Edits(&[("  inactivity: 3min\n", "  inactivity: 3m\n")]),
    },
    Explanation {
        code: Code::NotUtf8,
        summary: "The file's bytes are not UTF-8 text (or it holds a NUL byte, as binary \
                  files do). `.agent` files are UTF-8; an old editor may have saved this one \
                  as Latin-1 or Windows-1252.",
        fix: "Save the file as UTF-8 (most editors offer it under \"Save with encoding\").",
        wrong: Example::Files(&[ExampleFile {
            path: "main.agent",
            text: Cow::Borrowed(
                r#"agent loja {
  channels: [chat]
  language: "pt"
}

reply welcome { text: "Olá! Como posso ajudar?" }

on conversation_started reply welcome
"#,
            ),
            encoding: Encoding::Latin1,
        }]),
        fixed: Fixed::Program(Example::One(
            r#"agent loja {
  channels: [chat]
  language: "pt"
}

reply welcome { text: "Olá! Como posso ajudar?" }

on conversation_started reply welcome
"#,
        )),
    },
    Explanation {
        code: Code::KeywordAsName,
        summary: "A reserved keyword is used where a name is declared. Keywords are `agent \
                  target task action reply usecase on in at do when before after call import \
                  test mock send expect true false null if then else and or not`.",
        fix: "Choose another name, e.g. with a word added (`test` → `test_label`).",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action test {
  target: conversation
  task: add_label("test")
}

on conversation_started do test
"#,
        ),
        fixed: Fixed::Edits(&[
            ("action test {\n", "action label_test {\n"),
            (
                "on conversation_started do test\n",
                "on conversation_started do label_test\n",
            ),
        ]),
    },
    Explanation {
        code: Code::TooManyErrors,
        summary: "The file has so many syntax errors (more than 50) that the rest is not \
                  reported: the file is probably not an `.agent` file, or one mistake is \
                  repeated on every line.",
        fix: "Fix the errors reported first; they often share one cause (here `=>` written \
              for `do`).",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_message {
  target: conversation
  task: add_label("message")
}

on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
on message_received => tag_message
"#,
        ),
        fixed: Fixed::Program(Example::One(
            r#"agent shop {
  channels: [chat]
}

action tag_message {
  target: conversation
  task: add_label("message")
}

on message_received do tag_message
"#,
        )),
    },
];
