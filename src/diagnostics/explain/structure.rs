//! E01xx: how files make a program (imports, the agent block, unique names).

use std::borrow::Cow;

use super::{Encoding, Example, ExampleFile, Explanation, Fixed};
use crate::diagnostics::Code;

pub(super) const ENTRIES: &[Explanation] = &[
    Explanation {
        code: Code::ImportNotFound,
        summary: "An `import` names a file that cannot be read: it does not exist, is not an \
                  `.agent` file, not a regular file, not UTF-8 text, or larger than 16 MiB. \
                  Import paths are relative to the directory of the file that imports. A \
                  file that is not an `.agent` program is never read, so nothing of it shows \
                  in a diagnostic.",
        fix: "Correct the path (relative to the importing file), or create the file.",
        wrong: Example::Files(&[ExampleFile {
            path: "main.agent",
            text: Cow::Borrowed(r#"import "common/replies.agent"

agent shop {
  channels: [chat]
}

on conversation_started reply welcome
"#),
            encoding: Encoding::Utf8,
        }]),
        fixed: Fixed::Program(Example::Files(&[
            ExampleFile {
                path: "main.agent",
                text: Cow::Borrowed(r#"import "common/replies.agent"

agent shop {
  channels: [chat]
}

on conversation_started reply welcome
"#),
                encoding: Encoding::Utf8,
            },
            ExampleFile {
                path: "common/replies.agent",
                text: Cow::Borrowed(r#"reply welcome { text: "Hi! How can I help?" }
"#),
                encoding: Encoding::Utf8,
            },
        ])),
    },
    Explanation {
        code: Code::ImportCycle,
        summary: "Files import each other in a circle, so none of them can come first. A \
                  program is a tree: the root imports the others, and they do not import it \
                  back.",
        fix: "Remove the import that closes the circle; shared declarations go into a file \
              that both import.",
        wrong: Example::Files(&[
            ExampleFile {
                path: "main.agent",
                text: Cow::Borrowed(r#"import "replies.agent"

agent shop {
  channels: [chat]
}

on conversation_started reply welcome
"#),
                encoding: Encoding::Utf8,
            },
            ExampleFile {
                path: "replies.agent",
                text: Cow::Borrowed(r#"import "main.agent"

reply welcome { text: "Hi! How can I help?" }
"#),
                encoding: Encoding::Utf8,
            },
        ]),
        fixed: Fixed::Program(Example::Files(&[
            ExampleFile {
                path: "main.agent",
                text: Cow::Borrowed(r#"import "replies.agent"

agent shop {
  channels: [chat]
}

on conversation_started reply welcome
"#),
                encoding: Encoding::Utf8,
            },
            ExampleFile {
                path: "replies.agent",
                text: Cow::Borrowed(r#"reply welcome { text: "Hi! How can I help?" }
"#),
                encoding: Encoding::Utf8,
            },
        ])),
    },
    Explanation {
        code: Code::NoAgent,
        summary: "The program has no `agent` block. The agent block says who the program is \
                  for (its channels, language and parameters); every program has exactly one.",
        fix: "Add an `agent` block to the root file, or check the file that holds it and \
              imports this one.",
        wrong: Example::One(
            r#"reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Program(Example::One(
            r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome
"#,
        )),
    },
    Explanation {
        code: Code::MultipleAgents,
        summary: "The program has more than one `agent` block. A program describes one agent; \
                  two agents are two programs, each with its own root file.",
        fix: "Keep one agent block, or move the second agent to its own root file.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

agent shop_voice {
  channels: [voice]
}

reply welcome { text: "Hi! How can I help?" }

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Edits(&[
            ("  channels: [chat]\n}\n\nagent shop_voice {\n  channels: [voice]\n", "  channels: [chat, voice]\n"),
        ]),
    },
    Explanation {
        code: Code::DuplicateName,
        summary: "Two declarations share a name. Targets, tasks, actions, replies and use \
                  cases live in one namespace across all the program's files, so a name means \
                  one thing; parameters have a namespace of their own. The second label shows \
                  the first declaration.",
        fix: "Rename one of them, or delete the copy.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

reply welcome { text: "Hi! How can I help?" }
reply welcome { text: "Welcome back!" }

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Edits(&[
            ("reply welcome { text: \"Welcome back!\" }\n", "reply welcome_back { text: \"Welcome back!\" }\n"),
            ("on conversation_started reply welcome\n", "on conversation_started reply welcome\non conversation_inactive reply welcome_back\n"),
        ]),
    },
    Explanation {
        code: Code::DuplicateField,
        summary: "A field (or a record key, a channel, a block) is given twice in one place, \
                  so it is unclear which value counts.",
        fix: "Keep one of the two.",
        wrong: Example::One(
            r#"agent shop {
  channels: [chat]
}

reply welcome {
  text: "Hi! How can I help?"
  text: "Hello!"
}

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Edits(&[
            ("  text: \"Hello!\"\n", ""),
        ]),
    },
    Explanation {
        code: Code::ImportOutsideRoot,
        summary: "An `import` leaves the program's root directory: the directory of the root \
                  file, or the directory given to `check`, `test` or `run`. Imports stay \
                  inside it, links followed, so that a program from a pull request cannot \
                  read (and show in CI logs) other files on the machine.",
        fix: "Move the imported file under the root directory and import it from there, or \
              widen the root with `--import-root DIR` on the command that loads the program.",
        wrong: Example::One(
            r#"import "../shared/replies.agent"

agent shop {
  channels: [chat]
}

on conversation_started reply welcome
"#,
        ),
        fixed: Fixed::Program(Example::Files(&[
            ExampleFile {
                path: "main.agent",
                text: Cow::Borrowed(r#"import "shared/replies.agent"

agent shop {
  channels: [chat]
}

on conversation_started reply welcome
"#),
                encoding: Encoding::Utf8,
            },
            ExampleFile {
                path: "shared/replies.agent",
                text: Cow::Borrowed(r#"reply welcome { text: "Hi! How can I help?" }
"#),
                encoding: Encoding::Utf8,
            },
        ])),
    },
];
