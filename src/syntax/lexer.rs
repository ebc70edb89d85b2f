//! The language's tokens, defined once: what a blank, a word, a number with its unit, a
//! comment, a string (its quotes, text, escapes and interpolations) and an infix operator
//! are. The descent parser reads by these rules, the scanner finds comments and strings by
//! them, and [`entry_tokens`] gives the forgiving token stream the REPL highlights,
//! completes and dispatches by. Each rule is the grammar's terminal of the same name
//! (`grammar/agent.pest`), and `lexer_tests.rs` checks them against pest.
//!
//! Every rule works on bytes from an offset and allocates nothing: the descent parser's
//! hot loops are these functions.

use std::ops::Range;

use super::ast::BinOp;

/// What pest skips between tokens once `blank` has turned tabs, carriage returns and form
/// feeds into spaces (the grammar's `WHITESPACE`).
#[inline]
pub fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0C)
}

/// The first byte of the grammar's `word`.
#[inline]
pub fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

/// The grammar's `ic`: a byte that continues a word (or a number's unit).
#[inline]
pub fn is_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// How many bytes of word characters (`ic*`) start at `at`: a word's rest, a number's
/// unit.
#[inline]
pub fn word_chars(text: &[u8], at: usize) -> usize {
    let rest = &text[at..];
    rest.iter()
        .position(|&b| !is_word_char(b))
        .unwrap_or(rest.len())
}

/// The length of the `word` at `at`; 0 when none starts there.
#[inline]
pub fn word_len(text: &[u8], at: usize) -> usize {
    match text.get(at) {
        Some(&b) if is_word_start(b) => word_chars(text, at),
        _ => 0,
    }
}

/// Whether `text` is one whole word (a record key that needs no quotes).
pub fn is_word(text: &str) -> bool {
    !text.is_empty() && word_len(text.as_bytes(), 0) == text.len()
}

/// Where the run of word characters that ends at `end` starts (`end` when none does): the
/// word a text ends with, or the one being typed.
pub fn word_chars_start(text: &[u8], end: usize) -> usize {
    text[..end]
        .iter()
        .rposition(|&b| !is_word_char(b))
        .map_or(0, |i| i + 1)
}

/// Whether the word `word` is at `at`, whole (not the start of a longer word).
#[inline]
pub fn word_at(text: &[u8], at: usize, word: &[u8]) -> bool {
    text[at..].starts_with(word) && !text.get(at + word.len()).copied().is_some_and(is_word_char)
}

/// The length of the `number` at `at` (`ASCII_DIGIT+ ("." ASCII_DIGIT+)? ic*`: digits,
/// a fraction, and whatever unit is glued to it); 0 when none starts there.
#[inline]
pub fn number_len(text: &[u8], at: usize) -> usize {
    let digits = |from: usize| {
        text[from..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(text.len() - from)
    };
    let whole = digits(at);
    if whole == 0 {
        return 0;
    }
    let mut end = at + whole;
    if text.get(end) == Some(&b'.') && text.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end += 1 + digits(end + 1);
    }
    end + word_chars(text, end) - at
}

/// A comment starting at some offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommentToken {
    /// Where it ends: before the line break (`\n` or `\r\n`) of a `//` comment, after the
    /// `*/` of a block comment, at the end of the text of one never closed.
    pub end: usize,
    pub block: bool,
    /// False for a block comment without its `*/` (block comments do not nest).
    pub closed: bool,
}

/// The comment starting at `at`, if one does.
#[inline]
pub fn comment_at(text: &[u8], at: usize) -> Option<CommentToken> {
    if text.get(at) != Some(&b'/') {
        return None;
    }
    match text.get(at + 1) {
        Some(b'/') => Some(CommentToken {
            end: line_end(text, at),
            block: false,
            closed: true,
        }),
        Some(b'*') => Some(match find(text, at + 2, b"*/") {
            Some(close) => CommentToken {
                end: close + 2,
                block: true,
                closed: true,
            },
            None => CommentToken {
                end: text.len(),
                block: true,
                closed: false,
            },
        }),
        _ => None,
    }
}

/// Where the line holding `from` ends, its line break (`\n` or `\r\n`) left out.
pub fn line_end(text: &[u8], from: usize) -> usize {
    text[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |p| {
            let end = from + p;
            if end > from && text[end - 1] == b'\r' {
                end - 1
            } else {
                end
            }
        })
}

fn find(text: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    text.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The two kinds of string literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quote {
    /// `"…"` (the grammar's `string`): it must close on its own line.
    Plain,
    /// `"""…"""` (the grammar's `triple`).
    Triple,
}

const TRIPLE: &[u8] = b"\"\"\"";

impl Quote {
    /// The string that opens at `at`, if one does.
    #[inline]
    pub fn at(text: &[u8], at: usize) -> Option<Quote> {
        if text.get(at) != Some(&b'"') {
            None
        } else if text[at..].starts_with(TRIPLE) {
            Some(Quote::Triple)
        } else {
            Some(Quote::Plain)
        }
    }

    /// How many bytes its quotes take (at each end).
    pub fn width(self) -> usize {
        match self {
            Quote::Plain => 1,
            Quote::Triple => 3,
        }
    }

    /// Whether the string is closed at `at`.
    #[inline]
    pub fn closes(self, text: &[u8], at: usize) -> bool {
        match self {
            Quote::Plain => text.get(at) == Some(&b'"'),
            Quote::Triple => text[at..].starts_with(TRIPLE),
        }
    }

    /// The length of the string's text from `at` (`str_text` or `tri_text`): up to an
    /// escape, an interpolation, the closing quotes, a line break in a `"` string, or the
    /// end of the text.
    #[inline]
    pub fn text_len(self, text: &[u8], at: usize) -> usize {
        let rest = &text[at..];
        match self {
            Quote::Plain => rest
                .iter()
                .position(|&b| matches!(b, b'"' | b'\\' | b'{' | b'\n'))
                .unwrap_or(rest.len()),
            Quote::Triple => {
                let mut len = 0;
                while len < rest.len()
                    && !matches!(rest[len], b'\\' | b'{')
                    && !rest[len..].starts_with(TRIPLE)
                {
                    len += 1;
                }
                len
            }
        }
    }
}

/// The length of the grammar's `escape` at `at` (a `\`): `\u{…}` with letters and digits
/// inside, or `\` and any one character.
#[inline]
pub fn escape_len(text: &[u8], at: usize) -> usize {
    if text[at + 1..].starts_with(b"u{") {
        let inside = text[at + 3..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .unwrap_or(text.len() - at - 3);
        if text.get(at + 3 + inside) == Some(&b'}') {
            return 3 + inside + 1;
        }
    }
    1 + text.get(at + 1).map_or(0, |&b| utf8_width(b))
}

/// How many bytes the character starting with `first` takes.
fn utf8_width(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// The infix operator at `at` and its length, as the grammar's `infix` reads it.
#[inline]
pub fn infix_at(text: &[u8], at: usize) -> Option<(BinOp, usize)> {
    let rest = &text[at..];
    let next = rest.get(1).copied().unwrap_or(0);
    Some(match rest.first()? {
        b'o' if word_at(text, at, b"or") => (BinOp::Or, 2),
        b'a' if word_at(text, at, b"and") => (BinOp::And, 3),
        b'i' if word_at(text, at, b"in") => (BinOp::In, 2),
        b'=' if next == b'=' => (BinOp::Eq, 2),
        b'!' if next == b'=' => (BinOp::Ne, 2),
        b'<' if next == b'=' => (BinOp::Le, 2),
        b'>' if next == b'=' => (BinOp::Ge, 2),
        b'<' => (BinOp::Lt, 1),
        b'>' => (BinOp::Gt, 1),
        b'?' if next == b'?' => (BinOp::Coalesce, 2),
        b'+' => (BinOp::Add, 1),
        // `sub = { "-" ~ !">" }`: blanks may sit between, as in any non-atomic rule.
        b'-' if rest[1..].iter().find(|&&b| b != b' ') != Some(&b'>') => (BinOp::Sub, 1),
        b'*' => (BinOp::Mul, 1),
        b'/' => (BinOp::Div, 1),
        b'%' => (BinOp::Rem, 1),
        _ => return None,
    })
}

/// What a token of [`tokens`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A `word`, keyword or not.
    Word,
    /// A string of either kind; `closed` is false while its closing quotes are still to
    /// come (or, for a `"` string, when its line ended first).
    Str {
        closed: bool,
    },
    /// A `number`, its unit included.
    Number,
    Comment,
    /// `:name` opening a REPL entry: a command, not code (see [`entry_tokens`]).
    Command,
    /// Any other character: brackets, operators' symbols, and what the grammar has no
    /// token for.
    Punct(char),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub range: Range<usize>,
}

impl Token {
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.range.clone()]
    }
}

/// The tokens of `source` from `from` (white space dropped), for text that may be half
/// typed: it never fails, an unclosed string or comment runs to the end, and what has no
/// token of its own is punctuation. A string is one token, its interpolations read (so a
/// `"` inside `{…}` does not end it) but not kept.
pub fn tokens(source: &str, from: usize) -> Vec<Token> {
    let mut lexer = Lexer {
        source,
        pos: from,
        out: Vec::new(),
    };
    lexer.run(false);
    lexer.out
}

/// The tokens of a REPL entry: [`tokens`], except that a `:name` first is a command.
pub fn entry_tokens(source: &str) -> Vec<Token> {
    let start = source.len() - source.trim_start().len();
    if !source[start..].starts_with(':') {
        return tokens(source, 0);
    }
    let end = start + 1 + word_chars(source.as_bytes(), start + 1);
    let command = Token {
        kind: Kind::Command,
        range: start..end,
    };
    let mut out = vec![command];
    out.extend(tokens(source, end));
    out
}

struct Lexer<'a> {
    source: &'a str,
    pos: usize,
    out: Vec<Token>,
}

impl Lexer<'_> {
    fn bytes(&self) -> &[u8] {
        self.source.as_bytes()
    }

    fn push(&mut self, kind: Kind, start: usize) {
        self.out.push(Token {
            kind,
            range: start..self.pos,
        });
    }

    /// Reads tokens until the end, or, inside an interpolation, until its closing `}`.
    fn run(&mut self, interpolation: bool) {
        let mut depth = 0usize;
        while let Some(c) = self.source[self.pos..].chars().next() {
            let start = self.pos;
            let text = self.source.as_bytes();
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else if let Some(comment) = comment_at(text, start) {
                self.pos = comment.end;
                self.push(Kind::Comment, start);
            } else if let Some(quote) = Quote::at(text, start) {
                let closed = self.string(quote);
                self.push(Kind::Str { closed }, start);
            } else if let n @ 1.. = number_len(text, start) {
                self.pos += n;
                self.push(Kind::Number, start);
            } else if let n @ 1.. = word_len(text, start) {
                self.pos += n;
                self.push(Kind::Word, start);
            } else {
                self.pos += c.len_utf8();
                match c {
                    '{' => depth += 1,
                    '}' if interpolation && depth == 0 => return,
                    '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                self.push(Kind::Punct(c), start);
            }
        }
    }

    /// Moves past the string opening at the cursor; whether it was closed.
    fn string(&mut self, quote: Quote) -> bool {
        self.pos += quote.width();
        while self.pos < self.source.len() {
            let text = self.bytes();
            if quote.closes(text, self.pos) {
                self.pos += quote.width();
                return true;
            }
            match text[self.pos] {
                b'\n' if quote == Quote::Plain => return false,
                b'\\' => self.pos += escape_len(text, self.pos),
                b'{' => {
                    let mut inner = Lexer {
                        source: self.source,
                        pos: self.pos + 1,
                        out: Vec::new(),
                    };
                    inner.run(true);
                    self.pos = inner.pos;
                }
                _ => self.pos += quote.text_len(text, self.pos).max(1),
            }
        }
        false
    }
}
