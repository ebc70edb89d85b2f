//! The stable diagnostic codes. A code, once published, keeps its meaning forever: add new
//! ones, never renumber. `agentc explain CODE` documents each (see `explain.rs`).

use super::Severity;
use serde::{Serialize, Serializer};

macro_rules! codes {
    ($($variant:ident = $code:literal, $severity:ident, $title:literal;)*) => {
        /// A stable diagnostic code (`E####` error, `W####` warning).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant),* }

        /// Every code, in numeric order.
        pub const ALL_CODES: &[Code] = &[$(Code::$variant),*];

        impl Code {
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code),* }
            }
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity),* }
            }
            /// A short title, as used by `agentc explain` and SARIF rule names.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title),* }
            }
            pub fn parse(text: &str) -> Option<Code> {
                let text = text.trim().to_ascii_uppercase();
                ALL_CODES.iter().copied().find(|c| c.as_str() == text)
            }
        }
    };
}

codes! {
    // Reading and syntax: E00xx
    Syntax = "E0001", Error, "syntax error";
    Unclosed = "E0002", Error, "unclosed delimiter";
    UnterminatedString = "E0003", Error, "unterminated string";
    UnterminatedComment = "E0004", Error, "unterminated block comment";
    BadEscape = "E0005", Error, "invalid escape sequence";
    TooDeep = "E0006", Error, "nesting too deep";
    BadLiteral = "E0007", Error, "invalid number or duration";
    NotUtf8 = "E0008", Error, "file is not UTF-8 text";
    KeywordAsName = "E0009", Error, "keyword used as a name";
    TooManyErrors = "E0010", Error, "too many syntax errors";
    // Program structure and imports: E01xx
    ImportNotFound = "E0101", Error, "imported file not found";
    ImportCycle = "E0102", Error, "import cycle";
    NoAgent = "E0103", Error, "no agent block";
    MultipleAgents = "E0104", Error, "more than one agent block";
    DuplicateName = "E0105", Error, "duplicate name";
    DuplicateField = "E0106", Error, "field given twice";
    ImportOutsideRoot = "E0107", Error, "import outside the program's root directory";
    // Resolution: E02xx
    UnknownName = "E0201", Error, "unknown name";
    UnknownTarget = "E0202", Error, "unknown target";
    UnknownTargetKind = "E0203", Error, "unknown target kind";
    UnknownField = "E0204", Error, "unknown field";
    MissingField = "E0205", Error, "missing required field";
    UnknownTask = "E0206", Error, "unknown task";
    UnknownArgument = "E0207", Error, "unknown or extra argument";
    MissingArgument = "E0208", Error, "missing required argument";
    UnknownEvent = "E0209", Error, "unknown event";
    UnknownAction = "E0210", Error, "unknown action";
    UnknownReply = "E0211", Error, "unknown reply";
    UnknownUsecase = "E0212", Error, "unknown use case";
    UnknownBlock = "E0213", Error, "unknown block";
    UnknownFunction = "E0214", Error, "unknown function";
    UnknownType = "E0215", Error, "unknown type";
    UnknownParam = "E0216", Error, "unknown parameter";
    UnknownWord = "E0217", Error, "word not in the allowed set";
    // Types: E03xx
    TypeMismatch = "E0301", Error, "type mismatch";
    SaveTypeMismatch = "E0302", Error, "saved into a parameter of another type";
    NotConstant = "E0303", Error, "value must be known before the program runs";
    InvalidRegex = "E0304", Error, "invalid regular expression";
    // Domain rules: E04xx
    ReplyOnEvent = "E0401", Error, "reply bound to an event that cannot trigger one";
    ChannelMismatch = "E0402", Error, "not available on the agent's channels";
    WrongMoment = "E0403", Error, "task not possible at this moment";
    FailureCycle = "E0404", Error, "on_failure cycle";
    InterpolatedSql = "E0405", Error, "SQL statement built by interpolation";
    SecretInClear = "E0406", Error, "secret sent in clear";
    SecretExposed = "E0407", Error, "secret placed where it would be shown";
    TaskOnWrongKind = "E0408", Error, "task declared on a target that takes none";
    StartCycle = "E0409", Error, "use case or block that starts itself";
    // Tests: E05xx
    BadTestStep = "E0501", Error, "invalid test step";
    // Warnings: W06xx
    UnusedAction = "W0601", Warning, "unused action";
    UnusedReply = "W0602", Warning, "unused reply";
    UnusedTarget = "W0603", Warning, "unused target";
    InsecureUrl = "W0604", Warning, "http:// URL to a host that is not loopback";
    OrphanFile = "W0605", Warning, "file not imported by any program";
    UnusedTask = "W0606", Warning, "unused task";
    NullArgument = "W0607", Warning, "null where a value is required";
    RetryOnUnsafeTask = "W0608", Warning, "retry on a task a second try could do twice";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
