//! Bytes → source text: UTF-8 only, a leading BOM dropped, binary files refused.

use crate::diagnostics::{Code, Diagnostic, FileId, Span};

/// Why a file's bytes are not source text.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodeError {
    /// Byte offset in [`DecodeError::text`] (and in the file after its BOM) of the first bad byte.
    pub offset: usize,
    /// `Invalid` bytes (not UTF-8) or a NUL byte (a binary file).
    pub kind: DecodeErrorKind,
    /// A readable rendering of the file for the source map: identical up to `offset`,
    /// invalid bytes shown as U+FFFD after it, so the diagnostic's span stays exact.
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    Invalid,
    Nul,
}

impl DecodeError {
    /// The E0008 diagnostic, once the caller has added [`DecodeError::text`] to its source map.
    pub fn diagnostic(&self, file: FileId) -> Diagnostic {
        let width = self.text[self.offset..]
            .chars()
            .next()
            .map_or(0, char::len_utf8);
        let span = Span::new(file, self.offset, self.offset + width);
        match self.kind {
            DecodeErrorKind::Invalid => Diagnostic::new(
                Code::NotUtf8,
                "file is not UTF-8 text",
                span,
            )
            .with_label_message("this byte is not valid UTF-8")
            .with_help(
                "save the file as UTF-8 (most editors offer this under \"Save with encoding\")",
            ),
            DecodeErrorKind::Nul => Diagnostic::new(
                Code::NotUtf8,
                "file looks binary: it contains a NUL byte",
                span,
            )
            .with_label_message("NUL byte")
            .with_help("`.agent` files are text; check that this is the file you meant"),
        }
    }
}

const BOM: &str = "\u{FEFF}";

/// Checks that `bytes` are UTF-8 text and returns it without a leading BOM.
pub fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    decoded(bytes).map(str::to_string)
}

/// [`decode`], borrowing the text from `bytes`: a caller that keeps it in another form (a
/// source map's shared text) copies a large file once, not twice.
pub fn decoded(bytes: &[u8]) -> Result<&str, DecodeError> {
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => match text.find('\0') {
            None => Ok(text),
            Some(offset) => Err(DecodeError {
                offset,
                kind: DecodeErrorKind::Nul,
                text: text.to_string(),
            }),
        },
        Err(e) => Err(DecodeError {
            offset: e.valid_up_to(),
            kind: DecodeErrorKind::Invalid,
            text: String::from_utf8_lossy(bytes).into_owned(),
        }),
    }
}

/// `text` without a leading BOM, and how many bytes were dropped.
pub fn strip_bom(text: &str) -> (&str, usize) {
    match text.strip_prefix(BOM) {
        Some(rest) => (rest, BOM.len()),
        None => (text, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_text_and_drops_the_bom() {
        assert_eq!(decode(b"\xEF\xBB\xBFagent a {}").unwrap(), "agent a {}");
    }

    #[test]
    fn points_at_the_first_bad_byte() {
        let err = decode(b"ok \xC3\xA9 \xFF rest").unwrap_err();
        assert_eq!(err.offset, 6);
        let d = err.diagnostic(FileId(3));
        assert_eq!(d.code, Code::NotUtf8);
        assert_eq!(d.span(), Span::new(FileId(3), 6, 9));
        assert_eq!(&err.text[6..9], "\u{FFFD}");
    }

    #[test]
    fn refuses_binary() {
        let err = decode(b"ab\0cd").unwrap_err();
        assert_eq!((err.offset, err.kind), (2, DecodeErrorKind::Nul));
        assert_eq!(err.diagnostic(FileId(0)).span(), Span::new(FileId(0), 2, 3));
    }
}
