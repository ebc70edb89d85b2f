//! A forgiving scanner for what is being typed. The parser wants whole entries; highlighting
//! and completion need tokens of half-typed ones (an unclosed string, a dangling `{`), so
//! this scanner never fails: whatever it cannot classify becomes punctuation.

use std::ops::Range;

use crate::syntax::KEYWORDS;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An identifier, keyword or not; see [`is_keyword`].
    Word,
    /// A string literal; `closed` is false while its closing quote is still to come.
    Str {
        closed: bool,
    },
    Number,
    Comment,
    /// `:name` at the start of an entry.
    Command,
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

/// Splits `source` into tokens (white space dropped). A leading `:word` is a command.
pub fn tokens(source: &str) -> Vec<Token> {
    let mut scanner = Scanner {
        source,
        pos: 0,
        out: Vec::new(),
    };
    let start = source.len() - source.trim_start().len();
    if source[start..].starts_with(':') {
        let end = word_end(source, start + 1);
        scanner.push(Kind::Command, start);
        scanner.out.last_mut().expect("just pushed").range.end = end;
        scanner.pos = end;
    }
    scanner.run(false);
    scanner.out
}

/// Whether `token` is a reserved word used as one: not a field key (`task:`), not a field
/// access (`x.target`), and `call` only right after `before`/`after`.
pub fn is_keyword(source: &str, tokens: &[Token], index: usize) -> bool {
    let token = &tokens[index];
    let previous = index.checked_sub(1).map(|i| &tokens[i]);
    if token.kind != Kind::Word {
        return false;
    }
    if token.text(source) == "call" {
        return previous.is_some_and(|p| matches!(p.text(source), "before" | "after"));
    }
    let next = tokens.get(index + 1).map(|t| t.kind);
    KEYWORDS.contains(&token.text(source))
        && next != Some(Kind::Punct(':'))
        && previous.map(|t| t.kind) != Some(Kind::Punct('.'))
}

struct Scanner<'a> {
    source: &'a str,
    pos: usize,
    out: Vec<Token>,
}

impl Scanner<'_> {
    fn push(&mut self, kind: Kind, start: usize) {
        self.out.push(Token {
            kind,
            range: start..self.pos.max(start),
        });
    }

    fn peek(&self) -> Option<char> {
        self.source[self.pos..].chars().next()
    }

    /// Scans tokens until the end, or, inside an interpolation, until its closing `}`.
    fn run(&mut self, interpolation: bool) {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            let start = self.pos;
            let rest = &self.source[self.pos..];
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else if rest.starts_with("//") {
                self.pos = rest.find('\n').map_or(self.source.len(), |i| start + i);
                self.push(Kind::Comment, start);
            } else if let Some(body) = rest.strip_prefix("/*") {
                self.pos = body.find("*/").map_or(self.source.len(), |i| start + i + 4);
                self.push(Kind::Comment, start);
            } else if c == '"' {
                let closed = self.string();
                self.push(Kind::Str { closed }, start);
            } else if c.is_ascii_digit() {
                self.pos = word_end(self.source, start);
                if self.source[self.pos..].starts_with('.')
                    && self.source[self.pos + 1..].starts_with(|d: char| d.is_ascii_digit())
                {
                    self.pos = word_end(self.source, self.pos + 1);
                }
                self.push(Kind::Number, start);
            } else if c == '_' || c.is_alphabetic() {
                self.pos = word_end(self.source, start);
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

    /// Moves past a string starting at `self.pos`; tells whether it was closed. The tokens of
    /// an interpolation are scanned (so a `"` inside `{..}` does not end the string) but not
    /// kept: the whole literal is one token.
    fn string(&mut self) -> bool {
        let triple = self.source[self.pos..].starts_with("\"\"\"");
        self.pos += if triple { 3 } else { 1 };
        while let Some(c) = self.peek() {
            let rest = &self.source[self.pos..];
            if triple && rest.starts_with("\"\"\"") {
                self.pos += 3;
                return true;
            }
            self.pos += c.len_utf8();
            match c {
                '"' if !triple => return true,
                '\n' if !triple => return false,
                '\\' => self.pos += self.peek().map_or(0, char::len_utf8),
                '{' => {
                    let mut inner = Scanner {
                        source: self.source,
                        pos: self.pos,
                        out: Vec::new(),
                    };
                    inner.run(true);
                    self.pos = inner.pos;
                }
                _ => {}
            }
        }
        false
    }
}

fn word_end(source: &str, start: usize) -> usize {
    source[start..]
        .find(|c: char| !(c == '_' || c.is_alphanumeric()))
        .map_or(source.len(), |i| start + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<(Kind, &str)> {
        tokens(source)
            .iter()
            .map(|t| (t.kind, t.text(source)))
            .collect()
    }

    #[test]
    fn strings_keep_interpolated_quotes_inside() {
        let source = r#"reply w { text: "Hi {user.name ?? "there"}!" }"#;
        let toks = kinds(source);
        assert!(toks.contains(&(
            Kind::Str { closed: true },
            r#""Hi {user.name ?? "there"}!""#
        )));
        assert_eq!(toks.last(), Some(&(Kind::Punct('}'), "}")));
    }

    #[test]
    fn unterminated_string_and_comment_run_to_the_end() {
        assert_eq!(
            kinds(r#"x + "abc"#),
            vec![
                (Kind::Word, "x"),
                (Kind::Punct('+'), "+"),
                (Kind::Str { closed: false }, r#""abc"#)
            ]
        );
        assert_eq!(kinds("/* open"), vec![(Kind::Comment, "/* open")]);
        let triple = "\"\"\"line\nline";
        assert_eq!(kinds(triple), vec![(Kind::Str { closed: false }, triple)]);
    }

    #[test]
    fn numbers_durations_and_commands() {
        assert_eq!(
            kinds(":send wait 5m"),
            vec![
                (Kind::Command, ":send"),
                (Kind::Word, "wait"),
                (Kind::Number, "5m")
            ]
        );
        assert_eq!(
            kinds("3.14 // pi"),
            vec![(Kind::Number, "3.14"), (Kind::Comment, "// pi")]
        );
    }

    #[test]
    fn keywords_in_context() {
        let source = "before call do x\naction a { target: call, task: x.call }";
        let toks = tokens(source);
        let keywords: Vec<&str> = (0..toks.len())
            .filter(|&i| is_keyword(source, &toks, i))
            .map(|i| toks[i].text(source))
            .collect();
        assert_eq!(keywords, vec!["before", "call", "do", "action"]);
    }
}
