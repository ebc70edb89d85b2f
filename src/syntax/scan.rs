//! A fast, non-recursive pass over the bytes of a file, run before pest: it collects the
//! comments (for `fmt`), finds where each top-level declaration starts (for error
//! recovery), and reports what pest would explain badly or could not survive: unterminated
//! strings and comments, unclosed or mismatched brackets, and nesting too deep.

use crate::diagnostics::{Code, Diagnostic, FileId, Span};

use super::ast::Comment;
use super::lexer::{
    comment_at, escape_len, is_word_start, line_end, word_chars, word_chars_start, Quote,
};
use super::MAX_DEPTH;

/// Something open at the current position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    /// `(`, `[` or `{`, with the byte that opened it.
    Delim(u8),
    /// A string, `"…"` (which must close on its own line) or `"""…"""`.
    Str(Quote),
    /// `{` inside a string.
    Interp,
}

#[derive(Clone, Copy, Debug)]
struct Open {
    frame: Frame,
    at: usize,
}

/// What the scanner found in one piece of text.
#[derive(Debug, Default)]
pub struct Scan {
    pub comments: Vec<Comment>,
    /// Lexical and bracket problems, in source order.
    pub problems: Vec<Diagnostic>,
    /// Closing brackets that close nothing. Unlike `problems`, pest may explain these
    /// better (`action a` then a block without its `{`), so recovery lets it try.
    pub stray_closers: Vec<Diagnostic>,
    /// Byte offsets (in the scanned text) of lines that start a declaration at column 0;
    /// always begins with 0.
    pub item_starts: Vec<usize>,
    /// The text ends inside a bracket, a triple-quoted string or a block comment.
    pub incomplete: bool,
    /// The text ends inside a triple-quoted string, an interpolation or a block comment,
    /// where only the scanner can tell that more text may follow.
    pub ends_in_text: bool,
    /// Something is wrong for good, whatever text follows: a `"` string not closed on its
    /// line, a closer that closes nothing or skips an open bracket, nesting too deep.
    pub broken: bool,
}

impl Scan {
    /// Every problem found, when there is one: for inputs too small to recover within.
    pub fn blocking_problems(&self) -> Option<Vec<Diagnostic>> {
        let mut all: Vec<Diagnostic> = self
            .problems
            .iter()
            .chain(&self.stray_closers)
            .cloned()
            .collect();
        all.sort_by_key(|d| d.span().start);
        (!all.is_empty()).then_some(all)
    }
}

struct Scanner<'t> {
    text: &'t [u8],
    src: &'t str,
    file: FileId,
    /// Added to every offset: where `text` starts in the file.
    base: usize,
    stack: Vec<Open>,
    out: Scan,
    /// Depth is reported once per declaration.
    reported_depth: bool,
    /// An unterminated string in this declaration swallowed text: brackets left open
    /// after it are its consequence, not separate errors.
    string_broke: bool,
}

/// Scans `text`, which starts at byte `base` of file `file`.
pub fn scan(file: FileId, text: &str, base: usize) -> Scan {
    let mut scanner = Scanner {
        text: text.as_bytes(),
        src: text,
        file,
        base,
        stack: Vec::new(),
        out: Scan {
            item_starts: vec![0],
            ..Scan::default()
        },
        reported_depth: false,
        string_broke: false,
    };
    scanner.run();
    scanner.end_of_text();
    scanner.out
}

/// The bracket still open at the end of `text` (its offset and byte), if any.
pub fn innermost_open(text: &str) -> Option<(usize, u8)> {
    let mut scanner = Scanner {
        text: text.as_bytes(),
        src: text,
        file: FileId::default(),
        base: 0,
        stack: Vec::new(),
        out: Scan::default(),
        reported_depth: false,
        string_broke: false,
    };
    scanner.run();
    scanner.stack.iter().rev().find_map(|o| match o.frame {
        Frame::Delim(b) => Some((o.at, b)),
        _ => None,
    })
}

impl Scanner<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.base + start, self.base + end)
    }

    fn in_string(&self) -> Option<Quote> {
        match self.stack.last() {
            Some(Open {
                frame: Frame::Str(quote),
                ..
            }) => Some(*quote),
            _ => None,
        }
    }

    fn run(&mut self) {
        let text = self.text;
        let mut i = 0;
        while i < text.len() {
            let b = text[i];
            if let Some(string) = self.in_string() {
                i = self.string_byte(string, i);
                continue;
            }
            match b {
                b'\n' => {
                    self.newline(i);
                    i += 1;
                    self.line_start(i);
                }
                b'/' => i = self.comment(i).unwrap_or(i + 1),
                b'"' => {
                    let quote = Quote::at(text, i).unwrap_or(Quote::Plain);
                    self.push(Frame::Str(quote), i);
                    i += quote.width();
                }
                b'(' | b'[' | b'{' => {
                    self.push(Frame::Delim(b), i);
                    i += 1;
                }
                b')' | b']' | b'}' => {
                    self.close(b, i);
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }

    /// One step inside a string; returns the next position.
    fn string_byte(&mut self, string: Quote, i: usize) -> usize {
        let text = self.text;
        match text[i] {
            b'\\' => {
                // An escaped newline is still a newline: let the next step see it.
                if text.get(i + 1) == Some(&b'\n') {
                    i + 1
                } else {
                    i + escape_len(text, i)
                }
            }
            b'{' => {
                self.push(Frame::Interp, i);
                i + 1
            }
            b'"' if string.closes(text, i) => {
                self.stack.pop();
                i + string.width()
            }
            b'\n' => {
                self.newline(i);
                self.line_start(i + 1);
                i + 1
            }
            _ => i + 1,
        }
    }

    /// The comment at `i`, if one starts there; returns where it ends.
    fn comment(&mut self, i: usize) -> Option<usize> {
        let comment = comment_at(self.text, i)?;
        self.out.comments.push(Comment {
            span: self.span(i, comment.end),
            block: comment.block,
        });
        if !comment.closed {
            self.out.problems.push(
                Diagnostic::new(
                    Code::UnterminatedComment,
                    "unterminated block comment",
                    self.span(i, i + 2),
                )
                .with_label_message("this comment is never closed")
                .with_help("add `*/` where the comment should end (block comments do not nest)"),
            );
            self.out.incomplete = true;
            self.out.ends_in_text = true;
        }
        Some(comment.end)
    }

    fn push(&mut self, frame: Frame, at: usize) {
        self.stack.push(Open { frame, at });
        if self.stack.len() > MAX_DEPTH && !self.reported_depth {
            self.reported_depth = true;
            self.out.broken = true;
            let width = match frame {
                Frame::Str(quote) => quote.width(),
                _ => 1,
            };
            self.out.problems.push(
                Diagnostic::new(Code::TooDeep, "nesting too deep", self.span(at, at + width))
                    .with_label_message(format!("more than {MAX_DEPTH} levels deep"))
                    .with_help("split the value into smaller named pieces (e.g. separate actions or fields)"),
            );
        }
    }

    /// A closing bracket in code: it closes the innermost open one, or an outer one whose
    /// inner brackets were left open, or nothing at all.
    fn close(&mut self, b: u8, i: usize) {
        let opener = match b {
            b')' => b'(',
            b']' => b'[',
            _ => b'{',
        };
        if b == b'}'
            && matches!(
                self.stack.last(),
                Some(Open {
                    frame: Frame::Interp,
                    ..
                })
            )
        {
            self.stack.pop();
            return;
        }
        // Inside an interpolation a closer closes only what the interpolation opened.
        let floor = self
            .stack
            .iter()
            .rposition(|o| o.frame == Frame::Interp)
            .map_or(0, |pos| pos + 1);
        let matching = self.stack[floor..]
            .iter()
            .rposition(|o| o.frame == Frame::Delim(opener))
            .map(|pos| floor + pos);
        if matching.is_none() && b == b'}' && floor > 0 {
            // `"{(a}"`: the interpolation ends, with what it left open.
            if let Some(inner) = self.stack.get(floor).copied() {
                self.report_unclosed(inner, i);
                self.out.broken = true;
            }
            self.stack.truncate(floor - 1);
            return;
        }
        let inner_closes_later = |inner: Open| match inner.frame {
            Frame::Delim(open) => closes_later(self.text, i + 1, open),
            _ => false,
        };
        match matching {
            // `{ a: 1 ) b: 2 }`: the bracket left open closes later on this line, so this
            // closer is the stray one, not the end of what is around it.
            Some(pos)
                if self
                    .stack
                    .get(pos + 1)
                    .is_some_and(|&inner| inner_closes_later(inner)) =>
            {
                self.stray(b, opener, i);
            }
            Some(pos) => {
                if let Some(inner) = self.stack.get(pos + 1).copied() {
                    // The innermost unclosed bracket above the match is the likely culprit.
                    self.report_unclosed(inner, i);
                    self.out.broken = true;
                }
                self.stack.truncate(pos);
            }
            None => self.stray(b, opener, i),
        }
    }

    /// A closing bracket that closes nothing.
    fn stray(&mut self, b: u8, opener: u8, i: usize) {
        self.out.broken = true;
        self.out.stray_closers.push(
            Diagnostic::new(
                Code::Unclosed,
                format!("unexpected `{}`", b as char),
                self.span(i, i + 1),
            )
            .with_label_message("nothing is open here")
            .with_help(format!(
                "remove it, or add the matching `{}` before it",
                opener as char
            )),
        );
    }

    fn report_unclosed(&mut self, open: Open, at: usize) {
        if self.string_broke {
            return;
        }
        let diagnostic = match open.frame {
            Frame::Delim(opener) => {
                let closer = closer_of(opener);
                let what = describe_opener(self.src, open.at, opener);
                Diagnostic::new(
                    Code::Unclosed,
                    format!("expected `{closer}` to close the {what} opened here"),
                    self.span(at, at),
                )
                .with_label_message(format!("expected `{closer}` here"))
                .with_secondary(
                    self.span(open.at, open.at + 1),
                    format!("the {what} opened here"),
                )
                .with_help(format!("add `{closer}` to close it"))
            }
            Frame::Interp => Diagnostic::new(
                Code::Unclosed,
                "expected `}` to close the interpolation",
                self.span(at, at),
            )
            .with_secondary(
                self.span(open.at, open.at + 1),
                "the interpolation starts here",
            )
            .with_help("add `}` after the expression, or write `\\{` for a literal brace"),
            Frame::Str(quote) => unterminated_string(self, open.at, quote),
        };
        self.out.problems.push(diagnostic);
    }

    /// A line break in code or in a string: a `"` string cannot span lines.
    fn newline(&mut self, i: usize) {
        if let Some(pos) = self
            .stack
            .iter()
            .position(|o| o.frame == Frame::Str(Quote::Plain))
        {
            let open = self.stack[pos];
            let end = if i > 0 && self.text[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            // `"Hi {name" }`: the string did end, but its interpolation did not.
            let interp = self.stack[pos..]
                .iter()
                .find(|o| o.frame == Frame::Interp)
                .copied();
            // `mock api GET "/x" -> 200 {` with a `"` typed before it: an interpolation
            // opened last on its line, with nothing in it, is code's `{` the slip turned
            // into a string. The string is what is wrong; the `{` stays open, to be closed
            // where the code closes it.
            let swallowed_block = interp.filter(|interp| {
                self.stack.len() == pos + 2
                    && self.stack[pos + 1].at == interp.at
                    && content_end(self.text, end) == interp.at + 1
            });
            let interp = interp.filter(|_| swallowed_block.is_none());
            let diagnostic = match interp {
                Some(interp) => Diagnostic::new(
                    Code::Unclosed,
                    "expected `}` to end the interpolation opened here",
                    self.span(interp.at, interp.at + 1),
                )
                .with_label_message("this `{` starts an interpolation that is not closed")
                .with_help("close it with `}` before the end of the string, or write `\\{` for a literal brace"),
                None => Diagnostic::new(Code::UnterminatedString, "unterminated string", self.span(open.at, end))
                    .with_label_message("this string is not closed on its line")
                    .with_help("add the closing `\"`; for text on several lines use a `\"\"\"` string"),
            };
            self.out.problems.push(diagnostic);
            self.stack.truncate(pos);
            if let Some(block) = swallowed_block {
                self.stack.push(Open {
                    frame: Frame::Delim(b'{'),
                    at: block.at,
                });
            }
            self.string_broke = true;
            self.out.broken = true;
        }
    }

    /// At the start of a line in code: does a declaration start here?
    fn line_start(&mut self, i: usize) {
        if self.stack.iter().any(|o| matches!(o.frame, Frame::Str(_))) {
            return;
        }
        if !starts_item(&self.text[i..]) {
            return;
        }
        if let Some(inner) = self.stack.last().copied() {
            let end = content_end(self.text, i);
            self.report_unclosed(inner, end);
            self.stack.clear();
        }
        self.out.item_starts.push(i);
        self.reported_depth = false;
        self.string_broke = false;
    }

    fn end_of_text(&mut self) {
        // Everything above the first `"` string dies at the end of its line anyway; the REPL
        // should wait for more input only for what may legitimately continue.
        let until = self
            .stack
            .iter()
            .position(|o| o.frame == Frame::Str(Quote::Plain))
            .unwrap_or(self.stack.len());
        if until > 0 {
            self.out.incomplete = true;
        }
        self.out.broken |= until < self.stack.len();
        self.out.ends_in_text |= self.stack[..until]
            .iter()
            .any(|o| matches!(o.frame, Frame::Str(Quote::Triple) | Frame::Interp));
        let string = self
            .stack
            .iter()
            .enumerate()
            .find_map(|(pos, o)| match o.frame {
                Frame::Str(quote) => Some((pos, o.at, quote)),
                _ => None,
            });
        if let Some((pos, at, quote)) = string {
            let diagnostic = unterminated_string(self, at, quote);
            self.out.problems.push(diagnostic);
            self.stack.truncate(pos);
            self.string_broke = true;
        }
        if let Some(inner) = self.stack.last().copied() {
            let end = content_end(self.text, self.text.len());
            self.report_unclosed(inner, end);
        }
    }
}

/// The string opened at `at` with `quote` is never closed.
fn unterminated_string(scanner: &Scanner, at: usize, quote: Quote) -> Diagnostic {
    let close = "\"".repeat(quote.width());
    let end = match quote {
        Quote::Triple => at + quote.width(),
        Quote::Plain => line_end(scanner.text, at),
    };
    Diagnostic::new(
        Code::UnterminatedString,
        "unterminated string",
        scanner.span(at, end),
    )
    .with_label_message("this string is never closed")
    .with_help(format!("add the closing `{close}`"))
}

fn closer_of(opener: u8) -> char {
    match opener {
        b'(' => ')',
        b'[' => ']',
        _ => '}',
    }
}

/// "the `action` block", "the `retry` record", "the list", ... for the bracket opened at `at`.
pub fn describe_opener(src: &str, at: usize, opener: u8) -> String {
    match opener {
        b'(' => "parenthesis".to_string(),
        b'[' => "list".to_string(),
        _ => {
            let before = src[..at].trim_end_matches([' ', '\t']);
            if let Some(key_part) = before.strip_suffix(':') {
                let key = last_word(key_part.trim_end());
                return if key.is_empty() {
                    "record".into()
                } else {
                    format!("`{key}` record")
                };
            }
            if before.is_empty() || before.ends_with(['(', ',', '[', '{', '=', '>', '\n']) {
                return "record".to_string();
            }
            // After a declaration's head (`action a {`, `test "t" {`): name it by its keyword.
            let line_start = before.rfind('\n').map_or(0, |n| n + 1);
            let line = before[line_start..].trim_start();
            let first_word = &line[..word_chars(line.as_bytes(), 0)];
            if [
                "agent", "target", "task", "action", "reply", "usecase", "test",
            ]
            .contains(&first_word)
            {
                format!("`{first_word}` block")
            } else {
                "block".to_string()
            }
        }
    }
}

/// The name `text` ends with (empty when it ends with something else).
pub fn last_word(text: &str) -> &str {
    &text[word_chars_start(text.as_bytes(), text.len())..]
}

/// Whether a line (given from its first byte) starts a declaration: a keyword at column 0
/// followed by a blank and then a name or a string (not a `:`, which makes it a field).
/// Whether a bracket `opener` still open at `from` is closed later in its declaration
/// (before a line that starts another): then a closer at `from` that would skip it is
/// stray, not the end of what is around it (`{ a: 1 ) }`, `f(x: 1 }, y: 2)`). Strings and
/// comments are not told apart: this only chooses between two explanations of an error.
pub fn closes_later(text: &[u8], from: usize, opener: u8) -> bool {
    let closer = closer_of(opener) as u8;
    let mut depth = 0usize;
    let mut i = from;
    while i < text.len() {
        match text[i] {
            b'\n' if starts_item(&text[i + 1..]) => return false,
            b if b == opener => depth += 1,
            b if b == closer && depth == 0 => return true,
            b if b == closer => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    false
}

fn starts_item(line: &[u8]) -> bool {
    super::keywords::declaration_starts().any(|kw| {
        let kw = kw.as_bytes();
        line.starts_with(kw) && {
            let rest = &line[kw.len()..];
            let blanks = rest
                .iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .count();
            blanks > 0
                && rest
                    .get(blanks)
                    .is_some_and(|&b| is_word_start(b) || b == b'"')
        }
    })
}

/// The end of the last non-blank byte before `before` (where a missing closer belongs).
fn content_end(text: &[u8], before: usize) -> usize {
    let mut end = before;
    while end > 0 && text[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<(&'static str, u32, u32)> {
        scan(FileId(0), text, 0)
            .problems
            .iter()
            .map(|d| (d.code.as_str(), d.span().start, d.span().end))
            .collect()
    }

    #[test]
    fn clean_text_has_no_problems() {
        let s = scan(
            FileId(0),
            "reply a { text: \"Hi {x ?? \"y\"}! \\{\" } // c\n/* b */\n",
            0,
        );
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.comments.len(), 2);
        assert!(!s.incomplete);
    }

    #[test]
    fn unterminated_things() {
        assert_eq!(
            codes("reply a { text: \"abc }\nreply b {}"),
            vec![("E0003", 16, 22)],
            "the brace left open is a consequence of the string"
        );
        assert_eq!(codes("x /* never"), vec![("E0004", 2, 4)]);
        assert_eq!(codes("x: \"\"\"abc"), vec![("E0003", 3, 6)]);
    }

    #[test]
    fn unclosed_block_is_reported_at_the_next_declaration() {
        let text = "action a {\n  target: x\n\naction b { target: y }\n";
        let s = scan(FileId(0), text, 0);
        assert_eq!(s.item_starts, vec![0, 24]);
        let d = &s.problems[0];
        assert_eq!(
            d.message,
            "expected `}` to close the `action` block opened here"
        );
        assert_eq!(d.span(), Span::new(FileId(0), 22, 22));
        assert_eq!(d.labels[1].span, Span::new(FileId(0), 9, 10));
    }

    #[test]
    fn depth_limit_and_incomplete_input() {
        let deep = "[".repeat(10_000);
        let s = scan(FileId(0), &deep, 0);
        assert_eq!(s.problems[0].code, Code::TooDeep);
        assert!(s.incomplete);
        assert!(scan(FileId(0), "action a {", 0).incomplete);
        assert!(scan(FileId(0), "x: \"\"\"abc\n", 0).incomplete);
        assert!(!scan(FileId(0), "x: \"abc", 0).incomplete);
        assert!(!scan(FileId(0), "x: (1)", 0).incomplete);
    }
}
