//! Colours for what is being typed: keywords, strings, numbers, comments, `:commands` and
//! the names the session declares.

use super::render::{paint, palette};
use crate::ide::highlight::{self, Class};
use crate::ide::Names;

pub fn highlight(names: &Names, line: &str) -> String {
    let mut out = String::with_capacity(line.len() * 2);
    let mut at = 0;
    for (range, class) in highlight::highlight(names, line) {
        let style = match class {
            Class::Command => palette::COMMAND,
            Class::String => palette::STRING,
            Class::Number => palette::NUMBER,
            Class::Comment => palette::COMMENT,
            Class::Keyword => palette::KEYWORD,
            Class::Name(_) => palette::NAME,
        };
        out.push_str(&line[at..range.start]);
        out.push_str(&paint(true, style, &line[range.clone()]));
        at = range.end;
    }
    out.push_str(&line[at..]);
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ide::scan::Kind;
    use crate::syntax::lexer;

    /// The plain text of `painted` and the ranges of it that were painted.
    fn painted_ranges(painted: &str) -> (String, Vec<std::ops::Range<usize>>) {
        let (mut plain, mut ranges, mut open) = (String::new(), Vec::new(), None);
        let mut rest = painted;
        while let Some(c) = rest.chars().next() {
            if c != '\x1b' {
                plain.push(c);
                rest = &rest[c.len_utf8()..];
                continue;
            }
            let end = rest.find('m').map_or(rest.len(), |m| m + 1);
            match (rest[..end].ends_with("[0m"), open) {
                (true, Some(start)) => {
                    ranges.push(start..plain.len());
                    open = None;
                }
                (false, None) => open = Some(plain.len()),
                _ => {}
            }
            rest = &rest[end..];
        }
        (plain, ranges)
    }

    proptest! {
        /// Whatever is typed, each painted stretch is one of the lexer's tokens, and every
        /// string, number, comment and command it gives is painted.
        #[test]
        fn highlighting_colours_exactly_the_lexers_tokens(
            line in "(:?)([a-z_]{1,4}|on|do|é|[0-9]{1,3}(\\.[0-9])?m?|\"[a-z{}\\\\ ]*\"?|//[a-z ]*|[ .:{}(),+-])*"
        ) {
            let names = Names {
                actions: vec!["do_x".into(), "a".into()],
                ..Names::default()
            };
            let (plain, painted) = painted_ranges(&highlight(&names, &line));
            prop_assert_eq!(&plain, &line);
            let tokens = lexer::entry_tokens(&line);
            for range in &painted {
                prop_assert!(
                    tokens.iter().any(|t| &t.range == range),
                    "{:?} painted {:?}, not a token", line, &line[range.clone()]
                );
            }
            for token in &tokens {
                if matches!(token.kind, Kind::Str { .. } | Kind::Number | Kind::Comment | Kind::Command) {
                    prop_assert!(painted.contains(&token.range), "{:?} left {:?} plain", line, token);
                }
            }
        }
    }

    #[test]
    fn paints_keywords_strings_and_declared_names_only() {
        let names = Names {
            actions: vec!["tag_vip".into()],
            ..Names::default()
        };
        let painted = highlight(&names, r#"on x do tag_vip // "no""#);
        let strip = |s: &str| {
            let mut out = String::new();
            let mut in_escape = false;
            for c in s.chars() {
                match (in_escape, c) {
                    (_, '\x1b') => in_escape = true,
                    (true, 'm') => in_escape = false,
                    (false, c) => out.push(c),
                    _ => {}
                }
            }
            out
        };
        assert_eq!(strip(&painted), r#"on x do tag_vip // "no""#);
        assert!(painted.starts_with(&paint(true, palette::KEYWORD, "on")));
        assert!(painted.contains(&paint(true, palette::NAME, "tag_vip")));
        assert!(painted.contains(&paint(true, palette::COMMENT, r#"// "no""#)));
        assert!(painted.contains(" x "), "undeclared names stay plain");
    }
}
