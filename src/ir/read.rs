//! Reading a compiled program back (`agentc run PROGRAM.json`). serde_json stops at 128
//! levels of nesting, and an expression takes up to three levels per level of its own: a
//! program the checker accepts (expressions up to 200 deep) could be written by `agentc
//! compile` and not read back. So the limit is [`MAX_NESTING`], checked before parsing, and
//! the parse runs on a thread with a stack sized for it.

use super::{Program, IR_VERSION};

/// The deepest JSON nesting read: above any program the checker accepts (three levels per
/// expression level, 200 expression levels, and the program's own structure), far below
/// what would exhaust [`STACK`].
pub const MAX_NESTING: usize = 1024;

/// The stack of the thread that parses (and, on an error, drops) a program.
const STACK: usize = 256 << 20;

/// Why a text is not a program this agentc can run. Its `Display` is a sentence that
/// follows the file's name ("`prog.json` is IR version 2, ...").
#[derive(Debug)]
pub enum ReadError {
    /// Brackets nested past [`MAX_NESTING`]: `depth` is where reading stopped.
    TooDeep { depth: usize },
    /// The reader's thread could not start, or failed.
    Reader(String),
    /// Not JSON, or not the shape of a program.
    NotIr(serde_json::Error),
    /// A program of another IR version.
    Version { found: u32 },
}

impl std::error::Error for ReadError {}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooDeep { depth } => write!(
                f,
                "nests more than {MAX_NESTING} levels deep ({depth} or more), deeper than any \
                 program `agentc compile` writes"
            ),
            ReadError::Reader(why) => write!(f, "cannot be read: {why}"),
            ReadError::NotIr(e) => write!(f, "is not a compiled program: {e}"),
            ReadError::Version { found } => write!(
                f,
                "is IR version {found}, this agentc reads version {IR_VERSION}: compile the \
                 program again"
            ),
        }
    }
}

/// The program in `text`, or why it is not one this agentc can run.
pub fn from_json(text: &str) -> Result<Program, ReadError> {
    if let Some(depth) = deeper_than(text, MAX_NESTING) {
        return Err(ReadError::TooDeep { depth });
    }
    let parsed = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("ir-reader".into())
            .stack_size(STACK)
            .spawn_scoped(scope, || parse(text))
            .map_err(|e| ReadError::Reader(e.to_string()))?
            .join()
            .map_err(|_| ReadError::Reader("the reader failed".into()))?
    })?;
    if parsed.version != IR_VERSION {
        return Err(ReadError::Version {
            found: parsed.version,
        });
    }
    Ok(parsed)
}

fn parse(text: &str) -> Result<Program, ReadError> {
    use serde::Deserialize;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    // Bounded by `deeper_than` instead.
    deserializer.disable_recursion_limit();
    let program = Program::deserialize(&mut deserializer).map_err(ReadError::NotIr)?;
    deserializer.end().map_err(ReadError::NotIr)?;
    Ok(program)
}

/// The depth reached once it passes `max` (brackets inside strings do not count).
fn deeper_than(text: &str, max: usize) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for byte in text.bytes() {
        match (in_string, escaped, byte) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'[' | b'{') => {
                depth += 1;
                if depth > max {
                    return Some(depth);
                }
            }
            (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
            (false, _, _) => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_brackets_outside_strings() {
        assert_eq!(deeper_than(r#"{"a": ["[[[", {"b": "\"{{"}]}"#, 3), None);
        assert_eq!(deeper_than("[[[[", 3), Some(4));
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        );
        let error = from_json(&deep).unwrap_err();
        assert!(matches!(error, ReadError::TooDeep { depth } if depth == MAX_NESTING + 1));
        assert!(error.to_string().contains("levels deep"));
    }
}
